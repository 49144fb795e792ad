"""Decoding video files with PyAV (FFmpeg's libraries): frames with their timestamps, upright.

Every frame comes out as `(H, W, 3) float32 in [0, 1]`, RGB, converted by swscale with the
frame's own colour matrix and range (BT.601 where the file says nothing, as FFmpeg does), from
8 bits (rgb24) or, for sources of more than 8 bits, 16 bits (rgb48). A display matrix (the
rotation phones record) is applied to the pixels, so frames are upright as players show them.

Timestamps are the file's presentation timestamps in the video stream's time base, kept as they
are (variable frame rates stay variable). Packets that fail to decode are skipped and counted;
`DecodeStats` tells the caller how many frames decoded of how many the container promised.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from gansuite.errors import InputVideoError
from gansuite.io._av_codecs import FFMPEG_ERRORS, one_line

__all__ = ["DecodeStats", "StreamInfo", "TimedFrame", "decode_frames", "open_input", "stream_info"]

_FFMPEG_ERRORS = (*FFMPEG_ERRORS, UnicodeDecodeError)  # metadata in a broken encoding, too


@dataclass(frozen=True)
class TimedFrame:
    """One decoded frame and when it is shown.

    Attributes:
        image: `(H, W, 3) float32 in [0, 1]`, RGB, upright.
        index: position in the decoded sequence, from 0.
        pts: presentation timestamp in `time_base` units, or None when the file has none.
        duration: how long it is shown, in `time_base` units, or None when unknown.
        time_base: seconds per timestamp unit, or None.
    """

    image: np.ndarray
    index: int
    pts: int | None = None
    duration: int | None = None
    time_base: Fraction | None = None


@dataclass(frozen=True)
class StreamInfo:
    """The video stream of a file, as the container and its first frame describe it.

    Attributes:
        time_base: seconds per timestamp unit of the stream.
        average_rate: mean frames per second, or None.
        frame_count: frames the container promises; for containers that keep no count (Matroska),
            duration x average rate; None when neither is known.
        width: displayed (upright) frame width in pixels.
        height: displayed (upright) frame height in pixels.
        rotation: counter-clockwise degrees the display matrix asks for (0, 90, 180, 270).
        duration: the file's duration in seconds, or None.
        codec: the video codec's name (e.g. "h264").
        pix_fmt: the decoded pixel format (e.g. "yuv420p").
        bit_depth: 8, or 16 for sources of more than 8 bits per component.
        color: colour tags of the first frame: (range, space, primaries, transfer) as FFmpeg numbers.
        other_streams: (index, type, codec) of each audio and subtitle stream.
    """

    time_base: Fraction
    average_rate: Fraction | None
    frame_count: int | None
    width: int
    height: int
    rotation: int
    duration: float | None
    codec: str
    pix_fmt: str
    bit_depth: int
    color: tuple[int, int, int, int]
    other_streams: tuple[tuple[int, str, str], ...] = ()


@dataclass
class DecodeStats:
    """Filled in while `decode_frames` runs: frames decoded, packets that failed, frames promised."""

    decoded: int = 0
    failed_packets: int = 0
    promised: int | None = None
    first_error: str | None = None
    notes: list[str] = field(default_factory=list)

    def shortfall_message(self, source: Path) -> str | None:
        """One line when fewer frames decoded than the container promised, else None."""
        if self.promised is None or self.decoded >= self.promised:
            return None
        why = f" ({self.failed_packets} packets failed to decode: {self.first_error})" if self.failed_packets else ""
        return (
            f"{source}: read {self.decoded} of the {self.promised} frames the container promises{why}; "
            "the file is truncated or damaged, the rest is not used"
        )


def open_input(source: Path) -> av.container.InputContainer:
    """Opens a video file for decoding; every failure is an `InputVideoError` naming the file."""
    try:
        size = source.stat().st_size
    except OSError as error:
        raise InputVideoError(f"{source}: cannot read the video file ({one_line(error)})") from None
    if size == 0:
        raise InputVideoError(f"{source}: video file is empty (0 bytes); re-export or re-download it")
    try:
        container = av.open(str(source), "r")
    except _FFMPEG_ERRORS as error:
        raise InputVideoError(
            f"{source}: FFmpeg cannot open this as a video ({size} bytes; {one_line(error)}): it is not a video, "
            "or it is corrupt or truncated; accepted: files FFmpeg decodes (mp4, mkv, mov, avi, webm, gif) "
            "or a folder of frames"
        ) from None
    if not container.streams.video:
        container.close()
        raise InputVideoError(f"{source}: the file has no video stream (an audio-only or data file?)")
    return container


def _bit_depth(frame: av.VideoFrame) -> int:
    components = frame.format.components
    return 16 if components and max(c.bits for c in components) > 8 else 8


def _rotation(frame: av.VideoFrame) -> int:
    try:
        angle = frame.rotation
    except (AttributeError, ValueError):
        return 0
    return round((angle or 0) / 90.0) % 4 * 90 if math.isfinite(angle or 0) else 0


def frame_to_array(frame: av.VideoFrame, bit_depth: int) -> np.ndarray:
    """A decoded frame → `(H, W, 3) float32 in [0, 1]` RGB, upright (display matrix applied)."""
    kwargs = {"src_color_range": frame.color_range} if frame.color_range else {}
    if bit_depth > 8:
        array = frame.to_ndarray(format="rgb48le", **kwargs).astype(np.float32) / np.float32(65535)
    else:
        array = frame.to_ndarray(format="rgb24", **kwargs).astype(np.float32) / np.float32(255)
    turns = _rotation(frame) // 90
    return np.ascontiguousarray(np.rot90(array, k=turns)) if turns else array


def _packets_frames(container: av.container.InputContainer, stats: DecodeStats) -> Iterator[av.VideoFrame]:
    """Decodes the first video stream, skipping packets that fail; stops at a broken container."""
    stream = container.streams.video[0]
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except _FFMPEG_ERRORS as error:  # the container itself is broken past here
            stats.failed_packets += 1
            stats.first_error = stats.first_error or one_line(error)
            return
        try:
            frames = packet.decode()
        except _FFMPEG_ERRORS as error:
            stats.failed_packets += 1
            stats.first_error = stats.first_error or one_line(error)
            continue
        yield from frames


def decode_frames(source: Path, stats: DecodeStats | None = None, *, limit: float = math.inf) -> Iterator[TimedFrame]:
    """Streams the frames of a video file's first video stream, upright, with their timestamps.

    The file is opened when this is called (missing and unreadable files raise at once).

    Args:
        source: a file FFmpeg decodes.
        stats: filled in while iterating (frames decoded, failed packets, frames promised).
        limit: stop after this many frames.

    Returns:
        An iterator of `TimedFrame`s.

    Raises:
        InputVideoError: the file cannot be opened or holds no video stream.
    """
    container = open_input(source)
    stats = stats if stats is not None else DecodeStats()
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    stats.promised = int(stream.frames) if stream.frames else None

    def generate() -> Iterator[TimedFrame]:
        try:
            depth = None
            for frame in _packets_frames(container, stats):
                if stats.decoded >= limit:
                    return
                depth = depth or _bit_depth(frame)
                image = frame_to_array(frame, depth)
                duration = frame.duration if frame.duration else None
                yield TimedFrame(image, stats.decoded, frame.pts, duration, stream.time_base)
                stats.decoded += 1
        finally:
            container.close()

    return generate()


def _estimate_count(duration: float | None, rate: object) -> int | None:
    """Frames from duration x rate, for containers that keep no count (Matroska, WebM)."""
    if not duration or not rate:
        return None
    return max(1, round(duration * float(rate))) if 0 < float(rate) <= 1000 else None  # type: ignore[arg-type]


def stream_info(source: Path) -> StreamInfo:
    """Describes a file's video stream, decoding at most its first frame.

    Raises:
        InputVideoError: the file cannot be opened, holds no video stream or no frame decodes.
    """
    container = open_input(source)
    try:
        stream = container.streams.video[0]
        stats = DecodeStats()
        first = next(_packets_frames(container, stats), None)
        if first is None:
            raise InputVideoError(
                f"{source}: no frames could be decoded; the video is empty or corrupt"
                + (f" ({stats.first_error})" if stats.first_error else "")
            )
        rotation = _rotation(first)
        width, height = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
        rate = stream.average_rate or stream.guessed_rate
        duration = None
        if container.duration:
            duration = container.duration / 1_000_000
        elif stream.duration:
            duration = float(stream.duration * stream.time_base)
        others = tuple(
            (s.index, s.type, s.codec_context.name if s.codec_context else "?")
            for s in container.streams
            if s.type in ("audio", "subtitle")
        )
        return StreamInfo(
            time_base=stream.time_base or Fraction(1, 90000),
            average_rate=Fraction(rate) if rate else None,
            frame_count=int(stream.frames) if stream.frames else _estimate_count(duration, rate),
            width=width,
            height=height,
            rotation=rotation,
            duration=duration,
            codec=stream.codec_context.name,
            pix_fmt=first.format.name,
            bit_depth=_bit_depth(first),
            color=(int(first.color_range), int(first.colorspace), int(first.color_primaries), int(first.color_trc)),
            other_streams=others,
        )
    finally:
        with contextlib.suppress(*_FFMPEG_ERRORS):
            container.close()
