"""File paths given to the public I/O functions: str, bytes or `os.PathLike`, and nothing else.

`Path(x)` raises a bare TypeError for an array, a file object or None; a pipeline developer who
passes `read_image` the array `cv2.imread` returned, or an upload's `BytesIO`, gets instead the
package's error naming the function that takes that instead.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from gansuite.errors import GansuiteError

__all__ = ["as_path"]


def as_path(path: object, what: str, error: type[GansuiteError], *, hint: str | None = None) -> Path:
    """`path` as a `Path` (bytes are decoded with the file system's encoding).

    Args:
        path: what the caller gave as a path.
        what: the function and argument, for the message, e.g. "read_image: path".
        error: the `GansuiteError` subclass to raise (the one the function raises for a bad file).
        hint: what to do instead, appended to the message; None derives it for a reader (an array:
            `decode_array`; bytes content or a file object: `decode_bytes`).

    Raises:
        error: `path` is not a str, bytes or `os.PathLike` (the message names its type and, for an
            array, a file object or bytes content, the function that takes it).
    """
    if isinstance(path, str | os.PathLike):
        return Path(path)
    if isinstance(path, bytes) and len(path) < 4096 and b"\0" not in path:
        return Path(os.fsdecode(path))
    if hint is not None:
        hint = f"; {hint}" if hint else ""
    elif isinstance(path, np.ndarray):
        hint = "; for an image array as OpenCV returns it use gansuite.io.decode_array"
    elif isinstance(path, bytes | bytearray | memoryview | io.IOBase):
        hint = "; for a file's content use gansuite.io.decode_bytes (data.read() for a file object)"
    else:
        hint = ""
    raise error(f"{what} must be a file path (str or pathlib.Path), got {type(path).__name__}{hint}")
