"""What `Upscaler` accepts: one image in any supported form, or a stream of video frames in batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch

from gansuite.core.pixel_range import check_unit_range
from gansuite.errors import ConfigError
from gansuite.io.image import LoadedImage, decode_array

__all__ = ["FLOAT_DTYPES", "as_loaded_image", "dtype_advice", "frame_batches"]

FLOAT_DTYPES = "float16, bfloat16, float32 or float64"
"""The dtypes of float pixels a tensor input may have, as the messages name them."""


def dtype_advice(dtype: object, variable: str) -> str:
    """How to turn pixels of `dtype` into float in [0, 1], for an error message ("" for a float dtype).

    Args:
        dtype: a torch or numpy dtype.
        variable: the caller's name for the data in the suggested code, e.g. "images".
    """
    name = str(dtype).removeprefix("torch.")
    to_float = ".float()" if str(dtype).startswith("torch.") else ".astype(np.float32)"
    if name in ("uint8", "uint16"):
        peak = 255 if name == "uint8" else 65535
        return f"; for {name[4:]}-bit pixels divide by {peak}: {variable}{to_float} / {peak}"
    if name.startswith(("float", "bfloat")):
        return ""
    return f"; convert it to float pixels in [0, 1] ({variable}{to_float}, scaled to [0, 1])"


def as_loaded_image(image: np.ndarray | torch.Tensor | LoadedImage) -> LoadedImage:
    """One image as a `LoadedImage` (float32 [0, 1] colour, alpha, bit depth).

    Args:
        image: a `LoadedImage`; an array as OpenCV reads it (uint8 or uint16; (H, W) or (H, W, 1)
            gray, (H, W, 2) gray + alpha, (H, W, 3) BGR or (H, W, 4) BGRA; see `decode_array`);
            or a float RGB tensor in [0, 1], (3, H, W) or (1, 3, H, W) (values within 0.5/255 of
            the range are clamped into it).

    Raises:
        InputImageError: an array of an unsupported dtype or shape, or too many pixels.
        ConfigError: a batch of several images, a tensor of another layout, of a dtype that is not
            floating point (the message names the dtype and how to convert it) or with values
            outside [0, 1] by more than 0.5/255 (0..255 images must be divided by 255), or another type.
    """
    if isinstance(image, LoadedImage):
        return image
    if isinstance(image, np.ndarray):
        return decode_array(image)
    if isinstance(image, torch.Tensor):
        if image.dim() == 4 and image.shape[0] > 1:
            raise ConfigError(
                f"a batch of {image.shape[0]} images {tuple(image.shape)}: use upscale_tensor for (N, C, H, W) "
                "batches; this call upscales one image"
            )
        tensor = image[0] if image.dim() == 4 else image
        shape = tuple(image.shape)
        if not tensor.is_floating_point():
            raise ConfigError(
                f"a tensor input must be (3, H, W) or (1, 3, H, W) float RGB in [0, 1] ({FLOAT_DTYPES}), got dtype "
                f"{image.dtype} of shape {shape}{dtype_advice(image.dtype, 'image')}"
            )
        if tensor.dim() != 3 or tensor.shape[0] != 3:
            raise ConfigError(f"a tensor input must be (3, H, W) or (1, 3, H, W) float RGB, got {shape}")
        check_unit_range(tensor, "the image tensor")
        color = tensor.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
        return LoadedImage(color=np.ascontiguousarray(color), alpha=None, bit_depth=8, grayscale=False)
    raise ConfigError(f"cannot upscale a {type(image).__name__}: give a numpy array, a tensor or a LoadedImage")


def frame_batches(frames: Iterable[np.ndarray], batch_size: int) -> Iterator[list[np.ndarray]]:
    """Group `frames` into lists of `batch_size` (the last may be shorter), checking each frame.

    Args:
        frames: `(H, W, 1|3)` float frames in [0, 1] (within 0.5/255), all one size.
        batch_size: frames per batch, >= 1.

    Raises:
        ConfigError: while iterating: a bad `batch_size`, a frame that is not (H, W, 1|3)
            float with H, W >= 1 (the message names the dtype seen) or has values outside [0, 1]
            by more than 0.5/255 (0..255 frames must be divided by 255), or a frame of another
            size than the first (in any batch).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    batch: list[np.ndarray] = []
    first: tuple[int, ...] | None = None  # the first frame's shape: every later batch must match it too
    for index, frame in enumerate(frames):
        if not (
            isinstance(frame, np.ndarray)
            and frame.ndim == 3
            and frame.shape[2] in (1, 3)
            and min(frame.shape[:2]) >= 1
            and np.issubdtype(frame.dtype, np.floating)
        ):
            if isinstance(frame, np.ndarray):
                got = f"{frame.shape} {frame.dtype}{dtype_advice(frame.dtype, 'frame')}"
            else:
                got = f"a {type(frame).__name__}; give numpy arrays"
            if isinstance(frame, np.ndarray) and frame.ndim == 3 and min(frame.shape[:2]) < 1:
                got += ", which has no pixels (H, W >= 1)"
            raise ConfigError(f"frame {index}: expected (H, W, 1|3) float in [0, 1], got {got}")
        check_unit_range(frame, f"frame {index}")
        if first is None:
            first = frame.shape
        elif frame.shape != first:
            raise ConfigError(f"frame {index} is {frame.shape}, earlier frames {first}: one size per clip")
        batch.append(frame)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
