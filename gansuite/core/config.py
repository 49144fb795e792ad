"""Typed, frozen configuration of a training run, validated on construction and saved as JSON."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from gansuite.errors import ConfigError

__all__ = ["ContentLossConfig", "TrainerConfig", "learning_rate_factor"]

_PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_SCHEDULES = ("constant", "cosine", "multistep")


@dataclass(frozen=True)
class ContentLossConfig:
    """One weighted content loss: a `CONTENT_LOSSES` name, its weight and extra options.

    The name is looked up when the `Trainer` is built (an unknown one raises `UnknownNameError` there).

    Raises:
        ConfigError: a negative weight.
    """

    name: str
    weight: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.weight < 0:
            raise ConfigError(f"content loss {self.name!r}: weight must be >= 0, got {self.weight}")


@dataclass(frozen=True)
class TrainerConfig:
    """How a GAN (or a content-only generator) is trained.

    Attributes:
        steps: total optimisation steps; each step consumes one batch per process.
        batch_size: samples per process per step.
        generator_lr, discriminator_lr: Adam learning rates.
        betas: Adam betas.
        adversarial_loss: `ADVERSARIAL_LOSSES` name, or "none" to train the generator on content
            losses alone (the PSNR-oriented stage of SRGAN/ESRGAN).
        adversarial_weight: weight of the generator's adversarial term.
        content_losses: weighted content losses of the generator.
        r1_gamma: R1 penalty weight (Mescheder et al. 2018; the penalty is gamma / 2 · E||∇D||² at
            real samples); 0 disables it.
        discriminator_updates_per_generator_update: D is updated every step, G every k-th.
        discriminator_warmup_steps: first steps in which only D trains while G is frozen.
        precision: "auto" (bf16 on CUDA where supported, else fp16; fp32 on CPU), "fp32", "fp16"
            (CUDA only, with GradScaler) or "bf16" (CUDA only).
        ema_decay: decay of the generator's weight EMA (Karras et al. 2018; Yazıcı et al. 2019),
            in [0, 1); 0 disables it.
        grad_clip: max gradient norm per network; 0 disables clipping.
        max_nonfinite_steps: stop with an error after this many non-finite steps in a row.
        schedule: "constant", "cosine" (to 0 at `steps`) or "multistep" (× `schedule_gamma` at
            each fraction of `steps` in `schedule_milestones`).
        warmup_steps: linear learning-rate warm-up.
        checkpoint_every, log_every, sample_every, validate_every: periods in steps (0 = never).
        keep_checkpoints: how many recent checkpoints to keep.
        seed: base seed of data order, augmentations and initial RNG state.
        num_workers: DataLoader worker processes.
        device: "auto", "cpu", "cuda" or "cuda:N".
        channels_last: use the channels-last memory format for 4-D tensors (faster convs).
        progress: show a progress bar.
        tensorboard: write TensorBoard scalars besides the JSONL log.

    Raises:
        ConfigError: `steps` or `batch_size` not positive, an unknown `precision` or `schedule`,
            `discriminator_updates_per_generator_update` or `max_nonfinite_steps` below 1,
            `adversarial_loss="none"` without content losses, a negative content-loss weight,
            `r1_gamma`, `grad_clip` or `warmup_steps`, `ema_decay` outside [0, 1), or a `device`
            other than "auto", "cpu", "cuda", "cuda:N". fp16/bf16 or "cuda" without CUDA, and
            loss names, are checked when the `Trainer` is built.
    """

    steps: int
    batch_size: int
    generator_lr: float = 1e-4
    discriminator_lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.99)
    adversarial_loss: str = "bce"
    adversarial_weight: float = 1.0
    content_losses: tuple[ContentLossConfig, ...] = ()
    r1_gamma: float = 0.0
    discriminator_updates_per_generator_update: int = 1
    discriminator_warmup_steps: int = 0
    precision: str = "auto"
    ema_decay: float = 0.999
    grad_clip: float = 0.0
    max_nonfinite_steps: int = 10
    schedule: str = "constant"
    schedule_milestones: tuple[float, ...] = (0.5, 0.75)
    schedule_gamma: float = 0.5
    warmup_steps: int = 0
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 50
    sample_every: int = 0
    validate_every: int = 0
    seed: int = 0
    num_workers: int = 0
    device: str = "auto"
    channels_last: bool = True
    progress: bool = True
    tensorboard: bool = True

    def __post_init__(self) -> None:
        if self.steps <= 0 or self.batch_size <= 0:
            raise ConfigError(f"steps and batch_size must be positive, got {self.steps} and {self.batch_size}")
        if self.precision not in _PRECISIONS:
            raise ConfigError(f"precision {self.precision!r} is not one of {_PRECISIONS}")
        if self.schedule not in _SCHEDULES:
            raise ConfigError(f"schedule {self.schedule!r} is not one of {_SCHEDULES}")
        if self.discriminator_updates_per_generator_update < 1:
            raise ConfigError("discriminator_updates_per_generator_update must be >= 1")
        if self.max_nonfinite_steps < 1:
            raise ConfigError("max_nonfinite_steps must be >= 1")
        if self.adversarial_loss == "none" and not self.content_losses:
            raise ConfigError("with adversarial_loss='none' at least one content loss is needed")
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", str(self.device)):
            raise ConfigError(f"device {self.device!r} is not 'auto', 'cpu', 'cuda' or 'cuda:N'")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1) (0 disables the EMA), got {self.ema_decay}")
        for name in ("r1_gamma", "grad_clip", "warmup_steps"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        # JSON round trips give lists; keep the declared tuple types
        object.__setattr__(self, "betas", tuple(self.betas))
        object.__setattr__(self, "schedule_milestones", tuple(self.schedule_milestones))
        losses = tuple(c if isinstance(c, ContentLossConfig) else ContentLossConfig(**c) for c in self.content_losses)
        object.__setattr__(self, "content_losses", losses)

    @property
    def uses_discriminator(self) -> bool:
        """Whether a discriminator is trained (`adversarial_loss` is not "none")."""
        return self.adversarial_loss != "none"

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (content losses as dicts), as the run's ``config.json`` holds them."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """`to_dict` as one line of JSON, keys sorted."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainerConfig:
        """Rebuild from `to_dict` output.

        Raises:
            ConfigError: an unknown key (the message lists the valid ones), or a value the
                constructor refuses.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown trainer settings {unknown}: valid ones are {sorted(known)}")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainerConfig:
        """A copy with `changes` applied, validated again.

        Raises:
            ConfigError: a value the constructor refuses.
        """
        return dataclasses.replace(self, **changes)

    def override(self, **changes: Any) -> TrainerConfig:
        """`replace` with the changes that are not None (command-line options left unset)."""
        return self.replace(**{key: value for key, value in changes.items() if value is not None})


def learning_rate_factor(config: TrainerConfig, step: int) -> float:
    """Multiplier of the base learning rate at `step` (0-based): warm-up, then the schedule."""
    if config.warmup_steps and step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "cosine":
        progress = min(step / config.steps, 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if config.schedule == "multistep":
        passed = sum(step >= m * config.steps for m in config.schedule_milestones)
        return config.schedule_gamma**passed
    return 1.0
