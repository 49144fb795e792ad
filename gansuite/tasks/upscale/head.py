"""The super-resolution task head: HR crops in, LR made on the fly, the generator upscales."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from torch import nn

from gansuite.core.trainer import Sample
from gansuite.errors import ConfigError
from gansuite.tasks.upscale.degradations import DEGRADATIONS
from gansuite.tasks.upscale.realistic import RealisticDegradationConfig, realistic_degradation_batch, unsharp_mask

__all__ = ["UpscaleHead"]


class UpscaleHead:
    """Turns a batch of HR crops into (LR input, HR target) and runs the generator.

    Args:
        scale: upscaling factor.
        degradation: "bicubic" or "realistic".
        seed: seed of the realistic degradation's randomness (bicubic is deterministic).
        realistic: parameters of the realistic degradation (default: Real-ESRGAN's).
    """

    def __init__(
        self, *, scale: int, degradation: str = "bicubic", seed: int = 0,
        realistic: RealisticDegradationConfig | None = None,
    ) -> None:
        if degradation not in DEGRADATIONS:
            raise ConfigError(f"degradation {degradation!r} is not one of {sorted(DEGRADATIONS)}")
        self.scale = scale
        self.realistic = realistic or RealisticDegradationConfig()
        self.degrade = (
            partial(realistic_degradation_batch, config=self.realistic)
            if degradation == "realistic" else DEGRADATIONS[degradation]
        )
        # Real-ESRGAN trains on unsharp-masked targets (`gt_usm`): crisper than the camera's own
        self.sharpen_target = degradation == "realistic" and self.realistic.sharpen_target
        self.seed = seed

    def prepare(self, batch: torch.Tensor) -> Sample:
        """batch: (N, P, P, 3) uint8 RGB crops → LR (N, 3, P/s, P/s) and HR (N, 3, P, P) float in [0, 1]."""
        high_res = batch.permute(0, 3, 1, 2).float().div(255.0)
        # the realistic degradation draws from a generator keyed on the batch content: resumable
        rng = np.random.default_rng([self.seed, int(batch[:, :2, :2].sum())])
        low_res = self.degrade(high_res, self.scale, rng)
        target = unsharp_mask(high_res) if self.sharpen_target else high_res
        return Sample(inputs=low_res, target=target)

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        return generator(sample.inputs)
