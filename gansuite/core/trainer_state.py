"""What a training checkpoint holds, and putting it back into a `Trainer`.

A checkpoint (``RUN_DIR/checkpoints/step_XXXXXXXX.pt``, format ``gansuite-checkpoint-1``) holds
the networks, optimizers, GradScalers and EMA, the step and non-finite streak, every rank's
random state (``rng``: rank 0's, as older versions wrote it; ``rng_per_rank`` under DDP), the
trainer config and the run's extra settings as JSON, and the dataset size. Keys added since
the first version are optional on load, so older checkpoints keep resuming.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gansuite.core.checkpoint import checkpoint_files, save_checkpoint
from gansuite.core.rng import restore_rng_state
from gansuite.core.run_folder import resume_mismatch
from gansuite.errors import CheckpointError, ConfigError

if TYPE_CHECKING:
    from gansuite.core.trainer import Trainer

__all__ = ["check_resume_settings", "checkpoint_payload", "restore_training_state", "write_checkpoint"]


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, DistributedDataParallel) else module


def checkpoint_payload(trainer: Trainer, rng_states: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything `trainer` needs to continue exactly, as tensors, numbers, strings and lists.

    Args:
        trainer: the trainer.
        rng_states: every rank's random state, in rank order (`gather_rng_states`).
    """
    generator = _unwrap(trainer.generator)
    payload: dict[str, Any] = {
        "format": "gansuite-checkpoint-1",
        "step": trainer.step,
        "generator": generator.state_dict(),
        "optimizer_g": trainer.optimizer_g.state_dict(),
        "scaler_g": trainer.scaler_g.state_dict(),
        "rng": rng_states[0],
        "nonfinite_streak": trainer.nonfinite_streak,
        "config": trainer.config.to_json(),
        "extra_config": json.dumps(trainer.extra_config, sort_keys=True, default=str),
    }
    if trainer.context.enabled:
        payload["rng_per_rank"] = rng_states
    if trainer.dataset_size is not None:
        payload["dataset_size"] = trainer.dataset_size
    if hasattr(generator, "spec"):
        payload["generator_spec"] = generator.spec.to_json()
    if trainer.ema is not None:
        payload["ema"] = trainer.ema.state_dict()
    if trainer.discriminator is not None and trainer.optimizer_d is not None:
        discriminator = _unwrap(trainer.discriminator)
        payload["discriminator"] = discriminator.state_dict()
        payload["optimizer_d"] = trainer.optimizer_d.state_dict()
        payload["scaler_d"] = trainer.scaler_d.state_dict()
        if hasattr(discriminator, "spec"):
            payload["discriminator_spec"] = discriminator.spec.to_json()
    return payload


def check_resume_settings(trainer: Trainer, payload: dict[str, Any]) -> None:
    """Refuse to resume when a setting that shapes the run differs from the checkpoint's.

    Compared: the trainer settings except runtime ones (device, workers, precision, logging and
    checkpoint periods...), ``steps`` when the schedule is laid out over it, the run's extra
    settings (recipe, networks, patch size, data names...) and the dataset size.

    Raises:
        ConfigError: one line naming the setting, its old and new value, and ``--force-resume``.
    """
    try:
        saved = {"trainer": json.loads(payload["config"]), **json.loads(payload.get("extra_config", "{}"))}
    except (KeyError, TypeError, ValueError):
        return  # a checkpoint that records no settings: nothing to compare
    current = {"trainer": trainer.config.to_dict(), **trainer.extra_config}
    if "dataset_size" in payload and trainer.dataset_size is not None:
        saved["dataset_size"], current["dataset_size"] = int(payload["dataset_size"]), trainer.dataset_size
    mismatch = resume_mismatch(saved, current, schedule_uses_steps=trainer.config.schedule != "constant")
    if mismatch is not None:
        raise ConfigError(
            f"cannot resume {trainer.run_dir}: {mismatch}; rerun with the run's settings, train into a new --out, "
            "or pass --force-resume"
        )


def restore_training_state(trainer: Trainer, payload: dict[str, Any], path: str | Path) -> None:
    """Load networks, optimizers, scalers, EMA, step, streak and this rank's random state.

    Args:
        trainer: the trainer to restore into (its networks may be on any device).
        payload: a checkpoint loaded onto the CPU.
        path: the checkpoint's path, for messages.

    Raises:
        CheckpointError: the checkpoint's networks do not fit the trainer's.
    """
    try:
        _unwrap(trainer.generator).load_state_dict(payload["generator"])
        trainer.optimizer_g.load_state_dict(payload["optimizer_g"])
        trainer.scaler_g.load_state_dict(payload["scaler_g"])
        if trainer.ema is not None and "ema" in payload:
            trainer.ema.load_state_dict(payload["ema"])
        if trainer.discriminator is not None and trainer.optimizer_d is not None:
            if "discriminator" not in payload:
                raise CheckpointError(f"{path} holds no discriminator, but this run trains one")
            _unwrap(trainer.discriminator).load_state_dict(payload["discriminator"])
            trainer.optimizer_d.load_state_dict(payload["optimizer_d"])
            trainer.scaler_d.load_state_dict(payload["scaler_d"])
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(f"{path} does not fit this run's networks ({exc})") from exc
    trainer.step = int(payload["step"])
    trainer.nonfinite_streak = int(payload.get("nonfinite_streak", 0))
    context, per_rank = trainer.context, payload.get("rng_per_rank")
    if not context.enabled:
        restore_rng_state(payload["rng"])
    elif isinstance(per_rank, list) and len(per_rank) == context.world_size:
        restore_rng_state(per_rank[context.rank])
    else:  # a checkpoint of another world size (or of an older gansuite): no state for this rank
        torch.manual_seed(trainer.config.seed + context.rank + 1_000_003 * trainer.step)
        if context.is_main:
            warnings.warn(
                f"{path} holds no random state for {context.world_size} processes: the ranks' random streams "
                "restart from the seed, so this run will not match an uninterrupted one exactly",
                stacklevel=3,
            )


def write_checkpoint(trainer: Trainer, path: Path, rng_states: list[dict[str, Any]]) -> None:
    """Write `trainer`'s checkpoint to `path` atomically, then keep only its newest `keep_checkpoints`.

    Raises:
        OSError: the file could not be written (a full disk included).
    """
    save_checkpoint(path, checkpoint_payload(trainer, rng_states))
    for stale in checkpoint_files(path.parent)[: -trainer.config.keep_checkpoints]:
        stale.unlink(missing_ok=True)
