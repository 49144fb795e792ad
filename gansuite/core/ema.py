"""Exponential moving average of generator weights (Karras et al. 2018; Yazıcı et al. 2019).

The EMA generator is what gets validated and exported: it is smoother than the raw weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gansuite.errors import ConfigError

__all__ = ["ExponentialMovingAverage"]


class ExponentialMovingAverage:
    """Keeps `shadow`, an EMA copy of a module: shadow = decay * shadow + (1 - decay) * weights.

    Buffers (e.g. batch-norm statistics) are copied, not averaged.

    Args:
        module: the module to track (unwrapped, not a DDP wrapper).
        decay: in [0, 1); 0 makes the shadow a plain copy.
    """

    def __init__(self, module: nn.Module, *, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ConfigError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.shadow = copy.deepcopy(module).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """Move the shadow towards `module`'s current weights."""
        for shadow, current in zip(self.shadow.parameters(), module.parameters(), strict=True):
            shadow.lerp_(current.detach(), 1.0 - self.decay)
        for shadow, current in zip(self.shadow.buffers(), module.buffers(), strict=True):
            shadow.copy_(current)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.shadow.load_state_dict(state)
