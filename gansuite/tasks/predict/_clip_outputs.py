"""Output checks of `predict-frames`, made before any frame is predicted: frame folders and memory.

- `--frames-dir` never names the input frame folder (its frames would be overwritten), holds no
  frames of an earlier run unless `--overwrite` is given, and after a run holds exactly this
  run's frames (numbered frames left by a longer earlier run are removed).
- `--future` is bounded by memory: the predicted frames (and the side-by-side video frames) are
  held until the video is written, so their size is checked against the memory available.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from gansuite.core.atomic import check_not_input, output_folder_problem
from gansuite.errors import ConfigError, OutputError, OutputExistsError, count_of
from gansuite.io.video import write_frames

__all__ = ["check_frames_dir", "check_future_memory", "write_frame_folder"]

_FRAME_NAME = re.compile(r"^(\d{6})\.png$")
_FALLBACK_MEMORY = 4 * 2**30


def _numbered_frames(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if _FRAME_NAME.match(p.name) and p.is_file())


def check_frames_dir(clip: Path, frames_dir: Path | None, overwrite: bool) -> None:
    """Refuses a `--frames-dir` that is the input folder or inside it, a file, or holds an earlier run's frames.

    Raises:
        ConfigError: `frames_dir` is the input clip's frame folder or lies inside it.
        OutputError: `frames_dir` exists and is not a folder, or cannot be written (made).
        OutputExistsError: it holds numbered frames and `overwrite` is False.
    """
    if frames_dir is None:
        return
    if frames_dir.exists() and not frames_dir.is_dir():
        raise OutputError(f"--frames-dir {frames_dir} exists and is not a folder")
    check_not_input(frames_dir, clip, option="--frames-dir")
    problem = output_folder_problem(frames_dir, option="--frames-dir")
    if problem is not None:
        raise OutputError(f"--frames-dir {frames_dir}: {problem}")
    if frames_dir.is_dir() and not overwrite:
        existing = _numbered_frames(frames_dir)
        if existing:
            raise OutputExistsError(
                f"--frames-dir {frames_dir} already holds {count_of(len(existing), 'frame')} "
                f"({existing[0].name}{' ...' if len(existing) > 1 else ''}) of an "
                "earlier run: pass --overwrite to replace them, or choose an empty folder"
            )


def write_frame_folder(folder: Path, frames: np.ndarray) -> list[Path]:
    """Writes `000000.png ...` (each atomically) and removes numbered frames beyond them (stale ones)."""
    written = write_frames(folder, frames, overwrite=True)
    keep = {path.name for path in written}
    for stale in _numbered_frames(folder):
        if stale.name not in keep:
            stale.unlink()
    return written


def _available_memory() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return _FALLBACK_MEMORY


def check_future_memory(future: int, height: int, width: int, channels: int, side_by_side: bool) -> None:
    """Refuses a `--future` whose frames would not fit in half the available memory.

    Raises:
        ConfigError: naming `--future`, the memory it needs and the largest value that fits.
    """
    per_frame = height * width * channels * 4 * (1 + (3 if side_by_side else 1))  # predicted + video frame
    budget = _available_memory() // 2
    if future * per_frame > budget:
        largest = max(1, budget // per_frame)
        raise ConfigError(
            f"--future {future}: the predicted {width}x{height} frames would need "
            f"{future * per_frame / 2**30:.1f} GiB, more than half of the {2 * budget / 2**30:.1f} GiB of memory "
            f"available; use --future {largest} or less"
        )
