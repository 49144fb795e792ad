"""The DCGAN generator (Radford et al. 2016) for 28x28 digits, the MSE-style VAE baseline
(Kingma & Welling 2014) and the small classifier whose features the Fréchet distance uses.

The discriminator is the core's ``patchgan`` (strided 4x4 convolutions with LeakyReLU and spectral
norm), which at 28x28 with two strided layers is DCGAN's discriminator with a patch head.
"""

from __future__ import annotations

import torch
from torch import nn

from gansuite.core import GENERATORS

__all__ = ["ConvVAE", "DCGANGenerator", "DigitClassifier"]


def _decoder(latent_dim: int, width: int) -> nn.Sequential:
    """z (N, latent_dim) → (N, 1, 28, 28) logits: linear to 7x7, two transposed-conv x2 upsamplings."""
    return nn.Sequential(
        nn.Linear(latent_dim, 2 * width * 7 * 7),
        nn.Unflatten(1, (2 * width, 7, 7)),
        nn.BatchNorm2d(2 * width),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),  # 14x14
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # 28x28
    )


@GENERATORS.register("dcgan-digits")
class DCGANGenerator(nn.Module):
    """DCGAN generator: noise → 28x28 digit (BatchNorm + ReLU, transposed convs, tanh output).

    Args:
        latent_dim: length of the Gaussian noise vector z.
        width: channels of the 14x14 stage (the 7x7 stage has twice as many).

    Forward:
        z: (N, latent_dim) float32, standard normal. Returns (N, 1, 28, 28) float32 in [0, 1].
    """

    def __init__(self, *, latent_dim: int = 32, width: int = 16) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = _decoder(latent_dim, width)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (torch.tanh(self.net(z)) + 1) / 2

    def example_inputs(self, batch_size: int = 4) -> tuple[torch.Tensor, ...]:
        return (torch.randn(batch_size, self.latent_dim),)


class ConvVAE(nn.Module):
    """The baseline: a convolutional VAE with the DCGAN generator's decoder, trained on pixel error.

    Forward:
        x: (N, 1, 28, 28) in [0, 1]. Returns (reconstruction logits (N, 1, 28, 28), mean, log-variance).
    `decode(z)` maps (N, latent_dim) noise to (N, 1, 28, 28) in [0, 1], as the generator does.
    """

    def __init__(self, *, latent_dim: int = 32, width: int = 16) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 2 * latent_dim),
        )
        self.decoder = _decoder(latent_dim, width)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        return self.decoder(z), mean, log_var

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))


class DigitClassifier(nn.Module):
    """A small CNN digit classifier; `features` are the 128 values the Fréchet distance compares.

    Forward:
        x: (N, 1, 28, 28) float32 in [0, 1]. Returns (N, 10) logits.
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(128, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) in [0, 1] → (N, 128) penultimate activations."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
