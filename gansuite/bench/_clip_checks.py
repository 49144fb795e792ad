"""Checks a clip benchmark makes before any model runs: does every clip hold enough frames?

A frame folder's frames are counted from its file names; a video file's only by decoding, so at
most the frames needed are decoded (a container's reported count can be wrong).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gansuite.errors import ConfigError, count_of
from gansuite.io.video import iter_video_frames, probe_video

__all__ = ["check_clip_lengths", "frames_up_to"]


def frames_up_to(clip: Path, count: int) -> int:
    """The number of frames `clip` holds, counted up to `count` (a folder's are counted exactly)."""
    if clip.is_dir():
        frames = probe_video(clip).frame_count
        if frames is not None:
            return min(int(frames), count)
    return sum(1 for _ in iter_video_frames(clip, max_frames=count))


def check_clip_lengths(clips: Sequence[Path], needed: int, flag: str, why: str, remedy: str) -> None:
    """Refuse the first clip with fewer than `needed` frames, before anything is scored.

    Args:
        clips: the clips (video files or frame folders).
        needed: the frames each clip must hold.
        flag: the option that named the clips, for the message (``--clips``).
        why: what needs them, e.g. "a window of 4 context + 4 future frames".
        remedy: what to do, e.g. "lower --future or drop the clip".

    Raises:
        ConfigError: a clip is too short; the message names it and its frame count.
        InputVideoError: a clip cannot be read.
    """
    for clip in clips:
        frames = frames_up_to(clip, needed)
        if frames < needed:
            raise ConfigError(f"{flag} {clip}: {count_of(frames, 'frame')}, but {why} needs {needed}; {remedy}")
