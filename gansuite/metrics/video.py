"""Per-horizon scores of predicted video frames, and a sharpness measure.

Next-frame prediction is scored separately at each step ahead, since errors compound with the
horizon (Mathieu et al., "Deep multi-scale video prediction beyond mean square error", ICLR 2016;
Srivastava et al., Moving-MNIST, ICML 2015): PSNR, SSIM (Wang et al. 2004) and, optionally,
LPIPS (Zhang et al. 2018) of predicted step t against true step t, averaged over clips.

The frames are scored as they are: every channel (a grayscale clip's single channel, or RGB),
the full frame, peak 1 (equivalently 255 on the 8-bit scale), not quantised unless asked.

Sharpness is the mean gradient energy ``mean(dx^2) + mean(dy^2)`` of the frames (finite
differences between neighbouring pixels, values in [0, 1], averaged over channels). A model
trained with MSE alone predicts blurred frames whose gradient energy falls below the target's;
the adversarial term of a GAN keeps it closer (Mathieu et al. 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gansuite.core.pixel_range import check_unit_range
from gansuite.errors import ConfigError
from gansuite.metrics.perceptual import LPIPSMetric
from gansuite.metrics.psnr_ssim import Channel, psnr, ssim

__all__ = ["PSNR_CEILING", "HorizonScores", "gradient_energy", "per_horizon_scores"]

PSNR_CEILING = 100.0
"""Per-frame PSNR cap in dB: a frame predicted exactly (MSE 0) would otherwise make a mean infinite.
Moving MNIST has windows whose digits stand still for a frame, where copy-last is exact."""


@dataclass(frozen=True)
class HorizonScores:
    """Scores of the predicted frames at one step ahead, averaged over the clips.

    Attributes:
        step: steps ahead of the last context frame, from 1.
        psnr: mean PSNR in dB (peak 1 on [0, 1] frames), each frame's capped at `PSNR_CEILING`.
        ssim: mean SSIM (11x11 Gaussian window, sigma 1.5).
        lpips: mean LPIPS distance, or None when no LPIPS metric was given.
        sharpness: mean gradient energy of the predicted frames.
        target_sharpness: mean gradient energy of the true frames, for comparison.
    """

    step: int
    psnr: float
    ssim: float
    lpips: float | None
    sharpness: float
    target_sharpness: float


def gradient_energy(frames: torch.Tensor) -> torch.Tensor:
    """Mean gradient energy ``mean(dx^2) + mean(dy^2)`` per frame, averaged over channels.

    Args:
        frames: (..., C, H, W) float in [0, 1], e.g. (N, C, H, W) images or (N, T, C, H, W)
            clips; H and W at least 2.

    Returns:
        float tensor of the leading shape (...), e.g. (N,) or (N, T), on the frames' device.

    Raises:
        ConfigError: fewer than three dimensions, frames narrower than 2 pixels, or values
            outside [0, 1] by more than 0.5/255 (0..255 frames must be divided by 255).
    """
    if frames.dim() < 3 or min(frames.shape[-2:]) < 2 or not frames.is_floating_point():
        raise ConfigError(
            f"gradient_energy expects float (..., C, H, W) frames with H, W >= 2; got {frames.dtype} "
            f"of shape {tuple(frames.shape)}"
        )
    check_unit_range(frames, "gradient_energy: frames")
    dx = frames[..., :, 1:] - frames[..., :, :-1]
    dy = frames[..., 1:, :] - frames[..., :-1, :]
    return dx.pow(2).mean(dim=(-3, -2, -1)) + dy.pow(2).mean(dim=(-3, -2, -1))


def per_horizon_scores(
    predictions: torch.Tensor,
    targets: torch.Tensor,
    *,
    lpips: LPIPSMetric | None = None,
    channel: Channel = "rgb",
    quantize: bool = False,
) -> list[HorizonScores]:
    """PSNR, SSIM, LPIPS and sharpness of predicted frames, separately for each step ahead.

    Args:
        predictions: (N, T, C, H, W) float in [0, 1], C = 1 (gray) or 3 (RGB); step t of the
            prediction is ``predictions[:, t - 1]``.
        targets: the true frames, same shape and layout.
        lpips: an `LPIPSMetric` to add LPIPS (gray frames are repeated to 3 channels); None
            skips it.
        channel: "rgb" scores every channel given; "y" the BT.601 luma of RGB frames.
        quantize: round frames to 8 bit before PSNR/SSIM, as when scoring saved frames.

    Returns:
        One `HorizonScores` per step, in order: index 0 is step 1.

    Raises:
        ConfigError: inputs of the wrong layout or different shapes, values outside [0, 1] by
            more than 0.5/255 (0..255 frames must be divided by 255), or frames smaller than the
            11x11 SSIM window.
    """
    if predictions.dim() != 5 or predictions.shape != targets.shape:
        raise ConfigError(
            f"per_horizon_scores expects predictions and targets of one (N, T, C, H, W) shape; got "
            f"{tuple(predictions.shape)} and {tuple(targets.shape)}"
        )
    check_unit_range(predictions, "per_horizon_scores: predictions")
    check_unit_range(targets, "per_horizon_scores: targets")
    scores = []
    for t in range(predictions.shape[1]):
        pred, true = predictions[:, t], targets[:, t]
        scores.append(
            HorizonScores(
                step=t + 1,
                psnr=float(psnr(pred, true, channel=channel, quantize=quantize).clamp(max=PSNR_CEILING).mean()),
                ssim=float(ssim(pred, true, channel=channel, quantize=quantize).mean()),
                lpips=None if lpips is None else float(lpips(pred, true).mean()),
                sharpness=float(gradient_energy(pred).mean()),
                target_sharpness=float(gradient_energy(true).mean()),
            )
        )
    return scores
