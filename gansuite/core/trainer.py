"""The adversarial training loop shared by every task head.

A GAN here is composition: a generator, a discriminator, an adversarial loss and weighted
content losses, plus a task head that turns a batch into a `Sample` and runs the generator on
it. `Trainer.fit` reads top to bottom: `train_step` → `discriminator_step` and
`generator_step`. Mixed precision (``torch.autocast``) is used on CUDA only; CPU runs in float32.

On CUDA and under DDP: every update goes through `guarded_update` (always backward; the skip of
a non-finite step is decided by all ranks together; a step GradScaler skips counts as skipped),
losses stay on the device until a log step reads them back, checkpoints are read onto the CPU
and hold every rank's random state, and only rank 0 writes files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm import tqdm

from gansuite.core.checkpoint import checkpoint_files, load_checkpoint
from gansuite.core.config import TrainerConfig, learning_rate_factor
from gansuite.core.distributed import DistributedContext, init_distributed, run_on_main
from gansuite.core.ema import ExponentialMovingAverage
from gansuite.core.losses import CONTENT_LOSSES, ContentLoss, get_adversarial_loss
from gansuite.core.objectives import discriminator_objective, generator_objective
from gansuite.core.placement import autocast_for, move_to_device, place_module, training_precision, unwrap
from gansuite.core.rng import gather_rng_states
from gansuite.core.run_folder import RunLock, check_run_folder, disk_full_reported, write_run_config
from gansuite.core.run_log import RunLog
from gansuite.core.sampling import seeded_loader
from gansuite.core.trainer_state import check_resume_settings, restore_training_state, write_checkpoint
from gansuite.core.training_types import (
    READ_BACK_EVERY,
    GanHead,
    PendingStep,
    Sample,
    StepResult,
    TrainerHooks,
    TrainingResult,
    read_back,
)
from gansuite.core.update import guarded_update
from gansuite.errors import ConfigError, NonFiniteLossError, RunInterrupted, count_of

__all__ = ["GanHead", "Sample", "StepResult", "Trainer", "TrainerHooks", "TrainingResult"]


class Trainer:
    """Trains `generator` (and `discriminator`) on a dataset with a task head.

    Args:
        generator: the generator network.
        discriminator: the discriminator, or None when `config.adversarial_loss == "none"` (a
            discriminator given then is not used).
        head: the task's `GanHead`.
        config: the run's `TrainerConfig`.
        run_dir: where config, logs, checkpoints and samples go.
        hooks: validation and sample callbacks.
        extra_config: more JSON-serialisable settings saved beside the trainer config (the recipe).
        content_losses: prebuilt content losses; by default built from `config.content_losses`.

    Raises:
        ConfigError: an adversarial loss without a discriminator, a "cuda" device or fp16/bf16
            precision without CUDA, or a content loss that needs the EMA generator (LDL) with
            `ema_decay` 0.
        UnknownNameError: an adversarial or content loss name that is not registered.
        BackboneNotFoundError: a perceptual loss whose VGG16 weights cannot be found.
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
        self.precision = training_precision(config.precision, self.device)
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
            ExponentialMovingAverage(unwrap(self.generator), decay=config.ema_decay) if config.ema_decay > 0 else None
        )
        self.needs_reference = any(getattr(loss, "needs_reference", False) for loss in self.content_losses)
        if self.needs_reference and self.ema is None:
            raise ConfigError("a content loss needs the EMA generator's output (ldl): set ema_decay > 0")
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
        self.dataset_size: int | None = None  # recorded in checkpoints, so a resume can tell the data changed

    # ----------------------------------------------------------------- construction helpers
    def _place(self, module: nn.Module) -> nn.Module:
        return place_module(module, self.device, channels_last=self.config.channels_last, context=self.context)

    def _autocast(self) -> Any:
        return autocast_for(self.device, self.precision)

    # ----------------------------------------------------------------- checkpoints
    @property
    def checkpoint_dir(self) -> Path:
        """``run_dir/checkpoints``, where `save` writes ``step_XXXXXXXX.pt`` files."""
        return self.run_dir / "checkpoints"

    def latest_checkpoint(self) -> Path | None:
        """The checkpoint with the highest step in this run, or None."""
        found = checkpoint_files(self.checkpoint_dir)
        return found[-1] if found else None

    def save(self) -> Path:
        """Write a checkpoint of the current step atomically and prune old ones.

        Under DDP every rank calls it together: their random states are gathered into the
        checkpoint, rank 0 writes it, and if writing fails every rank raises.

        Raises:
            OutputError: the disk is full (or the folder is not writable).
        """
        path = self.checkpoint_dir / f"step_{self.step:08d}.pt"
        rng_states = gather_rng_states(self.context)
        run_on_main(lambda: write_checkpoint(self, path, rng_states), self.context,
                    f"rank 0 could not write checkpoint {path}")
        return path

    def resume(self, path: str | Path, *, force: bool = False) -> None:
        """Restore every piece of state from a checkpoint, so training continues exactly.

        The checkpoint is read onto the CPU (``torch.set_rng_state`` takes CPU tensors only;
        ``load_state_dict`` copies onto the networks' device). Under DDP each rank restores its
        own random state.

        Args:
            path: the checkpoint.
            force: resume even if settings that shape the run (batch size, learning rates,
                losses, seed, schedule, recipe, networks, data) differ from the checkpoint's.

        Raises:
            CheckpointError: unreadable, or its networks do not fit this run's.
            ConfigError: such a setting changed and `force` is False (the message names it).
        """
        payload = load_checkpoint(path, map_location="cpu")
        if not force:
            check_resume_settings(self, payload)
        restore_training_state(self, payload, path)

    # ----------------------------------------------------------------- the loop
    def fit(
        self,
        dataset: Dataset,
        *,
        resume: str | Path | None = None,
        collate_fn: Callable[[Any], Any] | None = None,
        until: int | None = None,
        force_resume: bool = False,
    ) -> TrainingResult:
        """Train until `config.steps` (or stop early at step `until`, checkpointed, to resume later).

        The run folder is locked (``train.lock``) while this runs, so a second trainer cannot
        write into it; a lock left by a dead process is taken over.

        Args:
            dataset: any map-style dataset (``torch.utils.data.Dataset`` with ``__len__``). One
                that sets ``seeded_keys = True`` gets `SeededIndex` keys (index + per-sample
                seed for its augmentations); any other gets plain int indices.
            resume: a checkpoint path, or "auto" for the latest one in `run_dir`, or None.
            collate_fn: the DataLoader's collate function (default: stack samples).
            until: stop after this step (for training in time-limited chunks); the schedule still
                runs to `config.steps`.
            force_resume: resume even if settings that shape the run changed (see `resume`).

        Raises:
            ConfigError: another trainer uses `run_dir`, or a resume with changed settings.
            CheckpointError: the checkpoint to resume is unreadable or does not fit.
            NonFiniteLossError: `config.max_nonfinite_steps` non-finite steps in a row.
            OutputError: `run_dir` cannot be written, or the disk filled up (one line saying so; rerun to resume).
        """
        check_run_folder(self.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        lock = RunLock(self.run_dir)
        run_on_main(lock.acquire, self.context, f"{self.run_dir} is in use by another trainer")
        try:
            with disk_full_reported(self.run_dir):
                return self._fit(dataset, resume=resume, collate_fn=collate_fn, until=until, force_resume=force_resume)
        except KeyboardInterrupt as exc:
            if isinstance(exc, RunInterrupted):
                raise
            raise RunInterrupted(self._interrupted_note()) from exc
        finally:
            lock.release()

    def _interrupted_note(self) -> str:
        """What an interrupted `fit` kept: the steps since the last checkpoint are lost."""
        latest = self.latest_checkpoint()
        done = f"training stopped after step {self.step} of {self.config.steps}"
        if latest is None:
            return f"{done}, before its first checkpoint: nothing was kept"
        kept = int(latest.stem.removeprefix("step_")) if latest.stem[5:].isdigit() else 0
        lost = f"; the {count_of(self.step - kept, 'step')} since are lost" if self.step > kept else ""
        return (
            f"{done}; the last checkpoint is step {kept} ({latest}){lost}: rerun the same command "
            "(fit(resume='auto') in Python) to resume from it"
        )

    def _fit(
        self,
        dataset: Dataset,
        *,
        resume: str | Path | None,
        collate_fn: Callable[[Any], Any] | None,
        until: int | None,
        force_resume: bool,
    ) -> TrainingResult:
        config = self.config
        self.dataset_size = len(dataset)  # type: ignore[arg-type]
        if resume == "auto":
            resume = self.latest_checkpoint()
        if resume is not None:
            self.resume(resume, force=force_resume)
        if self.context.is_main:
            write_run_config(self.run_dir, {"trainer": config.to_dict(), **self.extra_config})
        log = RunLog(self.run_dir, tensorboard=config.tensorboard, enabled=self.context.is_main)
        loader = seeded_loader(
            dataset, batch_size=config.batch_size, seed=config.seed, num_workers=config.num_workers,
            rank=self.context.rank, world_size=self.context.world_size, start_step=self.step,
            pin_memory=self.device.type == "cuda", collate_fn=collate_fn,
        )
        result = TrainingResult()
        started = time.perf_counter()
        bar = tqdm(
            total=config.steps, initial=self.step, disable=not (config.progress and self.context.is_main),
            desc="train", dynamic_ncols=True,
        )
        batches = iter(loader)
        pending: list[PendingStep] = []  # losses stay on the device until a log step reads them back
        try:
            last = config.steps if until is None else min(until, config.steps)
            while self.step < last:
                sample = self.head.prepare(next(batches))
                pending.append(self._step(sample))
                self.step += 1
                bar.update(1)
                log_step = bool(config.log_every) and self.step % config.log_every == 0
                if log_step or len(pending) >= READ_BACK_EVERY:
                    result.history.extend(read_back(pending))
                    pending.clear()
                if log_step:
                    self._log(result.history[-1], log, bar)
                self._after_step(sample, log, result)
        finally:
            bar.close()
        result.history.extend(read_back(pending))
        off_period = not config.checkpoint_every or self.step % config.checkpoint_every
        if not result.history or off_period:
            self.save()
        if self.hooks.validate is not None and self.context.is_main and self.step == config.steps:
            result.validation = self.hooks.validate(self.eval_generator(), self.step)
            log.write("validation", self.step, result.validation)
        log.close()
        result.final_step = self.step
        result.seconds = time.perf_counter() - started
        return result

    def _log(self, outcome: StepResult, log: RunLog, bar: tqdm) -> None:
        values = {f.name: getattr(outcome, f.name) for f in fields(outcome) if f.name != "step"}
        values["lr_factor"] = learning_rate_factor(self.config, outcome.step - 1)
        log.write("train", outcome.step, values)
        bar.set_postfix(g=f"{outcome.generator_loss:.4f}", d=f"{outcome.discriminator_loss:.4f}")

    def _after_step(self, sample: Sample, log: RunLog, result: TrainingResult) -> None:
        config, step = self.config, self.step
        if config.checkpoint_every and step % config.checkpoint_every == 0:
            self.save()  # on every rank: it gathers their random states
        if not self.context.is_main:
            return
        if config.sample_every and step % config.sample_every == 0 and self.hooks.samples is not None:
            self.hooks.samples(self.eval_generator(), sample, step, self.run_dir)
        if config.validate_every and step % config.validate_every == 0 and self.hooks.validate is not None:
            result.validation = self.hooks.validate(self.eval_generator(), step)
            log.write("validation", step, result.validation)

    def eval_generator(self) -> nn.Module:
        """The EMA generator if there is one, else the raw generator (unwrapped from DDP)."""
        return self.ema.shadow if self.ema is not None else unwrap(self.generator)

    def train_step(self, sample: Sample) -> StepResult:
        """One step: a discriminator update, then a generator update every k-th step.

        Reads the losses back to the host (one sync); `fit` defers that to its log steps.

        Raises:
            NonFiniteLossError: `config.max_nonfinite_steps` non-finite steps in a row.
        """
        return read_back([self._step(sample)])[0]

    def _step(self, sample: Sample) -> PendingStep:
        inputs, target, condition = move_to_device(
            (sample.inputs, sample.target, sample.condition), self.device, channels_last=self.config.channels_last
        )
        sample = Sample(inputs, target, condition)
        factor = learning_rate_factor(self.config, self.step)
        for group in self.optimizer_g.param_groups:
            group["lr"] = self.config.generator_lr * factor
        if self.optimizer_d is not None:
            for group in self.optimizer_d.param_groups:
                group["lr"] = self.config.discriminator_lr * factor

        nan = torch.full((), float("nan"), device=self.device)
        d_loss, d_ok = self.discriminator_step(sample) if self.discriminator is not None else (nan, True)
        g_total, g_content, g_adversarial, g_ok = nan, nan, nan, True
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
        losses = torch.stack([d_loss, g_total, g_content, g_adversarial]).float()
        return PendingStep(self.step + 1, losses, skipped)

    def _apply(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: Any) -> bool:
        """Backward and update unless the loss or a gradient is non-finite on any rank (`guarded_update`).

        Returns whether the optimizer stepped.
        """
        return guarded_update(loss, optimizer, scaler, context=self.context, grad_clip=self.config.grad_clip)

    def discriminator_step(self, sample: Sample) -> tuple[torch.Tensor, bool]:
        """Update D on real targets versus detached generator outputs (`discriminator_objective`).

        Returns (the detached 0-dim float32 loss on the device, whether D was updated).
        """
        assert self.discriminator is not None and self.optimizer_d is not None and self.adversarial is not None
        with torch.no_grad(), self._autocast():
            fake = self.head.generate(unwrap(self.generator), sample)
        own_objective = getattr(self.head, "discriminator_loss", None)
        with self._autocast():
            if own_objective is not None:  # an adversary that is no real/fake classifier, e.g. Eve decoding a cipher
                loss = own_objective(self.discriminator, sample, fake.detach()).float()
            else:
                # the scale as a tensor: no host sync (GradScaler.scale of a one)
                scale = (self.scaler_d.scale(torch.ones((), device=self.device))
                         if self.scaler_d.is_enabled() and self.config.r1_gamma > 0 else None)
                loss = discriminator_objective(self.discriminator, self.adversarial, sample, fake,
                                               r1_gamma=self.config.r1_gamma, r1_grad_scale=scale)
        updated = self._apply(loss, self.optimizer_d, self.scaler_d)
        return loss.detach(), updated

    def generator_step(self, sample: Sample) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
        """Update G on weighted content losses plus the adversarial term (`generator_objective`).

        D is used unwrapped with its parameters frozen, so no gradient reaches it.
        Returns (total, content, adversarial) as detached 0-dim float32 tensors on the device, and
        whether G was updated.
        """
        discriminator = unwrap(self.discriminator) if self.discriminator is not None else None
        if discriminator is not None:
            discriminator.requires_grad_(False)
        try:
            with self._autocast():
                fake = self.head.generate(self.generator, sample)
                reference = None  # the EMA generator's output, for losses that compare with it (LDL)
                if self.needs_reference and self.ema is not None:
                    with torch.no_grad():
                        reference = self.head.generate(self.ema.shadow, sample).float()
                content, adversarial = generator_objective(
                    fake, sample, content_losses=self.content_losses, reference=reference,
                    discriminator=discriminator, adversarial=self.adversarial,
                    adversarial_weight=self.config.adversarial_weight, head=self.head,
                )
                total = content + adversarial
            updated = self._apply(total, self.optimizer_g, self.scaler_g)
            if updated and self.ema is not None:
                self.ema.update(unwrap(self.generator))
        finally:
            if discriminator is not None:
                discriminator.requires_grad_(True)
        return total.detach(), content.detach(), adversarial.detach(), updated
