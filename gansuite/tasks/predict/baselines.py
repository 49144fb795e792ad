"""Classical next-frame baselines: copy the last frame, or extrapolate optical flow.

Optical-flow extrapolation is the classical baseline a learned predictor must beat: the dense
flow between the last two context frames (OpenCV's DIS, Kroeger et al., "Fast Optical Flow using
Dense Inverse Search", ECCV 2016) is assumed constant, and the last frame is warped forward
along it. The flow is computed backward — from frame t−1 to frame t−2, so each pixel x of t−1
gets the offset f(x) to where it was one frame earlier — and frame t−1+h is predicted as
``I[t−1](x + h·f(x))`` (one bilinear resampling per step, border pixels repeated), which treats
the flow as locally smooth. The same `dis_flow` and `backward_warp` serve the ``flow-unet``
predictor, which starts from this prediction and learns to correct it.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from gansuite.errors import ConfigError
from gansuite.tasks.predict.evaluation import copy_last_frame

__all__ = ["DIS_PRESETS", "backward_warp", "dis_flow", "flow_extrapolation", "to_gray_uint8"]

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
"""OpenCV DIS presets by name."""

_LUMA = (0.299, 0.587, 0.114)  # BT.601
_DIS_MIN_SIDE = 16  # smaller frames are padded (edge pixels repeated) before DIS and the flow cropped back


def to_gray_uint8(frames: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) float in [0, 1], C = 1 or 3 (RGB) → (N, H, W) uint8 BT.601 luma."""
    frames = frames.detach().float()
    if frames.shape[1] == 3:
        frames = (frames * frames.new_tensor(_LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
    gray = (frames[:, 0].clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8)
    return np.ascontiguousarray(gray.cpu().numpy())


def dis_flow(reference: torch.Tensor, moving: torch.Tensor, *, preset: str = "medium") -> torch.Tensor:
    """Dense optical flow from `reference` to `moving` with OpenCV's DIS, per batch item.

    Args:
        reference: (N, C, H, W) float in [0, 1], C = 1 or 3 (RGB); the frame the flow is defined on.
        moving: the other frame, same shape.
        preset: a `DIS_PRESETS` name.

    Returns:
        (N, 2, H, W) float32 on `reference`'s device, in pixels: channel 0 the x offset, channel 1
        the y offset, so ``reference[y, x] ≈ moving[y + f_y, x + f_x]``. No gradient.

    Raises:
        ConfigError: unknown preset or mismatched shapes.
    """
    if preset not in DIS_PRESETS:
        raise ConfigError(f"unknown DIS preset {preset!r}: use one of {sorted(DIS_PRESETS)}")
    if reference.shape != moving.shape or reference.dim() != 4:
        raise ConfigError(
            f"dis_flow needs two (N, C, H, W) batches of one shape, got {tuple(reference.shape)}, {tuple(moving.shape)}"
        )
    first, second = to_gray_uint8(reference), to_gray_uint8(moving)
    height, width = first.shape[1:]
    pad = ((0, 0), (0, max(0, _DIS_MIN_SIDE - height)), (0, max(0, _DIS_MIN_SIDE - width)))
    if any(after for _, after in pad):  # DIS rejects (or crashes on) frames smaller than its patches
        first, second = np.pad(first, pad, mode="edge"), np.pad(second, pad, mode="edge")
    solver = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
    flows = [solver.calc(a, b, None)[:height, :width] for a, b in zip(first, second, strict=True)]  # (H, W, 2)
    return torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).contiguous().to(reference.device)


def backward_warp(frames: torch.Tensor, flow: torch.Tensor, *, mode: str = "bilinear") -> torch.Tensor:
    """Sample `frames` at x + flow(x) (border pixels repeated); differentiable.

    Args:
        frames: (N, C, H, W) float.
        flow: (N, 2, H, W) float offsets in pixels (x, y).
        mode: "bilinear" (smooth, slightly blurring) or "bicubic" (sharper, may overshoot past
            [0, 1]: clamp the result); `torch.nn.functional.grid_sample`'s modes.

    Returns:
        (N, C, H, W), the warped frames.
    """
    height, width = frames.shape[-2:]
    ys = torch.arange(height, device=flow.device, dtype=flow.dtype)
    xs = torch.arange(width, device=flow.device, dtype=flow.dtype)
    # normalised coordinates (align_corners=True): -1 is the first pixel's centre, 1 the last
    gx = (xs.view(1, 1, width) + flow[:, 0]) * (2.0 / max(width - 1, 1)) - 1.0
    gy = (ys.view(1, height, 1) + flow[:, 1]) * (2.0 / max(height - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1)  # (N, H, W, 2)
    return F.grid_sample(frames, grid.to(frames.dtype), mode=mode, padding_mode="border", align_corners=True)


def flow_extrapolation(context: torch.Tensor, future: int, *, preset: str = "medium") -> torch.Tensor:
    """Optical-flow extrapolation: the flow between the last two frames held constant.

    Args:
        context: (N, T, C, H, W) float in [0, 1], C = 1 or 3 (RGB), T >= 2 (a single frame is copied).
        future: frames to predict, >= 1.
        preset: DIS preset (`DIS_PRESETS`).

    Returns:
        (N, future, C, H, W) float32 in [0, 1]: step h is the last frame sampled at x + h·f(x),
        f the DIS flow from the last frame to the one before it.

    Raises:
        ConfigError: a wrong layout, `future` < 1 or an unknown preset.
    """
    if context.dim() != 5 or future < 1:
        raise ConfigError(f"flow_extrapolation expects (N, T, C, H, W) frames and future >= 1, got {context.shape}")
    if context.shape[1] < 2:
        return copy_last_frame(context, future)
    last, previous = context[:, -1].float(), context[:, -2].float()
    flow = dis_flow(last, previous, preset=preset)
    steps = [backward_warp(last, flow * h).clamp(0.0, 1.0) for h in range(1, future + 1)]
    return torch.stack(steps, dim=1)
