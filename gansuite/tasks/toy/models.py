"""Small MLPs for the 2-D toy problem: a conditional generator G(x, z) and a discriminator D(y | x)."""

from __future__ import annotations

import torch
from torch import nn

from gansuite.core.networks import DISCRIMINATORS, GENERATORS

__all__ = ["ToyDiscriminator", "ToyGenerator"]


def _mlp(in_features: int, hidden: int, layers: int) -> nn.Sequential:
    modules: list[nn.Module] = []
    width = in_features
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    modules.append(nn.Linear(width, 1))
    return nn.Sequential(*modules)


@GENERATORS.register("toy-mlp")
class ToyGenerator(nn.Module):
    """y = G(x, z): an MLP from the condition x and `noise_dim` Gaussian noise values to y.

    With `noise_dim=0` it is a deterministic regressor y = f(x).

    Forward:
        x: (N, 1) float; noise: (N, noise_dim) float or None. Returns (N, 1).
    """

    def __init__(self, *, noise_dim: int = 4, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.net = _mlp(1 + noise_dim, hidden, layers)

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if self.noise_dim:
            if noise is None:
                noise = torch.randn(x.shape[0], self.noise_dim, device=x.device, dtype=x.dtype)
            x = torch.cat([x, noise], dim=1)
        return self.net(x)

    def example_inputs(self, batch_size: int = 4) -> tuple[torch.Tensor, ...]:
        x = torch.rand(batch_size, 1)
        return (x, torch.randn(batch_size, self.noise_dim)) if self.noise_dim else (x,)


@DISCRIMINATORS.register("toy-mlp")
class ToyDiscriminator(nn.Module):
    """D(y | x): an MLP logit for a (y, x) pair.

    Forward:
        y: (N, 1) float; condition: (N, 1) float x. Returns (N, 1) logits.
    """

    def __init__(self, *, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.net = _mlp(2, hidden, layers)

    def forward(self, y: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if condition is None:
            condition = torch.zeros_like(y)
        return self.net(torch.cat([y, condition], dim=1))

    def example_inputs(self, batch_size: int = 4) -> tuple[torch.Tensor, ...]:
        return torch.randn(batch_size, 1), torch.rand(batch_size, 1)
