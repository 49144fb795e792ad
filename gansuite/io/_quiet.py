"""Keeping native libraries' chatter off the user's terminal.

OpenCV logs through its own logger (silenced here once, at import), but libpng, libtiff and
libwebp print warnings such as ``libpng warning: iCCP: known incorrect sRGB profile`` straight
to file descriptor 2, below Python. `native_stderr_captured` points descriptor 2 at a temporary
file while a codec runs and hands back what was printed, so a decoder's complaint can become
part of gansuite's one-line message instead of stray lines in the terminal.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator

import cv2

__all__ = ["native_stderr_captured"]

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

_LOCK = threading.RLock()  # descriptor 2 is process-wide: one capture at a time


@contextlib.contextmanager
def native_stderr_captured() -> Iterator[list[str]]:
    """Captures what native code writes to file descriptor 2 inside the block.

    Yields:
        A list that, after the block, holds the captured lines (empty when nothing was printed
        or descriptor 2 could not be redirected).
    """
    lines: list[str] = []
    with _LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no descriptor 2 (a detached process): nothing to keep quiet
            saved = -1
        if saved < 0:
            yield lines
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield lines
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                lines += sink.read(64 * 1024).decode("utf-8", "replace").splitlines()
