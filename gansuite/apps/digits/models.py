"""The DCGAN generator and discriminator (Radford et al. 2016) for 28x28 digits, the MSE-style VAE
baseline (Kingma & Welling 2014) and the small classifier whose features the Fréchet distance uses.

The discriminator ends in one logit per image (not per patch) and may carry a minibatch
standard-deviation layer (Karras et al. 2018, §3), which lets it see how varied a batch is and so
penalises a generator that drops digits.
"""

from __future__ import annotations

import torch
from torch import nn

from gansuite.core import DISCRIMINATORS, GENERATORS
from gansuite.core.blocks import conv
from gansuite.errors import ConfigError

__all__ = ["ConvVAE", "DCGANDiscriminator", "DCGANGenerator", "DigitClassifier", "MinibatchStdDev"]


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


class MinibatchStdDev(nn.Module):
    """Minibatch standard deviation (Karras et al. 2018, §3): appends one feature map holding the
    average standard deviation of the features across a group of samples.

    Groups are `group_size` CONSECUTIVE samples (the largest divisor of N not above `group_size`),
    so a batch made of real and fake halves, each divisible by the group size, never mixes the two
    in one group (gansuite's `Trainer` sends D `cat([real, fake])`).

    Forward:
        x: (N, C, H, W) float. Returns (N, C + 1, H, W); the new channel is constant within a group.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        if group_size < 1:
            raise ConfigError(f"minibatch-std group size must be >= 1, got {group_size}")
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        group = min(self.group_size, n)
        while n % group:
            group -= 1
        grouped = x.reshape(n // group, group, *x.shape[1:]).float()
        std = (grouped.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (N / group,)
        feature = std.repeat_interleave(group).reshape(n, 1, 1, 1).expand(n, 1, h, w).to(x.dtype)
        return torch.cat([x, feature], dim=1)


@DISCRIMINATORS.register("dcgan-digits")
class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator for 28x28 digits: two strided 4x4 convs with LeakyReLU(0.2), an optional
    minibatch-std layer, a 3x3 conv and a linear layer to one logit per image.

    Args:
        width: channels of the 14x14 stage (the 7x7 stages have twice as many).
        minibatch_std_group: group size of the minibatch-std layer (0 leaves it out).
        use_spectral_norm: spectral normalisation of every conv and the linear layer.

    Forward:
        x: (N, 1, 28, 28) float in [0, 1]; condition: must be None. Returns (N, 1) logits.
    """

    def __init__(self, *, width: int = 32, minibatch_std_group: int = 4, use_spectral_norm: bool = True) -> None:
        super().__init__()
        sn = use_spectral_norm
        linear = nn.Linear(2 * width * 7 * 7, 1)
        self.net = nn.Sequential(
            conv(1, width, kernel_size=4, stride=2, use_spectral_norm=sn), nn.LeakyReLU(0.2, inplace=True),
            conv(width, 2 * width, kernel_size=4, stride=2, use_spectral_norm=sn), nn.LeakyReLU(0.2, inplace=True),
            MinibatchStdDev(minibatch_std_group) if minibatch_std_group else nn.Identity(),
            conv(2 * width + (1 if minibatch_std_group else 0), 2 * width, kernel_size=3, use_spectral_norm=sn),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
            nn.utils.spectral_norm(linear) if sn else linear,
        )

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if condition is not None:
            raise ConfigError("the digit discriminator is unconditional")
        return self.net(x)

    def example_inputs(self, batch_size: int = 4) -> tuple[torch.Tensor, ...]:
        return (torch.rand(batch_size, 1, 28, 28),)


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
