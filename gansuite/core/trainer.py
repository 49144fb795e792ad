"""The adversarial training loop shared by every task head.

A GAN here is composition: a generator, a discriminator, an adversarial loss and weighted
content losses, plus a task head that turns a batch into a `Sample` and runs the generator on
it. `Trainer.fit` reads top to bottom: `train_step` → `discriminator_step` and
`generator_step`. Mixed precision (``torch.autocast``) is used on CUDA only; CPU runs in float32.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from gansuite.core.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from gansuite.core.config import TrainerConfig, learning_rate_factor
from gansuite.core.distributed import DistributedContext, init_distributed
from gansuite.core.ema import ExponentialMovingAverage
from gansuite.core.losses import CONTENT_LOSSES, ContentLoss, get_adversarial_loss, r1_penalty
from gansuite.core.run_log import RunLog
from gansuite.core.sampling import SeededSampler
from gansuite.errors import CheckpointError, ConfigError, NonFiniteLossError

__all__ = ["GanHead", "Sample", "StepResult", "Trainer", "TrainerHooks", "TrainingResult"]


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
    """What a task provides to the trainer."""

    def prepare(self, batch: Any) -> Sample:
        """Turn a DataLoader batch into a `Sample` (on the CPU; the trainer moves it)."""

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        """Run the generator on `sample.inputs`; the result is compared with `sample.target`."""


@dataclass(frozen=True)
class TrainerHooks:
    """Optional callbacks, run on the main process.

    Attributes:
        validate: (EMA or raw generator, step) → metrics, every `validate_every` steps and at the end.
        samples: (generator, sample, step, run_dir) → None, writes sample grids every `sample_every`.
    """

    validate: Callable[[nn.Module, int], dict[str, float]] | None = None
    samples: Callable[[nn.Module, Sample, int, Path], None] | None = None


@dataclass(frozen=True)
class StepResult:
    """Losses of one step; NaN where a part did not run."""

    step: int
    discriminator_loss: float
    generator_loss: float
    content_loss: float
    adversarial_loss: float
    skipped: bool


@dataclass
class TrainingResult:
    """What `fit` returns: per-step losses of this process and the last validation metrics."""

    history: list[StepResult] = field(default_factory=list)
    validation: dict[str, float] = field(default_factory=dict)
    final_step: int = 0
    seconds: float = 0.0


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, DistributedDataParallel) else module


def _checkpoint_step(path: Path) -> int:
    match = re.fullmatch(r"step_(\d+)\.pt", path.name)
    return int(match.group(1)) if match else -1


class Trainer:
    """Trains `generator` (and `discriminator`) on a dataset with a task head.

    Args:
        generator: the generator network.
        discriminator: the discriminator, or None when `config.adversarial_loss == "none"`.
        head: the task's `GanHead`.
        config: the run's `TrainerConfig`.
        run_dir: where config, logs, checkpoints and samples go.
        hooks: validation and sample callbacks.
        extra_config: more JSON-serialisable settings saved beside the trainer config (the recipe).
        content_losses: prebuilt content losses; by default built from `config.content_losses`.
    """

    def __init__(
        self,
        *,
        generator: nn.Module,
        discriminator: nn.Module | None,
        head: GanHead,
        config: TrainerConfig,
        run_dir: str | Path,
        hooks: TrainerHooks | None = None,
        extra_config: dict[str, Any] | None = None,
        content_losses: list[ContentLoss] | None = None,
    ) -> None:
        if config.uses_discriminator and discriminator is None:
            raise ConfigError(f"adversarial loss {config.adversarial_loss!r} needs a discriminator")
        self.config = config
        self.head = head
        self.hooks = hooks or TrainerHooks()
        self.run_dir = Path(run_dir)
        self.extra_config = dict(extra_config or {})
        self.context: DistributedContext = init_distributed(config.device)
        self.device = self.context.device
        self.precision = self._resolve_precision()
        self.adversarial = get_adversarial_loss(config.adversarial_loss) if config.uses_discriminator else None
        if content_losses is None:
            content_losses = [
                CONTENT_LOSSES.get(c.name)(weight=c.weight, **c.options) for c in config.content_losses
            ]
        self.content_losses = nn.ModuleList(content_losses).to(self.device)
        if config.channels_last:  # the perceptual loss's VGG is the costliest network of a GAN step on the CPU
            self.content_losses = self.content_losses.to(memory_format=torch.channels_last)

        torch.manual_seed(config.seed + self.context.rank)
        self.generator = self._place(generator)
        self.discriminator = self._place(discriminator) if discriminator is not None and self.adversarial else None
        self.ema = (
            ExponentialMovingAverage(_unwrap(self.generator), decay=config.ema_decay) if config.ema_decay > 0 else None
        )
        self.optimizer_g = torch.optim.Adam(self.generator.parameters(), lr=config.generator_lr, betas=config.betas)
        self.optimizer_d = (
            torch.optim.Adam(self.discriminator.parameters(), lr=config.discriminator_lr, betas=config.betas)
            if self.discriminator is not None
            else None
        )
        use_scaler = self.precision == torch.float16
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=use_scaler)
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=use_scaler)
        self.step = 0
        self.nonfinite_streak = 0

    # ----------------------------------------------------------------- construction helpers
    def _resolve_precision(self) -> torch.dtype:
        wanted = self.config.precision
        if self.device.type != "cuda":
            if wanted in ("fp16", "bf16"):
                raise ConfigError(f"precision {wanted} needs CUDA; on the CPU use fp32 (or 'auto')")
            return torch.float32
        if wanted == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[wanted]

    def _place(self, module: nn.Module) -> nn.Module:
        module = module.to(self.device)
        if self.config.channels_last:
            module = module.to(memory_format=torch.channels_last)
        if self.context.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            module = DistributedDataParallel(module, device_ids=ids)
        return module

    def _move(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            value = value.to(self.device, non_blocking=True)
            if self.config.channels_last and value.dim() == 4:
                value = value.contiguous(memory_format=torch.channels_last)
            return value
        if isinstance(value, (tuple, list)):
            return type(value)(self._move(v) for v in value)
        return value

    def _autocast(self) -> Any:
        if self.device.type == "cuda" and self.precision != torch.float32:
            return torch.autocast("cuda", dtype=self.precision)
        return nullcontext()

    # ----------------------------------------------------------------- checkpoints
    @property
    def checkpoint_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    def latest_checkpoint(self) -> Path | None:
        """The checkpoint with the highest step in this run, or None."""
        found = sorted(self.checkpoint_dir.glob("step_*.pt"), key=_checkpoint_step)
        return found[-1] if found else None

    def _payload(self) -> dict[str, Any]:
        generator = _unwrap(self.generator)
        payload: dict[str, Any] = {
            "format": "gansuite-checkpoint-1",
            "step": self.step,
            "generator": generator.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "rng": capture_rng_state(),
            "nonfinite_streak": self.nonfinite_streak,
            "config": self.config.to_json(),
            "extra_config": _json(self.extra_config),
        }
        if hasattr(generator, "spec"):
            payload["generator_spec"] = generator.spec.to_json()
        if self.ema is not None:
            payload["ema"] = self.ema.state_dict()
        if self.discriminator is not None and self.optimizer_d is not None:
            discriminator = _unwrap(self.discriminator)
            payload["discriminator"] = discriminator.state_dict()
            payload["optimizer_d"] = self.optimizer_d.state_dict()
            payload["scaler_d"] = self.scaler_d.state_dict()
            if hasattr(discriminator, "spec"):
                payload["discriminator_spec"] = discriminator.spec.to_json()
        return payload

    def save(self) -> Path:
        """Write a checkpoint of the current step atomically and prune old ones."""
        path = self.checkpoint_dir / f"step_{self.step:08d}.pt"
        save_checkpoint(path, self._payload())
        old = sorted(self.checkpoint_dir.glob("step_*.pt"), key=_checkpoint_step)[: -self.config.keep_checkpoints]
        for stale in old:
            stale.unlink(missing_ok=True)
        return path

    def resume(self, path: str | Path) -> None:
        """Restore every piece of state from a checkpoint, so training continues exactly."""
        payload = load_checkpoint(path, map_location=self.device)
        try:
            _unwrap(self.generator).load_state_dict(payload["generator"])
            self.optimizer_g.load_state_dict(payload["optimizer_g"])
            self.scaler_g.load_state_dict(payload["scaler_g"])
            if self.ema is not None and "ema" in payload:
                self.ema.load_state_dict(payload["ema"])
            if self.discriminator is not None and self.optimizer_d is not None:
                if "discriminator" not in payload:
                    raise CheckpointError(f"{path} holds no discriminator, but this run trains one")
                _unwrap(self.discriminator).load_state_dict(payload["discriminator"])
                self.optimizer_d.load_state_dict(payload["optimizer_d"])
                self.scaler_d.load_state_dict(payload["scaler_d"])
        except (RuntimeError, KeyError, ValueError) as exc:
            raise CheckpointError(f"{path} does not fit this run's networks ({exc})") from exc
        self.step = int(payload["step"])
        self.nonfinite_streak = int(payload.get("nonfinite_streak", 0))
        if not self.context.enabled:
            restore_rng_state(payload["rng"])

    # ----------------------------------------------------------------- the loop
    def fit(
        self,
        dataset: Dataset,
        *,
        resume: str | Path | None = None,
        collate_fn: Callable[[Any], Any] | None = None,
        until: int | None = None,
    ) -> TrainingResult:
        """Train until `config.steps` (or stop early at step `until`, checkpointed, to resume later).

        Args:
            dataset: a map-style dataset whose `__getitem__` takes a `SeededIndex`.
            resume: a checkpoint path, or "auto" for the latest one in `run_dir`, or None.
            collate_fn: the DataLoader's collate function (default: stack samples).
            until: stop after this step (for training in time-limited chunks); the schedule still
                runs to `config.steps`.
        """
        config = self.config
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if resume == "auto":
            resume = self.latest_checkpoint()
        if resume is not None:
            self.resume(resume)
        if self.context.is_main:
            (self.run_dir / "config.json").write_text(
                _json({"trainer": config.to_dict(), **self.extra_config}, indent=2) + "\n"
            )
        log = RunLog(self.run_dir, tensorboard=config.tensorboard, enabled=self.context.is_main)
        sampler = SeededSampler(
            dataset_size=len(dataset),  # type: ignore[arg-type]
            batch_size=config.batch_size,
            seed=config.seed,
            rank=self.context.rank,
            world_size=self.context.world_size,
            start_step=self.step,
        )
        loader = DataLoader(
            dataset,
            batch_size=config.batch_size,
            sampler=sampler,
            num_workers=config.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=config.num_workers > 0,
            collate_fn=collate_fn,
            # its own generator, so creating the iterator does not consume the global RNG
            generator=torch.Generator().manual_seed(config.seed),
        )
        result = TrainingResult()
        started = time.perf_counter()
        bar = tqdm(
            total=config.steps, initial=self.step, disable=not (config.progress and self.context.is_main),
            desc="train", dynamic_ncols=True,
        )
        batches = iter(loader)
        try:
            last = config.steps if until is None else min(until, config.steps)
            while self.step < last:
                sample = self.head.prepare(next(batches))
                outcome = self.train_step(sample)
                result.history.append(outcome)
                self.step += 1
                bar.update(1)
                self._after_step(outcome, sample, log, result, bar)
        finally:
            bar.close()
        off_period = not config.checkpoint_every or self.step % config.checkpoint_every
        if self.context.is_main and (not result.history or off_period):
            self.save()
        if self.hooks.validate is not None and self.context.is_main and self.step == config.steps:
            result.validation = self.hooks.validate(self.eval_generator(), self.step)
            log.write("validation", self.step, result.validation)
        log.close()
        result.final_step = self.step
        result.seconds = time.perf_counter() - started
        return result

    def _after_step(
        self, outcome: StepResult, sample: Sample, log: RunLog, result: TrainingResult, bar: tqdm
    ) -> None:
        config, step = self.config, self.step
        if config.log_every and step % config.log_every == 0:
            values = {f.name: getattr(outcome, f.name) for f in fields(outcome) if f.name != "step"}
            values["lr_factor"] = learning_rate_factor(config, step - 1)
            log.write("train", step, values)
            bar.set_postfix(g=f"{outcome.generator_loss:.4f}", d=f"{outcome.discriminator_loss:.4f}")
        if not self.context.is_main:
            return
        if config.checkpoint_every and step % config.checkpoint_every == 0:
            self.save()
        if config.sample_every and step % config.sample_every == 0 and self.hooks.samples is not None:
            self.hooks.samples(self.eval_generator(), sample, step, self.run_dir)
        if config.validate_every and step % config.validate_every == 0 and self.hooks.validate is not None:
            result.validation = self.hooks.validate(self.eval_generator(), step)
            log.write("validation", step, result.validation)

    def eval_generator(self) -> nn.Module:
        """The EMA generator if there is one, else the raw generator (unwrapped from DDP)."""
        return self.ema.shadow if self.ema is not None else _unwrap(self.generator)

    def train_step(self, sample: Sample) -> StepResult:
        """One step: a discriminator update, then a generator update every k-th step."""
        sample = Sample(self._move(sample.inputs), self._move(sample.target), self._move(sample.condition))
        factor = learning_rate_factor(self.config, self.step)
        for group in self.optimizer_g.param_groups:
            group["lr"] = self.config.generator_lr * factor
        if self.optimizer_d is not None:
            for group in self.optimizer_d.param_groups:
                group["lr"] = self.config.discriminator_lr * factor

        d_loss, d_ok = self.discriminator_step(sample) if self.discriminator is not None else (float("nan"), True)
        g_total, g_content, g_adversarial, g_ok = (float("nan"),) * 3 + (True,)
        in_warmup = self.step < self.config.discriminator_warmup_steps
        every = self.config.discriminator_updates_per_generator_update
        if not in_warmup and (self.step + 1) % every == 0:
            g_total, g_content, g_adversarial, g_ok = self.generator_step(sample)

        skipped = not (d_ok and g_ok)
        if skipped:
            self.nonfinite_streak += 1
            if self.nonfinite_streak >= self.config.max_nonfinite_steps:
                raise NonFiniteLossError(
                    f"losses were non-finite for {self.nonfinite_streak} steps in a row (step {self.step + 1}): "
                    "lower the learning rate, enable grad_clip, or use precision fp32"
                )
        else:
            self.nonfinite_streak = 0
        return StepResult(self.step + 1, d_loss, g_total, g_content, g_adversarial, skipped=skipped)

    def _apply(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: Any, module: nn.Module) -> bool:
        """Backward and update; a non-finite loss skips the update. Returns whether it stepped."""
        optimizer.zero_grad(set_to_none=True)
        if not torch.isfinite(loss.detach()):
            return False
        scaler.scale(loss).backward()
        if self.config.grad_clip > 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(module.parameters(), self.config.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        return True

    def discriminator_step(self, sample: Sample) -> tuple[float, bool]:
        """Update D on real targets versus detached generator outputs (plus R1 if enabled).

        Real and fake go through D as one concatenated batch: one forward per backward, which is
        what DistributedDataParallel expects. Returns (loss, whether D was updated).
        """
        assert self.discriminator is not None and self.optimizer_d is not None and self.adversarial is not None
        with torch.no_grad(), self._autocast():
            fake = self.head.generate(_unwrap(self.generator), sample)
        real = sample.target.detach().requires_grad_(self.config.r1_gamma > 0)
        condition = sample.condition
        if condition is not None:
            condition = torch.cat([condition, condition])
        with self._autocast():
            logits = self.discriminator(torch.cat([real, fake.detach().to(real.dtype)]), condition).float()
            real_logits, fake_logits = logits.chunk(2)
            loss = self.adversarial.discriminator(real_logits, fake_logits)
        if self.config.r1_gamma > 0:
            loss = loss + 0.5 * self.config.r1_gamma * r1_penalty(real_logits, real)
        updated = self._apply(loss, self.optimizer_d, self.scaler_d, self.discriminator)
        return float(loss.detach()), updated

    def generator_step(self, sample: Sample) -> tuple[float, float, float, bool]:
        """Update G on weighted content losses plus the adversarial term.

        D is used unwrapped with its parameters frozen, so no gradient reaches it.
        Returns (total, content, adversarial, whether G was updated).
        """
        discriminator = _unwrap(self.discriminator) if self.discriminator is not None else None
        if discriminator is not None:
            discriminator.requires_grad_(False)
        try:
            with self._autocast():
                fake = self.head.generate(self.generator, sample)
                content = fake.new_zeros((), dtype=torch.float32)
                for loss_fn in self.content_losses:
                    content = content + loss_fn(fake.float(), sample.target.float())
                adversarial = fake.new_zeros((), dtype=torch.float32)
                if discriminator is not None and self.adversarial is not None:
                    fake_logits = discriminator(fake, sample.condition).float()
                    real_logits = fake_logits.new_zeros(())
                    if self.adversarial.generator_uses_real:
                        with torch.no_grad():
                            real_logits = discriminator(sample.target, sample.condition).float()
                    adversarial = self.config.adversarial_weight * self.adversarial.generator(real_logits, fake_logits)
                total = content + adversarial
            updated = self._apply(total, self.optimizer_g, self.scaler_g, self.generator)
            if updated and self.ema is not None:
                self.ema.update(_unwrap(self.generator))
        finally:
            if discriminator is not None:
                discriminator.requires_grad_(True)
        return float(total.detach()), float(content.detach()), float(adversarial.detach()), updated


def _json(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, **kwargs)
