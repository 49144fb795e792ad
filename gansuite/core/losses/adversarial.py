"""Adversarial losses as pure functions of discriminator logits.

- ``bce``: the non-saturating loss of Goodfellow et al. 2014 (G maximises log D(G(z))).
- ``lsgan``: least squares (Mao et al. 2017), with targets 1 for real and 0 for fake.
- ``hinge``: hinge loss (Lim & Ye 2017; Miyato et al. 2018).
- ``relativistic``: relativistic average GAN (Jolicoeur-Martineau 2018) as used by ESRGAN
  (Wang et al. 2018): D judges whether real data is more realistic than the average fake.

Each takes logits of any shape (per image or per patch) and returns a scalar; the generator
side also takes the real logits because the relativistic loss needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gansuite.core.registry import Registry

__all__ = ["ADVERSARIAL_LOSSES", "AdversarialLoss", "get_adversarial_loss"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class AdversarialLoss:
    """A pair of loss functions of (real_logits, fake_logits).

    Attributes:
        name: registry name.
        discriminator: loss D minimises.
        generator: loss G minimises; real logits are used only by relativistic losses.
        generator_uses_real: whether `generator` reads the real logits.
    """

    name: str
    discriminator: LossFn
    generator: LossFn
    generator_uses_real: bool = False


ADVERSARIAL_LOSSES: Registry[AdversarialLoss] = Registry("adversarial loss")


def _register(loss: AdversarialLoss) -> None:
    ADVERSARIAL_LOSSES.register(loss.name)(loss)


def _bce_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    # -log σ(r) - log(1 - σ(f)), written with softplus for stability
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def _bce_g(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake).mean()


def _lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()


def _lsgan_g(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((fake - 1.0) ** 2).mean()


def _hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _hinge_g(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def _relativistic_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    real_vs_fake = real - fake.mean()
    fake_vs_real = fake - real.mean()
    return 0.5 * (F.softplus(-real_vs_fake).mean() + F.softplus(fake_vs_real).mean())


def _relativistic_g(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    real_vs_fake = real - fake.mean()
    fake_vs_real = fake - real.mean()
    return 0.5 * (F.softplus(real_vs_fake).mean() + F.softplus(-fake_vs_real).mean())


_register(AdversarialLoss("bce", _bce_d, _bce_g))
_register(AdversarialLoss("lsgan", _lsgan_d, _lsgan_g))
_register(AdversarialLoss("hinge", _hinge_d, _hinge_g))
_register(AdversarialLoss("relativistic", _relativistic_d, _relativistic_g, generator_uses_real=True))


def get_adversarial_loss(name: str) -> AdversarialLoss:
    """The registered adversarial loss `name` (bce, lsgan, hinge, relativistic)."""
    return ADVERSARIAL_LOSSES.get(name)
