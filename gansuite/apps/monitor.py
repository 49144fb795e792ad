"""Surveillance monitor: live, calibrated anomaly alerts from next-frame prediction error.

Built only on gansuite's public API. A camera index, stream URL, video file or folder of frames
goes in; each frame is predicted from the frames before it by a `FramePredictor` (the shipped
``ped2`` model by default) and scored by `CalibratedAnomalyScorer` with a calibration made on
footage known to be normal (`gansuite calibrate`). Out come:

- one JSON line per frame: ``{"frame", "score", "threshold", "alert", "psnr", "patch_psnr", "motion"}``,
  every key on every line (``score``, ``psnr``, ``patch_psnr`` and ``motion`` null for the first k
  frames, which have no prediction; ``alert`` false), and a line per alert event:
  ``{"event": "alert_start", "frame"}`` / ``{"event": "alert_end", "start", "end", "frames", "peak"}``;
- optionally a video: the frame with the prediction-error heat map overlaid, a red border while
  alerting, and the score curve with the threshold along the bottom;
- optionally a report folder: ``scores.png`` (score vs frame, threshold, alerts and, given
  labels, the ground truth), ``report.md`` (events, speed, and with labels the share of
  anomalous frames caught and the false-alarm rate), ``scores.jsonl``.

Outputs are checked before any frame is read (`check_outputs`): none may be the input or lie in
its frame folder, and existing ones are replaced only with ``overwrite``.

    gansuite calibrate ped2/training --out ped2_calibration.json     # normal footage only
    gansuite monitor ped2/testing/02 --calibration ped2_calibration.json --video out.mp4 --report report/
    gansuite monitor 0 --calibration cam.json                         # webcam 0, JSON lines on stdout
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from gansuite.apps.monitor_report import labels_for_source, prepare_report_folder
from gansuite.errors import ConfigError, InputVideoError
from gansuite.io import (
    DEFAULT_FPS,
    check_not_input,
    check_output_path,
    iter_video_frames,
    native_stderr_captured,
    probe_video,
    write_video,
)
from gansuite.tasks.predict import AnomalyCalibration, CalibratedAnomalyScorer, FramePredictor, LiveScore

__all__ = [
    "MonitorResult",
    "SourceInfo",
    "capture_frames",
    "check_outputs",
    "labels_for_source",
    "probe_source",
    "run_monitor",
    "source_fps",
]

_STRIP = 64  # height of the score-curve strip under the video, pixels
_CURVE_FRAMES = 200  # frames shown in the strip


def _is_live(source: str) -> bool:
    """A camera index or a stream URL (read through OpenCV), not a file or folder.

    An existing path wins over a camera index: ``gansuite monitor 01`` in Ped2's ``testing`` folder
    is the frame folder ``01``, not camera 1.
    """
    return "://" in source or (source.isdigit() and not Path(source).exists())


def _open_capture(source: str) -> cv2.VideoCapture:
    """An opened OpenCV capture of a camera index or stream URL; FFmpeg's log lines become part of the error.

    Raises:
        InputVideoError: it cannot be opened.
    """
    camera = source.isdigit()
    with native_stderr_captured() as lines:
        capture = cv2.VideoCapture(int(source) if camera else source)
        opened = capture.isOpened()
    if opened:
        return capture
    capture.release()
    said = [line.split("] ", 1)[-1].strip() for line in lines if line.strip()]
    why = f" ({said[-1]})" if said else ""
    advice = ("check that the camera is connected and not in use by another program, or give a video file or frame "
              "folder" if camera else "check the address and that the stream is running")
    kind = f"camera {source}" if camera else f"stream {source}"
    raise InputVideoError(f"{kind} cannot be opened{why}: {advice}")


@dataclass(frozen=True)
class SourceInfo:
    """What `probe_source` found out about a source before any model loads.

    Attributes:
        frames: the number of frames of a frame folder; None for a video file (its container's count
            may be an estimate), a camera or a stream.
        fps: the source's frame rate (the camera's or the file's; gansuite's default when none is known).
    """

    frames: int | None
    fps: float


def probe_source(source: str) -> SourceInfo:
    """Check that a source opens before any model loads: a camera or stream is opened and released, a
    video file or frame folder probed (at most one frame decoded).

    Raises:
        InputVideoError: a camera or stream that cannot be opened; a path that does not exist, holds no
            video stream (an audio-only file), or is a folder without frame images.
    """
    if _is_live(source):
        capture = _open_capture(source)
        fps = capture.get(cv2.CAP_PROP_FPS)
        capture.release()
        return SourceInfo(None, float(fps) if fps and 0 < fps <= 1000 else DEFAULT_FPS)
    info = probe_video(source)
    return SourceInfo(info.frame_count if Path(source).is_dir() else None, float(info.fps) or DEFAULT_FPS)


def check_outputs(source: str, *, video: Path | None = None, report: Path | None = None,
                  overwrite: bool = False) -> None:
    """Refuse the outputs before any frame is read (the report folder is made only when the report is written).

    Args:
        source: camera index, stream URL, video file or frame folder.
        video: the overlay video to write, or None.
        report: the report folder, or None.
        overwrite: replace an existing video and an earlier report in `report`.

    Raises:
        ConfigError: an output is the input, or lies inside the input's frame folder.
        OutputError: an output cannot be written.
        OutputExistsError: an output exists and `overwrite` is False.
    """
    clip = None if _is_live(source) else Path(source)
    if video is not None:
        if clip is not None:
            check_not_input(video, clip, option="--video")
        check_output_path(video, overwrite=overwrite, option="--video", writable=True)
    if report is not None:
        if clip is not None:
            check_not_input(report, clip, option="--report")
        prepare_report_folder(report, overwrite=overwrite, create=False)  # a failed run leaves no empty folder


def capture_frames(source: str, *, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Frames of a camera index, stream URL, video file or frame folder.

    Cameras and URLs go through OpenCV (uint8 BGR frames); files and folders through
    `gansuite.io.iter_video_frames` ((H, W, 3) float32 RGB in [0, 1]). The scorer takes both.

    Raises:
        InputVideoError: the source cannot be opened or yields no frame.
    """
    if not _is_live(source):
        yield from iter_video_frames(source, max_frames=max_frames)
        return
    capture = _open_capture(source)
    count = 0
    try:
        while max_frames is None or count < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            count += 1
            yield frame
    finally:
        capture.release()
    if count == 0:
        raise InputVideoError(f"{source}: opened, but no frame could be read")


def source_fps(source: str) -> float:
    """The source's frame rate: the file's, the camera's, else gansuite's default."""
    try:
        return probe_source(source).fps
    except (InputVideoError, ConfigError):
        return DEFAULT_FPS


@dataclass
class MonitorResult:
    """What a monitor run saw.

    Attributes:
        records: one dict per frame (the JSON lines; the same keys on every line, see the module docstring).
        events: alert events, ``{"start", "end", "frames", "peak"}`` (end inclusive).
        frames: frames read.
        seconds: wall time of the whole run.
        score_seconds: wall time spent scoring (prediction, evidence, calibration), excluding I/O.
        score_cpu_seconds: CPU time of this process spent scoring (all its threads); on a busy
            machine it tells what an idle core would take.
        fps: the source's frame rate.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    frames: int = 0
    seconds: float = 0.0
    score_seconds: float = 0.0
    score_cpu_seconds: float = 0.0
    fps: float = DEFAULT_FPS

    @property
    def realtime_factor(self) -> float:
        """Frames scored per second of scoring time divided by the source's frame rate (> 1: faster than live)."""
        return (self.frames / self.score_seconds) / self.fps if self.score_seconds > 0 else float("inf")


def _display(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 RGB in [0, 1] for drawing, from either kind of source frame."""
    if frame.dtype == np.uint8:
        rgb = cv2.cvtColor(frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), cv2.COLOR_BGR2RGB)
        return rgb.astype(np.float32) / 255.0
    return np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame


def overlay_frame(
    frame: np.ndarray, score: LiveScore | None, history: Sequence[float], threshold: float
) -> np.ndarray:
    """The frame with the error heat map blended in and the score curve strip below.

    Args:
        frame: (H, W, 3) float32 RGB in [0, 1].
        score: the frame's `LiveScore`, or None (no prediction yet).
        history: recent scores (NaN where none), oldest first.
        threshold: the alert threshold.

    Returns:
        (H + 64, W, 3) float32 RGB in [0, 1].
    """
    height, width = frame.shape[:2]
    image = (frame * 255).astype(np.uint8)
    if score is not None:
        # heat: RMS error 0 .. 0.25 mapped onto the colour map; large errors saturate
        heat = np.sqrt(cv2.resize(score.error_map, (width, height), interpolation=cv2.INTER_LINEAR))
        level = np.clip(heat / 0.25, 0, 1)
        colour = cv2.cvtColor(cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
        weight = (0.15 + 0.6 * level)[..., None]
        image = (image * (1 - weight) + colour * weight).astype(np.uint8)
        if score.alert:
            cv2.rectangle(image, (1, 1), (width - 2, height - 2), (255, 0, 0), 3)
    strip = np.full((_STRIP, width, 3), 24, np.uint8)
    values = np.asarray(list(history)[-_CURVE_FRAMES:], dtype=np.float64)
    finite = values[np.isfinite(values)]
    top = max(threshold * 1.5, float(finite.max()) if finite.size else 1.0, 1e-6)
    bottom = min(0.0, float(finite.min()) if finite.size else 0.0)

    def y_of(v: float) -> int:
        return round((_STRIP - 4) - (v - bottom) / (top - bottom) * (_STRIP - 8))

    cv2.line(strip, (0, y_of(threshold)), (width - 1, y_of(threshold)), (255, 80, 80), 1)
    step = (width - 1) / max(1, _CURVE_FRAMES - 1)
    points = [(int(i * step), y_of(v)) for i, v in enumerate(values) if np.isfinite(v)]
    if len(points) > 1:
        cv2.polylines(strip, [np.array(points, np.int32)], False, (255, 255, 255), 1)
    text = "warming up" if score is None else f"score {score.score:+.2f}  thr {threshold:.2f}"
    cv2.putText(strip, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (200, 200, 200), 1, cv2.LINE_AA)
    return np.concatenate([image, strip]).astype(np.float32) / 255.0


def run_monitor(
    source: str,
    predictor: FramePredictor,
    calibration: AnomalyCalibration,
    *,
    threshold: float | None = None,
    max_frames: int | None = None,
    video: str | Path | None = None,
    fps: float | None = None,
    emit: Callable[[dict[str, Any]], None] | None = None,
    keep_records: bool = True,
    overwrite: bool = True,
) -> MonitorResult:
    """Score a source frame by frame, emitting JSON-ready records and alert events as they happen.

    Args:
        source: camera index, stream URL, video file or frame folder.
        predictor: the `FramePredictor` the calibration was made with.
        calibration: the `AnomalyCalibration`.
        threshold: alert threshold (default the calibration's).
        max_frames: stop after this many frames.
        video: write the overlay video here (.mp4, .mkv, .avi, ...).
        fps: the source's frame rate (default: probed, else 25).
        emit: called with each frame record and each event as soon as it is known. Frame records
            all have the keys of the module docstring (None where the frame has no prediction yet).
        keep_records: keep every frame record in the result (for a report); off, memory stays
            flat on an endless camera stream.
        overwrite: replace an existing `video` (`check_outputs` refuses it up front otherwise).

    Returns:
        The `MonitorResult`. Ctrl-C (KeyboardInterrupt) ends the run cleanly: the video is
        finished and the open alert event closed.

    Raises:
        InputVideoError: the source cannot be read.
        ConfigError: a calibration made with other weights than `predictor`'s, a threshold that is
            not a finite number (both before any frame is read; see `CalibratedAnomalyScorer`), or
            frames of changing size or wrong values.
    """
    scorer = CalibratedAnomalyScorer(predictor, calibration, threshold=threshold)
    result = MonitorResult(fps=fps or source_fps(source))
    history: deque[float] = deque(maxlen=_CURVE_FRAMES)
    open_event: dict[str, Any] | None = None
    send = emit or (lambda record: None)
    started = time.perf_counter()

    def frames() -> Iterator[np.ndarray]:
        nonlocal open_event
        for index, frame in _until_interrupted(capture_frames(source, max_frames=max_frames)):
            tick, cpu_tick = time.perf_counter(), time.process_time()
            score = scorer.update(frame)
            result.score_seconds += time.perf_counter() - tick
            result.score_cpu_seconds += time.process_time() - cpu_tick
            result.frames += 1
            record: dict[str, Any] = score.to_json_dict() if score is not None else {  # LiveScore's keys, null
                "frame": index, "score": None, "threshold": round(scorer.threshold, 4), "alert": False, "psnr": None,
                "patch_psnr": None, "motion": None}
            if keep_records:
                result.records.append(record)
            send(record)
            history.append(score.score if score is not None else float("nan"))
            alert = score is not None and score.alert
            if alert and open_event is None:
                open_event = {"start": index, "peak": score.score}
                send({"event": "alert_start", "frame": index, "score": round(score.score, 4)})
            elif alert and open_event is not None:
                open_event["peak"] = max(open_event["peak"], score.score)
            elif not alert and open_event is not None:
                _close(open_event, index - 1, result, send)
                open_event = None
            if video is not None:
                yield overlay_frame(_display(frame), score, history, scorer.threshold)

    if video is not None:
        write_video(video, frames(), result.fps, overwrite=overwrite)
    else:
        for _ in frames():
            pass
    if open_event is not None:
        _close(open_event, result.frames - 1, result, send)
    result.seconds = time.perf_counter() - started
    return result


def _until_interrupted(frames: Iterator[np.ndarray]) -> Iterator[tuple[int, np.ndarray]]:
    """Enumerate `frames`, ending quietly on Ctrl-C (the way to stop a camera)."""
    index = 0
    while True:
        try:
            frame = next(frames)
        except (StopIteration, KeyboardInterrupt):
            return
        yield index, frame
        index += 1


def _close(event: dict[str, Any], end: int, result: MonitorResult, send: Callable[[dict[str, Any]], None]) -> None:
    done = {"start": event["start"], "end": end, "frames": end - event["start"] + 1, "peak": round(event["peak"], 4)}
    result.events.append(done)
    send({"event": "alert_end", **done})
