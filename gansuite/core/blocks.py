"""Convolutional building blocks shared by generators and discriminators.

- Residual block without batch norm (Lim et al. 2017, EDSR; as used by SRResNet variants).
- Residual dense block and residual-in-residual dense block (Wang et al. 2018, ESRGAN).
- Sub-pixel convolution upsampler (Shi et al. 2016, PixelShuffle).
- Optional spectral normalisation (Miyato et al. 2018) and scaled Kaiming initialisation.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from gansuite.errors import ConfigError

__all__ = [
    "PixelShuffleUpsampler",
    "ResidualBlock",
    "ResidualDenseBlock",
    "ResidualInResidualDenseBlock",
    "conv",
    "init_weights",
]


def conv(
    in_channels: int,
    out_channels: int,
    *,
    kernel_size: int = 3,
    stride: int = 1,
    bias: bool = True,
    use_spectral_norm: bool = False,
) -> nn.Module:
    """A 2-D convolution padded by (k - 1) // 2 (same size for odd k, halving for k=4, stride 2), optional SN."""
    layer = nn.Conv2d(
        in_channels, out_channels, kernel_size, stride=stride, padding=(kernel_size - 1) // 2, bias=bias
    )
    return spectral_norm(layer) if use_spectral_norm else layer


def init_weights(module: nn.Module, *, scale: float = 1.0) -> None:
    """Kaiming-normal initialisation of conv/linear weights, multiplied by `scale`, zero biases.

    ESRGAN scales the residual branches' initial weights by 0.1 so deep stacks start close to
    the identity; `scale` does that.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            weight = m.weight_orig if hasattr(m, "weight_orig") else m.weight
            nn.init.kaiming_normal_(weight, a=0.0, mode="fan_in", nonlinearity="relu")
            with torch.no_grad():
                weight.mul_(scale)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ResidualBlock(nn.Module):
    """conv-act-conv with an identity skip and a residual scale, no batch norm.

    Args:
        channels: feature channels in and out.
        residual_scale: multiplier of the residual branch before the skip is added.
        negative_slope: LeakyReLU slope; 0 gives ReLU.
    """

    def __init__(self, *, channels: int, residual_scale: float = 1.0, negative_slope: float = 0.0) -> None:
        super().__init__()
        self.conv1 = conv(channels, channels)
        self.conv2 = conv(channels, channels)
        self.act = nn.LeakyReLU(negative_slope, inplace=True) if negative_slope else nn.ReLU(inplace=True)
        self.residual_scale = residual_scale
        init_weights(self, scale=0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.residual_scale * self.conv2(self.act(self.conv1(x)))


class ResidualDenseBlock(nn.Module):
    """Five densely connected convs with a 0.2-scaled residual (ESRGAN).

    Args:
        channels: feature channels in and out.
        growth: channels added by each of the first four convs.
    """

    def __init__(self, *, channels: int, growth: int = 32) -> None:
        super().__init__()
        self.convs = nn.ModuleList(conv(channels + i * growth, growth) for i in range(4))
        self.fuse = conv(channels + 4 * growth, channels)
        self.act = nn.LeakyReLU(0.2, inplace=True)
        init_weights(self, scale=0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.convs:
            features.append(self.act(layer(torch.cat(features, dim=1))))
        return x + 0.2 * self.fuse(torch.cat(features, dim=1))


class ResidualInResidualDenseBlock(nn.Module):
    """Three residual dense blocks inside a 0.2-scaled residual (ESRGAN's RRDB)."""

    def __init__(self, *, channels: int, growth: int = 32) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*(ResidualDenseBlock(channels=channels, growth=growth) for _ in range(3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.blocks(x)


class PixelShuffleUpsampler(nn.Sequential):
    """Upsample by `scale` (2, 3, 4 or 8) with conv + PixelShuffle stages of x2 or x3.

    Args:
        channels: feature channels in and out.
        scale: total upsampling factor.
        negative_slope: slope of the LeakyReLU after each stage (0 gives no activation).
    """

    def __init__(self, *, channels: int, scale: int, negative_slope: float = 0.2) -> None:
        if scale in (2, 4, 8):
            factors = [2] * int(math.log2(scale))
        elif scale == 3:
            factors = [3]
        else:
            raise ConfigError(f"upsampling scale {scale} is not supported: use 2, 3, 4 or 8")
        layers: list[nn.Module] = []
        for factor in factors:
            layers += [conv(channels, channels * factor * factor), nn.PixelShuffle(factor)]
            if negative_slope:
                layers.append(nn.LeakyReLU(negative_slope, inplace=True))
        super().__init__(*layers)
