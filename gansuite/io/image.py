"""Image reading and writing with OpenCV; the only place that knows about BGR, uint8/uint16, gray and alpha.

Inside gansuite an image is `(H, W, 3) float32 in [0, 1], RGB`, with an optional alpha plane
`(H, W) float32 in [0, 1]`. This module converts from and to what OpenCV reads and writes
(`(H, W)` gray, `(H, W, 3)` BGR or `(H, W, 4)` BGRA; uint8 or uint16) and remembers how the
source was stored (`bit_depth`, `grayscale`) so an output can be written the same way. The bit
depth comes from the dtype OpenCV returns, never from the pixel values.

Files are decoded from their bytes with `cv2.imdecode`, so paths with non-ASCII characters
work. A pixel limit read from the file header refuses decompression bombs before decoding, and
only regular files are read (a FIFO or device named `.png` would block or never end). Every
format that carries an EXIF orientation is decoded with it applied, as a viewer shows it: JPEG
and TIFF by OpenCV, PNG (eXIf chunk) and WebP (EXIF chunk) here. Planar TIFF (and TIFF that
OpenCV cannot decode) is read with tifffile, which OpenCV misreads. An animated GIF, APNG or
WebP is refused rather than silently reduced to its first frame (`gansuite.io.animation` reads
every frame). Warnings that native decoders print (libpng, libtiff) never reach the terminal.
Gray conversion uses the ITU-R BT.601 luma weights (0.299, 0.587, 0.114).

This module holds the public API and the decoding side; header sniffing and size probing live
in `gansuite.io._probe`, the conversion to OpenCV arrays and encoded bytes in `gansuite.io._encode`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2  # noqa: F401  (gansuite.io.image.cv2 is where callers and tests reach OpenCV)
import numpy as np

from gansuite.core.atomic import atomic_write_bytes, check_output_path
from gansuite.errors import ConfigError, InputImageError, OutputError
from gansuite.io._decode import ACCEPTED_READ, ImageHeader, apply_orientation, check_regular_file, decode_pixels
from gansuite.io._decode import probe_image as probe_image
from gansuite.io._encode import FORMAT_MAX_SIDE, WRITE_FORMATS, rgb_to_gray

# under the private names this module has always used (`gansuite.io.video` imports `_to_array`)
from gansuite.io._encode import encode as _encode
from gansuite.io._encode import to_array as _to_array
from gansuite.io._paths import as_path
from gansuite.io._probe import animation_frames
from gansuite.io._probe import probe_size as _probe_size
from gansuite.io._probe import sniff_format as _sniff_format
from gansuite.io._tensor import from_tensor, to_tensor

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "WRITE_FORMATS",
    "ImageHeader",
    "LoadedImage",
    "apply_orientation",
    "check_image_target",
    "check_regular_file",
    "decode_array",
    "decode_bytes",
    "encode_array",
    "encode_bytes",
    "from_tensor",
    "probe_image",
    "read_image",
    "rgb_to_gray",
    "to_tensor",
    "write_image",
]

DEFAULT_MAX_PIXELS = 100_000_000
"""Images with more pixels than this are refused unless the caller raises the limit."""

_ACCEPTED_READ = ACCEPTED_READ
_ENCODE_HINT = "for the encoded bytes rather than a file use encode_bytes"
_ANIMATED_NAMES = {"PNG": "PNG (APNG)", "GIF": "GIF", "WebP": "WebP"}


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """An image as gansuite uses it, with what is needed to write it back the same way.

    Attributes:
        color: `(H, W, 3) float32 in [0, 1], RGB`; a gray source is replicated to 3 channels.
        alpha: `(H, W) float32 in [0, 1]` (1 is opaque), or None when the source had none.
        bit_depth: 8 or 16, from the source's dtype (uint8 or uint16).
        grayscale: True when the source had one channel, or gray plus alpha.
        path: The file it was read from, or None for an array or bytes.
    """

    color: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    grayscale: bool
    path: Path | None = None

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.color.shape[0])

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.color.shape[1])


def read_image(
    path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS, first_frame: bool = False
) -> LoadedImage:
    """Reads an image file.

    Args:
        path: A PNG, JPEG, WebP, TIFF, BMP, GIF or PNM file, 8 or 16 bits per channel.
        max_pixels: Refuse images with more pixels than this (checked on the header first).
        first_frame: Read only the first frame of an animated GIF, APNG or WebP instead of
            refusing it.

    Returns:
        The image; `color` is `(H, W, 3) float32 in [0, 1], RGB`, `alpha` `(H, W)` or None.

    Raises:
        InputImageError: `path` is not a path (an array: use `decode_array`; bytes content or a
            file object: use `decode_bytes`), or the file is missing, a folder, not a regular file
            (FIFO, device), empty, not an image, corrupt or truncated, of an unsupported dtype or
            channel count, larger than `max_pixels`, or animated (unless `first_frame`).
        ConfigError: `max_pixels` is not a positive integer.
        MissingExtraError: A planar TIFF without tifffile installed.
    """
    file = check_regular_file(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise InputImageError(f"{file}: cannot be read ({error.strerror}); check its permissions") from None
    return _decode(data, file, max_pixels, first_frame=first_frame)


def decode_bytes(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, first_frame: bool = False) -> LoadedImage:
    """Decodes an encoded image (the bytes of a PNG, JPEG, ... file), as `read_image` does.

    Args:
        data: The complete file content: bytes, bytearray or memoryview.
        max_pixels: Refuse images with more pixels than this.
        first_frame: Decode only the first frame of an animated file instead of refusing it.

    Returns:
        The image, with `path` None.

    Raises:
        InputImageError, ConfigError, MissingExtraError: As `read_image`; InputImageError also for
            `data` that is not bytes-like (a path: use `read_image`).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        hint = "; for a file path use read_image" if isinstance(data, str | os.PathLike) else ""
        raise InputImageError(
            f"decode_bytes: data must be the encoded file content (bytes), got {type(data).__name__}{hint}"
        )
    return _decode(bytes(data), None, max_pixels, first_frame=first_frame)


def decode_array(array: np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Converts an array as OpenCV returns it (`cv2.imread(..., cv2.IMREAD_UNCHANGED)`).

    Args:
        array: uint8 or uint16; `(H, W)` or `(H, W, 1)` gray, `(H, W, 2)` gray + alpha,
            `(H, W, 3)` BGR or `(H, W, 4)` BGRA.
        max_pixels: Refuse images with more pixels than this.

    Returns:
        The image, with `path` None; `encode_array` turns it back into the same kind of array.

    Raises:
        InputImageError: Not a numpy array, unsupported dtype or shape, or too many pixels.
        ConfigError: `max_pixels` is not a positive integer.
    """
    return _from_array(array, None, max_pixels)


def encode_array(
    color: np.ndarray, alpha: np.ndarray | None = None, *, bit_depth: int = 8, grayscale: bool = False
) -> np.ndarray:
    """Converts an image to the kind of array OpenCV writes, the inverse of `decode_array`.

    Values are scaled to the bit depth, rounded and clipped to the valid range; values on another
    scale (above 2 or below -0.5: a 0..255 or [-1, 1] image) are refused, not clipped flat.

    Args:
        color: `(H, W, 3)` RGB or `(H, W)` / `(H, W, 1)` gray, floating point in [0, 1].
        alpha: `(H, W)` floating point in [0, 1], or None.
        bit_depth: 8 (uint8) or 16 (uint16), e.g. the source's `LoadedImage.bit_depth`.
        grayscale: Store one channel (BT.601 luma of `color`), e.g. the source's `grayscale`.

    Returns:
        uint8 or uint16: `(H, W)` gray, `(H, W, 3)` BGR, or `(H, W, 4)` BGRA (gray + alpha is
        BGRA with equal color channels, since OpenCV writes no two-channel images).

    Raises:
        InputImageError: `color` or `alpha` has a wrong type, shape or dtype, non-finite values, or
            values on another scale (above 2 or below -0.5).
        ConfigError: `bit_depth` is not 8 or 16.
    """
    return _to_array(color, alpha, bit_depth, grayscale, "image array")


def encode_bytes(
    extension: str,
    color: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    bit_depth: int = 8,
    grayscale: bool = False,
    quality: int = 95,
) -> bytes:
    """Encodes an image to the bytes of a file of the given format; see `write_image`.

    Args:
        extension: ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp" or ".bmp".
        color: `(H, W, 3)` RGB or `(H, W)` gray, floating point in [0, 1].
        alpha: `(H, W)` floating point in [0, 1], or None.
        bit_depth: 8 or 16; formats that store only 8 bits get 8.
        grayscale: Store one channel (BT.601 luma of `color`).
        quality: 1 to 100, for JPEG and WebP.

    Returns:
        The encoded file content.

    Raises:
        ConfigError: Unknown format, alpha that is not opaque for a format without alpha, bad bit
            depth or quality.
        InputImageError: `color` or `alpha` is not a valid image.
        NotAvailableError: OpenCV cannot encode it (e.g. a side above the format's limit,
            16383 pixels for WebP).
    """
    return _encode(extension, color, alpha, bit_depth, grayscale, quality, "image")


def check_image_target(
    path: str | os.PathLike[str], *, height: int | None = None, width: int | None = None, option: str = "-o",
    remedy: str = "make it smaller",
) -> Path:
    """Refuse, before any work, an image file name whose format gansuite cannot write, or a size it cannot hold.

    Args:
        path: the image file to be written.
        height, width: the image's size in pixels, when known.
        option: the flag that named `path`, for the message.
        remedy: how the caller's user makes the image smaller (e.g. "use a smaller --n").

    Returns:
        `path` as a `Path`.

    Raises:
        ConfigError: an extension outside `WRITE_FORMATS`, or a side over the format's limit
            (WebP 16383, JPEG 65500, PNG 1,000,000 pixels).
    """
    target = Path(path)
    extension = target.suffix.lower()
    if extension not in WRITE_FORMATS:
        raise ConfigError(
            f"{option} {target}: cannot write image format {extension or '(no extension)'!r}; "
            f"accepted extensions: {', '.join(WRITE_FORMATS)}"
        )
    limit = FORMAT_MAX_SIDE.get(extension)
    if limit is not None and height is not None and width is not None and max(height, width) > limit:
        others = ", ".join(ext for ext in (".png", ".tif") if ext != extension)
        raise ConfigError(
            f"{option} {target}: the image would be {width}x{height} pixels and {extension} images are at most "
            f"{limit:,} pixels a side; {remedy} or write {others}"
        )
    return target


def write_image(
    path: str | os.PathLike[str],
    color: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    bit_depth: int = 8,
    grayscale: bool = False,
    quality: int = 95,
    overwrite: bool = True,
) -> Path:
    """Writes an image atomically, in the format named by the file extension.

    PNG and TIFF store 8 or 16 bits; JPEG, WebP and BMP store 8 bits, so `bit_depth=16` is
    written as 8-bit there. Alpha is stored by PNG, TIFF and WebP; asking JPEG or BMP to store
    an alpha that is not opaque everywhere is an error rather than a silent loss (an opaque one
    is dropped). WebP has no gray mode and stores gray as RGB.

    Args:
        path: Output file; its folder must exist.
        color: `(H, W, 3)` RGB or `(H, W)` / `(H, W, 1)` gray, floating point in [0, 1]; clipped
            to [0, 1] (values above 2 or below -0.5, another scale, are refused).
        alpha: `(H, W)` floating point in [0, 1], or None.
        bit_depth: 8 or 16, e.g. the source's `LoadedImage.bit_depth`.
        grayscale: Store one channel (BT.601 luma of `color`), e.g. the source's `grayscale`.
        quality: 1 to 100, for JPEG and WebP.
        overwrite: Whether an existing file may be replaced.

    Returns:
        `path` as a `Path`.

    Raises:
        ConfigError: Unknown extension, non-opaque alpha for JPEG/BMP, bad bit depth or quality.
        InputImageError: `color` or `alpha` is not a valid image.
        NotAvailableError: OpenCV cannot encode it (e.g. a side above the format's limit,
            16383 pixels for WebP).
        OutputError: `path` is not a path (str, bytes or `os.PathLike`), the folder is missing or
            `path` is a folder.
        OutputExistsError: `path` exists and `overwrite` is False.
    """
    target = check_output_path(as_path(path, "write_image: path", OutputError, hint=_ENCODE_HINT), overwrite=overwrite)
    data = _encode(target.suffix, color, alpha, bit_depth, grayscale, quality, str(target))
    return atomic_write_bytes(target, data, overwrite=overwrite)


# ---------------------------------------------------------------------------- decoding


def _decode(data: bytes, path: Path | None, max_pixels: int, *, first_frame: bool) -> LoadedImage:
    name = str(path) if path is not None else "image data"
    _check_max_pixels(max_pixels)
    if not data:
        raise InputImageError(f"{name}: file is empty (0 bytes); re-export or re-download the image")
    kind = _sniff_format(data)
    if kind is None:
        raise InputImageError(
            f"{name}: not a recognised image format (content starts with {bytes(data[:8])!r}); "
            f"accepted: {_ACCEPTED_READ}"
        )
    size = _probe_size(data, kind)
    if size is not None:
        _check_pixels(size[0], size[1], max_pixels, name)
    frames = animation_frames(data, kind)
    if frames > 1 and not first_frame:
        raise InputImageError(
            f"{name}: is an animated {_ANIMATED_NAMES.get(kind, kind)} of {frames} frames, not a still image; "
            "gansuite.io.animation.read_animation reads every frame (`gansuite upscale` does so)"
        )
    array = decode_pixels(data, kind, name)
    # OpenCV returns gray + alpha PNGs (colour type 4) as BGRA; the header says what was stored.
    gray_alpha = kind == "PNG" and len(data) > 25 and data[25] == 4
    return _from_array(array, path, max_pixels, gray_alpha=gray_alpha)


def _from_array(array: object, path: Path | None, max_pixels: int, *, gray_alpha: bool = False) -> LoadedImage:
    name = str(path) if path is not None else "image array"
    _check_max_pixels(max_pixels)
    if not isinstance(array, np.ndarray):
        raise InputImageError(f"{name}: expected a numpy array as OpenCV returns, got {type(array).__name__}")
    if array.dtype == np.uint8:
        bit_depth = 8
    elif array.dtype == np.uint16:
        bit_depth = 16
    else:
        raise InputImageError(
            f"{name}: unsupported pixel type {array.dtype}; accepted: uint8 (8-bit) and uint16 (16-bit); "
            "convert the image to 8- or 16-bit PNG or TIFF"
        )
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise InputImageError(
            f"{name}: unsupported array shape {array.shape}; accepted: (H, W) or (H, W, 1) gray, "
            "(H, W, 2) gray + alpha, (H, W, 3) BGR, (H, W, 4) BGRA"
        )
    height, width, channels = array.shape
    if height == 0 or width == 0:
        raise InputImageError(f"{name}: image has no pixels (shape {array.shape})")
    _check_pixels(height, width, max_pixels, name)
    maxval = np.float32(2**bit_depth - 1)
    if channels <= 2:
        color = np.repeat(array[:, :, :1], 3, axis=2).astype(np.float32)
    else:
        color = array[:, :, 2::-1].astype(np.float32)  # BGR -> RGB
    color /= maxval
    alpha = None
    if channels in (2, 4):
        alpha = array[:, :, -1].astype(np.float32)
        alpha /= maxval
    return LoadedImage(color, alpha, bit_depth, channels <= 2 or gray_alpha, path)


def _check_max_pixels(max_pixels: int) -> None:
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise ConfigError(f"max_pixels must be a positive integer, got {max_pixels!r}")


def _check_pixels(height: int, width: int, max_pixels: int, name: str) -> None:
    if height * width > max_pixels:
        raise InputImageError(
            f"{name}: image is {width}x{height} ({height * width:,} pixels), above the limit of {max_pixels:,} "
            "pixels; downscale it, or raise max_pixels if memory allows"
        )
