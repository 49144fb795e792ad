"""Anomaly scores from next-frame prediction (Liu, Luo, Lian & Gao, CVPR 2018).

A model trained on normal video predicts normal frames well; an anomalous event (a cyclist
or a car on a walkway in UCSD Ped2) is predicted badly. Each frame t >= k gets the PSNR of its
prediction from frames t-k .. t-1 (peak 1 on [0, 1] frames at the model's working resolution,
unquantised, as their code computes it). Offline, the PSNRs of a clip are min-max normalised to
a regularity score s(t) = (P(t) - min P) / (max P - min P) in [0, 1]; the anomaly score is
1 - s(t). The first k frames of each clip have no prediction and are not scored.

Label alignment (`align_frame_labels`): frame-level labels come concatenated over the test clips
in order (Ped2: shape (1, 2010), clips of 180, 180, 150, ... frames). For clip i with L_i frames
starting at offset O_i = L_0 + ... + L_{i-1}, the scored frames are t = k .. L_i - 1 and their
labels are labels[O_i + k : O_i + L_i]; the labels of the first k frames of every clip are
dropped, exactly as the scores are.

Online (`StreamingAnomalyScorer`): frames arrive one at a time (e.g. from `iter_video_frames`);
the score of frame t is available as soon as it arrives, normalised by the running minimum and
maximum of the PSNRs seen so far (or over the last `window` frames), since the per-clip extremes
of the offline protocol are not known yet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gansuite.core.arguments import check_integer
from gansuite.core.pixel_range import UNIT_RANGE_TOLERANCE
from gansuite.errors import ConfigError
from gansuite.io.image import decode_array
from gansuite.tasks.predict.data import resize_frame
from gansuite.tasks.predict.predictor import FramePredictor

__all__ = [
    "StreamScore",
    "StreamingAnomalyScorer",
    "align_frame_labels",
    "anomaly_scores",
    "as_float_frame",
    "prediction_psnr",
    "regularity",
    "score_clip",
]


def prediction_psnr(predictions: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    """PSNR per frame, 10·log10(1 / MSE), on [0, 1] frames, unquantised (as Liu et al. 2018 compute it).

    Args:
        predictions: (N, C, H, W) float in [0, 1].
        targets: the true frames, same shape.

    Returns:
        (N,) float64 in dB; identical frames give 100 dB (MSE floored at 1e-10).

    Raises:
        ConfigError: the shapes differ.
    """
    if predictions.shape != targets.shape:
        raise ConfigError(f"prediction {tuple(predictions.shape)} and target {tuple(targets.shape)} differ")
    mse = (predictions.double() - targets.double()).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return (10.0 * torch.log10(1.0 / mse)).cpu().numpy()


def regularity(psnr_values: np.ndarray) -> np.ndarray:
    """Liu et al. 2018's regularity score s(t): one clip's PSNRs (dB) min-max normalised to [0, 1].

    Args:
        psnr_values: (T,) PSNRs of one clip's scored frames.

    Returns:
        (T,) float64 in [0, 1] (1 = most regular); a constant clip gives ones.
    """
    values = np.asarray(psnr_values, dtype=np.float64)
    low, high = values.min(), values.max()
    if high - low <= 0:
        return np.ones_like(values)
    return (values - low) / (high - low)


def anomaly_scores(psnr_per_clip: Sequence[np.ndarray]) -> np.ndarray:
    """Anomaly scores 1 - s(t), normalised per clip (Liu et al. 2018), all clips concatenated in order.

    Args:
        psnr_per_clip: each clip's (T_i,) PSNRs, e.g. from `score_clip`.

    Returns:
        (sum T_i,) float64 in [0, 1], larger = more anomalous; with `align_frame_labels` of the
        same clips, the input of a frame-level AUC.
    """
    return np.concatenate([1.0 - regularity(values) for values in psnr_per_clip])


def align_frame_labels(labels: np.ndarray, clip_lengths: Sequence[int], context_frames: int) -> np.ndarray:
    """The labels of the scored frames: each clip's first `context_frames` labels dropped.

    Args:
        labels: 0/1 per frame of all test clips concatenated, any shape (flattened), e.g. (1, 2010).
        clip_lengths: frames per clip, in the labels' order.
        context_frames: k.

    Returns:
        (sum(L_i - k),) int64 labels, aligned with `anomaly_scores` of the same clips.

    Raises:
        ConfigError: the lengths do not add up to the number of labels, or a clip has <= k frames.
    """
    flat = np.asarray(labels).ravel()
    lengths = [int(n) for n in clip_lengths]
    if sum(lengths) != flat.size:
        raise ConfigError(
            f"{flat.size} labels but the clips hold {sum(lengths)} frames ({lengths}); give the labels of exactly "
            "these clips, concatenated in the same order"
        )
    if any(n <= context_frames for n in lengths):
        raise ConfigError(f"every clip needs more than {context_frames} frames to be scored; lengths {lengths}")
    offsets = np.cumsum([0, *lengths[:-1]])
    return np.concatenate(
        [flat[o + context_frames : o + n] for o, n in zip(offsets, lengths, strict=True)]
    ).astype(np.int64)


def score_clip(predictor: FramePredictor, frames: np.ndarray) -> np.ndarray:
    """PSNR of the prediction of every frame t >= k of a clip.

    Args:
        predictor: the `FramePredictor`; frames are scored at its working resolution.
        frames: (T, H, W, C) float in [0, 1], RGB or gray, T > k; a list or tuple of T
            (H, W, C) frames is stacked. OpenCV's uint8/uint16 frames go through
            `as_float_frame` first.

    Returns:
        (T - k,) float64 PSNRs in dB (`prediction_psnr`); entry i belongs to frame k + i.

    Raises:
        ConfigError: T <= k, a wrong layout, integer pixels, or something that is not frames.
    """
    k = predictor.context_frames
    if isinstance(frames, list | tuple) and frames and all(isinstance(f, np.ndarray) for f in frames):
        if len({f.shape for f in frames}) > 1:
            raise ConfigError(f"score_clip: the frames differ in shape ({frames[0].shape}, ...); a clip has one size")
        frames = np.stack(frames)
    if not isinstance(frames, np.ndarray):
        raise ConfigError(
            f"score_clip: frames must be a (T, H, W, C) numpy array or a list of (H, W, C) arrays, got "
            f"{type(frames).__name__}"
        )
    if not np.issubdtype(frames.dtype, np.floating):
        raise ConfigError(
            f"score_clip: frames have dtype {frames.dtype}; they must be float in [0, 1], RGB: convert OpenCV "
            "frames with as_float_frame(frame) (8-bit RGB ones with x.astype(np.float32) / 255)"
        )
    if frames.ndim != 4 or frames.shape[0] <= k:
        raise ConfigError(f"score_clip needs (T > {k}, H, W, C) frames, got shape {frames.shape}")
    size = predictor.working_shape(*frames.shape[1:3])
    clip = np.stack([resize_frame(frame, size) for frame in frames]) if size != frames.shape[1:3] else frames
    tensor = torch.from_numpy(np.ascontiguousarray(clip.transpose(0, 3, 1, 2), dtype=np.float32))
    windows = tensor.unfold(0, k, 1)[:-1].permute(0, 4, 1, 2, 3)  # (T - k, k, C, h, w)
    scores = []
    for start in range(0, windows.shape[0], predictor.batch_size):
        batch = windows[start : start + predictor.batch_size].contiguous()
        predicted = predictor.predict_batch(batch, 1)[:, 0]
        scores.append(prediction_psnr(predicted, tensor[k + start : k + start + batch.shape[0]]))
    return np.concatenate(scores)


def as_float_frame(frame: np.ndarray, index: int = 0) -> np.ndarray:
    """One video frame as `(H, W, C) float32 in [0, 1]`, RGB (C = 3) or gray (C = 1).

    Args:
        frame: uint8 or uint16 as OpenCV reads it ((H, W) / (H, W, 1) gray, (H, W, 3) BGR,
            (H, W, 4) BGRA; converted through `gansuite.io.decode_array`, bit depth from the dtype),
            or float (H, W) / (H, W, 1) / (H, W, 3) in [0, 1], RGB.
        index: the frame's index in its stream, for the error message.

    Returns:
        (H, W, C) float32 in [0, 1]; integer frames come back as 3-channel RGB.

    Raises:
        ConfigError: not an array, a float frame with values outside [0, 1] (such as 0..255) or
            NaN, a float frame of another shape or without pixels, or a dtype other than uint8,
            uint16 or float.
        InputImageError: an integer frame of a shape OpenCV does not produce.
    """
    if not isinstance(frame, np.ndarray):
        raise ConfigError(f"frame {index} is a {type(frame).__name__}; give a numpy array (H, W, C)")
    if frame.dtype in (np.uint8, np.uint16):
        return decode_array(frame).color
    if frame.dtype.kind != "f":
        raise ConfigError(
            f"frame {index} has dtype {frame.dtype}; give uint8/uint16 frames as OpenCV reads them (BGR) or float "
            "frames in [0, 1] (RGB)"
        )
    array = frame[..., None] if frame.ndim == 2 else frame
    if array.ndim != 3 or array.shape[2] not in (1, 3) or min(array.shape[:2]) < 1:
        raise ConfigError(
            f"frame {index} has shape {frame.shape}; float frames are (H, W), (H, W, 1) or (H, W, 3) with H, W >= 1"
        )
    low, high = float(np.min(array)), float(np.max(array))
    if not (np.isfinite(low) and np.isfinite(high)) or low < -UNIT_RANGE_TOLERANCE or high > 1.0 + UNIT_RANGE_TOLERANCE:
        raise ConfigError(
            f"frame {index} is float with values in [{low:g}, {high:g}]; float frames must be in [0, 1] (RGB). "
            "Pass OpenCV frames as their uint8/uint16 arrays (converted from BGR), or divide by 255"
        )
    return np.clip(array, 0.0, 1.0).astype(np.float32, copy=False)


@dataclass(frozen=True)
class StreamScore:
    """The score of one arriving frame.

    Attributes:
        frame_index: index of the frame in the stream, >= k.
        psnr: PSNR of its prediction (dB).
        regularity: running min-max normalised PSNR in [0, 1] (1 for the first scored frame).
        anomaly: 1 - regularity.
    """

    frame_index: int
    psnr: float
    regularity: float
    anomaly: float


class StreamingAnomalyScorer:
    """Scores frames as they arrive, with a running normalisation.

    Liu et al. 2018's score, with the per-clip min and max of the PSNR replaced by those seen
    so far (or over the last `window` frames), so that no future frame is needed.

    Args:
        predictor: the `FramePredictor`.
        window: normalise over the PSNRs of the last `window` scored frames, an int >= 2 (adapts
            to scene changes); None normalises over every frame seen.

    Raises:
        ConfigError: `window` is not an int (a bool, a float such as 2.5 or NaN, a string) or is < 2.
    """

    def __init__(self, predictor: FramePredictor, *, window: int | None = None) -> None:
        if window is not None:
            window = check_integer(window, "window", minimum=2, unit="frames",
                                   advice=", or None to normalise over every frame seen")
        self.predictor = predictor
        self.window = window
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next frame is frame 0 of a new one."""
        self._context: deque[np.ndarray] = deque(maxlen=self.predictor.context_frames)
        self._history: deque[float] = deque(maxlen=self.window)
        self._low, self._high = np.inf, -np.inf
        self._index = 0
        self._size: tuple[int, int] | None = None
        self._shape: tuple[int, ...] | None = None

    def update(self, frame: np.ndarray) -> StreamScore | None:
        """Add the next frame; returns its score, or None while the first k frames arrive.

        Args:
            frame: either as OpenCV reads it, uint8 or uint16, (H, W) or (H, W, 1) gray, (H, W, 3)
                BGR or (H, W, 4) BGRA (converted by `gansuite.io.decode_array`); or (H, W, C) float
                in [0, 1], RGB or gray, as `iter_video_frames` yields.

        Returns:
            The frame's `StreamScore` (PSNR in dB at the predictor's working resolution), or None.

        Raises:
            ConfigError: not a numpy array, a frame of another size or channel count than the
                first, a float frame outside [0, 1] (e.g. 0..255 values) or with NaN, or another
                dtype.
            InputImageError: an integer frame of a shape OpenCV does not produce.
        """
        frame = as_float_frame(frame, self._index)
        if self._size is None:
            self._size = self.predictor.working_shape(*frame.shape[:2])
            self._shape = frame.shape
        elif frame.shape != self._shape:
            raise ConfigError(f"frame {self._index} has shape {frame.shape}, earlier frames {self._shape}")
        small = resize_frame(frame, self._size)
        result = None
        if len(self._context) == self._context.maxlen:
            context = torch.from_numpy(np.stack(self._context).transpose(0, 3, 1, 2).copy())[None]
            predicted = self.predictor.predict_batch(context, 1)[:, 0]
            value = float(prediction_psnr(predicted, torch.from_numpy(small.transpose(2, 0, 1).copy())[None])[0])
            result = self._normalise(value)
        self._context.append(small)
        self._index += 1
        return result

    def _normalise(self, value: float) -> StreamScore:
        if self.window is None:
            self._low, self._high = min(self._low, value), max(self._high, value)
            low, high = self._low, self._high
        else:
            self._history.append(value)
            low, high = min(self._history), max(self._history)
        score = 1.0 if high - low <= 0 else (value - low) / (high - low)
        return StreamScore(frame_index=self._index, psnr=value, regularity=score, anomaly=1.0 - score)

    def score_stream(self, frames: Iterable[np.ndarray]) -> Iterator[StreamScore]:
        """Score every frame of a stream from frame k on, as it arrives.

        Args:
            frames: frames as `update` takes them, in order.

        Returns:
            An iterator of `StreamScore`s, one per frame from frame k on.

        Raises:
            ConfigError, InputImageError: as `update`, while iterating.
        """
        for frame in frames:
            result = self.update(frame)
            if result is not None:
                yield result
