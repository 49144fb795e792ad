"""Points scattered around a line, y = slope·x + intercept + noise, the classic picture of why GANs exist."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from gansuite.core.sampling import SeededIndex, sample_index
from gansuite.errors import ConfigError

__all__ = ["LineData", "LinePointsDataset"]


@dataclass(frozen=True)
class LineData:
    """The line and its noise.

    Attributes:
        slope, intercept: the line y = slope·x + intercept.
        noise: standard deviation of the Gaussian scatter around it.
        size: number of points.
        seed: seed of the points.
    """

    slope: float = 1.5
    intercept: float = 0.5
    noise: float = 0.5
    size: int = 4096
    seed: int = 0

    def __post_init__(self) -> None:
        if self.noise <= 0 or self.size <= 0:
            raise ConfigError(f"noise and size must be positive, got {self.noise} and {self.size}")

    def line(self, x: np.ndarray) -> np.ndarray:
        return self.slope * x + self.intercept


class LinePointsDataset(Dataset):
    """(x, y) pairs, x uniform in [-1, 1]: items are two (1,) float32 tensors."""

    seeded_keys = True  # __getitem__ takes a SeededIndex (see gansuite.core.sampling)

    def __init__(self, data: LineData) -> None:
        rng = np.random.default_rng(data.seed)
        self.data = data
        self.x = rng.uniform(-1.0, 1.0, size=(data.size, 1)).astype(np.float32)
        self.y = (data.line(self.x) + rng.normal(0.0, data.noise, size=self.x.shape)).astype(np.float32)

    def __len__(self) -> int:
        return self.data.size

    def __getitem__(self, key: SeededIndex | int) -> tuple[torch.Tensor, torch.Tensor]:
        index = sample_index(key)
        return torch.from_numpy(self.x[index]), torch.from_numpy(self.y[index])

    def __getitems__(self, keys: list[SeededIndex | int]) -> tuple[torch.Tensor, torch.Tensor]:
        """A whole batch at once (the DataLoader's batched fetch): (B, 1) x and (B, 1) y."""
        indices = np.fromiter((sample_index(k) for k in keys), dtype=np.int64, count=len(keys))
        return torch.from_numpy(self.x[indices]), torch.from_numpy(self.y[indices])

    def residual_spread(self) -> float:
        """Standard deviation of the data around the true line."""
        return float(np.std(self.y - self.data.line(self.x)))
