"""Image arrays to and from network tensors: `(H, W, C) float32` ↔ `(1, C, H, W) float32`, both in [0, 1]."""

from __future__ import annotations

import numpy as np
import torch

from gansuite.errors import InputImageError

__all__ = ["from_tensor", "to_tensor"]


def to_tensor(color: np.ndarray) -> torch.Tensor:
    """Converts an image array to a batch of one for a network.

    Args:
        color: `(H, W, C)` floating point in [0, 1], e.g. `LoadedImage.color` (RGB).

    Returns:
        `(1, C, H, W) float32`, same range and channel order, on the CPU; no memory is shared.

    Raises:
        InputImageError: `color` is not an `(H, W, C)` numpy array of floating point (uint8 and
            uint16 arrays would keep their 0..255 / 0..65535 values: `decode_array` converts them).
    """
    if not isinstance(color, np.ndarray) or color.ndim != 3:
        shape = getattr(color, "shape", None)
        raise InputImageError(f"to_tensor: expected an (H, W, C) numpy array, got {type(color).__name__} {shape}")
    if not np.issubdtype(color.dtype, np.floating):
        raise InputImageError(
            f"to_tensor: expected floating point pixels in [0, 1], got dtype {color.dtype}; convert OpenCV's "
            "uint8/uint16 arrays with decode_array(array).color (BGR to RGB, scaled to [0, 1])"
        )
    return torch.from_numpy(np.ascontiguousarray(color.transpose(2, 0, 1), dtype=np.float32)).unsqueeze(0)


def from_tensor(tensor: torch.Tensor) -> np.ndarray:
    """Converts a network output back to an image array.

    Args:
        tensor: `(1, C, H, W)` or `(C, H, W)` floating point, any device; nominally [0, 1].

    Returns:
        `(H, W, C) float32` clamped to [0, 1] (NaN stays NaN, so `write_image` refuses it).

    Raises:
        InputImageError: `tensor` is not of one of those shapes, or not floating point (a uint8
            tensor's 0..255 values would be clamped to white).
    """
    if not isinstance(tensor, torch.Tensor) or not (tensor.ndim == 3 or (tensor.ndim == 4 and tensor.shape[0] == 1)):
        shape = tuple(getattr(tensor, "shape", ()))
        raise InputImageError(f"from_tensor: expected a (1, C, H, W) or (C, H, W) tensor, got {shape}")
    if not tensor.is_floating_point():
        raise InputImageError(
            f"from_tensor: expected floating point values in [0, 1], got dtype {tensor.dtype}; for 8-bit values "
            "use tensor.float() / 255"
        )
    image = tensor.detach().reshape(tensor.shape[-3:]).to("cpu", torch.float32).clamp(0.0, 1.0)
    return image.permute(1, 2, 0).contiguous().numpy()
