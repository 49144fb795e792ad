"""pix2pix training with gansuite's `Trainer`: U-Net G, conditional PatchGAN D, L1 (λ = 100) + BCE.

The L1-only twin is the same generator and data with `adversarial_loss="none"`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from gansuite.core import ContentLossConfig, NetworkSpec, Sample, Trainer, TrainerConfig, build_network

__all__ = ["SketchHead", "train_pix2pix"]


class SketchHead:
    """Batches of (edges, photo): G maps edges to a photo; D judges the photo given the edges."""

    def prepare(self, batch: tuple[torch.Tensor, torch.Tensor]) -> Sample:
        edges, photo = batch
        return Sample(inputs=edges, target=photo, condition=edges)

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        return generator(sample.inputs)


def train_pix2pix(
    dataset: Dataset,
    run_dir: str | Path,
    *,
    adversarial: bool = True,
    steps: int = 2000,
    batch_size: int = 8,
    base_channels: int = 16,
    seed: int = 0,
    progress: bool = False,
) -> Trainer:
    """Train the sketch-to-photo generator on (edges, photo) items; returns the trainer.

    Args:
        dataset: items (edges (1, H, W), photo (3, H, W)), e.g. `EdgePhotoCrops`.
        adversarial: pix2pix (L1 + conditional PatchGAN) when True, the L1-only twin when False.
    """
    torch.manual_seed(seed)  # before the networks are built: a fresh run is reproducible from its seed
    generator = build_network(NetworkSpec("generator", "pix2pix-unet", {"base_channels": base_channels}))
    discriminator = build_network(NetworkSpec(
        "discriminator", "patchgan",
        {"in_channels": 3, "condition_channels": 1, "base_channels": 16, "num_layers": 2},
    )) if adversarial else None
    config = TrainerConfig(
        steps=steps,
        batch_size=batch_size,
        generator_lr=2e-4,
        discriminator_lr=2e-4,
        betas=(0.5, 0.999),
        adversarial_loss="bce" if adversarial else "none",
        content_losses=(ContentLossConfig("l1", weight=100.0),),
        ema_decay=0.999,
        device="cpu",
        seed=seed,
        progress=progress,
        tensorboard=False,
        checkpoint_every=500,
        log_every=50,
        channels_last=False,
    )
    trainer = Trainer(
        generator=generator, discriminator=discriminator, head=SketchHead(), config=config, run_dir=run_dir,
        extra_config={"app": "sketch", "data": "Canny edges of crops of sr/train (T91 + BSD200)"},
    )
    trainer.fit(dataset, resume="auto")
    return trainer
