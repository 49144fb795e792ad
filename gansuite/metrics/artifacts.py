"""Compression-artefact measures of an upscaled image.

JPEG-grid strength: JPEG codes 8x8 blocks independently, so a compressed low-resolution image
has steps at every 8th pixel, which an x`s` upscaler turns into a grid of 8·s-pixel cells. The
measure compares the mean absolute luma step across those cell boundaries with the mean step
across the other boundaries of the same phase (every s-th pixel, i.e. between the output pixels
of neighbouring low-resolution pixels), pooled over rows and columns. 1.0 means no grid; a
clean high-resolution photograph measures about 1.0 too.
"""

from __future__ import annotations

import torch

from gansuite.errors import ConfigError
from gansuite.metrics._color import rgb_to_y

__all__ = ["jpeg_grid_strength"]


def jpeg_grid_strength(images: torch.Tensor, scale: int, block: int = 8) -> torch.Tensor:
    """Mean |ΔY| across JPEG-cell boundaries over the mean |ΔY| across the other scale-phase boundaries.

    Args:
        images: (N, 3, H, W) RGB or (N, 1, H, W) gray, float in [0, 1]: the upscaled output.
        scale: the upscaling factor s; cell boundaries lie every `block`·s pixels, the reference
            boundaries every s pixels in between.
        block: the JPEG block size of the low-resolution input (8).

    Returns:
        (N,) float64 ratios; 1.0 = no grid, > 1 = visible blocks.

    Raises:
        ConfigError: a bad layout, or an image too small to hold one cell boundary.
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ConfigError(f"jpeg_grid_strength takes (N, 1|3, H, W) images; got shape {tuple(images.shape)}")
    if scale < 1 or block < 2:
        raise ConfigError(f"scale must be >= 1 and block >= 2; got {scale}, {block}")
    cell = block * scale
    if min(images.shape[-2:]) <= cell:
        raise ConfigError(f"images of {tuple(images.shape[-2:])} are too small for {cell}-pixel cells")
    x = images.double() * 255.0
    y = rgb_to_y(x) if x.shape[1] == 3 else x
    # step between pixel i-1 and i, for i = 1 .. W-1 (columns) and 1 .. H-1 (rows)
    dx = (y[..., :, 1:] - y[..., :, :-1]).abs()
    dy = (y[..., 1:, :] - y[..., :-1, :]).abs()
    ratios = []
    for n in range(y.shape[0]):
        on_grid, off_grid = [], []
        for steps, length in ((dx[n, 0], dx.shape[-1]), (dy[n, 0].T, dy.shape[-2])):
            index = torch.arange(1, length + 1)
            phase = index % scale == 0
            grid = index % cell == 0
            on_grid.append(steps[:, grid].reshape(-1))
            off_grid.append(steps[:, phase & ~grid].reshape(-1))
        on, off = torch.cat(on_grid).mean(), torch.cat(off_grid).mean()
        ratios.append(on / off if off > 0 else torch.tensor(1.0, dtype=torch.float64))
    return torch.stack(ratios)
