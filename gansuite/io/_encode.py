"""Encoding: gansuite's float images to the uint8/uint16 arrays and file bytes OpenCV writes.

The inverse of decoding in `gansuite.io.image`: `(H, W, 3) float32 in [0, 1], RGB` (or gray)
plus an optional `(H, W)` alpha plane become `(H, W)` gray, `(H, W, 3)` BGR or `(H, W, 4)` BGRA
arrays, scaled to the bit depth, rounded and clipped, then `cv2.imencode`d. Gray conversion uses
the ITU-R BT.601 luma weights (0.299, 0.587, 0.114).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from gansuite.errors import ConfigError, InputImageError, NotAvailableError
from gansuite.io._quiet import native_stderr_captured

__all__ = ["ALPHA_FORMATS", "FORMAT_MAX_SIDE", "WRITE_FORMATS", "encode", "is_opaque", "rgb_to_gray", "to_array"]

WRITE_FORMATS: dict[str, int] = {".png": 16, ".tif": 16, ".tiff": 16, ".jpg": 8, ".jpeg": 8, ".webp": 8, ".bmp": 8}
"""Writable extensions and the highest bit depth each stores; higher depths are written as 8-bit."""

_ALPHA_FORMATS = (".png", ".tif", ".tiff", ".webp")
ALPHA_FORMATS = _ALPHA_FORMATS
"""Writable extensions that store an alpha channel."""

FORMAT_MAX_SIDE: dict[str, int] = {".webp": 16383, ".jpg": 65500, ".jpeg": 65500, ".png": 1_000_000}
"""The largest width or height each format stores (libwebp's 14-bit size fields; libjpeg's JPEG_MAX_DIMENSION;
libpng's default user limit, PNG_USER_WIDTH_MAX/PNG_USER_HEIGHT_MAX, which OpenCV keeps)."""
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601, R, G, B


def rgb_to_gray(color: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB image or stack of images.

    Args:
        color: `(..., 3)` floating point, RGB.

    Returns:
        `(...)` float32, `0.299 R + 0.587 G + 0.114 B`; equal channels give that value back.
    """
    return np.asarray(color, dtype=np.float32) @ _LUMA_WEIGHTS


# Float pixels beyond these are not overshoot to clip but another scale (0..255, [-1, 1]) passed by mistake.
_OFF_SCALE_HIGH = 2.0
_OFF_SCALE_LOW = -0.5


def to_array(color: np.ndarray, alpha: np.ndarray | None, bit_depth: int, grayscale: bool, name: str) -> np.ndarray:
    """The uint8/uint16 gray, BGR or BGRA array of an image (see `gansuite.io.image.encode_array`).

    Args:
        color: `(H, W, 3)` RGB or `(H, W)` / `(H, W, 1)` gray, floating point in [0, 1].
        alpha: `(H, W)` floating point in [0, 1], or None.
        bit_depth: 8 (uint8) or 16 (uint16).
        grayscale: Store one channel (BT.601 luma of `color`).
        name: What the image is (a path, "image array"), for messages.

    Returns:
        `(H, W)` gray, `(H, W, 3)` BGR or `(H, W, 4)` BGRA, uint8 or uint16.

    Raises:
        InputImageError: `color` or `alpha` has a wrong type, shape or dtype, non-finite values, or
            values on another scale (above 2, as 0..255 images, or below -0.5, as [-1, 1] ones).
        ConfigError: `bit_depth` is not 8 or 16.
    """
    if isinstance(bit_depth, bool) or not isinstance(bit_depth, int) or bit_depth not in (8, 16):
        raise ConfigError(f"{name}: bit_depth must be 8 or 16, got {bit_depth!r}")
    color = _check_float_image(color, "color", name)
    height, width = color.shape[:2]
    if color.ndim == 3 and color.shape[2] == 1:
        color = color[:, :, 0]
    if color.ndim == 3 and color.shape[2] != 3:
        raise InputImageError(
            f"{name}: color has shape {color.shape}; accepted: (H, W, 3) RGB or (H, W) / (H, W, 1) gray"
        )
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    gray = color.ndim == 2 or grayscale
    if gray:
        planes = [_quantise(color if color.ndim == 2 else rgb_to_gray(color), dtype)]
    else:
        planes = [_quantise(color[:, :, channel], dtype) for channel in (2, 1, 0)]  # RGB -> BGR
    if alpha is not None:
        alpha = _check_float_image(alpha, "alpha", name)
        if alpha.ndim == 3 and alpha.shape[2] == 1:
            alpha = alpha[:, :, 0]
        if alpha.shape != (height, width):
            raise InputImageError(
                f"{name}: alpha has shape {alpha.shape}, but color is {height}x{width}; pass an (H, W) alpha plane"
            )
        if gray:  # OpenCV writes no gray + alpha images: store BGRA with equal colour channels
            planes = planes * 3
        planes.append(_quantise(alpha, dtype))
    if len(planes) == 1:
        return planes[0]
    return np.stack(planes, axis=2)


def is_opaque(alpha: np.ndarray | None) -> bool:
    """Whether an `(H, W)` float alpha plane in [0, 1] is opaque everywhere at 8 bits (None counts as opaque)."""
    if alpha is None:
        return True
    values = np.asarray(alpha)
    return values.size > 0 and bool(np.isfinite(values).all()) and float(values.min()) >= 1.0 - 0.5 / 255


def _check_float_image(values: object, what: str, name: str) -> np.ndarray:
    if not isinstance(values, np.ndarray):
        hint = "; convert with from_tensor first" if isinstance(values, torch.Tensor) else ""
        raise InputImageError(f"{name}: {what} must be a numpy array, got {type(values).__name__}{hint}")
    if not np.issubdtype(values.dtype, np.floating):
        raise InputImageError(
            f"{name}: {what} has dtype {values.dtype}; expected floating point in [0, 1] (decode_array converts "
            "OpenCV's uint8/uint16 arrays)"
        )
    if values.ndim not in (2, 3) or values.shape[0] == 0 or values.shape[1] == 0:
        raise InputImageError(f"{name}: {what} has shape {values.shape}; expected (H, W, C) or (H, W) with H, W > 0")
    bad = values.size - int(np.count_nonzero(np.isfinite(values)))
    if bad:
        raise InputImageError(
            f"{name}: {what} has {bad} non-finite values (NaN or inf); the producing model or computation failed"
        )
    if values.size:
        low, high = float(values.min()), float(values.max())
        if high > _OFF_SCALE_HIGH or low < _OFF_SCALE_LOW:
            fix = (
                "divide images on the 0..255 scale by 255 (16-bit ones by 65535)"
                if high > _OFF_SCALE_HIGH
                else "map images in [-1, 1] to [0, 1] with (x + 1) / 2"
            )
            raise InputImageError(
                f"{name}: {what} has float values in [{low:.4g}, {high:.4g}]; float images must be in [0, 1] "
                f"(values a little outside are clipped, these would be written as flat black or white): {fix}"
            )
    return values


def _quantise(values: np.ndarray, dtype: type[np.unsignedinteger]) -> np.ndarray:
    maxval = np.iinfo(dtype).max
    scaled = np.asarray(values, dtype=np.float32) * np.float32(maxval)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, maxval, out=scaled)
    return scaled.astype(dtype)


def encode(
    extension: str,
    color: np.ndarray,
    alpha: np.ndarray | None,
    bit_depth: int,
    grayscale: bool,
    quality: int,
    name: str,
) -> bytes:
    """The bytes of an image file of the format `extension` names (see `gansuite.io.image.write_image`).

    Args:
        extension: ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp" or ".bmp" (any case, dot optional).
        color: `(H, W, 3)` RGB or `(H, W)` gray, floating point in [0, 1].
        alpha: `(H, W)` floating point in [0, 1], or None.
        bit_depth: 8 or 16; formats that store only 8 bits get 8.
        grayscale: Store one channel (BT.601 luma of `color`).
        quality: 1 to 100, for JPEG and WebP.
        name: What is written (a path, "image"), for messages.

    Returns:
        The encoded file content.

    Raises:
        ConfigError: Unknown format, alpha for a format without alpha, bad bit depth or quality.
        InputImageError: `color` or `alpha` is not a valid image.
        NotAvailableError: OpenCV cannot encode the format.
    """
    extension = "." + extension.lower().lstrip(".") if extension else ""
    if extension not in WRITE_FORMATS:
        raise ConfigError(
            f"{name}: cannot write image format {extension or '(no extension)'!r}; "
            f"accepted extensions: {', '.join(WRITE_FORMATS)}"
        )
    if alpha is not None and extension not in _ALPHA_FORMATS and is_opaque(alpha):
        alpha = None  # an all-opaque alpha (a typical screenshot) carries nothing a JPEG would lose
    if alpha is not None and extension not in _ALPHA_FORMATS:
        raise ConfigError(
            f"{name}: {extension} cannot store an alpha channel; write .png, .webp or .tif to keep it, "
            "or pass alpha=None to drop it"
        )
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ConfigError(f"{name}: quality must be an integer from 1 to 100, got {quality!r}")
    if bit_depth in (8, 16):
        bit_depth = min(bit_depth, WRITE_FORMATS[extension])
    array = to_array(color, alpha, bit_depth, grayscale, name)
    params: list[int] = []
    if extension in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    elif extension == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, quality]
    reason = "encoder reported failure"
    with native_stderr_captured() as chatter:
        try:
            ok, buffer = cv2.imencode(extension, array, params)
        except cv2.error as error:
            ok, reason = False, str(error).strip().splitlines()[-1]
    if not ok and chatter:
        reason = chatter[-1].strip()
    limit = FORMAT_MAX_SIDE.get(extension)
    if not ok and limit is not None and max(array.shape[:2]) > limit:
        reason = f"{extension} images are at most {limit} pixels a side, this one is {array.shape[1]}x{array.shape[0]}"
    if not ok:
        advice = "try .png" if extension != ".png" else "try .tif"
        raise NotAvailableError(f"{name}: OpenCV could not encode {extension} ({reason}); {advice}")
    return buffer.tobytes()
