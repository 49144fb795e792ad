"""The pix2pix U-Net generator (Isola et al. 2017), small: edge map → RGB photo.

The discriminator is the core's conditional ``patchgan`` (the edge map is its condition).
"""

from __future__ import annotations

import torch
from torch import nn

from gansuite.core import GENERATORS
from gansuite.errors import ConfigError

__all__ = ["UNetGenerator"]


@GENERATORS.register("pix2pix-unet")
class UNetGenerator(nn.Module):
    """U-Net: `depth` stride-2 4x4 conv downsamplings (LeakyReLU), a 3x3 residual bottleneck,
    transposed-conv upsamplings (ReLU) with skip connections, and a 3x3 output conv that also sees the input.

    Args:
        in_channels: channels of the input (1: an edge map).
        out_channels: channels of the output (3: RGB).
        base_channels: channels of the first level; doubled per level up to 8x.
        depth: number of downsamplings; H and W must be divisible by 2**depth.

    Forward:
        x: (N, in_channels, H, W) float32 in [0, 1] (edges: 1 on an edge, 0 elsewhere).
        Returns (N, out_channels, H, W) float32 in [0, 1].

    Raises:
        ConfigError: H or W not divisible by 2**depth.
    """

    def __init__(self, *, in_channels: int = 1, out_channels: int = 3, base_channels: int = 16, depth: int = 4) -> None:
        super().__init__()
        self.in_channels, self.depth = in_channels, depth
        widths = [base_channels * min(2**i, 8) for i in range(depth)]
        self.down = nn.ModuleList()
        previous = in_channels
        for width in widths:
            self.down.append(nn.Sequential(nn.Conv2d(previous, width, 4, stride=2, padding=1),
                                           nn.LeakyReLU(0.2, inplace=True)))
            previous = width
        self.bottleneck = nn.Sequential(nn.Conv2d(previous, previous, 3, padding=1), nn.ReLU(inplace=True))
        self.up = nn.ModuleList()
        for level in reversed(range(depth)):
            skip = widths[level - 1] if level > 0 else 0
            target = widths[level - 1] if level > 0 else base_channels
            self.up.append(nn.Sequential(nn.ConvTranspose2d(previous, target, 4, stride=2, padding=1),
                                         nn.ReLU(inplace=True)))
            previous = target + skip
        self.out = nn.Conv2d(base_channels + in_channels, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        multiple = 2**self.depth
        if x.shape[-1] % multiple or x.shape[-2] % multiple:
            raise ConfigError(f"the U-Net needs H and W divisible by {multiple}, got {tuple(x.shape[-2:])}")
        skips = []
        y = x
        for block in self.down:
            y = block(y)
            skips.append(y)
        y = y + self.bottleneck(y)
        skips.pop()  # the deepest level is the bottleneck's input itself
        for block in self.up:
            y = block(y)
            if skips:
                y = torch.cat([y, skips.pop()], dim=1)
        return torch.sigmoid(self.out(torch.cat([y, x], dim=1)))

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        side = 2**self.depth * 2
        return (torch.rand(batch_size, self.in_channels, side, side),)
