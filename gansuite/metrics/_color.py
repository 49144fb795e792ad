"""8-bit quantisation and the BT.601 luma of MATLAB's ``rgb2ycbcr``, as the SR protocol uses them.

Super-resolution papers since SRCNN (Dong et al., ECCV 2014) score the Y channel of ITU-R BT.601
computed as MATLAB's ``rgb2ycbcr`` does for 8-bit images: with R, G, B in [0, 1],
``Y = 16 + 65.481 R + 128.553 G + 24.966 B``, which spans [16, 235] on the 8-bit scale.
"""

from __future__ import annotations

import torch

from gansuite.core.pixel_range import check_unit_range
from gansuite.errors import ConfigError

__all__ = ["check_pair", "compute_dtype", "quantize_8bit", "rgb_to_y"]

# MATLAB rgb2ycbcr, first row of the matrix, for R, G, B in [0, 1] and Y on the 8-bit scale.
_Y_WEIGHTS = (65.481, 128.553, 24.966)
_Y_OFFSET = 16.0


def compute_dtype(device: torch.device) -> torch.dtype:
    """float64 where the device has it (metrics are sums of many small terms), else float32."""
    return torch.float32 if device.type == "mps" else torch.float64


def check_pair(prediction: torch.Tensor, target: torch.Tensor, what: str) -> None:
    """Raise unless both are floating (N, C, H, W) tensors of one shape with C in {1, 3}, H, W >= 1, in [0, 1].

    Raises:
        ConfigError: naming the shapes and dtypes seen (an image without pixels included), or the
            values of a tensor outside [0, 1] by more than 0.5/255 (0..255 images, say).
    """
    for name, t in (("prediction", prediction), ("target", target)):
        if not torch.is_tensor(t) or t.dim() != 4 or t.shape[1] not in (1, 3) or not t.is_floating_point():
            seen = f"{t.dtype} tensor of shape {tuple(t.shape)}" if torch.is_tensor(t) else type(t).__name__
            raise ConfigError(
                f"{what}: {name} must be a float (N, 1 or 3, H, W) tensor in [0, 1]; got {seen}; "
                "for numpy images use the *_array functions"
            )
    for name, t in (("prediction", prediction), ("target", target)):
        if min(t.shape[-2:]) < 1:
            raise ConfigError(
                f"{what}: {name} of shape {tuple(t.shape)} has no pixels; give images of at least 1x1 pixels"
            )
    if prediction.shape != target.shape:
        raise ConfigError(
            f"{what}: prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in "
            "shape; crop or resize them to the same size first"
        )
    for name, t in (("prediction", prediction), ("target", target)):
        check_unit_range(t, f"{what}: {name}")


def quantize_8bit(images: torch.Tensor) -> torch.Tensor:
    """Round float images in [0, 1] to the 8-bit grid, as saving a PNG does.

    Rounds half away from zero (MATLAB's ``im2uint8``) and clips to 0..255.

    Args:
        images: float tensor in [0, 1] (values outside are clipped).

    Returns:
        The same shape and dtype, on the 8-bit scale: whole numbers in [0, 255].
    """
    return torch.floor(images * 255.0 + 0.5).clamp_(0.0, 255.0)


def rgb_to_y(images: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of MATLAB's ``rgb2ycbcr`` from RGB on the 8-bit scale.

    Args:
        images: (N, 3, H, W) float, RGB on the 8-bit scale [0, 255].

    Returns:
        (N, 1, H, W) Y on the 8-bit scale, in [16, 235]; not rounded.
    """
    weights = images.new_tensor(_Y_WEIGHTS).view(1, 3, 1, 1) / 255.0
    return _Y_OFFSET + (images * weights).sum(dim=1, keepdim=True)
