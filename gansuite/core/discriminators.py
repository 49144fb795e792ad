"""Discriminators, each registered and each able to take a conditioning input.

- ``vgg``: SRGAN's VGG-style discriminator (Ledig et al. 2017): strided conv stages and a dense
  head, so it needs a fixed input size.
- ``patchgan``: a fully convolutional PatchGAN (Isola et al. 2017, pix2pix): one logit per
  receptive-field patch, any input size.
- ``unet``: the U-Net discriminator with spectral norm of Real-ESRGAN (Wang et al. 2021): a
  per-pixel logit map.

A condition (extra channels, e.g. the context frames of a video predictor) is resized to the
input's size if needed and concatenated to it along channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gansuite.core.blocks import conv, init_weights
from gansuite.core.networks import DISCRIMINATORS
from gansuite.errors import ConfigError

__all__ = ["PatchGANDiscriminator", "UNetDiscriminator", "VGGStyleDiscriminator"]


def _with_condition(x: torch.Tensor, condition: torch.Tensor | None, expected: int) -> torch.Tensor:
    if expected == 0:
        if condition is not None:
            raise ConfigError("this discriminator was built with condition_channels=0 but got a condition")
        return x
    if condition is None or condition.shape[1] != expected:
        seen = None if condition is None else tuple(condition.shape)
        raise ConfigError(f"expected a condition with {expected} channels, got {seen}")
    if condition.shape[-2:] != x.shape[-2:]:
        condition = F.interpolate(condition, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return torch.cat([x, condition.to(x.dtype)], dim=1)


@DISCRIMINATORS.register("vgg")
class VGGStyleDiscriminator(nn.Module):
    """SRGAN discriminator: 8 conv layers (stride 1/2 alternating, doubling channels), dense head.

    Args:
        in_channels: image channels.
        condition_channels: extra channels concatenated to the input (0 for none).
        base_channels: channels of the first stage.
        input_size: the fixed square input size; must be divisible by 16.

    Forward:
        x: (N, in_channels, input_size, input_size) float, images in [0, 1].
        condition: (N, condition_channels, h, w) or None.
        Returns (N, 1) logits.
    """

    def __init__(
        self, *, in_channels: int = 3, condition_channels: int = 0, base_channels: int = 64, input_size: int = 128
    ) -> None:
        super().__init__()
        if input_size % 16:
            raise ConfigError(f"input_size must be divisible by 16, got {input_size}")
        self.in_channels, self.condition_channels, self.input_size = in_channels, condition_channels, input_size
        c = base_channels
        widths = [c, c, 2 * c, 2 * c, 4 * c, 4 * c, 8 * c, 8 * c]
        layers: list[nn.Module] = [conv(in_channels + condition_channels, c), nn.LeakyReLU(0.2, inplace=True)]
        for i in range(1, 8):
            stride = 2 if i % 2 == 1 else 1
            layers += [
                conv(widths[i - 1], widths[i], stride=stride, bias=False),
                nn.BatchNorm2d(widths[i]),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        self.features = nn.Sequential(*layers)
        side = input_size // 16
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(8 * c * side * side, 100), nn.LeakyReLU(0.2, inplace=True), nn.Linear(100, 1)
        )
        init_weights(self)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise ConfigError(
                f"the vgg discriminator takes {self.input_size}x{self.input_size} inputs, got "
                f"{x.shape[-2]}x{x.shape[-1]}: crop the training patches to that size or use 'patchgan'"
            )
        return self.head(self.features(_with_condition(x, condition, self.condition_channels)))

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        shape = (batch_size, self.in_channels, self.input_size, self.input_size)
        if self.condition_channels:
            cond = torch.rand(batch_size, self.condition_channels, self.input_size // 4, self.input_size // 4)
            return torch.rand(shape), cond
        return (torch.rand(shape),)


@DISCRIMINATORS.register("patchgan")
class PatchGANDiscriminator(nn.Module):
    """PatchGAN: strided 4x4 convs with instance-free LeakyReLU stacks, one logit per patch.

    Args:
        in_channels: image channels.
        condition_channels: extra channels concatenated to the input (0 for none).
        base_channels: channels of the first layer.
        num_layers: strided layers; the receptive field grows with it (3 gives 70x70).
        use_spectral_norm: spectral normalisation on every conv instead of normalisation layers.

    Forward:
        x: (N, in_channels, H, W) float in [0, 1]; condition: (N, condition_channels, h, w) or None.
        Returns (N, 1, H', W') logits, H' ≈ H / 2**num_layers.
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        condition_channels: int = 0,
        base_channels: int = 64,
        num_layers: int = 3,
        use_spectral_norm: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.condition_channels = in_channels, condition_channels
        sn = use_spectral_norm
        layers: list[nn.Module] = [
            conv(in_channels + condition_channels, base_channels, kernel_size=4, stride=2, use_spectral_norm=sn),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        channels = base_channels
        for i in range(1, num_layers + 1):
            nxt = base_channels * min(2**i, 8)
            stride = 2 if i < num_layers else 1
            layers += [
                conv(channels, nxt, kernel_size=4, stride=stride, use_spectral_norm=sn),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels = nxt
        layers.append(conv(channels, 1, kernel_size=3, use_spectral_norm=sn))
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(_with_condition(x, condition, self.condition_channels))

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        x = torch.rand(batch_size, self.in_channels, 48, 40)
        if self.condition_channels:
            return x, torch.rand(batch_size, self.condition_channels, 48, 40)
        return (x,)


@DISCRIMINATORS.register("unet")
class UNetDiscriminator(nn.Module):
    """Real-ESRGAN's U-Net discriminator with spectral norm: a per-pixel realness map.

    Args:
        in_channels: image channels.
        condition_channels: extra channels concatenated to the input (0 for none).
        base_channels: channels of the first level.

    Forward:
        x: (N, in_channels, H, W) float in [0, 1], H and W divisible by 8;
        condition: (N, condition_channels, h, w) or None. Returns (N, 1, H, W) logits.
    """

    def __init__(self, *, in_channels: int = 3, condition_channels: int = 0, base_channels: int = 64) -> None:
        super().__init__()
        self.in_channels, self.condition_channels = in_channels, condition_channels
        c = base_channels
        self.conv0 = conv(in_channels + condition_channels, c)
        self.down1 = conv(c, 2 * c, kernel_size=4, stride=2, bias=False, use_spectral_norm=True)
        self.down2 = conv(2 * c, 4 * c, kernel_size=4, stride=2, bias=False, use_spectral_norm=True)
        self.down3 = conv(4 * c, 8 * c, kernel_size=4, stride=2, bias=False, use_spectral_norm=True)
        self.up1 = conv(8 * c, 4 * c, bias=False, use_spectral_norm=True)
        self.up2 = conv(4 * c, 2 * c, bias=False, use_spectral_norm=True)
        self.up3 = conv(2 * c, c, bias=False, use_spectral_norm=True)
        self.refine = nn.Sequential(
            conv(c, c, bias=False, use_spectral_norm=True),
            nn.LeakyReLU(0.2, inplace=True),
            conv(c, c, bias=False, use_spectral_norm=True),
            nn.LeakyReLU(0.2, inplace=True),
            conv(c, 1),
        )

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-1] % 8 or x.shape[-2] % 8:
            raise ConfigError(f"the unet discriminator needs H and W divisible by 8, got {tuple(x.shape[-2:])}")
        act = F.leaky_relu
        x0 = act(self.conv0(_with_condition(x, condition, self.condition_channels)), 0.2)
        x1 = act(self.down1(x0), 0.2)
        x2 = act(self.down2(x1), 0.2)
        x3 = act(self.down3(x2), 0.2)
        up = F.interpolate(x3, scale_factor=2, mode="bilinear", align_corners=False)
        y = act(self.up1(up), 0.2) + x2
        up = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
        y = act(self.up2(up), 0.2) + x1
        up = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
        y = act(self.up3(up), 0.2) + x0
        return self.refine(y)

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        x = torch.rand(batch_size, self.in_channels, 32, 40)
        if self.condition_channels:
            return x, torch.rand(batch_size, self.condition_channels, 32, 40)
        return (x,)
