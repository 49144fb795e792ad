"""`gansuite predict-frames`: predict frames of a clip, write them as a video, optionally score them.

What is predicted: with `start` given, frames ``start .. start+k-1`` are the context and the
next `future` frames are predicted; without it the last k frames of the clip are the context,
so the prediction continues the clip past its end. It is made only when something is written
(a video, or `--frames-dir`). The video has one frame per predicted frame,
at the clip's frame rate; side by side, each frame is last context frame | prediction | true
frame (black where the clip has ended). The video goes through `gansuite.io.VideoWriter`
(H.264 yuv420p for .mp4/.mov, FFV1 for .mkv; odd frame sizes are kept, in 4:4:4). With
`write_output=False` (an evaluation without -o) no video is written. `--frames-dir` and
`--future` are checked before any frame is predicted (`_clip_outputs`).

Evaluation (`evaluate=True`) scores every window of k + future frames that lies wholly inside
the clip (one starting every `stride` frames from frame 0; only the window at `start` when
given) with `HorizonAccumulator`, beside the copy-last-frame baseline: the window starting at
frame s predicts frames s+k .. s+k+future-1 from frames s .. s+k-1 and scores them against the
clip's own frames there. The report lists the windows scored (`window_starts`), which is not
the prediction written past the clip's end. The clip is read as a stream, once.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gansuite.core.atomic import check_not_input, check_output_path
from gansuite.errors import ConfigError, InputVideoError, count_of
from gansuite.io.video import VIDEO_CODECS, VideoWarning, iter_video_frames, probe_video, write_video
from gansuite.metrics import LPIPSMetric
from gansuite.tasks.predict._clip_outputs import check_frames_dir, check_future_memory, write_frame_folder
from gansuite.tasks.predict.baselines import flow_extrapolation
from gansuite.tasks.predict.evaluation import HorizonAccumulator, copy_last_frame
from gansuite.tasks.predict.predictor import FramePredictor

__all__ = ["ClipPredictionReport", "default_output", "predict_clip_file"]


@dataclass(frozen=True)
class ClipPredictionReport:
    """What `predict_clip_file` did.

    Attributes:
        output: the written video, or None when none was written (`write_output=False`).
        frames_dir: the folder of PNGs, or None.
        start: first context frame of the prediction written (video or frames), or None when
            nothing was predicted to be written (an evaluation alone).
        context_frames: k.
        future: frames predicted.
        clip_frames: frames in the clip.
        fps: frame rate of clip and output.
        size: (width, height) of the output video (the clip's frames when no video was written).
        window_starts: first (context) frame of each window scored, in order; empty without
            evaluation. See `window_frames`.
        per_horizon: per step: psnr, ssim, lpips and the baseline's, or None without evaluation.
    """

    output: Path | None
    frames_dir: Path | None
    start: int | None
    context_frames: int
    future: int
    clip_frames: int
    fps: float
    size: tuple[int, int]
    window_starts: tuple[int, ...] = ()
    per_horizon: list[dict[str, Any]] | None = field(default=None)

    @property
    def windows(self) -> int:
        """Windows scored (0 without evaluation)."""
        return len(self.window_starts)

    def window_frames(self, first: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """The frames of the window starting at frame `first`, each range as (first, last) inclusive.

        Returns:
            ((first, last) context frame, (first, last) predicted and scored frame).
        """
        k = self.context_frames
        return (first, first + k - 1), (first + k, first + k + self.future - 1)


def default_output(clip: str | os.PathLike[str]) -> Path:
    """``<clip stem>_predicted.mp4`` beside the clip (a frame folder: beside the folder)."""
    path = Path(clip)
    return path.parent / f"{path.stem if path.is_file() else path.name}_predicted.mp4"


def _to_tensor(windows: list[np.ndarray]) -> torch.Tensor:
    """[(T, H, W, C)] float → (N, T, C, H, W) float32."""
    return torch.from_numpy(np.stack(windows).transpose(0, 1, 4, 2, 3).copy())


def _score(
    predictor: FramePredictor, windows: list[tuple[int, np.ndarray]], future: int, scores: HorizonAccumulator
) -> list[int]:
    """Scores (first frame, k + future frames) windows; returns their first frames."""
    clips = _to_tensor([frames for _, frames in windows])
    context, target = clips[:, :-future], clips[:, -future:]
    scores.add("model", predictor.predict_batch(context, future), target)
    scores.add("copy-last", copy_last_frame(context, future), target)
    scores.add("flow-extrapolation", flow_extrapolation(context, future), target)
    return [first for first, _ in windows]


def _check_outputs(clip: Path, output: Path | None, frames_dir: Path | None, overwrite: bool) -> None:
    if output is not None:
        if output.suffix.lower() not in VIDEO_CODECS:
            raise ConfigError(
                f"-o {output}: cannot write {output.suffix or 'no extension'}; use {', '.join(VIDEO_CODECS)}"
            )
        check_not_input(output, clip, option="-o")
        check_output_path(output, overwrite=overwrite, option="-o", writable=True)
    check_frames_dir(clip, frames_dir, overwrite)


def _check_options(future: int, stride: int, start: int | None) -> None:
    """`--future`, `--stride` and `--start`, each refused by name with the value seen and what is accepted."""
    checks = (
        ("--future", future, 1, "frames to predict: a positive integer"),
        ("--stride", stride, 1, "frames between evaluated windows: a positive integer"),
        ("--start", start, 0, "the first context frame: 0 or more, frames counting from 0"),
    )
    for flag, value, least, accepted in checks:
        if value is None and flag == "--start":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise ConfigError(f"{flag} {value!r}: expected {accepted}")


def _check_clip(
    name: str, count: int, k: int, future: int, start: int | None, evaluate: bool, held: list[str]
) -> None:
    """Refuses a clip too short for the model, for `start` or for the evaluation, with the clip's frame count
    and the largest values that fit; a shortfall the reader warned of (a truncated file) is said in the error."""
    last = f"the clip has {count_of(count, 'frame')} (0..{count - 1})" if count else "the clip has no frames"
    problem = None
    window = k + future
    if count < k + 1:
        problem = f"clip has only {count_of(count, 'frame')}, need at least {k + 1} ({k} context + 1)"
    elif start is not None and start >= count:
        problem = f"--start {start} is past the end of the clip: {last}; --start can be at most {count - k}"
    elif start is not None and start + k > count:
        context = count_of(k, 'context frame')
        problem = (
            f"--start {start} leaves {count_of(count - start, 'frame')} of the {context} the model needs: {last}; "
            f"--start can be at most {count - k}"
        )
    elif evaluate and start is not None and start + window > count:
        fixes = [f"--start {count - window} or less"] if count >= window else []
        if count - start - k >= 1:
            fixes.append(f"--future {count - start - k} or less")
        problem = (
            f"--evaluate from --start {start} needs frames {start}..{start + window - 1} ({k} context + --future "
            f"{future}), but {last}: use {' or '.join(fixes) or f'--start 0 with --future {count - k} or less'}"
        )
    elif evaluate and count < window:
        problem = (
            f"--evaluate needs windows of {window} frames ({k} context + --future {future}), but {last}: use "
            f"--future {count - k} or less"
        )
    if problem is None:
        return
    reader = "".join(f" (reading it: {line.removeprefix(f'{name}: ')})" for line in held)
    raise InputVideoError(f"{name}: {problem}{reader}")


def _warn(line: str, category: type[Warning], on_warning: Callable[[str], None] | None) -> None:
    if on_warning is None:
        warnings.warn(line, category, stacklevel=3)
    else:
        on_warning(line)


def predict_clip_file(
    predictor: FramePredictor,
    clip: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    future: int = 8,
    start: int | None = None,
    side_by_side: bool = False,
    frames_dir: str | os.PathLike[str] | None = None,
    evaluate: bool = False,
    stride: int = 1,
    lpips: LPIPSMetric | None = None,
    overwrite: bool = False,
    write_output: bool = True,
    on_warning: Callable[[str], None] | None = None,
) -> ClipPredictionReport:
    """Predict `future` frames of `clip` and write them as a video (see the module docstring).

    Args:
        predictor: the `FramePredictor`.
        clip: a video file or a folder of frames.
        output: the video to write (.mp4, .avi or .mkv); default `default_output(clip)`.
        future: frames to predict.
        start: first context frame; None uses the last k frames of the clip.
        side_by_side: write last context | prediction | ground truth side by side.
        frames_dir: also write the predicted frames as PNGs here.
        evaluate: score the predictions per horizon against the clip, beside copy-last-frame.
        stride: frames between evaluated windows when `start` is None.
        lpips: an `LPIPSMetric` for the LPIPS columns, or None (reported as None).
        overwrite: replace an existing output and the frames in `frames_dir` (the input is never
            overwritten).
        write_output: write the video; False writes none (`output` is then None in the report,
            and without `frames_dir` nothing is predicted past the evaluation).
        on_warning: called with one line for a clip that decodes fewer frames than it promises,
            and one for frames unlike those the model was trained on (`FramePredictor.input_mismatch`:
            a gray model on colour footage, a fixed-size model at another size); None issues
            them as warnings (`VideoWarning`, `UserWarning`). Both come only once the clip has
            passed its checks (length, `start`, evaluation), so a refused clip gives its error
            alone; a shortfall the reader found is then said in that error.

    Returns:
        A `ClipPredictionReport`.

    Raises:
        InputVideoError: unreadable clip, fewer than k + 1 frames, `start` past the end of the clip or
            leaving fewer than k context frames, or too few frames for the evaluation's windows; the
            message names the flag, the clip's frame count and the largest values that fit.
        ConfigError: `future` or `stride` not a positive int, `start` negative or not an int (each
            named as its flag, with the value), other bad options, or an output equal to the input.
        OutputError, OutputExistsError: the output cannot be written.
    """
    source = Path(clip)
    k = predictor.context_frames
    _check_options(future, stride, start)
    target = (Path(output) if output is not None else default_output(source)) if write_output else None
    folder = Path(frames_dir) if frames_dir is not None else None
    _check_outputs(source, target, folder, overwrite)
    info = probe_video(source)
    check_future_memory(future, info.height, info.width, predictor.channels, side_by_side)
    scores = HorizonAccumulator(future, lpips=lpips, quantize=True) if evaluate else None
    window_length = k + future
    last: deque[np.ndarray] = deque(maxlen=k)
    chosen: list[np.ndarray] = []
    pending: list[tuple[int, np.ndarray]] = []
    scored: list[int] = []
    history: deque[np.ndarray] = deque(maxlen=window_length)
    count = 0
    held: list[str] = []  # the reader's warnings, said after the clip checks pass (or folded into their error)
    for index, frame in enumerate(iter_video_frames(source, on_warning=held.append)):
        count = index + 1
        last.append(frame)
        if start is not None and start <= index < start + window_length:
            chosen.append(frame)
        if scores is not None and start is None:
            history.append(frame)
            first = index - window_length + 1
            if len(history) == window_length and first % stride == 0:
                pending.append((first, np.stack(history)))
                if len(pending) == predictor.batch_size:
                    scored += _score(predictor, pending, future, scores)
                    pending.clear()
    name = str(source)
    _check_clip(name, count, k, future, start, evaluate, held)
    if scores is not None:
        if start is not None:
            pending = [(start, np.stack(chosen))]
        if pending:
            scored += _score(predictor, pending, future, scores)
    # the clip is usable: now the reader's warnings, then how the frames differ from the model's training ones
    mismatch = predictor.input_mismatch(np.stack(last))
    for line in held:
        _warn(line, VideoWarning, on_warning)
    if mismatch is not None:
        _warn(mismatch, UserWarning, on_warning)
    size = (last[-1].shape[1], last[-1].shape[0])
    written_start = None
    if target is not None or folder is not None:  # an evaluation alone predicts nothing past it
        written_start = count - k if start is None else start
        size = _write_prediction(predictor, chosen if start is not None else list(last), future, side_by_side,
                                 target, folder, info.fps, overwrite)
    per_horizon = None
    if scores is not None:
        model, baseline = scores.results("model"), scores.results("copy-last")
        flow = scores.results("flow-extrapolation")
        per_horizon = [
            {
                "step": m.step, "psnr": m.psnr, "ssim": m.ssim, "lpips": m.lpips,
                "baseline_psnr": b.psnr, "baseline_ssim": b.ssim, "baseline_lpips": b.lpips,
                "flow_psnr": f.psnr, "flow_ssim": f.ssim, "flow_lpips": f.lpips,
            }
            for m, b, f in zip(model, baseline, flow, strict=True)
        ]
    return ClipPredictionReport(
        output=target, frames_dir=folder, start=written_start, context_frames=k, future=future, clip_frames=count,
        fps=info.fps, size=size, window_starts=tuple(scored), per_horizon=per_horizon,
    )


def _write_prediction(
    predictor: FramePredictor, frames: list[np.ndarray], future: int, side_by_side: bool, target: Path | None,
    folder: Path | None, fps: float, overwrite: bool,
) -> tuple[int, int]:
    """Predicts `future` frames after the first k of `frames` (the rest are the true ones, for side by side),
    writes the video and/or the PNGs; returns the video's (width, height)."""
    k = predictor.context_frames
    context, truth = np.stack(frames[:k]), frames[k:]
    predicted = predictor.predict_frames(context, future)
    video = []
    for step, frame in enumerate(predicted):
        if side_by_side:
            true = truth[step] if step < len(truth) else np.zeros_like(frame)
            frame = np.concatenate([context[-1], frame, true], axis=1)
        video.append(frame)
    if folder is not None:
        write_frame_folder(folder, predicted)
    if target is not None:
        write_video(target, video, fps, overwrite=overwrite)
    return video[0].shape[1], video[0].shape[0]
