"""Image filters shared by the task heads and networks."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["gaussian_blur", "local_variance", "pad_reflect"]


def pad_reflect(images: torch.Tensor, pad: int, *, padding: str = "reflect") -> torch.Tensor:
    """Pad (N, C, H, W) `images` by `pad` pixels on each side: reflected where the image is larger
    than `pad` (and `padding` is "reflect"), else replicated (reflection needs pad < H, W)."""
    mode = "reflect" if padding == "reflect" and min(images.shape[-2:]) > pad else "replicate"
    return F.pad(images, (pad, pad, pad, pad), mode=mode)


def gaussian_blur(
    images: torch.Tensor, sigma: float, *, size: int | None = None, padding: str = "replicate"
) -> torch.Tensor:
    """Gaussian blur as two 1-D passes (separable), the kernel normalised to sum 1.

    Args:
        images: (N, C, H, W) float, any range.
        sigma: standard deviation in pixels, > 0.
        size: odd kernel side in pixels (default 2⌈3σ⌉ + 1, at least 3).
        padding: "replicate" or "reflect" (replicate where the image is too small to reflect).

    Returns:
        (N, C, H, W) in the input's dtype.
    """
    if size is None:
        size = 2 * max(1, math.ceil(3.0 * sigma)) + 1
    axis = torch.arange(size, dtype=torch.float64) - size // 2
    kernel = torch.exp(-(axis**2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).to(device=images.device, dtype=images.dtype)
    channels = images.shape[1]
    x = pad_reflect(images, size // 2, padding=padding)
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def local_variance(images: torch.Tensor, size: int) -> torch.Tensor:
    """Unbiased variance of (N, C, H, W) `images` in a size×size window around each pixel.

    Reflect padding (`pad_reflect`); computed as E[x²] − E[x]² with two box filters, clamped at 0.

    Returns:
        (N, C, H, W), >= 0, in the input's dtype.
    """
    padded = pad_reflect(images, size // 2)
    count = size * size
    mean = F.avg_pool2d(padded, size, stride=1)
    mean_of_squares = F.avg_pool2d(padded * padded, size, stride=1)
    return (mean_of_squares - mean * mean).clamp_min(0.0) * (count / (count - 1))
