"""Blur kernels of Real-ESRGAN's degradation model: anisotropic Gaussian distances, the 2-D sinc, per-image filtering.

Wang et al., "Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure Synthetic
Data", ICCVW 2021, Sec. 3.1. `gansuite.tasks.upscale.realistic` draws the kernels' parameters.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from gansuite.core.filters import pad_reflect

__all__ = ["anisotropic_distance", "apply_kernels", "sinc_kernel"]


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    half = size // 2
    axis = np.arange(-half, half + 1, dtype=np.float64)
    return np.meshgrid(axis, axis, indexing="xy")


def anisotropic_distance(size: int, sigma_x: float, sigma_y: float, theta: float) -> np.ndarray:
    """The squared Mahalanobis distance (x, y) Σ⁻¹ (x, y)ᵀ from the centre of a size x size grid.

    Σ has standard deviations `sigma_x`, `sigma_y` (pixels) along axes rotated by `theta`
    (radians). Gaussian, generalized-Gaussian and plateau kernels are functions of it.

    Returns:
        (size, size) float64, zero at the centre pixel (x right, y down).
    """
    xx, yy = _grid(size)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    covariance = rotation @ np.diag([sigma_x**2, sigma_y**2]) @ rotation.T
    inverse = np.linalg.inv(covariance)
    return inverse[0, 0] * xx**2 + (inverse[0, 1] + inverse[1, 0]) * xx * yy + inverse[1, 1] * yy**2


def sinc_kernel(size: int, cutoff: float) -> np.ndarray:
    """Circular 2-D sinc (ideal low-pass) kernel, normalised to sum 1.

    Args:
        size: odd side length in pixels.
        cutoff: cutoff frequency in radians, in (0, π].

    Returns:
        (size, size) float64 kernel summing to 1.
    """
    xx, yy = _grid(size)
    radius = np.hypot(xx, yy)
    with np.errstate(divide="ignore", invalid="ignore"):
        kernel = cutoff * _bessel_j1(cutoff * radius) / (2 * np.pi * radius)
    kernel[size // 2, size // 2] = cutoff**2 / (4 * np.pi)
    return kernel / kernel.sum()


def _bessel_j1(x: np.ndarray) -> np.ndarray:
    from gansuite._extras import require_extra

    j1 = require_extra("train", "scipy.special", feature="the sinc (ringing) kernel").j1

    return j1(x)


def apply_kernels(images: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Filter each image with its own kernel (reflect padding, one grouped convolution).

    Args:
        images: (N, C, H, W) float.
        kernels: (N, k, k) float, k odd; each is applied to every channel of its image.

    Returns:
        (N, C, H, W), same dtype.
    """
    n, c, h, w = images.shape
    k = kernels.shape[-1]
    pad = k // 2
    padded = pad_reflect(images, pad).reshape(1, n * c, h + 2 * pad, w + 2 * pad)
    weight = kernels.to(images.dtype).repeat_interleave(c, dim=0).unsqueeze(1)
    return F.conv2d(padded, weight, groups=n * c).reshape(n, c, h, w)
