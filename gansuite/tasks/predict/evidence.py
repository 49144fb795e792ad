"""Localised evidence of an anomaly in a predicted frame: where it is predicted worst, how fast things move.

Whole-frame PSNR (Liu et al., CVPR 2018) averages the error of one cyclist over a frame that is
mostly static walkway, so its level follows crowd density more than abnormality. Two localised
measures, each a number per frame, larger = more anomalous after `signed_features`:

- **patch PSNR**: the squared prediction error map (mean over channels) is averaged over square
  patches (`patch_size` pixels at the model's working resolution, stride `patch_size // 2`); the
  frame's patch PSNR is ``10 log10(1 / e)`` with ``e`` the mean of its `top_k` worst patches.
- **motion**: dense optical flow between the previous and the current frame (by default DIS,
  Kroeger et al., ECCV 2016, OpenCV's medium preset; or Farneback 2003, the setting before it, on
  8-bit luma at the working resolution); its magnitude in pixels per frame is averaged over the
  same kind of patches and the largest patch mean kept. UCSD Ped2's anomalies (bicycles, carts,
  skateboards) move faster than the people walking. DIS replaced Farneback by a rule fixed before
  it was measured, on synthetic anomalies in Ped2's training clips (README, issue 19's try F).

Both only look at frames t-k .. t, so they are causal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from gansuite.errors import ConfigError
from gansuite.tasks.predict.data import resize_frame
from gansuite.tasks.predict.predictor import FramePredictor

__all__ = [
    "FEATURES",
    "FLOW_METHODS",
    "EvidenceConfig",
    "FrameEvidence",
    "clip_evidence",
    "clip_evidence_many",
    "error_maps",
    "flow_maps",
    "frame_evidence",
    "motion_magnitude",
    "patch_max",
    "signed_features",
    "to_model_frame",
]

FEATURES = ("frame_psnr", "patch_psnr", "motion")
"""Evidence kinds: whole-frame PSNR (dB), worst-patch PSNR (dB), fastest-patch motion (px/frame)."""

FLOW_METHODS = ("dis", "farneback")
"""Optical flow for the motion term: OpenCV DIS (medium preset) or Farneback."""


@dataclass(frozen=True)
class EvidenceConfig:
    """How the localised evidence is measured (at the predictor's working resolution).

    Attributes:
        patch_size: side of the square patches in pixels, >= 2.
        top_k: the patch PSNR averages the errors of the `top_k` worst patches, >= 1.
        motion: compute the optical-flow motion term (about 7 ms a frame at 256x256 on one CPU thread).
        flow: the optical flow of the motion term, one of `FLOW_METHODS` ("dis", the default, or
            "farneback", which calibrations written before DIS used).
    """

    patch_size: int = 32
    top_k: int = 1
    motion: bool = True
    flow: str = "dis"

    def __post_init__(self) -> None:
        if self.patch_size < 2:
            raise ConfigError(f"patch_size must be >= 2 pixels, got {self.patch_size}")
        if self.top_k < 1:
            raise ConfigError(f"top_k must be >= 1, got {self.top_k}")
        if self.flow not in FLOW_METHODS:
            raise ConfigError(f"flow must be one of {list(FLOW_METHODS)}, got {self.flow!r}")

    def to_dict(self) -> dict[str, object]:
        """The settings as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class FrameEvidence:
    """Evidence for N consecutive frames.

    Attributes:
        frame_psnr: (N,) float64, whole-frame PSNR of the prediction (dB).
        patch_psnr: (N,) float64, PSNR of the worst patch(es) (dB).
        motion: (N,) float64, mean flow magnitude of the fastest patch (px/frame at working
            resolution); zeros when the motion term is off.
    """

    frame_psnr: np.ndarray
    patch_psnr: np.ndarray
    motion: np.ndarray

    def __len__(self) -> int:
        return int(self.frame_psnr.shape[0])

    def as_dict(self) -> dict[str, np.ndarray]:
        """``{feature name: (N,) array}``."""
        return {name: getattr(self, name) for name in FEATURES}

    @classmethod
    def concatenate(cls, parts: list[FrameEvidence]) -> FrameEvidence:
        """The evidence of several runs of frames, one after the other."""
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in FEATURES))


def signed_features(evidence: FrameEvidence) -> dict[str, np.ndarray]:
    """Each feature with the sign that makes larger = more anomalous (PSNRs negated)."""
    return {"frame_psnr": -evidence.frame_psnr, "patch_psnr": -evidence.patch_psnr, "motion": evidence.motion}


def error_maps(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared prediction error per pixel, averaged over channels.

    Args:
        predicted: (N, C, H, W) float in [0, 1].
        target: the true frames, same shape.

    Returns:
        (N, H, W) float32.

    Raises:
        ConfigError: the shapes differ.
    """
    if predicted.shape != target.shape or predicted.dim() != 4:
        raise ConfigError(
            f"prediction {tuple(predicted.shape)} and target {tuple(target.shape)}: need equal (N, C, H, W)"
        )
    return (predicted.float() - target.float()).pow(2).mean(1)


def patch_max(maps: torch.Tensor, patch_size: int, top_k: int = 1) -> torch.Tensor:
    """Mean of the `top_k` largest patch means of each map.

    Args:
        maps: (N, H, W) float.
        patch_size: patch side; patches start every ``patch_size // 2`` pixels. A map smaller
            than a patch is treated as one patch.
        top_k: how many of the largest patch means are averaged.

    Returns:
        (N,) float32.
    """
    size = min(patch_size, maps.shape[1], maps.shape[2])
    means = F.avg_pool2d(maps[:, None].float(), size, stride=max(1, size // 2)).flatten(1)
    k = min(top_k, means.shape[1])
    return means.topk(k, dim=1).values.mean(1)


def motion_magnitude(previous: np.ndarray, current: np.ndarray, method: str = "dis") -> np.ndarray:
    """Optical flow magnitude from `previous` to `current` (pixels per frame).

    Args:
        previous: (H, W) float in [0, 1], gray.
        current: (H, W) float in [0, 1], gray, same size.
        method: "dis" (OpenCV DIS, medium preset; Kroeger et al. 2016) or "farneback" (Farneback
            2003: pyramid scale 0.5, 3 levels, window 15, 3 iterations, poly_n 5, sigma 1.2).

    Returns:
        (H, W) float32.

    Raises:
        ConfigError: an unknown `method`.
    """
    a = np.clip(np.rint(previous * 255.0), 0, 255).astype(np.uint8)
    b = np.clip(np.rint(current * 255.0), 0, 255).astype(np.uint8)
    if method == "dis":
        flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None)
    elif method == "farneback":
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    else:
        raise ConfigError(f"flow method must be one of {list(FLOW_METHODS)}, got {method!r}")
    return np.sqrt((flow**2).sum(-1)).astype(np.float32)


def _luma(frames: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) → (N, H, W) float32 gray (BT.601 luma for RGB)."""
    if frames.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=frames.dtype).view(1, 3, 1, 1)
        frames = (frames * weights).sum(1, keepdim=True)
    return frames[:, 0].float().numpy()


def flow_maps(previous: torch.Tensor, target: torch.Tensor, method: str = "dis") -> torch.Tensor:
    """`motion_magnitude` of each (previous, target) pair: (N, C, h, w) float in [0, 1] → (N, h, w) float32."""
    before, after = _luma(previous), _luma(target)
    return torch.from_numpy(np.stack([motion_magnitude(a, b, method) for a, b in zip(before, after, strict=True)]))


def frame_evidence(
    predicted: torch.Tensor,
    target: torch.Tensor,
    previous: torch.Tensor,
    config: EvidenceConfig,
    *,
    flows: torch.Tensor | None = None,
) -> tuple[FrameEvidence, torch.Tensor]:
    """The evidence of N predicted frames.

    Args:
        predicted: (N, C, h, w) float in [0, 1] at the working resolution, on the CPU.
        target: the true frames, same shape.
        previous: the frame before each target, same shape (for the motion term).
        config: the `EvidenceConfig`.
        flows: the (N, h, w) `flow_maps(previous, target, config.flow)` when already computed (so
            several configs share one optical-flow pass), else None.

    Returns:
        The `FrameEvidence` and the (N, h, w) float32 squared-error maps (for heat maps).
    """
    errors = error_maps(predicted, target)
    frame_mse = errors.flatten(1).mean(1).double().clamp_min(1e-10)
    patch_mse = patch_max(errors, config.patch_size, config.top_k).double().clamp_min(1e-10)
    if config.motion:
        flows = flow_maps(previous, target, config.flow) if flows is None else flows
        motion = patch_max(flows, config.patch_size).double().numpy()
    else:
        motion = np.zeros(predicted.shape[0])
    evidence = FrameEvidence(
        frame_psnr=(10.0 * torch.log10(1.0 / frame_mse)).numpy(),
        patch_psnr=(10.0 * torch.log10(1.0 / patch_mse)).numpy(),
        motion=motion,
    )
    return evidence, errors


def to_model_frame(frame: np.ndarray, size: tuple[int, int], channels: int) -> np.ndarray:
    """One (H, W, C) float frame resized to `size` and converted to the model's channels.

    A gray model sees the BT.601 luma of colour frames; a colour model sees gray frames replicated.
    """
    small = resize_frame(np.asarray(frame, dtype=np.float32), size)
    if small.shape[2] == channels:
        return small
    if channels == 1:
        return (small @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    return np.repeat(small, 3, axis=2)


def clip_evidence(predictor: FramePredictor, frames: np.ndarray, config: EvidenceConfig) -> FrameEvidence:
    """The evidence of every frame t >= k of a recorded clip (what a live scorer computes frame by frame).

    Args:
        predictor: the `FramePredictor`.
        frames: (T, H, W, C) float in [0, 1], RGB or gray, T > k.
        config: the `EvidenceConfig`.

    Returns:
        `FrameEvidence` of T - k frames; entry i belongs to frame k + i.

    Raises:
        ConfigError: T <= k or a wrong layout.
    """
    return clip_evidence_many(predictor, frames, [config])[0]


def clip_evidence_many(
    predictor: FramePredictor, frames: np.ndarray, configs: Sequence[EvidenceConfig]
) -> list[FrameEvidence]:
    """`clip_evidence` for several `EvidenceConfig`s from one network pass and one optical-flow pass.

    Args:
        predictor: the `FramePredictor`.
        frames: (T, H, W, C) float in [0, 1], RGB or gray, T > k.
        configs: the settings, one or more.

    Returns:
        One `FrameEvidence` of T - k frames per config, in order; entry i belongs to frame k + i.

    Raises:
        ConfigError: T <= k, a wrong layout, or no configs.
    """
    if not configs:
        raise ConfigError("clip_evidence_many needs at least one EvidenceConfig")
    k = predictor.context_frames
    if frames.ndim != 4 or frames.shape[0] <= k or frames.shape[3] not in (1, 3):
        raise ConfigError(f"clip_evidence needs (T > {k}, H, W, 1 or 3) frames, got shape {frames.shape}")
    size = predictor.working_shape(*frames.shape[1:3])
    clip = np.stack([to_model_frame(frame, size, predictor.channels) for frame in frames])
    tensor = torch.from_numpy(np.ascontiguousarray(clip.transpose(0, 3, 1, 2), dtype=np.float32))
    windows = tensor.unfold(0, k, 1)[:-1].permute(0, 4, 1, 2, 3)  # (T - k, k, C, h, w)
    parts: list[list[FrameEvidence]] = [[] for _ in configs]
    for start in range(0, windows.shape[0], predictor.batch_size):
        batch = windows[start : start + predictor.batch_size].contiguous()
        predicted = predictor.predict_batch(batch, 1)[:, 0]
        first, stop = k + start, k + start + batch.shape[0]
        target, previous = tensor[first:stop], tensor[first - 1 : stop - 1]
        flows = {config.flow: flow_maps(previous, target, config.flow) for config in configs if config.motion}
        for part, config in zip(parts, configs, strict=True):
            part.append(frame_evidence(predicted, target, previous, config, flows=flows.get(config.flow))[0])
    return [FrameEvidence.concatenate(part) for part in parts]
