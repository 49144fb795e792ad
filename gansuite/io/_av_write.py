"""Encoding video files with PyAV (FFmpeg's libraries), streaming, atomically, with the source's other streams.

`VideoWriter` takes frames one at a time (`(H, W, 3) float32 in [0, 1]`, RGB), converts each to
the output pixel format with swscale (8-bit rgb24 or, for formats of more than 8 bits, 16-bit
rgb48 in between) and encodes it at once, so memory holds a few frames whatever the clip's
length. The file is written to a temporary name beside the target and renamed only when it is
complete (`gansuite.core.atomic`), so a failure or an interrupt leaves no partial file.

Codecs: H.264 (libx264) yuv420p by default, which browsers and phones play; `codec` picks h265,
vp9, av1, ffv1 (lossless), mjpeg, prores or mpeg4, `pix_fmt` any format the encoder takes
(10-bit: yuv420p10le). Odd frame sizes: 4:2:0 and 4:2:2 formats cannot hold them (H.264/H.265
crop in whole chroma samples), so with the default pixel format an odd size is written in the
4:4:4 format of the same depth (H.264 High 4:4:4: FFmpeg-based players, VLC and mpv play it,
browsers do not); an explicit subsampled `pix_fmt` with an odd size is refused.

Timing: frames carry presentation timestamps in the writer's `time_base` (the source stream's,
so variable frame rates stay as they were) and durations (so the last frame keeps its length);
without them they are spaced at `rate`. Colour tags (range, matrix, primaries, transfer) are
written as given and used for the RGB → YUV conversion, so a clip decoded by
`gansuite.io._av_read` and written back keeps its colours.

Other streams: with `copy_from`, every audio and subtitle stream of that file is remuxed
unchanged (packets copied, timestamps kept) and interleaved with the video by time.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

from gansuite.core.atomic import atomic_path
from gansuite.errors import ConfigError, InputVideoError, OutputError
from gansuite.io._av_codecs import (
    CODECS,
    CONTAINER_CODECS,
    FFMPEG_ERRORS,
    check_codec,
    chroma_subsampled,
    container_format,
    copyable_streams,
    more_than_8_bits,
    one_line,
)
from gansuite.io._paths import as_path

__all__ = ["CODECS", "CONTAINER_CODECS", "VideoWriter", "check_codec", "copyable_streams"]

_BT709 = (1, 1, 1, 1)  # tv range, BT.709 matrix, primaries and transfer: tags of clips made from scratch


class VideoWriter:
    """Writes a video file frame by frame (see the module docstring). Use as a context manager.

    Args:
        path: the output file (.mp4, .mov, .m4v, .mkv, .avi, .webm); its folder must exist.
        rate: frames per second, > 0 (the nominal rate; timestamps decide the real timing).
        time_base: seconds per timestamp unit of the `pts`/`duration` given to `write`; None
            uses 1 / (a multiple of `rate`).
        codec: a `CODECS` name, or None for the extension's default (`CONTAINER_CODECS`).
        crf: constant rate factor (lower = better, bigger); None: the codec's default (h264 18).
        pix_fmt: the encoder's pixel format; None: yuv420p (bgr0 for ffv1, yuvj420p for mjpeg).
        color: (range, matrix, primaries, transfer) FFmpeg numbers, or None for BT.709 tv range.
        copy_from: a file whose audio and subtitle streams are copied into the output.
        overwrite: whether an existing file may be replaced.

    Raises:
        ConfigError: an unknown extension, bad codec options, a rate outside (0, 1000] frames per
            second, or a container that cannot hold a copied stream.
        InputVideoError: `copy_from` is missing or unreadable.
        OutputError, OutputExistsError: `path` is not a path (str, bytes or `os.PathLike`) or the
            output cannot be written (from the constructor).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        rate: float | Fraction,
        time_base: Fraction | None = None,
        codec: str | None = None,
        crf: int | None = None,
        pix_fmt: str | None = None,
        color: tuple[int, int, int, int] | None = None,
        copy_from: str | os.PathLike[str] | None = None,
        overwrite: bool = True,
    ) -> None:
        self.path = as_path(path, "VideoWriter: path", OutputError, hint="")
        extension = self.path.suffix.lower()
        if extension not in CONTAINER_CODECS:
            raise ConfigError(
                f"{self.path}: cannot write video format {extension or '(none)'!r}; accepted: "
                f"{', '.join(CONTAINER_CODECS)}"
            )
        self._explicit_pix_fmt = pix_fmt is not None
        self.codec, self.pix_fmt, self.crf = check_codec(codec or CONTAINER_CODECS[extension], pix_fmt, crf, str(path))
        check_fps(rate, str(self.path))
        self.rate = rate if isinstance(rate, Fraction) else _rate_fraction(rate)
        self.time_base = time_base or 1 / self.rate  # of the pts given to `write`
        # AVI counts frame slots of its time base: it gets 1 / rate and constant spacing
        self._stream_time_base = 1 / self.rate if extension == ".avi" else self.time_base
        self.color = color
        self.copy_from = Path(copy_from) if copy_from is not None else None
        if self.copy_from is not None:
            if not self.copy_from.is_file():
                raise InputVideoError(f"{self.copy_from}: the video to copy audio and subtitles from does not exist")
            try:
                _, refused = copyable_streams(self.copy_from, extension)
            except av.error.FFmpegError as exc:
                raise InputVideoError(f"{self.copy_from}: cannot read its streams to copy ({exc})") from exc
            if refused:
                raise ConfigError(
                    f"{self.path}: a {extension} file cannot hold {', '.join(refused)} of {self.copy_from}; "
                    "write .mkv, which holds any stream"
                )
        self.frames_written = 0
        self._stack = contextlib.ExitStack()
        self._temp = self._stack.enter_context(atomic_path(self.path, overwrite=overwrite))
        self._container: Any = None
        self._stream: Any = None
        self._copies: dict[int, Any] = {}
        self._copy_packets: Iterator[Any] | None = None
        self._pending: Any = None
        self._size: tuple[int, int] | None = None
        self._last_pts: int | None = None
        self._closed = False

    # ------------------------------------------------------------------ public
    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if error is None:
            self.close()
        else:
            self.abort(error)

    def write(self, image: np.ndarray, *, pts: int | None = None, duration: int | None = None) -> None:
        """Encodes one frame.

        Args:
            image: `(H, W, 3)` RGB or `(H, W)` / `(H, W, 1)` gray, floating point in [0, 1]; every
                frame the same size.
            pts: presentation timestamp in `time_base` units; None spaces frames at `rate`. A pts
                not after the previous one is moved just after it.
            duration: display time in `time_base` units, or None.

        Raises:
            InputVideoError: not a valid frame, or a frame of another size.
            ConfigError: an odd first-frame size with an explicit 4:2:0 / 4:2:2 `pix_fmt`.
            OutputError: FFmpeg failed to encode or write.
        """
        name = f"{self.path} frame {self.frames_written}"
        rgb = _to_rgb(image, name, 16 if more_than_8_bits(self.pix_fmt) else 8)
        height, width = rgb.shape[:2]
        if self._size is None:
            self._open(width, height)
        elif (width, height) != self._size:
            raise InputVideoError(
                f"{self.path}: frame {self.frames_written} is {width}x{height}, earlier frames "
                f"{self._size[0]}x{self._size[1]}"
            )
        if pts is None or self._stream_time_base != self.time_base:
            pts = round(self.frames_written / (self.rate * self._stream_time_base))
            duration = None
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        self._last_pts = pts
        try:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb48le" if rgb.dtype == np.uint16 else "rgb24")
            frame = self._convert(frame)
            frame.pts, frame.time_base = pts, self._stream_time_base
            if duration:
                frame.duration = int(duration)
            self._mux_video(self._stream.encode(frame))
        except FFMPEG_ERRORS as error:
            raise OutputError(
                f"{self.path}: FFmpeg could not encode frame {self.frames_written}: {one_line(error)}"
            ) from None
        self.frames_written += 1

    def close(self) -> Path:
        """Flushes the encoder, copies the rest of the other streams and moves the file into place.

        Raises:
            InputVideoError: no frame was written.
            OutputError: FFmpeg failed to finish the file.
        """
        if self._closed:
            return self.path
        if self.frames_written == 0:
            error = InputVideoError(f"{self.path}: no frames to write; pass at least one (H, W, C) frame")
            self.abort(error)
            raise error
        try:
            self._mux_video(self._stream.encode(None))
            self._mux_copies(None)
            self._container.close()
            self._container = None
        except FFMPEG_ERRORS as error:
            failure = OutputError(f"{self.path}: FFmpeg could not finish the file: {one_line(error)}")
            self.abort(failure)
            raise failure from None
        self._close_source()
        self._closed = True
        self._stack.close()  # fsync and rename
        return self.path

    def abort(self, error: BaseException | None = None) -> None:
        """Drops the temporary file; the target is left as it was."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(*FFMPEG_ERRORS):
            if self._container is not None:
                self._container.close()
        self._close_source()
        self._stack.__exit__(type(error) if error else OutputError, error or OutputError("aborted"), None)

    # ------------------------------------------------------------------ internals
    def _open(self, width: int, height: int) -> None:
        sub_x, sub_y = chroma_subsampled(self.pix_fmt)
        if (sub_x and width % 2) or (sub_y and height % 2):
            if self._explicit_pix_fmt:
                raise ConfigError(
                    f"{self.path}: frames are {width}x{height}; `pix_fmt` {self.pix_fmt!r} needs an even "
                    f"{'width' if sub_x and width % 2 else 'height'}; use a 4:4:4 format ('yuv444p') or omit `pix_fmt`"
                )
            full = self.pix_fmt.replace("420", "444").replace("422", "444").replace("j444", "j444")
            self.pix_fmt = check_codec(self.codec, full, None, str(self.path))[1]
        self._size = (width, height)
        try:
            self._container = av.open(str(self._temp), "w", format=container_format(self.path.suffix.lower()))
            stream = self._container.add_stream(CODECS[self.codec], rate=self.rate, options=self._options())
            stream.width, stream.height, stream.pix_fmt = width, height, self.pix_fmt
            stream.time_base = self._stream_time_base
            stream.codec_context.time_base = self._stream_time_base
            stream.codec_context.thread_type = "AUTO"
            color = self._color()
            if color is not None:
                context = stream.codec_context
                context.color_range, context.colorspace, context.color_primaries, context.color_trc = color
            self._stream = stream
            if self.copy_from is not None:
                self._open_source()
        except FFMPEG_ERRORS as error:
            raise OutputError(
                f"{self.path}: FFmpeg cannot write {self.codec} {self.pix_fmt} here: {one_line(error)}"
            ) from None

    def _options(self) -> dict[str, str]:
        options: dict[str, str] = {}
        if self.crf is not None:
            options["crf"] = str(self.crf)
        if self.codec == "vp9":
            options["b"] = "0"  # constant quality
        if self.codec in ("h265", "hevc"):
            options["x265-params"] = "log-level=error"  # x265 prints to stderr itself
        if self.codec == "av1":
            options["svtav1-params"] = "log-level=1"
        return options

    def _color(self) -> tuple[int, int, int, int] | None:
        if av.video.format.VideoFormat(self.pix_fmt, 2, 2).is_rgb:
            return None
        color_range, space, primaries, transfer = self.color or _BT709
        if self.pix_fmt.startswith("yuvj"):
            color_range = 2
        # untagged sources are converted as FFmpeg does (BT.601, tv range): say so, or players guess by size
        return (color_range or 1, 6 if space in (0, 2) else space, primaries, transfer)

    def _convert(self, frame: av.VideoFrame) -> av.VideoFrame:
        color = self._color()
        if color is None:
            return frame.reformat(format=self.pix_fmt)
        color_range, space, primaries, transfer = color
        converted = frame.reformat(
            format=self.pix_fmt,
            dst_colorspace=space,
            dst_color_range=color_range,
        )
        converted.color_range, converted.colorspace = color_range, space
        converted.color_primaries, converted.color_trc = primaries, transfer
        return converted

    def _mux_video(self, packets: list[Any]) -> None:
        for packet in packets:
            if packet.dts is not None and packet.time_base is not None:
                self._mux_copies(float(packet.dts * packet.time_base))
            self._container.mux(packet)

    # other streams: remuxed packet by packet, never ahead of the video by more than one packet
    def _open_source(self) -> None:
        try:
            source = av.open(str(self.copy_from), "r")
        except FFMPEG_ERRORS as error:
            raise InputVideoError(f"{self.copy_from}: cannot reopen to copy its audio: {one_line(error)}") from None
        self._source = source
        streams = [s for s in source.streams if s.type in ("audio", "subtitle")]
        for stream in streams:
            self._copies[stream.index] = self._container.add_stream_from_template(stream)
        self._copy_packets = source.demux(*streams) if streams else None

    def _mux_copies(self, until: float | None) -> None:
        while self._copy_packets is not None:
            if self._pending is None:
                try:
                    self._pending = next(self._copy_packets)
                except StopIteration:
                    self._copy_packets = None
                    return
                except FFMPEG_ERRORS:  # a damaged tail of the source: keep what was copied
                    self._copy_packets = None
                    return
            packet = self._pending
            if packet.dts is None and packet.pts is None:
                self._pending = None  # demuxer's end-of-stream marker
                continue
            stamp = packet.dts if packet.dts is not None else packet.pts
            if until is not None and float(stamp * packet.time_base) > until:
                return
            self._pending = None
            packet.stream = self._copies[packet.stream.index]
            self._container.mux(packet)

    def _close_source(self) -> None:
        source = getattr(self, "_source", None)
        if source is not None:
            with contextlib.suppress(*FFMPEG_ERRORS):
                source.close()
            self._source = None


MAX_FPS = 1000.0


def check_fps(fps: float, name: str) -> float:
    """`fps` as a float if it is a real number in (0, MAX_FPS]; else ConfigError naming `name`."""
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not math.isfinite(fps) or not 0 < fps <= MAX_FPS:
        raise ConfigError(f"{name}: fps must be a number in (0, {MAX_FPS:g}], got {fps!r}")
    return float(fps)


def _rate_fraction(rate: float) -> Fraction:
    """25 → 25/1; 23.976 → 24000/1001 (NTSC rates are recognised), others to 1/1000."""
    for base in (24, 30, 48, 60, 120, 240):
        if abs(rate - base * 1000 / 1001) < 1e-3:
            return Fraction(base * 1000, 1001)
    return Fraction(rate).limit_denominator(1000)


def _to_rgb(image: object, name: str, bits: int) -> np.ndarray:
    if not isinstance(image, np.ndarray) or not np.issubdtype(image.dtype, np.floating):
        kind = getattr(image, "dtype", type(image).__name__)
        raise InputVideoError(f"{name}: frames must be numpy float arrays in [0, 1], got {kind}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise InputVideoError(f"{name}: frame has shape {image.shape}; accepted: (H, W, 3) RGB or (H, W) gray")
    if not np.isfinite(image).all():
        bad = image.size - int(np.count_nonzero(np.isfinite(image)))
        raise InputVideoError(f"{name}: color has {bad} non-finite values (NaN or inf); the producing model failed")
    maxval = 65535 if bits > 8 else 255
    scaled = np.clip(np.rint(np.asarray(image, np.float32) * maxval), 0, maxval)
    return scaled.astype(np.uint16 if bits > 8 else np.uint8)
