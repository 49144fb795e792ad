"""Small toy-GAN trainers shared by the trainer tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gansuite.core import NetworkSpec, Trainer, TrainerConfig, build_network
from gansuite.tasks.toy.data import LineData, LinePointsDataset
from gansuite.tasks.toy.demo import ToyHead


def toy_config(**overrides: Any) -> TrainerConfig:
    settings: dict[str, Any] = {
        "steps": 12,
        "batch_size": 16,
        "device": "cpu",
        "progress": False,
        "tensorboard": False,
        "log_every": 1,
        "checkpoint_every": 6,
        "generator_lr": 1e-3,
        "discriminator_lr": 1e-3,
        "ema_decay": 0.9,
        "r1_gamma": 0.1,
        "schedule": "cosine",
        "warmup_steps": 2,
        "grad_clip": 5.0,
        "seed": 3,
    }
    settings.update(overrides)
    return TrainerConfig(**settings)


def toy_trainer(run_dir: Path, config: TrainerConfig, head: Any = None) -> Trainer:
    import torch

    torch.manual_seed(0)  # same initial weights for every trainer built here
    return Trainer(
        generator=build_network(NetworkSpec("generator", "toy-mlp", {"noise_dim": 2, "hidden": 16})),
        discriminator=build_network(NetworkSpec("discriminator", "toy-mlp", {"hidden": 16})),
        head=head or ToyHead(),
        config=config,
        run_dir=run_dir,
    )


def toy_dataset(size: int = 200) -> LinePointsDataset:
    return LinePointsDataset(LineData(size=size, seed=1))
