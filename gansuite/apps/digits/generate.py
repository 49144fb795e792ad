"""Sampling the shipped (or any exported) digit generator, grids and latent interpolation strips."""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch import nn

import gansuite.apps.digits.models  # noqa: F401  (registers "dcgan-digits" for load_weights)
from gansuite.apps._weights import load_app_generator
from gansuite.errors import ConfigError

__all__ = ["DigitGenerator", "grid_size", "image_grid", "interpolation_strip"]

DEFAULT_MODEL = "digits_dcgan"


class DigitGenerator:
    """A DCGAN digit generator ready to sample; holds the network only (calls are independent).

    Args:
        module: a network mapping (N, latent_dim) noise to (N, 1, 28, 28) images in [0, 1].
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module.eval()
        self.latent_dim = int(module.latent_dim)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str] = DEFAULT_MODEL) -> DigitGenerator:
        """The shipped model (by name, in `gansuite/apps/weights/`) or a gansuite weights file.

        Raises:
            CheckpointError: the file is missing, unreadable or not a digit generator.
        """
        return cls(load_app_generator(name_or_path, network="dcgan-digits", what="digit generator"))

    @torch.no_grad()
    def sample(self, n: int, *, seed: int = 0) -> torch.Tensor:
        """`n` digits from seeded noise: (n, 1, 28, 28) float32 in [0, 1].

        Raises:
            ConfigError: n < 1.
        """
        if n < 1:
            raise ConfigError(f"the number of digits must be >= 1, got {n}")
        noise = torch.randn(n, self.latent_dim, generator=torch.Generator().manual_seed(seed))
        return torch.cat([self.module(part) for part in noise.split(1024)])

    @torch.no_grad()
    def interpolate(self, steps: int = 10, *, seed: int = 0) -> torch.Tensor:
        """Digits along the straight line between two seeded noise vectors: (steps, 1, 28, 28) in [0, 1]."""
        if steps < 2:
            raise ConfigError(f"an interpolation needs >= 2 steps, got {steps}")
        ends = torch.randn(2, self.latent_dim, generator=torch.Generator().manual_seed(seed))
        weights = torch.linspace(0, 1, steps).unsqueeze(1)
        return self.module((1 - weights) * ends[0] + weights * ends[1])


def grid_size(
    count: int, *, columns: int | None = None, height: int = 28, width: int = 28, padding: int = 2
) -> tuple[int, int]:
    """The (height, width) in pixels of `image_grid` for `count` images of height x width, known before sampling."""
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    return rows * (height + padding) + padding, columns * (width + padding) + padding


def image_grid(images: torch.Tensor, *, columns: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile (N, C, H, W) images in [0, 1] into one (rows·(H+p)+p, cols·(W+p)+p, C) float32 array (dark gaps)."""
    count, channels, height, width = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    grid = np.zeros((*grid_size(count, columns=columns, height=height, width=width, padding=padding), channels),
                    dtype=np.float32)
    pixels = images.detach().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    for index in range(count):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[top:top + height, left:left + width] = pixels[index]
    return grid


def interpolation_strip(generator: DigitGenerator, *, steps: int = 10, rows: int = 4, seed: int = 0) -> np.ndarray:
    """`rows` interpolations of `steps` digits each (seeds seed..seed+rows-1), as one grid array."""
    strips = torch.cat([generator.interpolate(steps, seed=seed + row) for row in range(rows)])
    return image_grid(strips, columns=steps)
