"""Super-resolution generators, registered in the core's `GENERATORS`.

- ``srresnet``: SRResNet (Ledig et al. 2017): residual blocks at low resolution, a global skip,
  PixelShuffle upsampling. Batch norm is left out, as EDSR (Lim et al. 2017) and ESRGAN showed it
  hurts SR and GAN training.
- ``compact``: a plain stack of 3x3 convs with PReLU at low resolution and one PixelShuffle at the
  end, added to a nearest-neighbour upsampling of the input (the design of Real-ESRGAN's
  SRVGGNetCompact, Wang et al. 2021): cheap enough for CPU users.
- ``rrdbnet``: ESRGAN's RRDBNet (Wang et al. 2018), for GPU users.

All map (N, C, h, w) float in [0, 1] to (N, C, h·scale, w·scale); they are fully convolutional,
and `receptive_radius` is how many low-resolution pixels of context each output pixel reads on
each side, which is what tiled inference needs as overlap.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gansuite.core.blocks import (
    PixelShuffleUpsampler,
    ResidualBlock,
    ResidualInResidualDenseBlock,
    conv,
    init_weights,
)
from gansuite.core.networks import GENERATORS
from gansuite.errors import ConfigError

__all__ = ["CompactSR", "RRDBNet", "SRResNet"]


def _check_scale(scale: int) -> None:
    if scale not in (2, 3, 4):
        raise ConfigError(f"scale {scale} is not supported: use 2, 3 or 4")


class _SRBase(nn.Module):
    """Shared `example_inputs` for image-to-image SR networks."""

    in_channels: int
    scale: int

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        return (torch.rand(batch_size, self.in_channels, 12, 10),)


@GENERATORS.register("srresnet")
class SRResNet(_SRBase):
    """SRResNet without batch norm.

    Args:
        scale: upscaling factor (2, 3 or 4).
        in_channels: image channels.
        channels: feature channels.
        num_blocks: residual blocks (16 in the paper).
    """

    def __init__(self, *, scale: int = 4, in_channels: int = 3, channels: int = 64, num_blocks: int = 16) -> None:
        super().__init__()
        _check_scale(scale)
        self.scale, self.in_channels = scale, in_channels
        self.head = nn.Sequential(conv(in_channels, channels, kernel_size=9), nn.PReLU(channels))
        self.body = nn.Sequential(*(ResidualBlock(channels=channels) for _ in range(num_blocks)))
        self.body_tail = conv(channels, channels)
        self.upsample = PixelShuffleUpsampler(channels=channels, scale=scale, negative_slope=0.2)
        self.tail = conv(channels, in_channels, kernel_size=9)
        init_weights(self.head)
        init_weights(self.body_tail)
        init_weights(self.upsample)
        init_weights(self.tail, scale=0.1)
        # 9x9 head, two 3x3 per block, body tail, and the upsampler/tail seen at low resolution
        self.receptive_radius = 4 + 2 * num_blocks + 1 + (len(self.upsample) + 4) // 2 + 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (N, C, h, w) → (N, C, h·s, w·s)
        features = self.head(x)
        features = features + self.body_tail(self.body(features))
        base = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return base + self.tail(self.upsample(features))


@GENERATORS.register("compact")
class CompactSR(_SRBase):
    """A plain conv stack at low resolution with PReLU and a final PixelShuffle (SRVGGNetCompact style).

    Args:
        scale: upscaling factor (2, 3 or 4).
        in_channels: image channels.
        channels: feature channels.
        num_convs: 3x3 body convs.
        activation: "prelu" (as SRVGGNetCompact) or "lrelu" (LeakyReLU 0.1, ~30% faster on CPU).
    """

    def __init__(
        self,
        *,
        scale: int = 4,
        in_channels: int = 3,
        channels: int = 64,
        num_convs: int = 16,
        activation: str = "prelu",
    ) -> None:
        super().__init__()
        _check_scale(scale)
        if activation not in ("prelu", "lrelu"):
            raise ConfigError(f"activation {activation!r} is not 'prelu' or 'lrelu'")
        self.scale, self.in_channels = scale, in_channels

        def act() -> nn.Module:
            return nn.PReLU(channels) if activation == "prelu" else nn.LeakyReLU(0.1, inplace=True)

        layers: list[nn.Module] = [conv(in_channels, channels), act()]
        for _ in range(num_convs):
            layers += [conv(channels, channels), act()]
        layers += [conv(channels, in_channels * scale * scale), nn.PixelShuffle(scale)]
        self.body = nn.Sequential(*layers)
        init_weights(self.body)
        init_weights(layers[-2], scale=0.1)
        self.receptive_radius = num_convs + 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (N, C, h, w) → (N, C, h·s, w·s); the network learns the residual over nearest upsampling
        return F.interpolate(x, scale_factor=self.scale, mode="nearest") + self.body(x)


@GENERATORS.register("rrdbnet")
class RRDBNet(_SRBase):
    """ESRGAN's generator: residual-in-residual dense blocks, nearest+conv upsampling.

    Args:
        scale: upscaling factor (2 or 4).
        in_channels: image channels.
        channels: feature channels (64 in ESRGAN).
        num_blocks: RRDB blocks (23 in ESRGAN).
        growth: dense growth channels (32 in ESRGAN).
    """

    def __init__(
        self, *, scale: int = 4, in_channels: int = 3, channels: int = 64, num_blocks: int = 23, growth: int = 32
    ) -> None:
        super().__init__()
        if scale not in (2, 4):
            raise ConfigError(f"rrdbnet supports scale 2 or 4, got {scale}")
        self.scale, self.in_channels = scale, in_channels
        self.head = conv(in_channels, channels)
        self.body = nn.Sequential(
            *(ResidualInResidualDenseBlock(channels=channels, growth=growth) for _ in range(num_blocks))
        )
        self.body_tail = conv(channels, channels)
        self.upconvs = nn.ModuleList(conv(channels, channels) for _ in range(scale // 2))
        self.refine = conv(channels, channels)
        self.tail = conv(channels, in_channels)
        self.act = nn.LeakyReLU(0.2, inplace=True)
        self.receptive_radius = 1 + num_blocks * 15 + 1 + 2 * len(self.upconvs) + 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(x)
        features = features + self.body_tail(self.body(features))
        for upconv in self.upconvs:
            features = self.act(upconv(F.interpolate(features, scale_factor=2, mode="nearest")))
        return self.tail(self.act(self.refine(features)))
