"""The values that pass between a task head, the trainer and its caller.

`Sample` (a batch as the trainer sees it), the `GanHead` protocol a task implements,
`TrainerHooks`, and the results: `StepResult` per step and `TrainingResult` per `Trainer.fit`.
`PendingStep` holds a step's losses on the device until `fit` reads them back (`read_back`) at
a log step, so a CUDA step does not wait for the host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

__all__ = [
    "READ_BACK_EVERY",
    "GanHead",
    "PendingStep",
    "Sample",
    "StepResult",
    "TrainerHooks",
    "TrainingResult",
    "read_back",
]


@dataclass
class Sample:
    """One training batch as the trainer sees it.

    Attributes:
        inputs: what the generator takes (a tensor, or a tuple of tensors).
        target: the real data the generator output is compared with, e.g. (N, C, H, W).
        condition: extra input of a conditional discriminator (e.g. the context frames), or None.
    """

    inputs: Any
    target: torch.Tensor
    condition: torch.Tensor | None = None


class GanHead(Protocol):
    """What a task provides to the trainer.

    A head whose adversary is not a real/fake classifier (Eve in adversarial cryptography, Abadi &
    Andersen 2016, decodes the ciphertext) may also define ``discriminator_loss(discriminator,
    sample, fake) -> Tensor`` (replaces the adversarial loss and R1 in `discriminator_step`) and
    ``generator_loss(discriminator, sample, fake) -> (content, adversarial)`` (added to the
    configured content losses; the adversarial part is scaled by `adversarial_weight`).
    """

    def prepare(self, batch: Any) -> Sample:
        """Turn a DataLoader batch into a `Sample` (on the CPU; the trainer moves it)."""

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        """Run the generator on `sample.inputs`; the result is compared with `sample.target`."""


@dataclass(frozen=True)
class TrainerHooks:
    """Optional callbacks, run on the main process.

    Attributes:
        validate: (EMA or raw generator, step) → metrics, every `validate_every` steps and once
            the run reaches `config.steps` (not at an early stop with `until`).
        samples: (generator, sample, step, run_dir) → None, writes sample grids every `sample_every`.
    """

    validate: Callable[[nn.Module, int], dict[str, float]] | None = None
    samples: Callable[[nn.Module, Sample, int, Path], None] | None = None


@dataclass(frozen=True)
class StepResult:
    """Losses of one step; NaN where a part did not run.

    Attributes:
        step: the step number, from 1.
        discriminator_loss: D's loss (R1 included).
        generator_loss: G's total loss, content + adversarial.
        content_loss: the weighted sum of the content losses.
        adversarial_loss: the adversarial term, times `adversarial_weight`.
        skipped: an update was skipped because a loss or gradient was non-finite.
    """

    step: int
    discriminator_loss: float
    generator_loss: float
    content_loss: float
    adversarial_loss: float
    skipped: bool


@dataclass
class TrainingResult:
    """What `fit` returns: per-step losses of this process and the last validation metrics.

    Attributes:
        history: a `StepResult` per step run by this call (a resumed run starts after its checkpoint).
        validation: the last metrics `TrainerHooks.validate` returned, or empty.
        final_step: the step reached.
        seconds: wall time of the training loop, in seconds.
    """

    history: list[StepResult] = field(default_factory=list)
    validation: dict[str, float] = field(default_factory=dict)
    final_step: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class PendingStep:
    """A step whose losses are still on the device: (4,) float32 = D, G total, content, adversarial."""

    step: int
    losses: torch.Tensor
    skipped: bool


# fit reads losses back to the host at log steps, and at least this often (bounded device memory)
READ_BACK_EVERY = 200


def read_back(pending: list[PendingStep]) -> list[StepResult]:
    """Turn pending steps into `StepResult`s with one device-to-host copy for all of them."""
    if not pending:
        return []
    values = torch.stack([p.losses for p in pending]).cpu().tolist()
    return [StepResult(p.step, *row, skipped=p.skipped) for p, row in zip(pending, values, strict=True)]
