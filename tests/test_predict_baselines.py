"""Classical baselines: DIS optical flow, backward warping and flow extrapolation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from gansuite.errors import ConfigError
from gansuite.metrics import psnr
from gansuite.tasks.predict.baselines import backward_warp, dis_flow, flow_extrapolation
from gansuite.tasks.predict.evaluation import copy_last_frame


def _texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random RGB texture (H, W, 3) float32 in [0, 1]."""
    noise = np.random.default_rng(seed).random((height, width, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    return (smooth - smooth.min()) / (np.ptp(smooth) + 1e-6)


def _translating_clip(frames: int, velocity: tuple[int, int], size: int = 96) -> torch.Tensor:
    """(1, T, 3, size, size): a texture moving `velocity` = (dx, dy) whole pixels per frame."""
    big = _texture(size + 64, size + 64)
    dx, dy = velocity
    clip = [big[32 - t * dy : 32 - t * dy + size, 32 - t * dx : 32 - t * dx + size] for t in range(frames)]
    return torch.from_numpy(np.stack(clip).transpose(0, 3, 1, 2).copy())[None]


def test_backward_warp_samples_at_the_offset() -> None:
    frames = torch.arange(5 * 6, dtype=torch.float32).view(1, 1, 5, 6)
    flow = torch.zeros(1, 2, 5, 6)
    flow[:, 0] = 1.0  # sample one pixel to the right
    warped = backward_warp(frames, flow)
    assert torch.allclose(warped[..., :-1], frames[..., 1:])
    assert torch.allclose(warped[..., -1], frames[..., -1])  # the border is repeated
    assert torch.allclose(backward_warp(frames, torch.zeros(1, 2, 5, 6)), frames, atol=1e-5)


def test_dis_flow_points_back_to_where_pixels_were() -> None:
    clip = _translating_clip(2, (3, -2))
    flow = dis_flow(clip[:, 1], clip[:, 0])  # frame 1 → frame 0
    assert flow.shape == (1, 2, 96, 96)
    inner = flow[:, :, 16:-16, 16:-16]
    assert float(inner[:, 0].median()) == pytest.approx(-3.0, abs=0.25)
    assert float(inner[:, 1].median()) == pytest.approx(2.0, abs=0.25)


def test_flow_extrapolation_predicts_a_constant_translation_far_better_than_copy_last() -> None:
    clip = _translating_clip(7, (2, 1))
    context, target = clip[:, :4], clip[:, 4:]
    flow = flow_extrapolation(context, 3)
    copy = copy_last_frame(context, 3)
    assert flow.shape == target.shape and float(flow.min()) >= 0.0 and float(flow.max()) <= 1.0
    inner = (..., slice(12, -12), slice(12, -12))  # away from the borders the motion uncovers
    for step in range(3):
        flow_psnr = float(psnr(flow[:, step][inner], target[:, step][inner], channel="rgb"))
        copy_psnr = float(psnr(copy[:, step][inner], target[:, step][inner], channel="rgb"))
        assert flow_psnr > 35.0, (step, flow_psnr)
        assert flow_psnr > copy_psnr + 10.0, (step, flow_psnr, copy_psnr)


def test_flow_extrapolation_of_a_static_clip_is_the_last_frame_and_checks_its_input() -> None:
    still = _translating_clip(3, (0, 0))
    assert torch.allclose(flow_extrapolation(still, 2), copy_last_frame(still, 2), atol=1e-5)
    assert torch.equal(flow_extrapolation(still[:, :1], 2), copy_last_frame(still[:, :1], 2))
    with pytest.raises(ConfigError, match="future >= 1"):
        flow_extrapolation(still, 0)
    with pytest.raises(ConfigError, match="unknown DIS preset"):
        flow_extrapolation(still, 1, preset="slowest")
