"""Image filters shared by the task heads and networks."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["gaussian_blur"]


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
    channels, pad = images.shape[1], size // 2
    mode = "reflect" if padding == "reflect" and min(images.shape[-2:]) > pad else "replicate"
    x = F.pad(images, (pad, pad, pad, pad), mode=mode)
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
