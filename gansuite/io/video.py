"""Video reading and writing with PyAV (FFmpeg's libraries), and folders of frame images.

Inside gansuite a clip is `(T, H, W, C) float32 in [0, 1]`, RGB (C = 3) or gray (C = 1, BT.601
luma). Anything FFmpeg decodes can be read (mp4, mkv, mov, avi, webm, animated GIF, ...), as
well as a folder of frames (image files in natural order: 2.png before 10.png; names starting
with a dot are skipped). Frames are decoded with their own colour matrix and range, from 16
bits for sources of more than 8, and turned upright when the file carries a rotation (phone
clips). `iter_timed_frames` also gives each frame's timestamp, so a writer can keep them.

Frame rates: a file's rate is its video stream's average rate; the real timing is in the
timestamps (GIF delays and variable frame rates included). A folder has no rate. Where none is
known (or the value is not in (0, 1000]) `DEFAULT_FPS` is used; `fps=` overrides both.

A file whose container promises more frames than decode is read up to where decoding stops,
and one warning line says how many frames were read of how many (`on_warning`, by default a
`VideoWarning`).

Writing (`write_video`, `VideoWriter`) streams frames into H.264 yuv420p (.mp4, .mov, .m4v),
FFV1 lossless (.mkv), Motion JPEG (.avi) or VP9 (.webm) by default, any `codec`/`crf`/
`pix_fmt` on request, atomically; see `gansuite.io._av_write`.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from gansuite.errors import ConfigError, InputVideoError
from gansuite.io._av_read import DecodeStats, TimedFrame, decode_frames, stream_info
from gansuite.io._av_write import CODECS, CONTAINER_CODECS, MAX_FPS, VideoWriter, check_codec, check_fps
from gansuite.io._paths import as_path
from gansuite.io.folders import FRAME_EXTENSIONS, folder_frames, frame_files, write_frames
from gansuite.io.image import rgb_to_gray

__all__ = [
    "CODECS",
    "DEFAULT_FPS",
    "FRAME_EXTENSIONS",
    "VIDEO_CODECS",
    "VIDEO_EXTENSIONS",
    "TimedFrame",
    "VideoClip",
    "VideoInfo",
    "VideoWarning",
    "VideoWriter",
    "check_codec",
    "iter_timed_frames",
    "iter_video_frames",
    "probe_video",
    "read_video",
    "require_frames",
    "write_frames",
    "write_video",
]

DEFAULT_FPS = 25.0
"""Frame rate of frame folders, and of files that report none."""

VIDEO_CODECS: dict[str, str] = CONTAINER_CODECS
"""Writable extensions and the codec each is written with when none is given."""

VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".flv", ".wmv",
    ".3gp", ".ogv", ".vob", ".y4m",
)
"""Extensions taken as video files by `gansuite upscale` (anything FFmpeg reads can be opened directly)."""


Warn = Callable[[str], None]
_VIDEO_PATH_HINT = "give the path of a video file or of a folder of frame images"


class VideoWarning(UserWarning):
    """A clip was read, but not all of it (fewer frames decoded than the container promises)."""


def _warn(message: str) -> None:
    warnings.warn(message, VideoWarning, stacklevel=3)


@dataclass(frozen=True, eq=False)
class VideoClip:
    """A decoded clip.

    Attributes:
        frames: `(T, H, W, C) float32 in [0, 1]`, RGB (C = 3) or gray (C = 1).
        fps: Frames per second.
        path: The file or folder it was read from, or None.
    """

    frames: np.ndarray
    fps: float
    path: Path | None = None

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        """Frame height H in pixels."""
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        """Frame width W in pixels."""
        return int(self.frames.shape[2])


@dataclass(frozen=True)
class VideoInfo:
    """What a video file or frame folder holds, without decoding it all.

    Attributes:
        fps: Frames per second, as `read_video` would report it.
        frame_count: Frames the container reports (an estimate for some formats), or the number
            of files in a frame folder; None when unknown.
        height: Displayed (upright) frame height in pixels.
        width: Displayed (upright) frame width in pixels.
        path: The file or folder.
        time_base: Seconds per timestamp unit of the video stream (1 / fps for folders).
        rate: `fps` as an exact fraction (24000/1001 for 23.976 fps).
        duration: Seconds, or None when unknown.
        rotation: Counter-clockwise degrees the file asks players to rotate by (applied on reading).
        color: (range, matrix, primaries, transfer) tags as FFmpeg numbers, or None (folders).
        bit_depth: 8, or 16 for sources of more than 8 bits per component.
        other_streams: (index, "audio"/"subtitle", codec) of the file's other streams.
    """

    fps: float
    frame_count: int | None
    height: int
    width: int
    path: Path
    time_base: Fraction = Fraction(1, 25)
    rate: Fraction = Fraction(25)
    duration: float | None = None
    rotation: int = 0
    color: tuple[int, int, int, int] | None = None
    bit_depth: int = 8
    other_streams: tuple[tuple[int, str, str], ...] = ()


def read_video(
    path: str | os.PathLike[str],
    *,
    max_frames: int | None = None,
    grayscale: bool = False,
    fps: float | None = None,
    on_warning: Warn | None = None,
) -> VideoClip:
    """Reads a whole clip into memory (T x H x W x C x 4 bytes); see `iter_video_frames` for long ones.

    Args:
        path: A video file FFmpeg decodes, or a folder of frame images.
        max_frames: Read at most this many frames from the start; None reads all.
        grayscale: Return gray frames (C = 1, BT.601 luma) instead of RGB.
        fps: Frame rate to report instead of the file's (or `DEFAULT_FPS` for folders).
        on_warning: Called with one line when fewer frames decode than the file promises;
            None issues a `VideoWarning`.

    Returns:
        The clip; `frames` is `(T, H, W, C) float32 in [0, 1]`, T >= 1.

    Raises:
        InputVideoError: Missing, empty, unreadable, corrupt or not a video; no frames; frames
            of different sizes; an unreadable frame image in a folder.
        ConfigError: `max_frames` or `fps` is out of range.
    """
    source = as_path(path, "read_video: path", InputVideoError, hint=_VIDEO_PATH_HINT)
    rate = probe_video(source, fps=fps).fps
    frames = list(iter_video_frames(source, max_frames=max_frames, grayscale=grayscale, on_warning=on_warning))
    return VideoClip(np.stack(frames), rate, source)


def iter_video_frames(
    path: str | os.PathLike[str],
    *,
    max_frames: int | None = None,
    grayscale: bool = False,
    on_warning: Warn | None = None,
) -> Iterator[np.ndarray]:
    """Streams the frames of a video file or frame folder, one at a time.

    The file is opened (and missing or unreadable files reported) when this is called; decode
    errors and an empty stream are reported while iterating.

    Args:
        path: A video file FFmpeg decodes, or a folder of frame images.
        max_frames: Yield at most this many frames; None yields all.
        grayscale: Yield gray frames (C = 1, BT.601 luma) instead of RGB.
        on_warning: As in `read_video`.

    Returns:
        An iterator of `(H, W, C) float32 in [0, 1]` frames, RGB (C = 3) or gray (C = 1).

    Raises:
        InputVideoError: As `read_video`.
        ConfigError: `max_frames` is out of range.
    """
    timed = iter_timed_frames(path, max_frames=max_frames, on_warning=on_warning)
    return (rgb_to_gray(frame.image)[:, :, None] if grayscale else frame.image for frame in timed)


def iter_timed_frames(
    path: str | os.PathLike[str],
    *,
    max_frames: int | None = None,
    fps: float | None = None,
    on_warning: Warn | None = None,
) -> Iterator[TimedFrame]:
    """Streams a clip's frames with their timestamps: `TimedFrame(image, index, pts, duration, time_base)`.

    Files give their own presentation timestamps (in the stream's time base); a folder's frames
    are spaced at `fps` (default `DEFAULT_FPS`) with time base 1 / fps. Memory holds one frame.

    Args:
        path: A video file FFmpeg decodes, or a folder of frame images.
        max_frames: Yield at most this many frames; None yields all.
        fps: For folders, the frame rate; ignored for files.
        on_warning: As in `read_video`.

    Returns:
        An iterator of `TimedFrame`s, images `(H, W, 3) float32 in [0, 1]` RGB, upright.

    Raises:
        InputVideoError: As `read_video`.
        ConfigError: `max_frames` is out of range, or `fps` is (frame folders only).
    """
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise ConfigError(f"max_frames must be a positive integer or None, got {max_frames!r}")
    source = as_path(path, "iter_timed_frames: path", InputVideoError, hint=_VIDEO_PATH_HINT)
    limit = math.inf if max_frames is None else max_frames
    if _is_folder(source):
        rate = _rate_fraction(check_fps(fps, str(source)) if fps is not None else DEFAULT_FPS)
        files = frame_files(source)
        folder = folder_frames(source, files, limit)
        frames: Iterator[TimedFrame] = (
            TimedFrame(image, index, index, 1, 1 / rate) for index, image in enumerate(folder)
        )
        return _check_frames(frames, source, None, on_warning, files=files)
    stats = DecodeStats()
    return _check_frames(decode_frames(source, stats, limit=limit), source, stats if max_frames is None else None,
                         on_warning)


def probe_video(path: str | os.PathLike[str], *, fps: float | None = None) -> VideoInfo:
    """Reports a clip's frame rate, frame count, size, timing and tags, decoding at most one frame.

    Args:
        path: A video file FFmpeg decodes, or a folder of frame images.
        fps: Frame rate to report instead of the file's (or `DEFAULT_FPS` for folders).

    Returns:
        The clip's `VideoInfo`.

    Raises:
        InputVideoError: As `read_video`.
        ConfigError: `fps` is out of range.
    """
    if fps is not None:
        fps = check_fps(fps, str(path))
    source = as_path(path, "probe_video: path", InputVideoError, hint=_VIDEO_PATH_HINT)
    if _is_folder(source):
        files = frame_files(source)
        first = next(folder_frames(source, files[:1], 1))
        rate = _rate_fraction(fps or DEFAULT_FPS)
        return VideoInfo(
            float(rate), len(files), first.shape[0], first.shape[1], source, time_base=1 / rate, rate=rate,
            duration=len(files) / float(rate),
        )
    info = stream_info(source)
    rate = info.average_rate
    if fps is not None:
        rate = _rate_fraction(fps)
    elif rate is None or not 0 < float(rate) <= MAX_FPS:
        rate = _rate_fraction(DEFAULT_FPS)
    return VideoInfo(
        float(rate), info.frame_count, info.height, info.width, source, time_base=info.time_base, rate=rate,
        duration=info.duration, rotation=info.rotation, color=info.color, bit_depth=info.bit_depth,
        other_streams=info.other_streams,
    )


def require_frames(clip: VideoClip, count: int, *, why: str = "") -> VideoClip:
    """Checks that a clip is long enough, e.g. for `context_frames + 1` in next-frame prediction.

    Args:
        clip: The clip.
        count: Frames needed.
        why: What they are needed for, shown in the message (e.g. "4 context + 1 target").

    Returns:
        `clip`, unchanged.

    Raises:
        InputVideoError: The clip has fewer than `count` frames.
    """
    if clip.num_frames < count:
        name = str(clip.path) if clip.path is not None else "clip"
        reason = f" ({why})" if why else ""
        raise InputVideoError(
            f"{name}: clip has only {clip.num_frames} frames, need at least {count}{reason}; "
            "use a longer clip or fewer context frames"
        )
    return clip


def write_video(
    path: str | os.PathLike[str],
    frames: np.ndarray | Iterable[np.ndarray],
    fps: float,
    *,
    codec: str | None = None,
    crf: int | None = None,
    pix_fmt: str | None = None,
    copy_from: str | os.PathLike[str] | None = None,
    overwrite: bool = True,
) -> Path:
    """Writes frames to a video file, streaming and atomically (temporary file beside it, then a rename).

    Args:
        path: Output file: .mp4/.mov/.m4v (H.264 yuv420p), .mkv (FFV1, lossless), .avi (Motion
            JPEG) or .webm (VP9) unless `codec` says otherwise; its folder must exist.
        frames: `(T, H, W, C)` array or an iterable of `(H, W, C)` / `(H, W)` frames, floating
            point in [0, 1], RGB (C = 3) or gray (C = 1, stored as RGB). Odd sizes are kept
            (in 4:4:4 where the default format is 4:2:0).
        fps: Frames per second, in (0, 1000] (23.976, 29.97, ... are written as 24000/1001,
            30000/1001, ...).
        codec: One of `CODECS` (h264, h265, vp9, av1, ffv1, mjpeg, prores, mpeg4), or None.
        crf: Constant rate factor for h264/h265/vp9/av1 (lower is better), or None for the default.
        pix_fmt: Encoder pixel format (e.g. yuv420p10le for 10-bit), or None for the default.
        copy_from: A video file whose audio and subtitle streams are copied in, or None.
        overwrite: Whether an existing file may be replaced.

    Returns:
        `path` as a `Path`.

    Raises:
        ConfigError: Unknown extension or codec options, bad fps, or an odd frame size with an
            explicit 4:2:0 / 4:2:2 `pix_fmt`.
        InputVideoError: No frames, a frame that is not a valid image, or frames of different sizes.
        OutputError: Folder missing, path is a folder, or FFmpeg failed to write.
        OutputExistsError: `path` exists and `overwrite` is False.
    """
    fps = check_fps(fps, str(path))
    with VideoWriter(path, rate=_rate_fraction(fps), codec=codec, crf=crf, pix_fmt=pix_fmt, copy_from=copy_from,
                     overwrite=overwrite) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)


# ---------------------------------------------------------------------------- helpers


def _is_folder(source: Path) -> bool:
    if not source.exists():
        raise InputVideoError(f"{source}: video file or frame folder does not exist; check the path")
    return source.is_dir()


def _rate_fraction(fps: float) -> Fraction:
    from gansuite.io._av_write import _rate_fraction as exact

    return exact(float(fps))


def _check_frames(
    frames: Iterator[TimedFrame], source: Path, stats: DecodeStats | None, on_warning: Warn | None,
    files: list[Path] | None = None,
) -> Iterator[TimedFrame]:
    """Reports an empty stream, size changes and (at the end) frames the container promised but did not give.

    `files`: a frame folder's images, so a frame of another size is named by its file.
    """
    first_shape = None
    for frame in frames:
        shape = frame.image.shape
        if first_shape is None:
            first_shape = shape
        elif shape != first_shape:
            size = f"{first_shape[1]}x{first_shape[0]}"
            which, fix = (f"frame {frame.index}", "re-encode the video at one size") if files is None else (
                f"frame {frame.index} ({files[frame.index].name})", f"resize it to {size} or move it out of the folder")
            raise InputVideoError(
                f"{source}: {which} is {shape[1]}x{shape[0]}, earlier frames {size}; all frames of a clip must have "
                f"one size: {fix}"
            )
        yield frame
    if first_shape is None:
        why = f" ({stats.first_error})" if stats is not None and stats.first_error else ""
        raise InputVideoError(f"{source}: no frames could be decoded; the video is empty or corrupt{why}")
    message = stats.shortfall_message(source) if stats is not None else None
    if message:
        (on_warning or _warn)(message)
