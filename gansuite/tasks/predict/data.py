"""Training windows of k context + n future frames from video files and frame folders.

Clips are what OpenCV reads (mp4, avi, mkv, animated GIF, ...) or folders of frame images, such
as UCSD Ped2's ``training/NN/*.jpg`` (Mahadevan et al. 2010). Each clip is decoded once and
kept in memory as uint8 at the training resolution (Ped2 training, 2550 gray frames at 256x256,
is 167 MB), so an item costs a slice, a crop and a flip. Crops and flips are drawn from the
item's `SeededIndex` (the core's `SeededSampler`), so what a step sees depends only on the run's
seed and step, as in the future-frame prediction setup of Mathieu et al. 2016 and Liu et al. 2018
(4 context frames, predict the next one).

Items are clips `(T, C, h, w) float32 in [0, 1]`, RGB (C = 3) or gray (C = 1, BT.601 luma),
with T = context + future frames.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from gansuite.core.sampling import SeededIndex, sample_rng
from gansuite.errors import ConfigError
from gansuite.io.folders import is_frame_file, natural_key
from gansuite.io.video import iter_video_frames

__all__ = ["VIDEO_SUFFIXES", "ClipWindows", "find_clips", "load_clip", "resize_frame", "target_shape"]

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".gif", ".m4v", ".mpg", ".mpeg", ".wmv")
"""File extensions taken as clips when a folder of clips is given (a file given directly is always tried)."""


def _holds_frames(folder: Path) -> bool:
    return any(is_frame_file(p) for p in folder.iterdir())


def find_clips(sources: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Expand sources into clips: video files, frame folders, or folders of either (one level down).

    Args:
        sources: video files; folders of frame images (one clip each); folders whose sub-folders
            are frame folders (``ped2/training``) or which hold video files.

    Returns:
        The clips in the given order, each folder's clips in natural order (2 before 10).

    Raises:
        ConfigError: a source does not exist or a folder holds no clip.
    """
    clips: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            clips.append(path)
        elif not path.is_dir():
            raise ConfigError(f"clip source {path} does not exist; give video files or folders of frames or clips")
        elif _holds_frames(path):
            clips.append(path)
        else:
            found = [
                child
                for child in sorted(path.iterdir(), key=natural_key)
                if not child.name.startswith(".")
                and (
                    (child.is_dir() and _holds_frames(child))
                    or (child.is_file() and child.suffix.lower() in VIDEO_SUFFIXES)
                )
            ]
            if not found:
                raise ConfigError(
                    f"{path} holds no clip: expected frame images, sub-folders of frames, or video files "
                    f"({', '.join(VIDEO_SUFFIXES)})"
                )
            clips += found
    return clips


def target_shape(
    height: int, width: int, *, frame_size: tuple[int, int] | None = None, max_short_side: int | None = None
) -> tuple[int, int]:
    """The (height, width) frames are resized to.

    Args:
        height, width: the source frame size.
        frame_size: an exact (height, width), e.g. (256, 256) as Liu et al. resize Ped2; or None.
        max_short_side: downscale (never upscale) so the shorter side is at most this; or None.

    Returns:
        The size; the source size when neither option applies.

    Raises:
        ConfigError: both options given, or non-positive sizes.
    """
    if frame_size is not None and max_short_side is not None:
        raise ConfigError("give frame_size or max_short_side, not both")
    if frame_size is not None:
        if len(frame_size) != 2 or min(frame_size) < 1:
            raise ConfigError(f"frame_size must be a positive (height, width), got {frame_size}")
        return int(frame_size[0]), int(frame_size[1])
    if max_short_side is not None:
        if max_short_side < 1:
            raise ConfigError(f"max_short_side must be positive, got {max_short_side}")
        short = min(height, width)
        if short > max_short_side:
            factor = max_short_side / short
            return max(1, round(height * factor)), max(1, round(width * factor))
    return height, width


def resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize one (H, W, C) frame to `size` = (height, width), keeping dtype and channels.

    Pure downscaling uses area averaging (no aliasing); anything else bilinear interpolation,
    as ``cv2.resize`` does by default in Liu et al.'s data loader.
    """
    height, width = frame.shape[:2]
    if (height, width) == tuple(size):
        return frame
    shrink = size[0] <= height and size[1] <= width
    out = cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return out.reshape(size[0], size[1], frame.shape[2])


def load_clip(
    path: str | os.PathLike[str],
    *,
    grayscale: bool = False,
    frame_size: tuple[int, int] | None = None,
    max_short_side: int | None = None,
    max_frames: int | None = None,
) -> np.ndarray:
    """Decode a clip frame by frame into uint8 at the training resolution.

    Args:
        path: a video file or a folder of frames.
        grayscale: keep the BT.601 luma only (C = 1) instead of RGB (C = 3).
        frame_size, max_short_side: resizing, see `target_shape`.
        max_frames: read at most this many frames (>= 1), or None for all.

    Returns:
        (T, H, W, C) uint8 in [0, 255], RGB or gray, at the resized (H, W).

    Raises:
        InputVideoError: the clip is missing, unreadable or empty.
        ConfigError: bad resize options or `max_frames`.
    """
    frames = []
    size: tuple[int, int] | None = None
    for frame in iter_video_frames(path, max_frames=max_frames, grayscale=grayscale):
        if size is None:
            size = target_shape(*frame.shape[:2], frame_size=frame_size, max_short_side=max_short_side)
        as_uint8 = np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)
        frames.append(resize_frame(as_uint8, size))
    return np.stack(frames)


class ClipWindows(Dataset):
    """Every window of `context_frames + future_frames` consecutive frames of every clip.

    Args:
        sources: video files, frame folders or folders of clips (see `find_clips`).
        context_frames: frames the predictor sees (k).
        future_frames: frames after them to predict (n; the rollout length in training).
        grayscale: gray (C = 1) instead of RGB (C = 3).
        frame_size: resize every frame to this exact (height, width) (Ped2: (256, 256)).
        max_short_side: downscale so the short side is at most this (natural clips).
        crop_size: random square crops of this side (None: whole frames).
        flip: random horizontal flips.
        window_stride: frames between the starts of consecutive windows.
        max_frames_per_clip: read at most this many frames of each clip.

    Items: (k + n, C, h, w) float32 in [0, 1]; the crop and flip come from the key's seed
    (a `SeededIndex`, or a plain index used as the seed).

    Raises:
        ConfigError: bad sizes, or no clip long (and large) enough for one window.
        InputVideoError: a clip cannot be read.
    """

    seeded_keys = True  # __getitem__ takes a SeededIndex (see gansuite.core.sampling)

    def __init__(
        self,
        sources: Sequence[str | os.PathLike[str]],
        *,
        context_frames: int,
        future_frames: int = 1,
        grayscale: bool = False,
        frame_size: tuple[int, int] | None = None,
        max_short_side: int | None = None,
        crop_size: int | None = None,
        flip: bool = True,
        window_stride: int = 1,
        max_frames_per_clip: int | None = None,
    ) -> None:
        if context_frames < 1 or future_frames < 1 or window_stride < 1:
            raise ConfigError(
                f"context_frames, future_frames and window_stride must be >= 1, got "
                f"{context_frames}, {future_frames}, {window_stride}"
            )
        if crop_size is not None and crop_size < 1:
            raise ConfigError(f"crop_size must be positive, got {crop_size}")
        self.context_frames, self.future_frames = context_frames, future_frames
        self.window_length = context_frames + future_frames
        self.crop_size, self.flip = crop_size, flip
        self.paths: list[Path] = []
        self.clips: list[np.ndarray] = []
        skipped: list[str] = []
        for path in find_clips(sources):
            clip = load_clip(
                path, grayscale=grayscale, frame_size=frame_size, max_short_side=max_short_side,
                max_frames=max_frames_per_clip,
            )
            if clip.shape[0] < self.window_length or (crop_size is not None and min(clip.shape[1:3]) < crop_size):
                skipped.append(f"{path.name} ({clip.shape[0]} frames of {clip.shape[2]}x{clip.shape[1]})")
                continue
            self.paths.append(path)
            self.clips.append(clip)
        if not self.clips:
            crop = f" and at least {crop_size}x{crop_size} pixels" if crop_size else ""
            where = ", ".join(str(source) for source in sources)
            raise ConfigError(
                f"no clip in {where} has {self.window_length} frames ({context_frames} context + {future_frames} "
                f"future){crop}; skipped: {', '.join(skipped) or 'none found'}; give longer clips"
                f"{' with larger frames' if crop_size else ''}"
            )
        self.skipped = skipped
        starts = [
            (clip_index, start)
            for clip_index, clip in enumerate(self.clips)
            for start in range(0, clip.shape[0] - self.window_length + 1, window_stride)
        ]
        self.windows = np.asarray(starts, dtype=np.int64)  # (num_windows, 2): clip index, first frame

    @property
    def channels(self) -> int:
        """Image channels C: 1 (gray) or 3 (RGB)."""
        return int(self.clips[0].shape[3])

    def __len__(self) -> int:
        return int(self.windows.shape[0])

    def __getitem__(self, key: SeededIndex | int) -> torch.Tensor:
        index, rng = sample_rng(key)
        clip_index, start = self.windows[index]
        frames = self.clips[clip_index][start : start + self.window_length]  # (T, H, W, C) uint8
        if self.crop_size is not None:
            p = self.crop_size
            top = int(rng.integers(0, frames.shape[1] - p + 1))
            left = int(rng.integers(0, frames.shape[2] - p + 1))
            frames = frames[:, top : top + p, left : left + p]
        if self.flip and rng.random() < 0.5:
            frames = frames[:, :, ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2)))
        return tensor.float().div_(255.0)
