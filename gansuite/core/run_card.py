"""The model card a training run exports beside its EMA generator.

Every task records the same run facts (steps, batch size, hardware, wall time, validation) and
adds its own (scale, context frames, data); this module owns the shared part so the task heads
only name what is theirs.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from gansuite.core.checkpoint import export_weights
from gansuite.core.trainer import Trainer, TrainingResult

__all__ = ["export_run_weights", "hardware_description"]

WEIGHTS_NAME = "generator_ema.safetensors"


def hardware_description(device: torch.device) -> str:
    """A short name of the machine a run trained on: the GPU's name, or the CPU and its threads."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def export_run_weights(trainer: Trainer, result: TrainingResult, *, seconds: float, card: Mapping[str, Any]) -> Path:
    """Write the trainer's evaluation generator to ``RUN_DIR/generator_ema.safetensors`` with its card.

    Args:
        trainer: the trainer after `Trainer.fit`.
        result: what `fit` returned (its validation metrics go into the card).
        seconds: wall time of this process's share of the run; the times of earlier chunks of a
            resumed run, read from the previous card, are added.
        card: the task's own card fields, written first.

    Returns:
        The path of the weights file (its card is the ``.json`` beside it).
    """
    path = trainer.run_dir / WEIGHTS_NAME
    wall = seconds
    previous_card = path.with_suffix(".json")  # where export_weights writes the card
    if previous_card.is_file() and trainer.step > 0:
        previous = json.loads(previous_card.read_text())
        if previous.get("steps", 0) < trainer.step:  # an earlier chunk of this run, not a rerun of the same steps
            wall += float(previous.get("training_seconds", 0.0))
    full_card = {
        **card,
        "steps": trainer.step,
        "planned_steps": trainer.config.steps,
        "batch_size": trainer.config.batch_size,
        "hardware": hardware_description(trainer.device),
        "training_seconds": round(wall, 1),
        "validation": result.validation,
        "log": "log.jsonl",
    }
    export_weights(path, trainer.eval_generator(), card=full_card)
    return path
