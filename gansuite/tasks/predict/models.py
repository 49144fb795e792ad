"""The next-frame generator, registered in the core's `GENERATORS`, and the rollout over it.

``unet-predictor``: a U-Net (Ronneberger et al. 2015) over the k context frames stacked along
channels, predicting the next frame — the generator of Liu et al., "Future Frame Prediction for
Anomaly Detection – A New Baseline" (CVPR 2018), which follows Mathieu et al., "Deep multi-scale
video prediction beyond mean square error" (ICLR 2016) in stacking the context as channels.
Optionally the network predicts a residual over the last context frame, so an untrained model
already copies the last frame and learns only the motion. It is fully convolutional: any frame
size is padded (edge replication) to a multiple of 2**depth inside and cropped back.

`rollout` feeds predictions back as context to predict several steps ahead; training through
it (gradients flow along the chain) teaches the model to correct its own drift.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gansuite.core.blocks import conv, init_weights
from gansuite.core.networks import GENERATORS
from gansuite.errors import ConfigError

__all__ = ["UNetPredictor", "rollout"]


class _DoubleConv(nn.Sequential):
    """conv3x3 → LeakyReLU → conv3x3 → LeakyReLU (no normalisation: batch-size independent)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            conv(in_channels, out_channels),
            nn.LeakyReLU(0.2, inplace=True),
            conv(out_channels, out_channels),
            nn.LeakyReLU(0.2, inplace=True),
        )


@GENERATORS.register("unet-predictor")
class UNetPredictor(nn.Module):
    """U-Net next-frame predictor over stacked context frames.

    Args:
        context_frames: k, the frames the model sees.
        channels: C, image channels (1 gray, 3 RGB).
        base_channels: features at full resolution; doubled per level up to 8x.
        depth: down-sampling levels (frames are padded to a multiple of 2**depth).
        residual: predict the change from the last context frame instead of the frame.
        space_to_depth: run the U-Net at 1/f of the resolution on f²·k·C channels
            (pixel-unshuffle in, pixel-shuffle out, Shi et al. 2016): about f² times cheaper, for
            CPU training at 256x256; 1 runs at full resolution.

    Forward:
        x: (N, k·C, H, W) float in [0, 1], the context frames oldest first, stacked along
            channels (frame i is channels i·C .. (i+1)·C - 1); any H, W.
        Returns (N, C, H, W) float, the next frame (nominally [0, 1], not clamped).
    """

    def __init__(
        self, *, context_frames: int = 4, channels: int = 3, base_channels: int = 32, depth: int = 3,
        residual: bool = True, space_to_depth: int = 1,
    ) -> None:
        super().__init__()
        if context_frames < 1 or channels not in (1, 3) or base_channels < 1 or not 1 <= depth <= 6:
            raise ConfigError(
                f"unet-predictor: need context_frames >= 1, channels 1 or 3, base_channels >= 1 and depth 1..6; "
                f"got {context_frames}, {channels}, {base_channels}, {depth}"
            )
        if space_to_depth not in (1, 2, 4):
            raise ConfigError(f"unet-predictor: space_to_depth must be 1, 2 or 4, got {space_to_depth}")
        self.context_frames, self.channels, self.depth, self.residual = context_frames, channels, depth, residual
        self.space_to_depth = space_to_depth
        widths = [base_channels * min(2**level, 8) for level in range(depth + 1)]
        folded = space_to_depth**2
        self.encoders = nn.ModuleList(
            _DoubleConv(folded * context_frames * channels if level == 0 else widths[level - 1], widths[level])
            for level in range(depth + 1)
        )
        # 2x2 stride-2 up-convolutions, as the original U-Net (a ninth of a 3x3 conv's cost per pixel)
        self.upconvs = nn.ModuleList(
            nn.ConvTranspose2d(widths[level], widths[level - 1], kernel_size=2, stride=2)
            for level in range(depth, 0, -1)
        )
        self.decoders = nn.ModuleList(
            _DoubleConv(2 * widths[level - 1], widths[level - 1]) for level in range(depth, 0, -1)
        )
        self.head = conv(widths[0], folded * channels)
        init_weights(self)
        if residual:  # start close to copying the last frame
            init_weights(self.head, scale=0.1)

    @property
    def multiple(self) -> int:
        """Frames are padded to a multiple of this inside `forward`."""
        return 2**self.depth * self.space_to_depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = self.context_frames * self.channels
        if x.dim() != 4 or x.shape[1] != expected:
            raise ConfigError(
                f"unet-predictor expects (N, {expected}, H, W) = {self.context_frames} context frames x "
                f"{self.channels} channels stacked, got {tuple(x.shape)}"
            )
        height, width = x.shape[-2:]
        pad_h, pad_w = (-height) % self.multiple, (-width) % self.multiple
        y = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x
        if self.space_to_depth > 1:
            y = F.pixel_unshuffle(y, self.space_to_depth)  # (N, f²·k·C, H / f, W / f)
        skips = []
        for level, encoder in enumerate(self.encoders):
            if level:
                y = F.max_pool2d(y, 2)
            y = encoder(y)  # (N, widths[level], H / 2**level, W / 2**level)
            skips.append(y)
        for upconv, decoder, skip in zip(self.upconvs, self.decoders, reversed(skips[:-1]), strict=True):
            y = F.leaky_relu(upconv(y), 0.2)
            y = decoder(torch.cat([y, skip], dim=1))
        out = self.head(y)
        if self.space_to_depth > 1:
            out = F.pixel_shuffle(out, self.space_to_depth)
        out = out[..., :height, :width]  # (N, C, H, W)
        if self.residual:
            out = out + x[:, -self.channels :]
        return out

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        # odd sizes exercise the internal padding
        return (torch.rand(batch_size, self.context_frames * self.channels, 27, 21),)


def rollout(
    generator: nn.Module, context: torch.Tensor, steps: int, channels: int, *, clamp: bool = False
) -> torch.Tensor:
    """Predict `steps` frames ahead, feeding each prediction back as the newest context frame.

    Args:
        generator: maps (N, k·C, H, W) stacked context to the next (N, C, H, W) frame.
        context: (N, k·C, H, W) float in [0, 1], oldest frame first.
        steps: frames to predict, >= 1.
        channels: C.
        clamp: clamp each prediction to [0, 1] before it is returned and fed back (inference);
            training leaves it off so gradients are not cut.

    Returns:
        (N, steps·C, H, W): the predicted frames stacked along channels, step 1 first.

    Raises:
        ConfigError: `steps` < 1 or a context whose channels are not a multiple of C.
    """
    if steps < 1 or context.shape[1] % channels:
        raise ConfigError(f"rollout needs steps >= 1 and k·{channels} context channels, got {steps}, {context.shape}")
    predictions = []
    window = context
    for _ in range(steps):
        frame = generator(window)
        if clamp:
            frame = frame.clamp(0.0, 1.0)
        predictions.append(frame)
        window = torch.cat([window[:, channels:], frame.to(window.dtype)], dim=1)
    return torch.cat(predictions, dim=1)
