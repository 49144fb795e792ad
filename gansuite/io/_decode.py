"""Decoding helpers of `gansuite.io.image`: file checks, header probes, OpenCV and tifffile decoding, orientation.

`gansuite.io.image` holds the public API and the conversion to gansuite's float images; this
module holds what happens before: refusing non-regular files (a FIFO or device named `.png`),
reading a file's format, size and frame count from its header, decoding with OpenCV (its
messages and the native libraries' warnings captured, never printed), decoding planar TIFF
with tifffile, and turning a stored array the way its EXIF orientation says.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gansuite.errors import GansuiteError, InputImageError
from gansuite.io._paths import as_path
from gansuite.io._probe import animation_frames, probe_size, sniff_format, tiff_tags
from gansuite.io._quiet import native_stderr_captured

__all__ = ["ACCEPTED_READ", "ImageHeader", "apply_orientation", "check_regular_file", "decode_pixels", "probe_image"]

ACCEPTED_READ = "PNG, JPEG, WebP, TIFF, BMP, GIF, PNM"
"""The formats `read_image` decodes, for messages."""

@dataclass(frozen=True)
class ImageHeader:
    """What a file's header says, read without decoding (`probe_image`).

    Attributes:
        path: the file.
        kind: "PNG", "JPEG", "GIF", "BMP", "TIFF", "WebP" or "PNM".
        height: rows as stored, or None when the header does not say (PNM, BigTIFF).
        width: columns as stored, or None.
        frames: frames of an animated GIF, APNG or WebP; 1 for still images.
        alpha: whether the file may hold an alpha channel (False only when the header rules it out).
    """

    path: Path
    kind: str
    height: int | None
    width: int | None
    frames: int
    alpha: bool = True


def probe_image(path: str | os.PathLike[str]) -> ImageHeader:
    """Reads an image file's format, size and frame count from its bytes, without decoding pixels.

    Raises:
        InputImageError: As `read_image` for a missing, non-regular, unreadable, empty or
            unrecognised file.
    """
    file = check_regular_file(path)
    try:
        with open(file, "rb") as handle:
            data = handle.read(_HEAD_BYTES)  # the header; the whole file only where frames must be counted
            size = probe_size(data, sniff_format(data) or "")
            kind = sniff_format(data)
            animated = kind == "GIF" or (kind == "WebP" and data[12:16] == b"VP8X" and len(data) > 20 and data[20] & 2)
            if len(data) == _HEAD_BYTES and (animated or size is None):
                data += handle.read()
                size = probe_size(data, kind or "")
    except OSError as error:
        raise InputImageError(f"{file}: cannot be read ({error.strerror}); check its permissions") from None
    if not data:
        raise InputImageError(f"{file}: file is empty (0 bytes); re-export or re-download the image")
    if kind is None:
        raise InputImageError(
            f"{file}: not a recognised image format (content starts with {bytes(data[:8])!r}); "
            f"accepted: {ACCEPTED_READ}"
        )
    height, width = size if size is not None else (None, None)
    return ImageHeader(file, kind, height, width, animation_frames(data, kind), _may_have_alpha(data, kind))


def _may_have_alpha(data: bytes, kind: str) -> bool:
    if kind in ("JPEG", "PNM"):
        return False
    if kind == "PNG" and len(data) > 25:  # colour types 4 and 6 carry alpha; tRNS gives palette/key transparency
        return data[25] in (4, 6) or b"tRNS" in data[: data.find(b"IDAT") if b"IDAT" in data else len(data)]
    if kind == "WebP" and data[12:16] == b"VP8 ":
        return False
    if kind == "WebP" and data[12:16] == b"VP8X" and len(data) > 20:
        return bool(data[20] & 0x10)
    return True


_HEAD_BYTES = 1 << 20  # headers (JPEG EXIF and ICC segments included) fit well within 1 MiB


def check_regular_file(path: str | os.PathLike[str]) -> Path:
    """Checks that `path` is an existing regular file (following links), before reading it.

    Returns:
        `path` as a `Path`.

    Raises:
        InputImageError: It is not a path (an array, a file object, None), is missing, a folder, a
            FIFO, a device or a socket, or cannot be examined.
    """
    file = as_path(path, "the image path", InputImageError)
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        raise InputImageError(f"{file}: image file does not exist; check the path") from None
    except OSError as error:  # a symlink loop, a name too long, no permission on a folder
        raise InputImageError(f"{file}: cannot be examined ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        raise InputImageError(f"{file}: is a folder, not an image file; give an image file such as a .png or .jpg")
    if not stat.S_ISREG(mode):
        kind = "FIFO" if stat.S_ISFIFO(mode) else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "socket"
        raise InputImageError(f"{file}: is a {kind}, not a regular file, and is not read; give an image file")
    return file


def decode_pixels(data: bytes, kind: str, name: str) -> np.ndarray:
    """The stored array of an image file's bytes, as OpenCV returns it (gray, BGR or BGRA; uint8/uint16).

    Planar TIFF goes to tifffile (OpenCV decodes it as garbage); PNG and WebP get their EXIF
    orientation applied (OpenCV does it for JPEG and TIFF).

    Raises:
        InputImageError: the file is corrupt or truncated.
        MissingExtraError: a planar TIFF without tifffile installed.
    """
    if kind == "TIFF" and tiff_tags(data).get(284) == 2:  # planar: OpenCV decodes it as garbage
        array = _decode_tiff(data, name, "planar TIFF (one plane per channel)")
    else:
        array = _decode_opencv(data, kind, name)
    if kind in ("PNG", "WebP"):  # OpenCV ignores their EXIF orientation with IMREAD_UNCHANGED
        from gansuite.io._probe import exif_orientation

        array = apply_orientation(array, exif_orientation(data, kind))
    return array


def _decode_opencv(data: bytes, kind: str, name: str) -> np.ndarray:
    # JPEG has no alpha, so it can be decoded with the EXIF orientation applied.
    flags = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR if kind == "JPEG" else cv2.IMREAD_UNCHANGED
    with native_stderr_captured() as chatter:
        try:
            array = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
        except cv2.error as error:
            array, chatter = None, [str(error).strip().splitlines()[-1]]
    if array is None and kind == "TIFF":
        try:
            return _decode_tiff(data, name, "TIFF that OpenCV cannot decode")
        except GansuiteError:  # tifffile cannot either (or is not installed): the file is broken
            pass
    if array is None:
        detail = f": {chatter[-1].strip()}" if chatter else ""
        raise InputImageError(
            f"{name}: {kind} file is corrupt or truncated ({len(data)} bytes) and could not be decoded{detail}; "
            "re-export or re-download it"
        )
    return array


def _decode_tiff(data: bytes, name: str, what: str) -> np.ndarray:
    """A TIFF decoded by tifffile, as OpenCV would return it (gray, BGR or BGRA), orientation applied."""
    from gansuite._extras import require_extra

    tifffile = require_extra("images", "tifffile", feature=f"{name}: reading a {what}")
    import io
    import logging

    log = logging.getLogger("tifffile")  # it logs damaged structures as warnings: keep them off the terminal
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tiff:
            page = tiff.pages[0]
            array = page.asarray()
            samples_first = page.planarconfig == 2 and array.ndim == 3 and array.shape[0] == page.samplesperpixel
    except Exception as error:  # tifffile raises many kinds (ValueError, KeyError, its own TiffFileError)
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputImageError(f"{name}: {what} could not be decoded by tifffile ({message})") from None
    finally:
        log.setLevel(level)
    if samples_first:
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = np.ascontiguousarray(array[:, :, [2, 1, 0, 3][: array.shape[2]]])  # RGB(A) -> BGR(A)
    return apply_orientation(array, tiff_tags(data).get(274, 1))


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turns a stored `(H, W, ...)` array into the way it displays under EXIF `orientation` (1 to 8).

    The EXIF 2.3 (TIFF 6.0 tag 274) meanings, as Pillow's `ImageOps.exif_transpose` applies them:
    2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate
    90° counter-clockwise. Other values leave the array as it is.
    """
    if orientation == 2:
        array = array[:, ::-1]
    elif orientation == 3:
        array = array[::-1, ::-1]
    elif orientation == 4:
        array = array[::-1]
    elif orientation == 5:
        array = array.swapaxes(0, 1)
    elif orientation == 6:
        array = array.swapaxes(0, 1)[:, ::-1]
    elif orientation == 7:
        array = array.swapaxes(0, 1)[::-1, ::-1]
    elif orientation == 8:
        array = array.swapaxes(0, 1)[::-1]
    else:
        return array
    return np.ascontiguousarray(array)
