"""Synthetic motion clips rendered from still images, for training a general next-frame model.

Few real clips are at hand, so the ``natural`` recipe also learns motion from still photos, as
flow and frame-interpolation work does with its synthetic data (e.g. the moving-layer clips of
Dosovitskiy et al. 2015, FlyingChairs): a virtual camera pans, zooms and rotates over one image
at a constant rate, and up to a few soft-edged layers cut from other images move over it with
their own velocities. Every motion parameter is drawn from the item's `SeededIndex`, so a step's
clips depend only on the run's seed and step, like the real-clip windows of `ClipWindows`.

Items are clips `(T, C, size, size) float32 in [0, 1]`, RGB (C = 3) or gray (C = 1, BT.601 luma).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from gansuite.core.sampling import SeededIndex, sample_rng
from gansuite.errors import ConfigError
from gansuite.io.folders import list_images
from gansuite.io.image import read_image, rgb_to_gray
from gansuite.tasks.predict.data import resize_frame, target_shape

__all__ = ["MotionRanges", "SyntheticMotion"]


@dataclass(frozen=True)
class MotionRanges:
    """How strong the rendered motion may be, per frame.

    Attributes:
        max_pan: camera translation, in output pixels per frame.
        max_zoom: relative change of scale per frame (0.02 = 2 %).
        max_rotation: camera rotation, in degrees per frame.
        max_layers: moving foreground layers per clip (each clip draws 0 to this many).
        max_layer_speed: layer translation, in output pixels per frame.
        max_acceleration: change of the camera pan per frame, in output pixels per frame² (0: constant
            velocity, the default).
        max_layer_zoom: relative change of a layer's scale per frame (layers approaching or receding,
            a parallax cue); 0 by default.
        max_brightness_change: relative change of the overall brightness per frame (lighting and
            exposure changes); 0 by default.
        max_shake: hand-held camera shake, a random offset of the view drawn anew for every frame
            (uniform in a disc of this radius, in output pixels), so the next position is not
            fully predictable from the past ones; 0 by default.
    """

    max_pan: float = 3.0
    max_zoom: float = 0.015
    max_rotation: float = 1.0
    max_layers: int = 2
    max_layer_speed: float = 4.0
    max_acceleration: float = 0.0
    max_layer_zoom: float = 0.0
    max_brightness_change: float = 0.0
    max_shake: float = 0.0

    def __post_init__(self) -> None:
        values = (
            self.max_pan, self.max_zoom, self.max_rotation, self.max_layers, self.max_layer_speed,
            self.max_acceleration, self.max_layer_zoom, self.max_brightness_change, self.max_shake,
        )
        if min(values) < 0 or self.max_zoom >= 0.5 or self.max_layer_zoom >= 0.5 or self.max_brightness_change >= 0.5:
            raise ConfigError(f"motion ranges must be >= 0 (and max_zoom < 0.5), got {self}")


class SyntheticMotion(Dataset):
    """Clips of camera motion and moving layers over still images.

    Args:
        sources: folders of images (searched recursively) or image files.
        num_frames: frames per clip (T = context + future).
        size: side of the square frames.
        grayscale: gray (C = 1) instead of RGB (C = 3).
        motion: the motion ranges.
        length: items per pass (each is a new random clip; the default is 50 per image).
        max_short_side: downscale images whose short side exceeds this (matching how the
            real clips are downscaled), or None.

    Raises:
        ConfigError: no images, or bad sizes.
        InputImageError: an image cannot be read.
    """

    seeded_keys = True  # __getitem__ takes a SeededIndex (see gansuite.core.sampling)

    def __init__(
        self,
        sources: Sequence[str | os.PathLike[str]],
        *,
        num_frames: int,
        size: int,
        grayscale: bool = False,
        motion: MotionRanges = MotionRanges(),
        length: int | None = None,
        max_short_side: int | None = 256,
    ) -> None:
        if num_frames < 2 or size < 8:
            raise ConfigError(f"synthetic motion needs num_frames >= 2 and size >= 8, got {num_frames}, {size}")
        paths = [p for source in sources for p in (list_images(source) if os.path.isdir(source) else [source])]
        if not paths:
            raise ConfigError("synthetic motion: no still images given")
        self.num_frames, self.size, self.grayscale, self.motion = num_frames, size, grayscale, motion
        self.images = [_load(path, grayscale, max_short_side) for path in paths]
        self.length = length if length is not None else 50 * len(self.images)
        if self.length < 1:
            raise ConfigError(f"synthetic motion: length must be positive, got {self.length}")

    @property
    def channels(self) -> int:
        """Image channels C: 1 (gray) or 3 (RGB)."""
        return 1 if self.grayscale else 3

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: SeededIndex | int) -> torch.Tensor:
        index, rng = sample_rng(key)
        background = self.images[index % len(self.images)]
        frames = _camera_motion(background, self.num_frames, self.size, self.motion, rng)
        for _ in range(int(rng.integers(0, self.motion.max_layers + 1))):
            source = self.images[int(rng.integers(0, len(self.images)))]
            _add_layer(frames, source, self.motion, rng)
        if self.motion.max_brightness_change > 0:
            gain = 1.0 + rng.uniform(-self.motion.max_brightness_change, self.motion.max_brightness_change)
            frames *= (gain ** np.arange(self.num_frames, dtype=np.float32)).reshape(-1, 1, 1, 1)
        tensor = torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2)))
        return tensor.clamp_(0.0, 1.0)


def _load(path: str | os.PathLike[str], grayscale: bool, max_short_side: int | None) -> np.ndarray:
    """(H, W, C) float32 in [0, 1]."""
    color = read_image(path).color
    color = resize_frame(color, target_shape(*color.shape[:2], max_short_side=max_short_side))
    image = rgb_to_gray(color)[..., None] if grayscale else color
    return np.ascontiguousarray(image, dtype=np.float32)


def _uniform_vector(rng: np.random.Generator, radius: float) -> np.ndarray:
    """A 2-vector uniform in the disc of `radius`."""
    angle, length = rng.uniform(0, 2 * math.pi), radius * math.sqrt(rng.uniform(0, 1))
    return np.array([length * math.cos(angle), length * math.sin(angle)])


def _warp(image: np.ndarray, matrix: np.ndarray, size: int, border: int) -> np.ndarray:
    """`image` sampled at `matrix @ (x, y, 1)` for every output pixel: (size, size, C)."""
    out = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border
    )
    return out.reshape(size, size, image.shape[2]) if out.ndim == 2 else out


def _camera_motion(
    image: np.ndarray, num_frames: int, size: int, motion: MotionRanges, rng: np.random.Generator
) -> np.ndarray:
    """(T, size, size, C) frames of a camera panning, zooming and rotating over `image`."""
    height, width = image.shape[:2]
    # Start at a scale where the view fits in the image, so most frames need no border fill.
    base_scale = max(0.5, min(1.5, min(height, width) / (1.6 * size))) * rng.uniform(0.7, 1.0)
    pan = _uniform_vector(rng, motion.max_pan)
    zoom = rng.uniform(-motion.max_zoom, motion.max_zoom)
    rotation = math.radians(rng.uniform(-motion.max_rotation, motion.max_rotation))
    angle0 = rng.uniform(-math.pi, math.pi) if rng.random() < 0.1 else 0.0
    acceleration = _uniform_vector(rng, motion.max_acceleration) if motion.max_acceleration > 0 else np.zeros(2)
    margin = 0.5 * size * base_scale * math.sqrt(2)
    center0 = np.array(
        [rng.uniform(min(margin, width / 2), max(width - margin, width / 2)),
         rng.uniform(min(margin, height / 2), max(height - margin, height / 2))]
    )
    shake = (
        np.stack([_uniform_vector(rng, motion.max_shake) for _ in range(num_frames)])
        if motion.max_shake > 0 else np.zeros((num_frames, 2))
    )
    frames = np.empty((num_frames, size, size, image.shape[2]), dtype=np.float32)
    for t in range(num_frames):
        scale = base_scale * (1.0 + zoom) ** t  # source pixels per output pixel
        angle = angle0 + rotation * t
        center = center0 + (pan * t + 0.5 * acceleration * t * t + shake[t]) * base_scale
        cos, sin = scale * math.cos(angle), scale * math.sin(angle)
        half = (size - 1) / 2
        matrix = np.array(
            [[cos, -sin, center[0] - cos * half + sin * half], [sin, cos, center[1] - sin * half - cos * half]]
        )
        frames[t] = _warp(image, matrix, size, cv2.BORDER_REFLECT_101)
    return frames


def _add_layer(frames: np.ndarray, source: np.ndarray, motion: MotionRanges, rng: np.random.Generator) -> None:
    """Composite one soft-edged patch of `source`, moving at its own velocity, over `frames` in place."""
    num_frames, size = frames.shape[0], frames.shape[1]
    height, width = source.shape[:2]
    layer_h = int(min(height, rng.integers(size // 4, size // 2 + 1)))
    layer_w = int(min(width, rng.integers(size // 4, size // 2 + 1)))
    top, left = int(rng.integers(0, height - layer_h + 1)), int(rng.integers(0, width - layer_w + 1))
    patch = np.ascontiguousarray(source[top : top + layer_h, left : left + layer_w])
    mask = np.zeros((layer_h, layer_w), dtype=np.float32)
    if rng.random() < 0.5:  # an ellipse, else a rounded rectangle
        cv2.ellipse(mask, (layer_w // 2, layer_h // 2), (layer_w // 2 - 1, layer_h // 2 - 1), 0, 0, 360, 1.0, -1)
    else:
        mask[2:-2, 2:-2] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), 1.0)[..., None]
    velocity = _uniform_vector(rng, motion.max_layer_speed)
    spin = math.radians(rng.uniform(-2 * motion.max_rotation, 2 * motion.max_rotation))
    growth = rng.uniform(-motion.max_layer_zoom, motion.max_layer_zoom) if motion.max_layer_zoom > 0 else 0.0
    start = rng.uniform(0, size, 2) - np.array([layer_w, layer_h]) / 2
    for t in range(num_frames):
        angle, scale = spin * t, (1.0 + growth) ** t  # the layer drawn `scale` times its size
        cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
        # inverse map: output pixel → patch pixel, rotating about the patch centre
        cx, cy = start + velocity * t + np.array([layer_w, layer_h]) / 2
        pw, ph = layer_w / 2, layer_h / 2
        matrix = np.array([[cos, sin, pw - cos * cx - sin * cy], [-sin, cos, ph + sin * cx - cos * cy]])
        layer = _warp(patch, matrix, size, cv2.BORDER_CONSTANT)
        alpha = _warp(mask, matrix, size, cv2.BORDER_CONSTANT)
        frames[t] = frames[t] * (1.0 - alpha) + layer * alpha
