"""Video reading and writing with OpenCV (FFmpeg backend), and folders of frame images.

Inside gansuite a clip is `(T, H, W, C) float32 in [0, 1]`, RGB (C = 3) or gray (C = 1, BT.601
luma). Anything OpenCV's FFmpeg backend decodes can be read (mp4, avi, mkv, mov, webm,
animated GIF, ...), as well as a folder of frames (image files in natural order: 2.png before
10.png; names starting with a dot are skipped).

Frame rates: a file's rate is what its container reports. GIF frames carry their own delays;
FFmpeg reports the most common one as the rate, so variable delays are not represented, and a
GIF without delays reads as 12.5 fps. A folder has no rate. Where none is known (or the value
reported is not in (0, 1000]) `DEFAULT_FPS` is used; `fps=` overrides both.

Writing uses OpenCV's FFmpeg writer: .mp4 (MPEG-4 Part 2, 'mp4v'), .avi (Motion JPEG) or .mkv
(FFV1, lossless). The opencv-python wheels cannot write H.264. The writer needs even frame
sizes (it silently crops odd ones), so odd sizes are refused.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gansuite.core.atomic import atomic_path, check_output_path
from gansuite.errors import ConfigError, InputImageError, InputVideoError, NotAvailableError, OutputError
from gansuite.io.image import WRITE_FORMATS, _to_array, decode_array, read_image, rgb_to_gray, write_image

__all__ = [
    "DEFAULT_FPS",
    "FRAME_EXTENSIONS",
    "VIDEO_CODECS",
    "VideoClip",
    "VideoInfo",
    "iter_video_frames",
    "probe_video",
    "read_video",
    "require_frames",
    "write_frames",
    "write_video",
]

DEFAULT_FPS = 25.0
"""Frame rate of frame folders, and of files that report none."""

FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
"""Image files taken from a frame folder (case-insensitive)."""

VIDEO_CODECS: dict[str, str] = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "FFV1"}
"""Writable extensions and the FourCC each is written with."""

_MAX_FPS = 1000.0


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
        height: Frame height in pixels.
        width: Frame width in pixels.
        path: The file or folder.
    """

    fps: float
    frame_count: int | None
    height: int
    width: int
    path: Path


def read_video(
    path: str | os.PathLike[str], *, max_frames: int | None = None, grayscale: bool = False, fps: float | None = None
) -> VideoClip:
    """Reads a whole clip into memory (T x H x W x C x 4 bytes); see `iter_video_frames` for long ones.

    Args:
        path: A video file OpenCV's FFmpeg backend reads, or a folder of frame images.
        max_frames: Read at most this many frames from the start; None reads all.
        grayscale: Return gray frames (C = 1, BT.601 luma) instead of RGB.
        fps: Frame rate to report instead of the file's (or `DEFAULT_FPS` for folders).

    Returns:
        The clip; `frames` is `(T, H, W, C) float32 in [0, 1]`, T >= 1.

    Raises:
        InputVideoError: Missing, empty, unreadable, corrupt or not a video; no frames; frames
            of different sizes; an unreadable frame image in a folder.
        ConfigError: `max_frames` or `fps` is out of range.
    """
    source = Path(path)
    rate = probe_video(source, fps=fps).fps
    frames = list(iter_video_frames(source, max_frames=max_frames, grayscale=grayscale))
    return VideoClip(np.stack(frames), rate, source)


def iter_video_frames(
    path: str | os.PathLike[str], *, max_frames: int | None = None, grayscale: bool = False
) -> Iterator[np.ndarray]:
    """Streams the frames of a video file or frame folder, one at a time.

    The file is opened (and missing or unreadable files reported) when this is called; decode
    errors and an empty stream are reported while iterating.

    Args:
        path: A video file OpenCV's FFmpeg backend reads, or a folder of frame images.
        max_frames: Yield at most this many frames; None yields all.
        grayscale: Yield gray frames (C = 1, BT.601 luma) instead of RGB.

    Returns:
        An iterator of `(H, W, C) float32 in [0, 1]` frames, RGB (C = 3) or gray (C = 1).

    Raises:
        InputVideoError: As `read_video`.
        ConfigError: `max_frames` is out of range.
    """
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise ConfigError(f"max_frames must be a positive integer or None, got {max_frames!r}")
    source = Path(path)
    limit = math.inf if max_frames is None else max_frames
    if _is_folder(source):
        return _check_frames(_folder_frames(source, _frame_files(source), limit), source, grayscale)
    return _check_frames(_file_frames(source, _open_capture(source), limit), source, grayscale)


def probe_video(path: str | os.PathLike[str], *, fps: float | None = None) -> VideoInfo:
    """Reports a clip's frame rate, frame count and size, decoding at most one frame.

    Args:
        path: A video file OpenCV's FFmpeg backend reads, or a folder of frame images.
        fps: Frame rate to report instead of the file's (or `DEFAULT_FPS` for folders).

    Returns:
        The clip's `VideoInfo`.

    Raises:
        InputVideoError: As `read_video`.
        ConfigError: `fps` is out of range.
    """
    if fps is not None:
        fps = _check_fps(fps, str(path))
    source = Path(path)
    if _is_folder(source):
        files = _frame_files(source)
        first = next(_folder_frames(source, files[:1], 1))
        return VideoInfo(fps or DEFAULT_FPS, len(files), first.shape[0], first.shape[1], source)
    capture = _open_capture(source)
    try:
        reported = capture.get(cv2.CAP_PROP_FPS)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        height, width = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    finally:
        capture.release()
    if fps is None:
        fps = reported if math.isfinite(reported) and 0 < reported <= _MAX_FPS else DEFAULT_FPS
    return VideoInfo(float(fps), count if count > 0 else None, height, width, source)


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
    overwrite: bool = True,
) -> Path:
    """Writes frames to a video file atomically (temporary file beside it, then a rename).

    Args:
        path: Output file ending in .mp4 (MPEG-4 Part 2), .avi (Motion JPEG) or .mkv (FFV1,
            lossless); its folder must exist.
        frames: `(T, H, W, C)` array or an iterable of `(H, W, C)` / `(H, W)` frames, floating
            point in [0, 1], RGB (C = 3) or gray (C = 1, stored as RGB); H and W even.
        fps: Frames per second, > 0.
        overwrite: Whether an existing file may be replaced.

    Returns:
        `path` as a `Path`.

    Raises:
        ConfigError: Unknown extension, bad fps, or odd frame size.
        InputVideoError: No frames, a frame that is not a valid image, or frames of different sizes.
        NotAvailableError: OpenCV cannot open a writer for this format.
        OutputError: Folder missing, path is a folder, or the written file is incomplete.
        OutputExistsError: `path` exists and `overwrite` is False.
    """
    target = Path(path)
    extension = target.suffix.lower()
    if extension not in VIDEO_CODECS:
        raise ConfigError(
            f"{target}: cannot write video format {extension or '(none)'!r}; accepted: {', '.join(VIDEO_CODECS)}"
        )
    fps = _check_fps(fps, str(target))
    check_output_path(target, overwrite=overwrite)
    with atomic_path(target, overwrite=overwrite) as temp:
        writer: cv2.VideoWriter | None = None
        written = 0
        try:
            for index, frame in enumerate(frames):
                bgr = _frame_to_bgr(frame, f"{target} frame {index}")
                height, width = bgr.shape[:2]
                if writer is None:
                    if height % 2 or width % 2:
                        raise ConfigError(
                            f"{target}: frames are {width}x{height}; OpenCV's video writer needs an even width and "
                            "height (it would crop silently); crop or pad the frames by one pixel"
                        )
                    size = (width, height)
                    fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[extension])
                    writer = cv2.VideoWriter(str(temp), cv2.CAP_FFMPEG, fourcc, fps, size, True)
                    if not writer.isOpened():
                        raise NotAvailableError(
                            f"{target}: OpenCV's FFmpeg backend cannot write {extension} ({VIDEO_CODECS[extension]}) "
                            "here; try .avi or .mkv"
                        )
                elif (width, height) != size:
                    raise InputVideoError(
                        f"{target}: frame {index} is {width}x{height}, earlier frames {size[0]}x{size[1]}"
                    )
                writer.write(bgr)
                written += 1
        finally:
            if writer is not None:
                writer.release()
        if written == 0:
            raise InputVideoError(f"{target}: no frames to write; pass at least one (H, W, C) frame")
        _verify_written(temp, target, written)
    return target


def write_frames(
    directory: str | os.PathLike[str],
    frames: np.ndarray | Iterable[np.ndarray],
    *,
    ext: str = "png",
    bit_depth: int = 8,
    overwrite: bool = True,
) -> list[Path]:
    """Writes frames as numbered images `000000.<ext>`, `000001.<ext>`, ... (each file atomically).

    Args:
        directory: Output folder, created if missing.
        frames: `(T, H, W, C)` array or iterable of `(H, W, C)` frames, floating point in
            [0, 1], RGB (C = 3) or gray (C = 1, written as one channel).
        ext: Image format, one of `WRITE_FORMATS` without the dot.
        bit_depth: 8 or 16 (16 only for png and tif).
        overwrite: Whether existing files may be replaced.

    Returns:
        The written files, in order.

    Raises:
        ConfigError: Unknown `ext` or bad `bit_depth`.
        InputImageError: A frame is not a valid image.
        OutputError: `directory` is a file.
        OutputExistsError: A frame file exists and `overwrite` is False.
    """
    extension = "." + ext.lower().lstrip(".")
    if extension not in WRITE_FORMATS:
        raise ConfigError(f"write_frames: cannot write frame format {ext!r}; accepted: {', '.join(WRITE_FORMATS)}")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder; choose a folder for the frames")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, frame in enumerate(frames):
        shape = getattr(frame, "shape", ())
        gray = len(shape) == 2 or (len(shape) == 3 and shape[2] == 1)
        file = folder / f"{index:06d}{extension}"
        written.append(write_image(file, frame, bit_depth=bit_depth, grayscale=gray, overwrite=overwrite))
    return written


# ---------------------------------------------------------------------------- helpers


def _check_fps(fps: float, name: str) -> float:
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not math.isfinite(fps) or not 0 < fps <= _MAX_FPS:
        raise ConfigError(f"{name}: fps must be a number in (0, {_MAX_FPS:g}], got {fps!r}")
    return float(fps)


def _is_folder(source: Path) -> bool:
    if not source.exists():
        raise InputVideoError(f"{source}: video file or frame folder does not exist; check the path")
    return source.is_dir()


def _natural_key(file: Path) -> tuple[list[int | str], str]:
    parts: list[int | str] = [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", file.name)]
    return parts, file.name


def _frame_files(folder: Path) -> list[Path]:
    files = [
        file
        for file in folder.iterdir()
        if file.suffix.lower() in FRAME_EXTENSIONS and not file.name.startswith(".") and file.is_file()
    ]
    if not files:
        raise InputVideoError(
            f"{folder}: folder holds no frame images; accepted extensions: {', '.join(FRAME_EXTENSIONS)}"
        )
    return sorted(files, key=_natural_key)


def _folder_frames(folder: Path, files: list[Path], limit: float) -> Iterator[np.ndarray]:
    for index, file in enumerate(files):
        if index >= limit:
            return
        try:
            yield read_image(file).color
        except InputImageError as error:
            raise InputVideoError(f"frame {index} of folder {folder}: {error}") from None


def _open_capture(source: Path) -> cv2.VideoCapture:
    size = source.stat().st_size
    if size == 0:
        raise InputVideoError(f"{source}: video file is empty (0 bytes); re-export or re-download it")
    capture = cv2.VideoCapture(str(source), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise InputVideoError(
            f"{source}: OpenCV (FFmpeg) cannot open this as a video ({size} bytes): it is not a video, or it is "
            "corrupt or truncated; accepted: files FFmpeg decodes (mp4, avi, mkv, mov, webm, gif) or a folder of frames"
        )
    return capture


def _file_frames(source: Path, capture: cv2.VideoCapture, limit: float) -> Iterator[np.ndarray]:
    try:
        index = 0
        while index < limit:
            ok, frame = capture.read()
            if not ok:
                return
            try:
                yield decode_array(frame).color
            except InputImageError as error:
                raise InputVideoError(f"{source}: frame {index} cannot be used: {error}") from None
            index += 1
    finally:
        capture.release()


def _check_frames(frames: Iterator[np.ndarray], source: Path, grayscale: bool) -> Iterator[np.ndarray]:
    """Converts RGB frames to the requested channels; reports an empty stream and size changes."""
    first_shape = None
    for index, color in enumerate(frames):
        if first_shape is None:
            first_shape = color.shape
        elif color.shape != first_shape:
            raise InputVideoError(
                f"{source}: frame {index} is {color.shape[1]}x{color.shape[0]}, earlier frames "
                f"{first_shape[1]}x{first_shape[0]}; all frames of a clip must have one size"
            )
        yield rgb_to_gray(color)[:, :, None] if grayscale else color
    if first_shape is None:
        raise InputVideoError(f"{source}: no frames could be decoded; the video is empty or corrupt")


def _frame_to_bgr(frame: np.ndarray, name: str) -> np.ndarray:
    try:
        array = _to_array(frame, None, 8, False, name)
    except InputImageError as error:
        raise InputVideoError(str(error)) from None
    return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR) if array.ndim == 2 else array


def _verify_written(temp: Path, target: Path, written: int) -> None:
    """Reopens the finished file: OpenCV's writer reports failures only as log warnings."""
    capture = cv2.VideoCapture(str(temp), cv2.CAP_FFMPEG)
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()
    if count != written:
        raise OutputError(
            f"{target}: the video writer produced {count} readable frames of {written}; nothing was written"
        )
