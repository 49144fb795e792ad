"""Training the DCGAN with gansuite's `Trainer`, and the two non-GAN networks of the evaluation.

The DCGAN recipe follows Radford et al. 2016 (Adam, lr 2e-4, beta1 0.5, the non-saturating BCE
loss, BatchNorm + ReLU in G, LeakyReLU in D), with a minibatch-standard-deviation layer in D
(Karras et al. 2018) against dropped digits and an EMA of G's weights; `DCGANRecipe` holds the
settings. The "discriminator-first warm-up" of the classic explanation (train D alone for a while
so that G starts against a D that already tells digits from noise) is the core's
`discriminator_warmup_steps`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from gansuite.apps.digits.models import ConvVAE, DigitClassifier
from gansuite.core import NetworkSpec, Sample, Trainer, TrainerConfig, TrainerHooks, build_network
from gansuite.core.sampling import SeededIndex, sample_index

__all__ = ["DCGANRecipe", "DigitsHead", "train_classifier", "train_dcgan", "train_vae"]


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


@dataclass(frozen=True)
class DCGANRecipe:
    """The settings of a DCGAN run (the defaults are the shipped model's).

    Attributes:
        latent_dim: length of the noise vector.
        width: channels of G's 14x14 stage.
        discriminator: "dcgan-digits" (one logit per image) or "patchgan" (the core's, a logit per patch).
        discriminator_width: channels of D's first stage.
        minibatch_std_group: group size of D's minibatch-std layer (0: none; "dcgan-digits" only).
        batch_size: digits per step.
        generator_lr, discriminator_lr: Adam learning rates (different values: TTUR, Heusel et al. 2017).
        r1_gamma: R1 penalty weight on D (Mescheder et al. 2018); 0 disables it.
        ema_decay: decay of the EMA of G's weights (0.999: an average over the last ~1000 steps).
    """

    latent_dim: int = 32
    width: int = 16
    discriminator: str = "dcgan-digits"
    discriminator_width: int = 16
    minibatch_std_group: int = 4
    batch_size: int = 32
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    r1_gamma: float = 0.0
    ema_decay: float = 0.999

    def discriminator_spec(self) -> NetworkSpec:
        if self.discriminator == "patchgan":
            kwargs = {"in_channels": 1, "base_channels": self.discriminator_width, "num_layers": 2}
            return NetworkSpec("discriminator", "patchgan", kwargs)
        return NetworkSpec("discriminator", self.discriminator,
                           {"width": self.discriminator_width, "minibatch_std_group": self.minibatch_std_group})


def train_dcgan(
    images: torch.Tensor,
    run_dir: str | Path,
    *,
    steps: int = 20000,
    warmup_steps: int = 0,
    recipe: DCGANRecipe | None = None,
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
        recipe: networks and optimisation settings (default: `DCGANRecipe()`).
        validate: (EMA generator, step) → metrics, every `validate_every` steps and at the end.
        force_resume: continue a run in `run_dir` even if a setting changed (e.g. a longer schedule).
    """
    recipe = recipe or DCGANRecipe()
    generator = build_network(
        NetworkSpec("generator", "dcgan-digits", {"latent_dim": recipe.latent_dim, "width": recipe.width})
    )
    discriminator = build_network(recipe.discriminator_spec())
    config = TrainerConfig(
        steps=steps + warmup_steps,
        batch_size=recipe.batch_size,
        generator_lr=recipe.generator_lr,
        discriminator_lr=recipe.discriminator_lr,
        betas=(0.5, 0.999),
        adversarial_loss="bce",
        r1_gamma=recipe.r1_gamma,
        discriminator_warmup_steps=warmup_steps,
        ema_decay=recipe.ema_decay,
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
        generator=generator, discriminator=discriminator, head=DigitsHead(recipe.latent_dim), config=config,
        run_dir=run_dir,
        extra_config={"app": "digits", "data": f"MNIST t10k digits 0-{len(images) - 1}", "recipe": asdict(recipe)},
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
