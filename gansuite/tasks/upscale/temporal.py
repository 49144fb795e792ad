"""Temporal stability for video upscaling: optical flow with an occlusion test, and a flow-guided blend.

Upscaling a video frame by frame lets a GAN's invented texture change from one frame to the next
(flicker, "boiling"). `TemporalBlend` is a cheap fix that needs no retraining: each output frame
is mixed with the previous *blended* output, warped onto it by the optical flow between the two
low-resolution frames (upsampled with bicubic to the output size, since that is what inference
has), wherever the forward and backward flows agree:

    O'_t = (1 - a) * O_t + a * warp(O'_{t-1})   where the flow is reliable,
    O'_t = O_t                                  elsewhere (occlusions, scene cuts, borders).

"Reliable" means the forward and backward flows agree and the warped previous guide matches the
current one within 12 of 255 luma levels (brightness constancy), so a scene cut or a flash
passes the new frame through instead of leaving a ghost of the old one.

It is an exponential moving average along motion trajectories, the recurrent smoothing that
blind video-consistency methods (Lai et al., "Learning Blind Video Temporal Consistency",
ECCV 2018) learn, here with a fixed weight. Flow: OpenCV's DIS (Kroeger et al. 2016, medium
preset); reliability: the forward-backward test of Ruder et al. 2016,
``|w_b + w_f|^2 < 0.01 (|w_b|^2 + |w_f|^2) + 0.5``. `gansuite benchmark video-sr
--temporal-blend A` measures what it does to PSNR, LPIPS and the warping error.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from gansuite.errors import ConfigError
from gansuite.io.imresize import imresize

__all__ = ["TemporalBlend", "check_blend_strength", "flow_remap", "gray8"]


def gray8(frame: np.ndarray) -> np.ndarray:
    """`(H, W, 3)` RGB float in [0, 1] → `(H, W)` uint8 luma, the input DIS flow takes."""
    return cv2.cvtColor((np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def flow_remap(previous_gray: np.ndarray, current_gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(map_x, map_y, mask): where each pixel of the current frame was in the previous one, and where that is reliable.

    Args:
        previous_gray, current_gray: `(H, W) uint8` frames t-1 and t.

    Returns:
        float32 remap coordinates `(H, W)` for `cv2.remap(previous, map_x, map_y)` and a bool
        `(H, W)` mask of pixels passing the forward-backward consistency test (Ruder et al. 2016)
        whose source lies inside the frame.
    """
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    backward = dis.calc(current_gray, previous_gray, None)  # current(x) ≈ previous(x + backward(x))
    forward = dis.calc(previous_gray, current_gray, None)
    height, width = current_gray.shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = grid_x + backward[..., 0], grid_y + backward[..., 1]
    forward_there = cv2.remap(forward, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    disagreement = ((backward + forward_there) ** 2).sum(axis=2)
    scale = (backward**2).sum(axis=2) + (forward_there**2).sum(axis=2)
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    return map_x, map_y, (disagreement < 0.01 * scale + 0.5) & inside


def check_blend_strength(strength: float) -> float:
    """`strength` as a float after checking it is a number in (0, 1).

    Raises:
        ConfigError: not a number, or outside the open interval (0, 1).
    """
    if isinstance(strength, bool) or not isinstance(strength, int | float) or not 0 < strength < 1:
        raise ConfigError(f"`temporal_blend` must be in (0, 1), got {strength!r}")
    return float(strength)


class TemporalBlend:
    """Flow-guided recursive blending of upscaled frames (see the module docstring).

    Call it once per frame, in order; it keeps the previous guide and blended output (two
    output-sized frames), so memory does not grow with the clip.

    Args:
        strength: the weight `a` of the warped previous output, in (0, 1); 0.5 halves the
            frame-to-frame change of invented texture along the motion, at some cost in
            sharpness (ghosting where the flow is wrong but consistent).

    Raises:
        ConfigError: `strength` outside (0, 1).
    """

    def __init__(self, strength: float) -> None:
        self.strength = check_blend_strength(strength)
        self.max_difference = 12  # 8-bit luma levels between a guide pixel and its warped predecessor
        self._guide: np.ndarray | None = None
        self._output: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame (e.g. at a known scene cut or a new clip)."""
        self._guide = self._output = None

    def __call__(self, low_res: np.ndarray, output: np.ndarray) -> np.ndarray:
        """Blend one frame.

        Args:
            low_res: the source frame, `(h, w, 3)` RGB float in [0, 1].
            output: its upscaled frame, `(H, W, 3)` RGB float32 in [0, 1].

        Returns:
            The blended frame, `(H, W, 3)` float32 in [0, 1]; the first frame comes back unchanged.

        Raises:
            ConfigError: frames that are not RGB, or a size different from the previous frame's.
        """
        if output.ndim != 3 or output.shape[2] != 3 or low_res.ndim != 3 or low_res.shape[2] != 3:
            raise ConfigError(f"temporal blend needs RGB frames, got {low_res.shape} → {output.shape}")
        upsampled = imresize(
            torch.from_numpy(np.ascontiguousarray(low_res, np.float32)).permute(2, 0, 1)[None], size=output.shape[:2]
        )
        guide = gray8(upsampled.clamp(0, 1)[0].permute(1, 2, 0).numpy())
        result = output.astype(np.float32, copy=False)
        if self._guide is not None and self._output is not None:
            if self._output.shape != output.shape:
                raise ConfigError(f"frame size changed from {self._output.shape} to {output.shape} mid-clip")
            map_x, map_y, mask = flow_remap(self._guide, guide)
            # brightness constancy: where the warped previous guide does not look like this one
            # (a scene cut, a flash, a flow that found a wrong match) the new frame is kept as it is
            guide_there = cv2.remap(self._guide, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            mask &= np.abs(guide_there.astype(np.int16) - guide.astype(np.int16)) <= self.max_difference
            warped = cv2.remap(self._output, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            mixed = (1 - self.strength) * result + self.strength * warped
            result = np.clip(np.where(mask[..., None], mixed, result), 0, 1).astype(np.float32)
        self._guide, self._output = guide, result
        return result
