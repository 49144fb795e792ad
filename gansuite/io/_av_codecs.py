"""Codec and container choices for writing video with PyAV, checked before any frame is encoded.

Shared by the writer (`gansuite.io._av_write`) and the reader (`one_line`, `FFMPEG_ERRORS`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import av
import av.error

from gansuite.errors import ConfigError

__all__ = [
    "CODECS",
    "CONTAINER_CODECS",
    "FFMPEG_ERRORS",
    "check_codec",
    "chroma_subsampled",
    "container_format",
    "copyable_streams",
    "more_than_8_bits",
    "one_line",
]

CODECS: dict[str, str] = {
    "h264": "libx264", "h265": "libx265", "hevc": "libx265", "vp9": "libvpx-vp9", "av1": "libsvtav1",
    "ffv1": "ffv1", "mjpeg": "mjpeg", "prores": "prores_ks", "mpeg4": "mpeg4",
}
"""`codec` names and the FFmpeg encoder each uses."""

CONTAINER_CODECS: dict[str, str] = {
    ".mp4": "h264", ".mov": "h264", ".m4v": "h264", ".mkv": "ffv1", ".avi": "mjpeg", ".webm": "vp9",
}
"""Writable extensions and the codec each gets when none is given (.mkv: lossless FFV1)."""

_DEFAULT_PIX_FMT = {"ffv1": "bgr0", "mjpeg": "yuvj420p", "prores": "yuv422p10le"}  # others: yuv420p
_DEFAULT_CRF = {"h264": 18, "h265": 20, "hevc": 20, "vp9": 31, "av1": 30}
_CRF_RANGE = {"h264": 51, "h265": 51, "hevc": 51, "vp9": 63, "av1": 63}
FFMPEG_ERRORS = (av.error.FFmpegError, OSError, ValueError)
"""What PyAV raises when FFmpeg fails (a bad file, an encoder that refuses its settings)."""


def one_line(error: BaseException) -> str:
    """An FFmpeg failure as one short line: its strerror, else the first line of its text."""
    if isinstance(error, av.error.FFmpegError) and error.strerror:
        return str(error.strerror)
    text = str(error).strip().splitlines()
    return re.sub(r"^\[Errno -?\d+\] ", "", text[0]) if text else type(error).__name__


def check_codec(
    codec: str, pix_fmt: str | None, crf: int | None, name: str | None = None
) -> tuple[str, str, int | None]:
    """Validates the codec options before any work: (codec, pixel format, crf) with defaults filled in.

    Args:
        codec, pix_fmt, crf: the options as given (`pix_fmt` and `crf` None for the codec's defaults).
        name: the output file the messages start with; None for options checked before any file.

    Raises:
        ConfigError: an unknown codec, a pixel format the encoder does not take, a crf out of range.
    """
    where = f"{name}: " if name else ""
    codec = codec.lower()
    if codec not in CODECS:
        raise ConfigError(f"{where}`codec` {codec!r} is not one of {', '.join(CODECS)}")
    try:
        formats = [f.name for f in av.codec.Codec(CODECS[codec], "w").video_formats or []]
    except FFMPEG_ERRORS:
        raise ConfigError(f"{where}this FFmpeg build has no {CODECS[codec]} encoder for `codec` {codec!r}") from None
    chosen = pix_fmt or _DEFAULT_PIX_FMT.get(codec, "yuv420p")
    if formats and chosen not in formats:
        raise ConfigError(
            f"{where}`pix_fmt` {chosen!r} is not taken by {CODECS[codec]}; accepted: {', '.join(formats)}"
        )
    if crf is not None:
        if codec not in _CRF_RANGE:
            raise ConfigError(f"{where}`crf` applies to {', '.join(_CRF_RANGE)}, not to `codec` {codec!r}")
        if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= _CRF_RANGE[codec]:
            raise ConfigError(
                f"{where}`crf` must be an integer from 0 to {_CRF_RANGE[codec]} for {codec}, got {crf!r}"
            )
    return codec, chosen, crf if crf is not None else _DEFAULT_CRF.get(codec)


def copyable_streams(source: Path, extension: str) -> tuple[list[str], list[str]]:
    """(kept, refused): the audio/subtitle streams of `source` an `extension` file can and cannot hold."""
    probe = av.open(os.devnull, "w", format=container_format(extension))
    kept, refused = [], []
    try:
        supported = probe.supported_codecs
        with av.open(str(source), "r") as container:
            for stream in container.streams:
                if stream.type in ("audio", "subtitle"):
                    label = f"#{stream.index} {stream.type} ({stream.codec_context.name})"
                    (kept if stream.codec_context.name in supported else refused).append(label)
    finally:
        probe.close()
    return kept, refused


def container_format(extension: str) -> str:
    """The FFmpeg muxer for a file extension (".mkv" → "matroska"; unknown ones: "mp4")."""
    return {".mkv": "matroska", ".m4v": "mp4", ".mov": "mov", ".webm": "webm", ".avi": "avi"}.get(extension, "mp4")


def chroma_subsampled(pix_fmt: str) -> tuple[bool, bool]:
    """(horizontally, vertically): whether `pix_fmt` halves the chroma resolution that way."""
    fmt = av.video.format.VideoFormat(pix_fmt, 2, 2)
    return fmt.chroma_width() < 2, fmt.chroma_height() < 2


def more_than_8_bits(pix_fmt: str) -> bool:
    """Whether a component of `pix_fmt` has more than 8 bits."""
    fmt = av.video.format.VideoFormat(pix_fmt, 2, 2)
    return max(c.bits for c in fmt.components) > 8
