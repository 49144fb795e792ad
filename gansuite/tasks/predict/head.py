"""The next-frame task head: a clip in, k context frames as input, the next n frames as target.

The generator is run as a rollout (`rollout`): n predictions, each fed back as context. The
target is the n true future frames stacked along channels, and the discriminator (a PatchGAN,
Isola et al. 2017) sees the predicted or true future frames conditioned on the context, as the
adversarial training of Mathieu et al. 2016 and Liu et al. 2018 does for one frame.
"""

from __future__ import annotations

import torch
from torch import nn

from gansuite.core.trainer import Sample
from gansuite.errors import ConfigError
from gansuite.tasks.predict.models import rollout

__all__ = ["FrameStackLoss", "PredictHead"]


class PredictHead:
    """Splits a batch of clips into context and future frames and runs the rollout.

    Args:
        context_frames: k.
        rollout: n, the frames predicted (and fed back) per training sample.
        channels: C, 1 or 3.
    """

    def __init__(self, *, context_frames: int, rollout: int, channels: int) -> None:
        if context_frames < 1 or rollout < 1 or channels not in (1, 3):
            raise ConfigError(
                f"PredictHead needs context_frames >= 1, rollout >= 1 and channels 1 or 3, got "
                f"{context_frames}, {rollout}, {channels}"
            )
        self.context_frames, self.rollout, self.channels = context_frames, rollout, channels

    def prepare(self, batch: torch.Tensor) -> Sample:
        """Clips (N, T, C, H, W) float in [0, 1], T >= k + n → a `Sample`.

        inputs and condition: the context (N, k·C, H, W); target: the next n frames (N, n·C, H, W).
        """
        k, n = self.context_frames, self.rollout
        if batch.dim() != 5 or batch.shape[1] < k + n or batch.shape[2] != self.channels:
            raise ConfigError(
                f"expected clips (N, >= {k + n}, {self.channels}, H, W) for {k} context + {n} future frames, "
                f"got {tuple(batch.shape)}"
            )
        context = batch[:, :k].flatten(1, 2)
        future = batch[:, k : k + n].flatten(1, 2)
        return Sample(inputs=context, target=future, condition=context)

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        """The n-step rollout from `sample.inputs`: (N, n·C, H, W)."""
        return rollout(generator, sample.inputs, self.rollout, self.channels)


class FrameStackLoss(nn.Module):
    """Applies an image loss to frames stacked along channels, frame by frame.

    (N, n·C, H, W) prediction and target are viewed as (N·n, C, H, W) images, so losses that
    expect RGB or gray images (VGG perceptual) work on rollouts; for L1, MSE and GDL the value
    is the same as on the stack.

    Args:
        loss: a content loss taking (N, C, H, W) pairs.
        channels: C.
    """

    def __init__(self, loss: nn.Module, channels: int) -> None:
        super().__init__()
        self.loss, self.channels = loss, channels

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        height, width = prediction.shape[-2:]
        shape = (-1, self.channels, height, width)
        return self.loss(prediction.reshape(shape), target.reshape(shape))
