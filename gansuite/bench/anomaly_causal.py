"""Offline (Liu et al.) vs causal calibrated frame-level anomaly detection, side by side.

Protocol (UCSD Ped2 by default; any folder of normal clips + folder of labelled test clips):

1. Every frame t >= k of every clip gets its `FrameEvidence` (whole-frame PSNR, worst-patch
   PSNR, fastest-patch optical flow) from the prediction of frame t from frames t-k .. t-1 at
   the model's working resolution (`gansuite.tasks.predict.evidence`). The first k frames of
   each clip and their labels are dropped (`align_frame_labels`).
2. Calibration: `calibrate` on the *normal* clips only (Ped2: the 16 training clips) fixes the
   z-score normalisation of each feature and the threshold for the requested false-alarm rate.
   No test frame or label is used.
3. For each scoring variant (a set of features, a causal smoothing, a running baseline):
   - **offline** (Liu et al. 2018): the variant's score min-max normalised per test clip, over
     the whole clip (uses the clip's future; not possible live);
   - **causal calibrated**: the live score of `CausalScorer`, from the calibration only and the past.
4. Micro AUC/EER: all test frames pooled. Macro AUC/EER: the mean over the test clips that hold
   both normal and anomalous scored frames (on Ped2 8 of the 12: four clips are anomalous in every
   scored frame). A per-clip AUC does not change under an increasing per-clip rescaling, and the
   offline column min-max normalises the very scores of the causal one, so their macro AUCs are
   equal by construction; the micro AUC is where the protocols differ. At the calibration
   threshold: the share of anomalous test frames that alert (detection rate) and the share of
   normal test frames that alert (false-alarm rate).

Evidence per clip can be cached on disk (`cache_dir`), keyed by model file hash, clip path,
modification time and entry count (or file size), and evidence settings, so scoring variants are
re-evaluated without running the network again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gansuite.bench.anomaly import (
    PUBLISHED_PED2_AUC,
    _check_labels_fit,
    _clip_labels,
    _flat_labels,
    _labels_name,
    _read_clip,
)
from gansuite.bench.manifest import build_manifest, file_sha256, portable, report_json
from gansuite.core.atomic import atomic_write
from gansuite.errors import ConfigError, InputVideoError, count_of
from gansuite.metrics import equal_error_rate, frame_auc
from gansuite.tasks.predict.anomaly import regularity
from gansuite.tasks.predict.calibration import CausalConfig, calibrate, causal_scores
from gansuite.tasks.predict.data import find_clips
from gansuite.tasks.predict.evidence import FEATURES, EvidenceConfig, FrameEvidence, clip_evidence
from gansuite.tasks.predict.predictor import FramePredictor

__all__ = [
    "DEFAULT_VARIANTS",
    "CausalAnomalyReport",
    "Variant",
    "check_clip_lengths",
    "clips_evidence",
    "probe_clips",
    "run_causal_anomaly_benchmark",
]


@dataclass(frozen=True)
class Variant:
    """A scoring variant: a name and its `CausalConfig`."""

    name: str
    causal: CausalConfig


DEFAULT_VARIANTS: tuple[Variant, ...] = (
    Variant("whole-frame PSNR (Liu et al.)", CausalConfig(features=("frame_psnr",), smoothing=1)),
    Variant("worst-patch PSNR", CausalConfig(features=("patch_psnr",), smoothing=1)),
    Variant("fastest-patch motion", CausalConfig(features=("motion",), smoothing=1)),
    Variant("patch PSNR + motion (default)", CausalConfig()),
    Variant("patch PSNR + motion, 5-frame causal mean", CausalConfig(smoothing=5)),
    Variant("default + running baseline (1000 frames, frozen in alerts)", CausalConfig(baseline_frames=1000)),
)


def probe_clips(clips: Sequence[Path]) -> list[int | None]:
    """Check every clip opens before any is scored (one frame decoded each); their frame counts where exact.

    Returns:
        Per clip, the number of frames of a frame folder; None for a video file (its container's count
        may be an estimate).

    Raises:
        InputVideoError: a clip is missing, holds no video stream (an audio-only file) or no frame image.
    """
    from gansuite.io.video import probe_video

    counts = []
    for clip in clips:
        info = probe_video(clip)
        counts.append(info.frame_count if clip.is_dir() else None)
    return counts


def check_clip_lengths(clips: Sequence[Path], counts: Sequence[int | None], predictor: FramePredictor) -> None:
    """Refuse a clip known to be too short to score (`probe_clips`'s counts), before any is scored.

    Raises:
        InputVideoError: a clip of `predictor.context_frames` frames or fewer.
    """
    for clip, count in zip(clips, counts, strict=True):
        if count is not None:
            _check_length(clip, count, predictor)


def _check_length(clip: Path, frames: int, predictor: FramePredictor) -> None:
    k = predictor.context_frames
    if frames <= k:
        name = predictor.name or "the model"
        raise InputVideoError(
            f"{clip}: {count_of(frames, 'frame')}, but {name} predicts each frame from the {k} before it, so a clip "
            f"needs at least {k + 1} frames; leave this clip out or give a longer one"
        )


def _cache_file(cache_dir: Path, clip: Path, model_key: str, config: EvidenceConfig) -> Path:
    # the clip's modification time and entry count: a folder whose frames were added or removed, or a
    # rewritten video, gets a new key
    entries = len(list(clip.iterdir())) if clip.is_dir() else clip.stat().st_size
    state = [str(clip.resolve()), clip.stat().st_mtime_ns, entries]
    key = json.dumps([state, model_key, config.to_dict()], sort_keys=True)
    return cache_dir / f"{clip.name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _read_cached_evidence(file: Path) -> tuple[FrameEvidence, int]:
    """A clip's evidence and its length in frames from a cache file `_write_cached_evidence` wrote."""
    with np.load(file, allow_pickle=False) as data:
        return FrameEvidence(*(data[name] for name in FEATURES)), int(data["length"])


def _write_cached_evidence(file: Path, evidence: FrameEvidence, length: int) -> None:
    """Write a clip's evidence and length to a cache file atomically (its folder created)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(file) as handle:
        np.savez(handle, length=length, **evidence.as_dict())


def clips_evidence(
    predictor: FramePredictor,
    clips: Sequence[Path],
    config: EvidenceConfig,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[FrameEvidence], list[int]]:
    """The evidence of every clip and its length in frames, read from the cache when there.

    Raises:
        InputVideoError: an unreadable clip, or one of k frames or fewer.
    """
    model_key = file_sha256(predictor.source) if predictor.source is not None else None
    cache = Path(cache_dir) if cache_dir is not None and model_key is not None else None
    results, lengths = [], []
    for clip in clips:
        file = _cache_file(cache, clip, model_key or "", config) if cache is not None else None
        if file is not None and file.is_file():
            evidence, length = _read_cached_evidence(file)
        else:
            frames = _read_clip(clip, predictor)
            _check_length(clip, frames.shape[0], predictor)  # a video's length is known only once decoded
            evidence, length = clip_evidence(predictor, frames, config), frames.shape[0]
            if file is not None:
                _write_cached_evidence(file, evidence, length)
        results.append(evidence)
        lengths.append(length)
        if progress is not None:
            progress(f"{clip.parent.name}/{clip.name}: {length} frames, mean PSNR {evidence.frame_psnr.mean():.2f} dB, "
                     f"mean patch PSNR {evidence.patch_psnr.mean():.2f} dB")
    return results, lengths


def _metrics(scores: list[np.ndarray], labels: list[np.ndarray]) -> dict[str, float | int]:
    both = [i for i, y in enumerate(labels) if 0 < y.sum() < y.size]
    return {
        "micro_auc": frame_auc(np.concatenate(scores), np.concatenate(labels)),
        "micro_eer": equal_error_rate(np.concatenate(scores), np.concatenate(labels)),
        "macro_auc": float(np.mean([frame_auc(scores[i], labels[i]) for i in both])) if both else float("nan"),
        "macro_eer": float(np.mean([equal_error_rate(scores[i], labels[i]) for i in both])) if both else float("nan"),
        "macro_clips": len(both),
    }


@dataclass(frozen=True)
class CausalAnomalyReport:
    """Offline and causal calibrated results of each scoring variant.

    Attributes:
        rows: per variant: name, features, smoothing, baseline, "offline" and "causal" metrics
            (micro/macro AUC and EER), and at the calibration threshold the test detection rate,
            test false-alarm rate and calibration false-alarm rate.
        false_alarm_rate: the rate the thresholds were set for on the calibration clips.
        n_frames: test frames scored.
        calibration: the default variant's `AnomalyCalibration` as a dict.
        manifest: protocol, data, versions, model hash.
    """

    rows: tuple[dict[str, Any], ...]
    false_alarm_rate: float
    n_frames: int
    calibration: dict[str, Any]
    manifest: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """All fields as a dict."""
        return {"rows": list(self.rows), "false_alarm_rate": self.false_alarm_rate, "n_frames": self.n_frames,
                "calibration": self.calibration, "manifest": self.manifest}

    def to_json(self, *, indent: int = 2) -> str:
        """The report as JSON text (NaN written as null)."""
        return report_json(self.to_dict(), indent=indent)

    def to_markdown(self) -> str:
        """The side-by-side table, the alert table and the protocol."""
        rate = self.false_alarm_rate
        lines = [
            "| Score | Offline micro AUC | Offline macro AUC | Offline EER | Causal micro AUC | Causal macro AUC "
            "| Causal EER |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in self.rows:
            off, cau = row["offline"], row["causal"]
            lines.append(
                f"| {row['name']} | {off['micro_auc']:.4f} | {off['macro_auc']:.4f} | {off['micro_eer']:.4f} | "
                f"{cau['micro_auc']:.4f} | {cau['macro_auc']:.4f} | {cau['micro_eer']:.4f} |"
            )
        lines += [
            f"| Liu et al. 2018 (published, offline) | {PUBLISHED_PED2_AUC:.3f} | | | | | |",
            "",
            f"At the threshold set for {rate:.1%} false alarms on the calibration clips:",
            "",
            "| Score | Anomalous test frames caught | False alarms, normal test frames | False alarms, calibration |",
            "| --- | ---: | ---: | ---: |",
        ]
        for row in self.rows:
            lines.append(f"| {row['name']} | {row['detection_rate']:.1%} | {row['test_false_alarm_rate']:.1%} | "
                         f"{row['calibration_false_alarm_rate']:.2%} |")
        m = self.manifest
        lines += [
            "",
            f"Test frames scored: {self.n_frames}; macro = mean over the {self.rows[0]['causal']['macro_clips']} test "
            "clips holding both classes. Calibration (normalisation and threshold): "
            f"{m['calibration_data']} ({self.calibration['calibration_frames']} frames, normal footage only). "
            f"Test clips: {m['frames_dir']}. Protocol: {m['protocol']['summary']} Device: {m.get('device', '?')}.",
        ]
        return "\n".join(lines) + "\n"


def run_causal_anomaly_benchmark(
    frames_dir: str | os.PathLike[str],
    labels: str | os.PathLike[str] | np.ndarray,
    calibration_dir: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | FramePredictor = "ped2",
    false_alarm_rate: float = 0.01,
    evidence: EvidenceConfig | None = None,
    variants: Sequence[Variant] = DEFAULT_VARIANTS,
    device: str = "auto",
    batch_size: int = 8,
    cache_dir: str | os.PathLike[str] | None = None,
    calibration_out: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> CausalAnomalyReport:
    """Score the test clips offline and causally (calibrated on `calibration_dir`), side by side.

    Args:
        frames_dir: one folder of frames (or a video) per test clip, in the labels' order.
        labels: the labels file, or the labels as an array (all test clips concatenated).
        calibration_dir: clips known to be normal (Ped2: ``training``), one folder or video per clip.
        model: a shipped name, a gansuite weights/checkpoint file, or a `FramePredictor`.
        false_alarm_rate: share of calibration frames allowed to alert, in (0, 1).
        evidence: how the localised evidence is measured (default `EvidenceConfig()`).
        variants: the scoring variants to compare; the one named "(default)", else the last, is
            the one whose calibration is returned and saved.
        device: where the model runs (when `model` is not a `FramePredictor`).
        batch_size: windows per forward pass.
        cache_dir: folder for per-clip evidence (reused when the model, clip and settings match).
        calibration_out: write the default variant's calibration JSON here.
        progress: called with a line per clip.

    Raises:
        ConfigError: no clips, labels that do not match the clips, or a bad rate.
        InputVideoError: an unreadable clip.
        CheckpointError: the model cannot be loaded.
    """
    started = time.perf_counter()
    config = evidence or EvidenceConfig()
    predictor = model if isinstance(model, FramePredictor) else FramePredictor.from_pretrained(
        model, device=device, batch_size=batch_size
    )
    flat = _flat_labels(labels)
    k = predictor.context_frames
    if not variants:
        raise ConfigError("give at least one scoring variant")
    normal_clips, test_clips = find_clips([calibration_dir]), find_clips([frames_dir])
    _check_labels_fit(test_clips, flat, k, _labels_name(labels))  # before the calibration clips are scored
    normal, _ = clips_evidence(predictor, normal_clips, config, cache_dir=cache_dir, progress=progress)
    tests, lengths = clips_evidence(predictor, test_clips, config, cache_dir=cache_dir, progress=progress)
    aligned, per_clip_labels = _clip_labels(flat, lengths, k, _labels_name(labels))
    data_name = portable(str(Path(calibration_dir).resolve()))  # $GANSUITE_DATA/..., not this machine's path
    model_name = predictor.name or (str(predictor.source) if predictor.source else "model")
    rows, calibrations = [], []
    for variant in variants:
        calibration = calibrate(normal, false_alarm_rate=false_alarm_rate, evidence_config=config,
                                causal=variant.causal, calibration_data=data_name, model=model_name)
        live = [causal_scores(calibration, clip) for clip in tests]
        live_scores = [scores for scores, _ in live]
        offline = [1.0 - regularity(-scores) for scores in live_scores]  # per-clip min-max of the same score
        alerts = np.concatenate([a for _, a in live])
        calibration_alerts = np.concatenate([causal_scores(calibration, clip)[1] for clip in normal])
        rows.append({
            "name": variant.name, "features": list(variant.causal.features), "smoothing": variant.causal.smoothing,
            "baseline_frames": variant.causal.baseline_frames, "threshold": calibration.threshold,
            "offline": _metrics(offline, per_clip_labels), "causal": _metrics(live_scores, per_clip_labels),
            "detection_rate": float(alerts[aligned == 1].mean()),
            "test_false_alarm_rate": float(alerts[aligned == 0].mean()),
            "calibration_false_alarm_rate": float(calibration_alerts.mean()),
        })
        calibrations.append(calibration)
    defaults = [i for i, variant in enumerate(variants) if "(default)" in variant.name]
    chosen = calibrations[defaults[0] if defaults else -1]
    if calibration_out is not None:
        extra = {"source": "gansuite benchmark anomaly"}
        chosen = replace(chosen, extra=extra if predictor.source is None else
                         {**extra, "model_sha256": file_sha256(predictor.source)})
        chosen.save(calibration_out)
    protocol = {
        "summary": (
            f"evidence of each frame t >= {k} from its prediction from the {k} frames before it at the model's working "
            f"size (patch {config.patch_size} px, stride {config.patch_size // 2}, top {config.top_k}; "
            f"{config.flow} flow {'on' if config.motion else 'off'}); offline = the variant's score min-max "
            "normalised per test clip (Liu et al. 2018); causal = z-scores and threshold fixed on the calibration "
            f"clips, score from the past only; the first {k} frames of every clip and their labels dropped."
        ),
        "context_frames": k,
        "evidence": config.to_dict(),
        "false_alarm_rate": false_alarm_rate,
        "seconds": round(time.perf_counter() - started, 1),
    }
    manifest = build_manifest(
        protocol=protocol, device=predictor.device, seed=0,
        model_files={predictor.name or "model": predictor.source} if predictor.source is not None else None,
        extra={"model_name": model_name, "frames_dir": str(Path(frames_dir).resolve()), "calibration_data": data_name,
               "calibration_clips": [c.name for c in normal_clips], "test_clips": [c.name for c in test_clips]},
    )
    return CausalAnomalyReport(rows=tuple(rows), false_alarm_rate=false_alarm_rate, n_frames=int(aligned.size),
                               calibration=chosen.to_dict(), manifest=manifest)
