"""Scoring predicted frames step by step ahead, beside the copy-last-frame baseline.

Errors of a predictor compound with the horizon, so every metric is reported per step ahead
(Mathieu et al. 2016; Srivastava et al. 2015): PSNR and SSIM (gansuite.metrics, peak 1 on
[0, 1] frames, all channels, full frame), per-pixel MSE, the per-frame MSE summed over pixels
that OpenSTL (Tan et al. 2023) reports for Moving MNIST, optional LPIPS (Zhang et al. 2018),
and the sharpness (gradient energy) of prediction and target. The baseline every model must
beat is copying the last context frame.

Windows are taken from a stream of frames (`sliding_windows`), so long clips are never held in
memory whole.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from gansuite.errors import ConfigError
from gansuite.metrics import LPIPSMetric, gradient_energy, psnr, ssim
from gansuite.metrics.video import PSNR_CEILING

__all__ = ["LPIPS_MIN_SIDE", "HorizonAccumulator", "HorizonMetrics", "copy_last_frame", "sliding_windows"]

LPIPS_MIN_SIDE = 32
"""The smallest frame side LPIPS's AlexNet accepts (its strided convolutions and pools)."""


def sliding_windows(
    frames: Iterable[np.ndarray], *, length: int, stride: int = 1, start: int = 0
) -> Iterator[tuple[int, np.ndarray]]:
    """Windows of `length` consecutive frames from a stream, starting every `stride` frames.

    Args:
        frames: (H, W, C) frames in order.
        length: frames per window.
        stride: frames between window starts.
        start: index of the first window's first frame.

    Returns:
        An iterator of (index of the window's first frame, (length, H, W, C) array).

    Raises:
        ConfigError: `length` or `stride` < 1, or `start` < 0.
    """
    if length < 1 or stride < 1 or start < 0:
        raise ConfigError(
            f"sliding_windows needs length >= 1, stride >= 1 and start >= 0; got {length}, {stride}, {start}"
        )
    buffer: deque[np.ndarray] = deque(maxlen=length)
    for index, frame in enumerate(frames):
        if index < start:
            continue
        buffer.append(frame)
        first = index - length + 1
        if len(buffer) == length and (first - start) % stride == 0:
            yield first, np.stack(buffer)


def copy_last_frame(context: torch.Tensor, future: int) -> torch.Tensor:
    """The baseline: (N, T, C, H, W) context → (N, future, C, H, W), the last frame repeated."""
    return context[:, -1:].expand(-1, future, -1, -1, -1).contiguous()


@dataclass(frozen=True)
class HorizonMetrics:
    """Mean scores of one method at one step ahead.

    Attributes:
        step: steps after the last context frame, from 1.
        count: predicted frames averaged.
        psnr: dB, peak 1 on [0, 1] frames.
        ssim: Wang et al. 2004, 11x11 Gaussian window.
        mse: mean squared error per pixel (and channel), [0, 1] scale.
        frame_mse: squared error summed over the pixels (and channels) of a frame, [0, 1]
            scale: OpenSTL's "MSE" on Moving MNIST.
        lpips: LPIPS (alex, v0.1), or None when not computed.
        sharpness: mean gradient energy of the predicted frames.
        target_sharpness: mean gradient energy of the true frames.
    """

    step: int
    count: int
    psnr: float
    ssim: float
    mse: float
    frame_mse: float
    lpips: float | None
    sharpness: float
    target_sharpness: float


_SUMMED = ("psnr", "ssim", "mse", "frame_mse", "lpips", "sharpness", "target_sharpness")


class HorizonAccumulator:
    """Sums per-step scores of several methods over batches of windows; `results` averages them.

    Args:
        steps: the horizon: predicted frames per window.
        lpips: an `LPIPSMetric` to add LPIPS, or None.
        quantize: round frames to 8 bit before PSNR/SSIM (scoring frames as saved video/PNGs).
    """

    def __init__(self, steps: int, *, lpips: LPIPSMetric | None = None, quantize: bool = False) -> None:
        if steps < 1:
            raise ConfigError(f"steps must be >= 1, got {steps}")
        self.steps, self.lpips, self.quantize = steps, lpips, quantize
        self._sums: dict[str, np.ndarray] = {}
        self._counts: dict[str, int] = {}

    def methods(self) -> list[str]:
        """Methods seen so far, in order of first `add`."""
        return list(self._sums)

    def add(self, method: str, predictions: torch.Tensor, targets: torch.Tensor) -> None:
        """Score a batch of predictions of `method`.

        Args:
            method: a name, e.g. "copy-last" or a model's name.
            predictions: (N, steps, C, H, W) float in [0, 1], C = 1 or 3.
            targets: the true frames, same shape.

        Raises:
            ConfigError: shapes differ or do not match `steps`, or LPIPS on frames smaller than 32x32.
        """
        if predictions.shape != targets.shape or predictions.dim() != 5 or predictions.shape[1] != self.steps:
            raise ConfigError(
                f"expected predictions and targets of one (N, {self.steps}, C, H, W) shape, got "
                f"{tuple(predictions.shape)} and {tuple(targets.shape)}"
            )
        if self.lpips is not None and min(predictions.shape[-2:]) < LPIPS_MIN_SIDE:
            raise ConfigError(
                f"LPIPS (alex) needs frames of at least {LPIPS_MIN_SIDE}x{LPIPS_MIN_SIDE} pixels, got "
                f"{predictions.shape[-1]}x{predictions.shape[-2]}: skip LPIPS for these frames"
            )
        sums = self._sums.setdefault(method, np.zeros((self.steps, len(_SUMMED))))
        pred, true = predictions.float().clamp(0.0, 1.0), targets.float()
        for t in range(self.steps):
            p, y = pred[:, t], true[:, t]
            squared = (p.double() - y.double()).pow(2).flatten(1)
            values = [
                float(psnr(p, y, channel="rgb", quantize=self.quantize).clamp(max=PSNR_CEILING).sum()),
                float(ssim(p, y, channel="rgb", quantize=self.quantize).sum()),
                float(squared.mean(1).sum()),
                float(squared.sum(1).sum()),
                float(self.lpips(p, y).sum()) if self.lpips is not None else 0.0,
                float(gradient_energy(p).sum()),
                float(gradient_energy(y).sum()),
            ]
            sums[t] += values
        self._counts[method] = self._counts.get(method, 0) + predictions.shape[0]

    def results(self, method: str) -> list[HorizonMetrics]:
        """Per-step means of `method`, step 1 first.

        Raises:
            ConfigError: `method` was never added.
        """
        if method not in self._sums:
            raise ConfigError(f"no scores for {method!r}; methods scored: {self.methods()}")
        count = self._counts[method]
        means = self._sums[method] / count
        rows = []
        for t in range(self.steps):
            values = dict(zip(_SUMMED, (float(v) for v in means[t]), strict=True))
            if self.lpips is None:
                values["lpips"] = None  # type: ignore[assignment]
            rows.append(HorizonMetrics(step=t + 1, count=count, **values))  # type: ignore[arg-type]
        return rows
