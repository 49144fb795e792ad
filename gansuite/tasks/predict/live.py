"""Live, calibrated anomaly scores for a camera or a stream, one frame at a time.

`CalibratedAnomalyScorer` predicts each arriving frame from the k before it (the shipped
``ped2`` model: 4 gray frames at 256x256), measures the localised evidence of
`gansuite.tasks.predict.evidence` (worst-patch PSNR, fastest-patch optical flow), and turns it
into a score and an alert with the normalisation and threshold fixed on normal footage
(`gansuite.tasks.predict.calibration`). Nothing depends on frames after the current one, so the
score of frame t is final when frame t arrives; on a recorded clip it equals what
`clip_evidence` + `causal_scores` compute for the whole clip at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from gansuite.errors import ConfigError
from gansuite.tasks.predict.anomaly import as_float_frame
from gansuite.tasks.predict.calibration import AnomalyCalibration, CausalScorer
from gansuite.tasks.predict.evidence import frame_evidence, to_model_frame
from gansuite.tasks.predict.predictor import FramePredictor

__all__ = ["CalibratedAnomalyScorer", "LiveScore", "check_calibration_predictor"]


@dataclass(frozen=True)
class LiveScore:
    """The score of one arriving frame.

    Attributes:
        frame_index: index of the frame in the stream (>= k).
        psnr: whole-frame PSNR of its prediction (dB).
        patch_psnr: PSNR of the worst patch (dB).
        motion: fastest patch's mean optical-flow magnitude (px/frame at working resolution).
        score: calibrated live score (about 0 on normal footage, in calibration standard deviations).
        threshold: the alert threshold, in the units of `score`.
        alert: score >= threshold.
        error_map: (h, w) float32 squared prediction error at the working resolution, for heat maps.
    """

    frame_index: int
    psnr: float
    patch_psnr: float
    motion: float
    score: float
    threshold: float
    alert: bool
    error_map: np.ndarray

    def to_json_dict(self) -> dict[str, object]:
        """The scalar fields, rounded, for a JSON line."""
        return {
            "frame": self.frame_index, "score": round(self.score, 4), "threshold": round(self.threshold, 4),
            "alert": self.alert, "psnr": round(self.psnr, 3), "patch_psnr": round(self.patch_psnr, 3),
            "motion": round(self.motion, 3),
        }


def check_calibration_predictor(predictor: FramePredictor, calibration: AnomalyCalibration) -> None:
    """Refuse a calibration made with other weights than `predictor`'s.

    The calibration's normalisation and threshold hold only for the weights whose evidence they
    were fixed on. What both sides record is compared: the calibration's `model` with the
    predictor's `name`, and the sha256 of the weights file (``extra["model_sha256"]``, written by
    `gansuite calibrate`) with the predictor's `source` file. What a side does not record (a
    predictor built from a module has no name or file; an older calibration no sha256) is not
    compared. `gansuite monitor` and `CalibratedAnomalyScorer` both check with this.

    Args:
        predictor: the `FramePredictor` about to score.
        calibration: the `AnomalyCalibration` about to be used with it.

    Raises:
        ConfigError: the model names differ, or the weights file's sha256 differs from the one recorded.
    """
    from gansuite.bench.manifest import file_sha256

    made = calibration.model
    recorded = str(calibration.extra.get("model_sha256") or "")
    if made and predictor.name and made != predictor.name:
        why = f"it was made with model {made!r}, the predictor is model {predictor.name!r}"
    elif recorded and predictor.source is not None and recorded != (found := file_sha256(predictor.source)):
        why = (f"it was made with weights of sha256 {recorded[:12]}..., the predictor's {predictor.source} has "
               f"sha256 {found[:12]}...")
    else:
        return
    raise ConfigError(
        f"the calibration was made with other weights than the predictor's: {why}; score with the model it was made "
        "with, or make a calibration for this model on its normal footage (`calibrate`, or `gansuite calibrate`)"
    )


class CalibratedAnomalyScorer:
    """Scores frames as they arrive with a calibration fixed on normal footage.

    The evidence is the prediction error of Liu et al. 2018, localised to the worst patch, and
    the fastest patch's optical flow (DIS, or Farneback for older calibrations; the calibration's
    `EvidenceConfig.flow`, `gansuite.tasks.predict.evidence`).

    Args:
        predictor: the `FramePredictor` the calibration was made with (checked where both record
            the model: `check_calibration_predictor`).
        calibration: the `AnomalyCalibration` (`calibrate` / `load_calibration`).
        threshold: alert threshold in the units of `LiveScore.score`, a finite number, or None
            for the calibration's.

    Raises:
        ConfigError: the calibration was made with other weights than `predictor`'s, or
            `threshold` is not a finite number (a bool, a string, NaN or ±inf).
    """

    def __init__(
        self, predictor: FramePredictor, calibration: AnomalyCalibration, *, threshold: float | None = None
    ) -> None:
        check_calibration_predictor(predictor, calibration)
        self.predictor = predictor
        self.calibration = calibration
        self._causal = CausalScorer(calibration, threshold=threshold)
        self.reset()

    @property
    def threshold(self) -> float:
        """The alert threshold in use."""
        return self._causal.threshold

    def reset(self) -> None:
        """Forget the stream: the next frame is frame 0 of a new one."""
        self._context: deque[np.ndarray] = deque(maxlen=self.predictor.context_frames)
        self._causal.reset()
        self._index = 0
        self._size: tuple[int, int] | None = None
        self._shape: tuple[int, ...] | None = None

    def update(self, frame: np.ndarray) -> LiveScore | None:
        """Add the next frame; returns its score, or None while the first k frames arrive.

        Args:
            frame: uint8/uint16 as OpenCV reads it ((H, W) or (H, W, 1) gray, (H, W, 3) BGR or
                (H, W, 4) BGRA), or (H, W, C) float in [0, 1], RGB or gray.

        Returns:
            The frame's `LiveScore`, or None.

        Raises:
            ConfigError: not a numpy array, a frame of another shape than the first, a float
                frame outside [0, 1] or with NaN, or another dtype.
            InputImageError: an integer frame of a shape OpenCV does not produce.
        """
        frame = as_float_frame(frame, self._index)
        if self._size is None:
            self._size = self.predictor.working_shape(*frame.shape[:2])
            self._shape = frame.shape
        elif frame.shape != self._shape:
            raise ConfigError(f"frame {self._index} has shape {frame.shape}, earlier frames {self._shape}")
        small = to_model_frame(frame, self._size, self.predictor.channels)
        current = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1)))[None]
        result = None
        if len(self._context) == self._context.maxlen:
            context = torch.from_numpy(np.stack(self._context).transpose(0, 3, 1, 2).copy())[None]
            predicted = self.predictor.predict_batch(context, 1)[:, 0]
            previous = torch.from_numpy(np.ascontiguousarray(self._context[-1].transpose(2, 0, 1)))[None]
            evidence, errors = frame_evidence(predicted, current, previous, self.calibration.evidence)
            score, alert = self._causal.update(float(self.calibration.raw_scores(evidence)[0]))
            result = LiveScore(
                frame_index=self._index, psnr=float(evidence.frame_psnr[0]), patch_psnr=float(evidence.patch_psnr[0]),
                motion=float(evidence.motion[0]), score=score, threshold=self.threshold, alert=alert,
                error_map=errors[0].numpy(),
            )
        self._context.append(small)
        self._index += 1
        return result

    def score_stream(self, frames: Iterable[np.ndarray]) -> Iterator[LiveScore]:
        """One `LiveScore` per frame of `frames` (as `update` takes them, in order) from frame k on.

        Raises ConfigError or InputImageError as `update` does, while iterating.
        """
        for frame in frames:
            result = self.update(frame)
            if result is not None:
                yield result
