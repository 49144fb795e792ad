"""Validation during training: PSNR per rollout step on held-out windows, beside copy-last-frame.

A fixed, evenly spaced subset of a validation dataset (whole frames, no random crop or flip;
the fixed Moving-MNIST test sequences for ``mmnist``) is predicted through the training rollout;
PSNR (peak 1, [0, 1] frames, unquantised, as Liu et al. 2018 compute it) is logged per step
ahead, with the copy-last-frame baseline's for reference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from gansuite.errors import ConfigError
from gansuite.tasks.predict.head import PredictHead
from gansuite.tasks.predict.models import rollout

__all__ = ["validate_rollout", "validation_hook"]


@torch.no_grad()
def validate_rollout(
    generator: nn.Module, clips: torch.Tensor, head: PredictHead, device: torch.device, batch_size: int = 8
) -> dict[str, float]:
    """Mean PSNR per rollout step of `generator` and of copy-last-frame.

    Args:
        generator: the next-frame generator.
        clips: (N, T, C, H, W) float in [0, 1], T >= k + rollout.
        head: the run's `PredictHead` (k, rollout, C).
        device: where to run.
        batch_size: clips per forward pass.

    Returns:
        {"psnr_step1": ..., "copy_last_psnr_step1": ..., ...} in dB, one pair per rollout step.
    """
    was_training = generator.training
    generator.eval()
    sums = np.zeros((2, head.rollout))
    for start in range(0, clips.shape[0], batch_size):
        sample = head.prepare(clips[start : start + batch_size])
        context, target = sample.inputs.to(device), sample.target.to(device)
        predicted = rollout(generator, context, head.rollout, head.channels, clamp=True).float()
        last = context[:, -head.channels :].repeat(1, head.rollout, 1, 1)
        for row, guess in enumerate((predicted, last)):
            squared = (guess - target).double().pow(2)  # (b, n·C, H, W)
            per_step = squared.unflatten(1, (head.rollout, head.channels)).flatten(2).mean(2).clamp_min(1e-10)
            sums[row] += (10.0 * torch.log10(1.0 / per_step)).sum(0).cpu().numpy()
    generator.train(was_training)
    means = sums / clips.shape[0]
    metrics = {f"psnr_step{t + 1}": float(means[0, t]) for t in range(head.rollout)}
    metrics.update({f"copy_last_psnr_step{t + 1}": float(means[1, t]) for t in range(head.rollout)})
    return metrics


def validation_hook(
    dataset: Dataset, head: PredictHead, device: torch.device, *, items: int = 32
) -> Callable[[nn.Module, int], dict[str, float]]:
    """A `TrainerHooks.validate` callback over `items` evenly spaced items of `dataset`.

    Raises:
        ConfigError: an empty dataset.
    """
    size = len(dataset)  # type: ignore[arg-type]
    if size == 0:
        raise ConfigError("the validation data holds no window; give longer clips")
    indices = np.unique(np.linspace(0, size - 1, num=min(items, size)).round().astype(int))
    clips = torch.stack([dataset[int(i)] for i in indices])

    def validate(generator: nn.Module, step: int) -> dict[str, float]:
        return validate_rollout(generator, clips, head, device)

    return validate
