"""Upscaling a video: decode → model → encode, pipelined, with the source's sound, subtitles and timing.

Three stages run at once: a thread decodes frames (`gansuite.io.iter_timed_frames`), the calling
thread runs them through the `Upscaler` in batches (`Upscaler.upscale_frames`), a thread encodes
the results (`gansuite.io.VideoWriter`). Bounded queues between them keep memory at a few frames
whatever the clip's length, and let decoding and encoding overlap the model's work.

What the output keeps: every frame's presentation timestamp and duration (so 23.976 fps stays
24000/1001 and a variable frame rate stays variable, and the duration is the source's), every
audio and subtitle stream (packets copied unchanged, interleaved by time), the colour tags (and
the same colour matrix for YUV ↔ RGB both ways); a rotation recorded by a phone is applied to
the pixels, so the output is upright without any rotation tag. H.264 yuv420p at crf 18 by
default; any `codec`, `crf`, `pix_fmt` of `gansuite.io.VideoWriter`.

Interrupts: the output is written to a hidden temporary file beside the target and renamed when
complete; an interrupt or error removes it, so a rerun restarts cleanly from the first frame
(there is no partial resume: the encoder's state cannot be saved).

The module follows Real-ESRGAN's `inference_realesrgan_video.py` in splitting reading, the
network and writing into separate workers, but keeps the source's timestamps and all its streams
instead of re-timing at a nominal rate and keeping one audio track.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gansuite.core.atomic import check_output_path
from gansuite.errors import ConfigError
from gansuite.io.video import (
    VIDEO_EXTENSIONS,
    TimedFrame,
    VideoWriter,
    check_codec,
    iter_timed_frames,
    probe_video,
)
from gansuite.tasks.upscale.temporal import TemporalBlend
from gansuite.tasks.upscale.upscaler import Upscaler

__all__ = ["VideoUpscaleReport", "is_video_file", "upscale_video", "video_output_path", "video_output_paths"]

_KEEP_CONTAINERS = (".mp4", ".mov", ".m4v", ".mkv")
_DONE = object()


@dataclass(frozen=True)
class VideoUpscaleReport:
    """What `upscale_video` did.

    Attributes:
        output: the written file.
        frames: frames upscaled and written.
        input_size: (width, height) of the source frames in pixels, upright.
        output_size: (width, height) of the output frames in pixels.
        seconds: wall time of the whole pipeline, in seconds.
        frames_per_second: `frames / seconds` (throughput, not the clip's frame rate).
        copied_streams: the audio and subtitle streams copied, as "#index type (codec)".
        codec: the video codec written (h264, ...).
        pix_fmt: its pixel format.
    """

    output: Path
    frames: int
    input_size: tuple[int, int]
    output_size: tuple[int, int]
    seconds: float
    frames_per_second: float
    copied_streams: tuple[str, ...]
    codec: str
    pix_fmt: str


def is_video_file(path: str | os.PathLike[str]) -> bool:
    """True for a regular file whose extension is one of `gansuite.io.VIDEO_EXTENSIONS`."""
    candidate = Path(path)
    return candidate.suffix.lower() in VIDEO_EXTENSIONS and candidate.is_file()


def video_output_path(source: Path, out_dir: Path | None, suffix: str) -> Path:
    """`<stem><suffix><ext>` in `out_dir` (default: beside the source).

    The container is kept for .mp4, .mov, .m4v and .mkv; other containers (.avi, .webm, .ts,
    ...) become .mkv, which holds H.264 and any audio or subtitle stream.
    """
    extension = source.suffix.lower() if source.suffix.lower() in _KEEP_CONTAINERS else ".mkv"
    return (out_dir or source.parent) / f"{source.stem}{suffix}{extension}"


def video_output_paths(
    sources: Sequence[Path], out_dir: Path | None, suffix: str
) -> tuple[dict[Path, Path], dict[Path, str], list[str]]:
    """Every video's output (`video_output_path`), kept apart where two videos of a batch would share one.

    ``clip.avi`` and ``clip.webm`` both become ``clip_x4.mkv``: each then gets its own container in the
    name (``clip_avi_x4.mkv``, ``clip_webm_x4.mkv``), as image outputs do, and a note says so;
    otherwise the second would be skipped as if from an earlier run, or with ``--overwrite`` replace
    the first.

    Returns:
        (output per source, failure line per source whose output still meets another's, notes).
    """
    wanted: dict[Path, list[Path]] = defaultdict(list)
    for source in sources:
        wanted[video_output_path(source, out_dir, suffix)].append(source)
    targets: dict[Path, Path] = {}
    notes: list[str] = []
    for target, shared in wanted.items():
        if len(shared) == 1:
            targets[shared[0]] = target
            continue
        for source in shared:
            own = source.suffix.lower().lstrip(".") or "noext"
            targets[source] = target.with_name(f"{source.stem}_{own}{suffix}{target.suffix}")
        renamed = "; ".join(f"{source.name} → {targets[source].name}" for source in shared)
        notes.append(f"{', '.join(s.name for s in shared)} would {'both' if len(shared) == 2 else 'all'} write "
                     f"{target.name}; writing {renamed}")
    failed: dict[Path, str] = {}
    seen: dict[Path, Path] = {}
    for source, target in targets.items():  # a renamed output may still meet another video's output
        if target in seen:
            failed[source] = f"{seen[target]} and {source} would both write {target}; rename one or use --suffix"
        seen.setdefault(target, source)
    return targets, failed, notes


class _Worker(threading.Thread):
    """A daemon thread that records the exception ending it, for the main thread to raise."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._work = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._work()
        except BaseException as error:  # handed to the main thread
            self.error = error


def _put(channel: queue.Queue, item: Any, stop: threading.Event) -> bool:
    """Puts `item` unless `stop` is set first; False when stopped."""
    while not stop.is_set():
        try:
            channel.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _put_alive(channel: queue.Queue, item: Any, consumer: _Worker) -> bool:
    """Puts `item` while `consumer` lives; False when it has died (its error is in `consumer.error`)."""
    while consumer.error is None and consumer.is_alive():
        try:
            channel.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(channel: queue.Queue, workers: list[_Worker], stop: threading.Event) -> Any:
    """Gets the next item, raising the error of a worker that died meanwhile; `_DONE` once stopped."""
    while not stop.is_set():
        try:
            return channel.get(timeout=0.1)
        except queue.Empty:
            for worker in workers:
                if worker.error is not None:
                    raise worker.error from None
                if not worker.is_alive() and channel.empty():
                    return _DONE
    return _DONE


def upscale_video(
    upscaler: Upscaler,
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    codec: str = "h264",
    crf: int | None = None,
    pix_fmt: str | None = None,
    batch_size: int = 1,
    queue_frames: int = 4,
    temporal_blend: float | None = None,
    overwrite: bool = False,
    on_start: Callable[[int | None], None] | None = None,
    on_frame: Callable[[int], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> VideoUpscaleReport:
    """Upscales every frame of a video file (or frame folder) into a video file, keeping its streams.

    Everything that can be checked is checked before the first frame is computed: the source
    opens and decodes, the codec options, the output path, and that the output container can
    hold the source's audio and subtitle streams.

    Args:
        upscaler: the configured `Upscaler` (any model, tiling, precision).
        source: a video file FFmpeg decodes, or a folder of frames (`gansuite.io.DEFAULT_FPS`,
            25 fps, no sound).
        target: the output file (.mp4, .mov, .m4v, .mkv, .avi, .webm); never the source.
        codec: a `gansuite.io.CODECS` name (h264, h265, vp9, av1, ffv1, ...).
        crf: constant rate factor, None for the codec's default (h264: 18).
        pix_fmt: encoder pixel format (yuv420p10le for 10-bit), None for the codec's default (yuv420p;
            yuv420p10le for sources of more than 8 bits where the codec takes it).
        batch_size: frames per forward pass, >= 1.
        queue_frames: frames each queue between the stages holds, in [1, 256] (memory: about
            `2 * queue_frames + 2 * batch_size` frames in and out).
        temporal_blend: the weight in (0, 1) of `gansuite.tasks.upscale.temporal.TemporalBlend`
            (flow-guided blending with the previous output, against GAN flicker), or None for
            frames upscaled independently.
        overwrite: replace an existing output (never the source).
        on_start: called once with the frame count the container promises (None if unknown).
        on_frame: called with the number of frames written so far, after each frame.
        on_warning: called with one line for a clip that decodes fewer frames than promised, or a source
            of more than 8 bits that `codec` writes in 8 (default: `warnings.warn`).

    Returns:
        A `VideoUpscaleReport`.

    Raises:
        InputVideoError: the source cannot be opened or decoded.
        ConfigError: bad options (`codec`, `crf`, `pix_fmt`, `batch_size`, `queue_frames`,
            `temporal_blend` outside (0, 1)), the output is the source, or the container cannot
            hold a stream.
        OutputError, OutputExistsError: the output cannot be written; nothing is left behind.
    """
    started = time.perf_counter()
    source, target = Path(source), Path(target)
    info = probe_video(source)
    if target.exists() and target.resolve() == source.resolve():
        raise ConfigError(f"{target} is the input video, which is never overwritten: change --suffix or -o")
    check_codec(codec, pix_fmt, crf, str(target))
    if pix_fmt is None and info.bit_depth > 8:  # keep a 10-bit source's depth where the codec can
        try:
            pix_fmt = check_codec(codec, "yuv420p10le", crf, str(target))[1]
        except ConfigError:  # said, not silently cut to 8 bits
            pix_fmt = None
            line = (f"{source}: the video has more than 8 bits per component, but --codec {codec} writes 8 here; "
                    "pass --codec h264, h265 or ffv1 to keep its depth")
            if on_warning is not None:
                on_warning(line)
            else:
                warnings.warn(line, stacklevel=2)
    check_output_path(target, overwrite=overwrite)
    blend = None if temporal_blend is None else TemporalBlend(temporal_blend)
    if not 1 <= queue_frames <= 256:
        raise ConfigError(f"queue_frames must be in [1, 256], got {queue_frames}")
    copy_from = source if source.is_file() and info.other_streams else None
    writer = VideoWriter(
        target, rate=info.rate, time_base=info.time_base, codec=codec, crf=crf, pix_fmt=pix_fmt,
        color=info.color if info.color and info.color[1] != 0 else None, copy_from=copy_from,
        overwrite=overwrite,
    )
    if on_start is not None:
        on_start(info.frame_count)
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(maxsize=queue_frames)
    upscaled: queue.Queue = queue.Queue(maxsize=queue_frames)
    timing: queue.Queue = queue.Queue()  # (pts, duration, source) of frames on their way through the model
    written = [0]
    output_size: list[tuple[int, int]] = []

    def decode() -> None:
        for frame in iter_timed_frames(source, on_warning=on_warning):
            if not _put(decoded, frame, stop):
                return
        _put(decoded, _DONE, stop)

    def encode() -> None:
        while True:
            item = _get(upscaled, [], stop)
            if item is _DONE or stop.is_set():
                return
            pts, duration, image = item
            writer.write(image, pts=pts, duration=duration)
            if not output_size:
                output_size.append((image.shape[1], image.shape[0]))
            written[0] += 1
            if on_frame is not None:
                on_frame(written[0])

    decoder = _Worker(decode, "gansuite-decode")
    encoder = _Worker(encode, "gansuite-encode")

    def frames() -> Iterator[np.ndarray]:
        while True:
            item = _get(decoded, [decoder], stop)
            if item is _DONE:
                return
            frame: TimedFrame = item
            timing.put((frame.pts, frame.duration, frame.image if blend is not None else None))
            yield frame.image

    try:
        decoder.start()
        encoder.start()
        for image in upscaler.upscale_frames(frames(), batch_size=batch_size):
            pts, duration, low_res = timing.get_nowait()
            if blend is not None:
                image = blend(low_res, image)
            if not _put_alive(upscaled, (pts, duration, image), encoder):
                raise encoder.error or RuntimeError("the encoder stopped")
        _put_alive(upscaled, _DONE, encoder)
        encoder.join()
        if encoder.error is not None:
            raise encoder.error
        if decoder.error is not None:
            raise decoder.error
        writer.close()
    except BaseException as error:
        stop.set()
        encoder.join(timeout=30)
        decoder.join(timeout=30)
        writer.abort(error)
        raise
    seconds = time.perf_counter() - started
    copied = tuple(f"#{index} {kind} ({name})" for index, kind, name in info.other_streams) if copy_from else ()
    return VideoUpscaleReport(
        output=target, frames=written[0], input_size=(info.width, info.height),
        output_size=output_size[0] if output_size else (0, 0), seconds=seconds,
        frames_per_second=written[0] / seconds if seconds > 0 else 0.0, copied_streams=copied,
        codec=writer.codec, pix_fmt=writer.pix_fmt,
    )
