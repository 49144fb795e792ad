"""Training the DCGAN with gansuite's `Trainer`, and the two non-GAN networks of the evaluation.

The DCGAN recipe follows Radford et al. 2016 (Adam, lr 2e-4, beta1 0.5, the non-saturating BCE
loss), with batch 32 and narrow networks (16-channel stages in G and D) so that a shared CPU trains
it in minutes. The "discriminator-first warm-up" of the classic explanation (train D
alone for a while so that G starts against a D that already tells digits from noise) is the
core's `discriminator_warmup_steps`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from apps.digits.models import ConvVAE, DigitClassifier
from gansuite.core import NetworkSpec, Sample, Trainer, TrainerConfig, TrainerHooks, build_network
from gansuite.core.sampling import SeededIndex, sample_index

__all__ = ["DigitsHead", "train_classifier", "train_dcgan", "train_vae"]


class _Digits(Dataset):
    """(1, 28, 28) digit tensors in [0, 1]; batches fetched whole."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    seeded_keys = True  # batches are fetched whole; the keys only carry indices

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key: SeededIndex | int) -> torch.Tensor:
        return self.images[sample_index(key)]

    def __getitems__(self, keys: list[SeededIndex | int]) -> torch.Tensor:
        return self.images[torch.tensor([sample_index(k) for k in keys])]


def _already_batched(batch: torch.Tensor) -> torch.Tensor:
    return batch


class DigitsHead:
    """Unconditional generation: inputs are fresh Gaussian noise (B, latent_dim), targets the digits."""

    def __init__(self, latent_dim: int) -> None:
        self.latent_dim = latent_dim

    def prepare(self, batch: torch.Tensor) -> Sample:
        return Sample(inputs=torch.randn(len(batch), self.latent_dim), target=batch)

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        return generator(sample.inputs)


def train_dcgan(
    images: torch.Tensor,
    run_dir: str | Path,
    *,
    steps: int = 4000,
    warmup_steps: int = 0,
    latent_dim: int = 32,
    width: int = 16,
    batch_size: int = 32,
    ema_decay: float = 0.995,
    seed: int = 0,
    progress: bool = False,
    force_resume: bool = False,
    validate: Callable[[nn.Module, int], dict[str, float]] | None = None,
    validate_every: int = 0,
) -> Trainer:
    """Train the DCGAN on `images` ((N, 1, 28, 28) in [0, 1]); returns the trainer (EMA generator inside).

    Args:
        steps: generator steps; the run lasts `steps + warmup_steps` trainer steps.
        warmup_steps: discriminator-only steps before the generator starts.
        ema_decay: decay of the generator EMA (0.995: an average over the last ~200 steps).
        validate: (EMA generator, step) → metrics, every `validate_every` steps and at the end.
        force_resume: continue a run in `run_dir` even if a setting changed (e.g. a longer schedule).
    """
    generator = build_network(NetworkSpec("generator", "dcgan-digits", {"latent_dim": latent_dim, "width": width}))
    discriminator = build_network(
        NetworkSpec("discriminator", "patchgan", {"in_channels": 1, "base_channels": 16, "num_layers": 2})
    )
    config = TrainerConfig(
        steps=steps + warmup_steps,
        batch_size=batch_size,
        generator_lr=2e-4,
        discriminator_lr=2e-4,
        betas=(0.5, 0.999),
        adversarial_loss="bce",
        discriminator_warmup_steps=warmup_steps,
        ema_decay=ema_decay,
        device="cpu",
        seed=seed,
        progress=progress,
        tensorboard=False,
        checkpoint_every=1000,
        log_every=100,
        validate_every=validate_every,
        channels_last=False,
    )
    trainer = Trainer(
        generator=generator, discriminator=discriminator, head=DigitsHead(latent_dim), config=config,
        run_dir=run_dir, extra_config={"app": "digits", "data": "MNIST t10k digits 0-8999"},
        hooks=TrainerHooks(validate=validate),
    )
    trainer.fit(_Digits(images), collate_fn=_already_batched, resume="auto", force_resume=force_resume)
    return trainer


def train_vae(
    images: torch.Tensor, *, steps: int = 3000, latent_dim: int = 32, width: int = 16, batch_size: int = 32,
    seed: int = 0,
) -> ConvVAE:
    """The baseline: a VAE with per-pixel binary cross-entropy + KL (plain loop: it has no adversary)."""
    torch.manual_seed(seed)
    model = ConvVAE(latent_dim=latent_dim, width=width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        batch = images[torch.randint(len(images), (batch_size,), generator=generator)]
        logits, mean, log_var = model(batch)
        reconstruction = F.binary_cross_entropy_with_logits(logits, batch, reduction="sum") / len(batch)
        kl = -0.5 * torch.sum(1 + log_var - mean**2 - log_var.exp()) / len(batch)
        optimizer.zero_grad()
        (reconstruction + kl).backward()
        optimizer.step()
    return model.eval()


def train_classifier(
    images: torch.Tensor, labels: torch.Tensor, *, steps: int = 1500, seed: int = 0
) -> DigitClassifier:
    """The feature network of the Fréchet distance, trained on the training digits (cross-entropy)."""
    torch.manual_seed(seed)
    model = DigitClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        index = torch.randint(len(images), (64,), generator=generator)
        loss = F.cross_entropy(model(images[index]), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()
