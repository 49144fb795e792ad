"""Calibrated, causal anomaly scores: normalisation and threshold fixed on footage known to be normal.

Liu et al.'s offline protocol min-max normalises each test clip with its own future; a live
camera cannot. Here:

1. `calibrate` measures the `FrameEvidence` (patch PSNR, motion, whole-frame PSNR) of clips
   known to be normal (UCSD Ped2: its 16 training clips) and fixes each feature's mean and
   standard deviation there. A frame's raw score is the mean of its chosen features' z-scores,
   signed so that larger = more anomalous.
2. The live score (`CausalScorer`) is the mean raw score of the last `smoothing` frames, minus
   an optional slow running baseline: an exponential average of the raw score with a time
   constant of `baseline_frames` frames, starting from the calibration level and frozen while
   an alert is raised, so a scene that grows busier or darker moves the level slowly but an
   anomaly does not absorb itself.
3. The threshold is the (1 - false_alarm_rate) quantile of the live scores of the calibration
   clips (each run from a fresh start), so at most that share of normal calibration frames alerts.
   A quantile is only as good as the frames beyond it: with fewer than `MIN_FRAMES_ABOVE` (10)
   calibration frames above the threshold it rests on a handful of frames, and `calibrate` warns
   (`CalibrationWarning`) with the number of normal frames the rate needs.

A score depends only on the frame and the frames before it. The calibration is a small JSON file
(`AnomalyCalibration.save` / `load_calibration`).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from gansuite.core.arguments import check_finite_number, check_integer
from gansuite.errors import ConfigError
from gansuite.tasks.predict.evidence import FEATURES, EvidenceConfig, FrameEvidence, signed_features

__all__ = [
    "MIN_FRAMES_ABOVE",
    "AnomalyCalibration",
    "CalibrationWarning",
    "CausalConfig",
    "CausalScorer",
    "calibrate",
    "causal_scores",
    "load_calibration",
    "shipped_calibration_names",
    "shipped_calibration_path",
]

_FORMAT = "gansuite-anomaly-calibration/1"

MIN_FRAMES_ABOVE = 10
"""Calibration frames that should lie above the threshold (frames x false-alarm rate) for it to mean something."""


class CalibrationWarning(UserWarning):
    """The calibration is too small for the requested false-alarm rate (the CLI shows it as one line)."""


@dataclass(frozen=True)
class CausalConfig:
    """How the live score is formed from the evidence.

    Attributes:
        features: the evidence combined (mean of z-scores): names from `FEATURES`.
        smoothing: mean over the last `smoothing` frames' raw scores (1 = none), an int >= 1.
        baseline_frames: time constant of the running baseline in frames, an int >= 2, or None for none.

    Raises:
        ConfigError: no feature or an unknown one, `smoothing` not an int >= 1, or `baseline_frames`
            not an int >= 2 (a bool, a float such as 2.5 or NaN, or a string is refused).
    """

    features: tuple[str, ...] = ("patch_psnr", "motion")
    smoothing: int = 1
    baseline_frames: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        unknown = [name for name in self.features if name not in FEATURES]
        if not self.features or unknown:
            raise ConfigError(f"features {list(self.features)}: choose one or more of {list(FEATURES)}")
        object.__setattr__(self, "smoothing", check_integer(self.smoothing, "smoothing", minimum=1, unit="frames",
                                                            advice=" (1 for no smoothing)"))
        if self.baseline_frames is not None:
            frames = check_integer(self.baseline_frames, "baseline_frames", minimum=2, unit="frames",
                                   advice=", or None for no running baseline")
            object.__setattr__(self, "baseline_frames", frames)


@dataclass(frozen=True)
class AnomalyCalibration:
    """Normalisation and threshold fixed on normal footage.

    Attributes:
        evidence: how the evidence was measured (must match at scoring time).
        causal: how the live score is formed.
        means: per feature, mean of the signed feature on the calibration frames.
        stds: per feature, its standard deviation (> 0).
        threshold: live score at and above which a frame alerts (in calibration standard
            deviations, as the score).
        false_alarm_rate: the share of calibration frames the threshold was set to let alert.
        calibration_frames: frames scored in calibration.
        calibration_data: what the calibration clips were (free text, e.g. a folder).
        model: the predictor the evidence came from (name or file).
        level: mean raw score on the calibration frames (the baseline's start).
        extra: free-form provenance (e.g. ``model_sha256`` of the weights, checked by `gansuite monitor`).
    """

    evidence: EvidenceConfig
    causal: CausalConfig
    means: dict[str, float]
    stds: dict[str, float]
    threshold: float
    false_alarm_rate: float
    calibration_frames: int
    calibration_data: str = ""
    model: str = ""
    level: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def raw_scores(self, evidence: FrameEvidence) -> np.ndarray:
        """(N,) mean z-score of the chosen features of each frame (no smoothing, no baseline)."""
        signed = signed_features(evidence)
        parts = [(signed[name] - self.means[name]) / self.stds[name] for name in self.causal.features]
        return np.mean(parts, axis=0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the file format)."""
        data = asdict(self)
        data["causal"]["features"] = list(self.causal.features)
        return {"format": _FORMAT, **data}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the calibration as JSON (atomically, replacing an existing file); returns the path.

        Raises:
            OutputError: the folder is missing or `path` is a folder.
        """
        from gansuite.core.atomic import atomic_write_bytes

        target = Path(path)
        atomic_write_bytes(target, (json.dumps(self.to_dict(), indent=2) + "\n").encode())
        return target

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "calibration") -> AnomalyCalibration:
        """Rebuild from `to_dict` output.

        Raises:
            ConfigError: not a gansuite calibration, or missing/invalid fields (a threshold that is
                not finite, a smoothing or baseline that is not a whole number of frames).
        """
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ConfigError(f"{source} is not a gansuite anomaly calibration (format {_FORMAT}); make one with "
                              "`gansuite calibrate`")
        try:
            causal = dict(data["causal"])
            calibration = cls(
                evidence=EvidenceConfig(**{"flow": "farneback", **data["evidence"]}),  # files before DIS: Farneback
                causal=CausalConfig(**{**causal, "features": tuple(causal["features"])}),
                means={str(k): float(v) for k, v in data["means"].items()},
                stds={str(k): float(v) for k, v in data["stds"].items()},
                threshold=float(data["threshold"]),
                false_alarm_rate=float(data["false_alarm_rate"]),
                calibration_frames=int(data["calibration_frames"]),
                calibration_data=str(data.get("calibration_data", "")),
                model=str(data.get("model", "")),
                level=float(data.get("level", 0.0)),
                extra=dict(data.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: invalid calibration ({type(exc).__name__}: {exc})") from None
        if not math.isfinite(calibration.threshold):
            raise ConfigError(f"{source}: the threshold is {calibration.threshold}, not a finite number; make the "
                              "calibration again with `gansuite calibrate`")
        missing = [n for n in calibration.causal.features if n not in calibration.means or n not in calibration.stds]
        if missing or any(not calibration.stds[n] > 0 for n in calibration.causal.features):
            raise ConfigError(f"{source}: features {missing or calibration.causal.features} lack a mean or a std > 0")
        return calibration


def shipped_calibration_path(name: str) -> Path:
    """Where a shipped predict model's calibration lives (``gansuite/weights/predict_<name>_calibration.json``).

    The file exists only for models shipped with one (``ped2``: made on the Ped2 training clips).
    """
    return Path(__file__).resolve().parents[2] / "weights" / f"predict_{name}_calibration.json"


def shipped_calibration_names() -> list[str]:
    """The shipped predict models whose calibration is in this build (``["ped2"]``), sorted."""
    folder = shipped_calibration_path("ped2").parent
    prefix, suffix = "predict_", "_calibration.json"
    return sorted(p.name[len(prefix) : -len(suffix)] for p in folder.glob(f"{prefix}*{suffix}") if p.is_file())


def load_calibration(path: str | os.PathLike[str]) -> AnomalyCalibration:
    """Read a calibration JSON written by `AnomalyCalibration.save`, or a shipped model's by name.

    Args:
        path: a calibration file, or the name of a shipped predict model whose calibration ships
            with it (`shipped_calibration_names`: ``"ped2"``); an existing file wins over a name.

    Returns:
        The `AnomalyCalibration`.

    Raises:
        ConfigError: neither an existing file nor a shipped calibration's name (the message lists
            the shipped names; a shipped model without one, such as ``"natural"``, is said to be
            one), a folder, an unreadable or non-JSON file, or an invalid calibration.
    """
    file = Path(path)
    if not file.exists() and isinstance(path, str) and shipped_calibration_path(path).is_file():
        file = shipped_calibration_path(path)
    if file.is_dir():
        raise ConfigError(f"calibration {file} is a folder, not a calibration file; give the calibration JSON "
                          "(made by `calibrate` or `gansuite calibrate`) or a shipped name")
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        raise ConfigError(_missing_calibration_message(path)) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"calibration {file} is not readable JSON ({exc})") from None
    return AnomalyCalibration.from_dict(data, source=str(file))


def _missing_calibration_message(path: str | os.PathLike[str]) -> str:
    """Why `path` names no calibration: the shipped names, and for a shipped model without one, that it has none."""
    from gansuite.tasks.predict.pretrained import SHIPPED_MODELS

    names = shipped_calibration_names()
    shipped = f"a shipped calibration ({', '.join(names)})" if names else "a shipped calibration (none in this build)"
    make = "make one on normal footage with `calibrate` and `AnomalyCalibration.save` (or `gansuite calibrate`)"
    if str(path) in SHIPPED_MODELS:
        listed = ", ".join(names) or "none"
        return f"shipped model {str(path)!r} comes without a calibration (shipped ones: {listed}); {make}"
    return (f"calibration {str(path)!r} does not exist: it is neither {shipped} nor an existing file; give a "
            f"calibration JSON, or {make}")


class CausalScorer:
    """Turns each frame's evidence into a live score and an alert, using only the past.

    Args:
        calibration: the `AnomalyCalibration`; `threshold` may be overridden.
        threshold: alert threshold, a finite number in the units of the score, or None for the
            calibration's.

    Raises:
        ConfigError: `threshold` is not a finite number (a bool, a string, NaN or ±inf), or it is
            None and the calibration's threshold is NaN.
    """

    def __init__(self, calibration: AnomalyCalibration, *, threshold: float | None = None) -> None:
        self.calibration = calibration
        if threshold is None:
            if math.isnan(calibration.threshold):  # +inf is legitimate here: `calibrate` scores with no alert
                raise ConfigError("the calibration's threshold is NaN; give a finite threshold or calibrate again")
            self.threshold = calibration.threshold
        else:
            self.threshold = check_finite_number(threshold, "threshold", advice=", or None for the calibration's")
        self.reset()

    def reset(self) -> None:
        """Start a new stream: empty smoothing window, baseline back to the calibration level."""
        self._recent: deque[float] = deque(maxlen=self.calibration.causal.smoothing)
        self._baseline = self.calibration.level
        self.alert = False

    def update(self, raw: float) -> tuple[float, bool]:
        """Add one frame's raw score (`AnomalyCalibration.raw_scores`); returns (score, alert).

        The score is in calibration standard deviations; alert is score >= `threshold`.
        """
        self._recent.append(float(raw))
        smoothed = sum(self._recent) / len(self._recent)
        score = smoothed - (self._baseline - self.calibration.level)
        self.alert = score >= self.threshold
        frames = self.calibration.causal.baseline_frames
        if frames is not None and not self.alert:
            self._baseline += (smoothed - self._baseline) / frames
        return score, self.alert


def causal_scores(
    calibration: AnomalyCalibration, evidence: FrameEvidence, *, threshold: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Live scores and alerts of one clip's frames, scored in order from a fresh start.

    Args:
        calibration: the `AnomalyCalibration`.
        evidence: the clip's `FrameEvidence` of N frames (`clip_evidence`).
        threshold: alert threshold, a finite number, default (None) the calibration's.

    Returns:
        (N,) float64 scores and (N,) bool alerts.

    Raises:
        ConfigError: `threshold` is not a finite number (see `CausalScorer`).
    """
    scorer = CausalScorer(calibration, threshold=threshold)
    pairs = [scorer.update(value) for value in calibration.raw_scores(evidence)]
    return np.array([p[0] for p in pairs], dtype=np.float64), np.array([p[1] for p in pairs], dtype=bool)


def _quantile_threshold(scores: np.ndarray, false_alarm_rate: float) -> float:
    """The smallest threshold letting at most `false_alarm_rate` of `scores` reach it."""
    ordered = np.sort(scores)[::-1]
    allowed = math.floor(false_alarm_rate * ordered.size)
    return float(np.nextafter(ordered[allowed], np.inf))


def calibrate(
    evidence_per_clip: Sequence[FrameEvidence],
    *,
    false_alarm_rate: float = 0.01,
    evidence_config: EvidenceConfig | None = None,
    causal: CausalConfig | None = None,
    calibration_data: str = "",
    model: str = "",
) -> AnomalyCalibration:
    """Fix the normalisation and the threshold on clips known to be normal.

    Args:
        evidence_per_clip: the `FrameEvidence` of each normal clip (`clip_evidence`).
        false_alarm_rate: share of calibration frames allowed to alert, in (0, 1).
        evidence_config: how the evidence was measured (recorded; default `EvidenceConfig()`).
        causal: how the live score is formed (default `CausalConfig()`).
        calibration_data: a description of the clips, recorded in the file.
        model: the predictor's name or file, recorded in the file.

    Returns:
        The `AnomalyCalibration`: over the calibration clips (each scored from a fresh start),
        the share of frames whose live score reaches the threshold is at most `false_alarm_rate`
        (ties aside).

    Raises:
        ConfigError: no frames, a rate that is not a number in (0, 1) (a bool, a string or NaN
            included), or a feature constant on every frame. A `causal` with a bad smoothing or
            baseline window is refused when the `CausalConfig` is made.

    Warns:
        CalibrationWarning: fewer than `MIN_FRAMES_ABOVE` calibration frames would lie above the
            threshold (frames x `false_alarm_rate` < 10), so the rate is not measured by them.
    """
    rate = check_finite_number(false_alarm_rate, "false_alarm_rate", advice=" in (0, 1), e.g. 0.01")
    if not 0.0 < rate < 1.0:
        raise ConfigError(f"false_alarm_rate must be in (0, 1), got {false_alarm_rate}; give e.g. 0.01 for 1%")
    false_alarm_rate = rate
    clips = [clip for clip in evidence_per_clip if len(clip) > 0]
    if not clips:
        raise ConfigError("calibration needs at least one scored frame of normal footage")
    causal = causal or CausalConfig()
    signed = signed_features(FrameEvidence.concatenate(clips))
    means = {name: float(np.mean(values)) for name, values in signed.items()}
    stds = {name: float(np.std(values)) for name, values in signed.items()}
    flat = [name for name in causal.features if not stds[name] > 0]
    if flat:
        raise ConfigError(f"features {flat} are constant on the calibration frames; drop them from the features")
    stds = {name: (value if value > 0 else 1.0) for name, value in stds.items()}
    calibration = AnomalyCalibration(
        evidence=evidence_config or EvidenceConfig(), causal=causal, means=means, stds=stds, threshold=math.inf,
        false_alarm_rate=false_alarm_rate, calibration_frames=sum(len(c) for c in clips),
        calibration_data=calibration_data, model=model,
    )
    _warn_if_too_few(calibration.calibration_frames, false_alarm_rate)
    calibration = replace(calibration, level=float(np.mean(calibration.raw_scores(FrameEvidence.concatenate(clips)))))
    # With a baseline the alerts freeze it, so the scores depend on the threshold: iterate to a fixed point.
    for _ in range(1 if causal.baseline_frames is None else 4):
        scores = np.concatenate([causal_scores(calibration, clip)[0] for clip in clips])
        calibration = replace(calibration, threshold=_quantile_threshold(scores, false_alarm_rate))
    return calibration


def _warn_if_too_few(frames: int, false_alarm_rate: float) -> None:
    """Warns when `frames` x `false_alarm_rate` < `MIN_FRAMES_ABOVE`: the threshold rests on too few frames."""
    if frames * false_alarm_rate >= MIN_FRAMES_ABOVE:
        return
    needed = math.ceil(MIN_FRAMES_ABOVE / false_alarm_rate - 1e-9)
    rate = MIN_FRAMES_ABOVE / frames
    higher = f" (or a false-alarm rate of at least {rate:.1%})" if rate < 0.5 else ""
    warnings.warn(
        f"calibration on {frames} normal frames for a {false_alarm_rate:.2%} false-alarm rate: only "
        f"{frames * false_alarm_rate:.1f} of them would lie above the threshold, too few to set it reliably; "
        f"calibrate on at least {needed} normal frames{higher}",
        CalibrationWarning,
        stacklevel=3,
    )
