"""Offline (Liu et al. 2018) anomaly scores with a centred temporal smoothing chosen without test labels.

The offline protocol min-max normalises each test clip's scores over the whole clip, so it may
look ahead in time anyway; a centred moving average of the frame scores over w frames (w odd)
is then a common post-processing (an anomaly lasts many frames; one frame's prediction error is
noisy). Which w — and which features, patch size and top-k — is chosen as in
`gansuite.bench.anomaly_selection`, on the *normal* clips with synthetic anomalies pasted in,
never on test labels:

1. The normal clips in two folds (1st, 3rd, ... / 2nd, 4th, ...). Per candidate and fold:
   `calibrate` on one fold's clean clips (only the z-score normalisation that combines the
   features matters here), score the other fold's clips with synthetic anomalies — the raw
   score per frame (`AnomalyCalibration.raw_scores`), its centred mean over w frames (fewer at
   the clip's ends), min-max normalised per clip — and take the micro AUC over their pooled
   frames. A candidate's validation AUC is the mean over the two folds.
2. The best candidate (first of ties, grid order) is recalibrated on all the normal clips and
   the test clips are scored once: offline micro / macro AUC and EER.

This is an offline figure, comparable with published offline results (Liu et al. 0.954 on Ped2),
not something a live camera can do: the live monitor's number is the causal calibrated one
(`gansuite.bench.anomaly_causal`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gansuite.bench.anomaly import PUBLISHED_PED2_AUC, _clip_labels, _flat_labels
from gansuite.bench.anomaly_causal import _metrics, clips_evidence
from gansuite.bench.anomaly_synthetic import synthetic_validation_set
from gansuite.bench.manifest import build_manifest, portable, report_json
from gansuite.errors import ConfigError
from gansuite.metrics import frame_auc
from gansuite.tasks.predict.calibration import AnomalyCalibration, CausalConfig, calibrate
from gansuite.tasks.predict.data import find_clips
from gansuite.tasks.predict.evidence import EvidenceConfig, FrameEvidence
from gansuite.tasks.predict.predictor import FramePredictor
from gansuite.tasks.predict.synthetic_anomalies import SyntheticAnomalyConfig

__all__ = [
    "OfflineCandidate",
    "OfflineSelectionReport",
    "centred_mean",
    "offline_candidate_grid",
    "offline_clip_scores",
    "run_offline_selection_benchmark",
]


def centred_mean(scores: np.ndarray, window: int) -> np.ndarray:
    """The mean of each frame's score and the (window − 1) / 2 frames on either side.

    Args:
        scores: (T,) float scores of one clip, in frame order.
        window: an odd number of frames >= 1 (1: the scores unchanged). Near the clip's ends the
            mean is over the frames that exist.

    Returns:
        (T,) float64.

    Raises:
        ConfigError: `window` is even or < 1.
    """
    if window < 1 or window % 2 == 0:
        raise ConfigError(f"the smoothing window must be an odd number of frames >= 1, got {window}")
    values = np.asarray(scores, dtype=np.float64)
    if window == 1 or values.size == 0:
        return values.copy()
    half, n = window // 2, values.size
    sums = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(n)
    low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, n)
    return (sums[high] - sums[low]) / (high - low)


@dataclass(frozen=True)
class OfflineCandidate:
    """One offline scoring setting: the evidence, the features combined, the centred window."""

    evidence: EvidenceConfig
    features: tuple[str, ...]
    window: int

    @property
    def name(self) -> str:
        """e.g. ``patch_psnr+motion, patch 32, top 1, centred mean of 9``."""
        top = f", top {self.evidence.top_k}" if "patch_psnr" in self.features else ""
        return f"{'+'.join(self.features)}, patch {self.evidence.patch_size}{top}, centred mean of {self.window}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "evidence": self.evidence.to_dict(), "features": list(self.features),
                "window": self.window}


def offline_candidate_grid(
    patch_sizes: Sequence[int] = (16, 32, 64),
    top_ks: Sequence[int] = (1, 4),
    windows: Sequence[int] = (1, 5, 9, 17, 33),
    feature_sets: Sequence[Sequence[str]] = (("patch_psnr", "motion"), ("patch_psnr",), ("motion",)),
) -> tuple[OfflineCandidate, ...]:
    """Every combination (features, patch size, top-k, window); motion alone with the first top-k only.

    Raises:
        ConfigError: an empty axis, or an even window.
    """
    if not (patch_sizes and top_ks and windows and feature_sets):
        raise ConfigError("every axis of the candidate grid needs at least one value")
    for window in windows:
        centred_mean(np.zeros(1), window)  # checks the window
    return tuple(
        OfflineCandidate(EvidenceConfig(patch_size=size, top_k=top_k, motion=True), tuple(features), window)
        for features in feature_sets
        for size in patch_sizes
        for top_k in (top_ks if "patch_psnr" in features else top_ks[:1])
        for window in windows
    )


def _calibration(normal: Sequence[FrameEvidence], candidate: OfflineCandidate) -> AnomalyCalibration:
    return calibrate(list(normal), evidence_config=candidate.evidence, causal=CausalConfig(features=candidate.features))


def offline_clip_scores(calibration: AnomalyCalibration, evidence: FrameEvidence, window: int) -> np.ndarray:
    """One clip's offline anomaly scores in [0, 1]: raw score, centred mean over `window`, min-max over the clip.

    Args:
        calibration: fixes how the features are combined (their z-score normalisation).
        evidence: the clip's `FrameEvidence` of T frames.
        window: the centred window (`centred_mean`).

    Returns:
        (T,) float64 in [0, 1], 1 the clip's most anomalous frame (zeros for a constant clip).
    """
    smoothed = centred_mean(calibration.raw_scores(evidence), window)
    low, high = smoothed.min(), smoothed.max()
    return (smoothed - low) / (high - low) if high > low else np.zeros_like(smoothed)


@dataclass(frozen=True)
class OfflineSelectionReport:
    """The label-free choice of an offline setting and its one test evaluation.

    Attributes:
        rows: per candidate (grid order): its dict, per-fold validation micro AUC, their mean.
        chosen: index of the chosen candidate in `rows`.
        test: the chosen setting's offline metrics on the test clips (micro/macro AUC and EER).
        unsmoothed: the same features and evidence with window 1, on the test clips (for comparison).
        events: the synthetic events' summary.
        manifest: protocol, data, versions, model hash.
    """

    rows: tuple[dict[str, Any], ...]
    chosen: int
    test: dict[str, Any]
    unsmoothed: dict[str, Any]
    events: dict[str, Any]
    manifest: dict[str, Any]

    def to_json(self, *, indent: int = 2) -> str:
        """The report as JSON text."""
        return report_json({"chosen": self.rows[self.chosen], "test": self.test, "unsmoothed": self.unsmoothed,
                           "validation": list(self.rows), "synthetic_events": self.events,
                           "manifest": self.manifest}, indent=indent)

    def to_markdown(self) -> str:
        """The choice, its test result beside the unsmoothed one and the published figure, and the validation table."""
        chosen, test, plain = self.rows[self.chosen], self.test, self.unsmoothed
        lines = [
            "| Offline setting | Chosen by | Validation AUC (synthetic) | Test offline micro AUC "
            "| Test offline macro AUC | Test offline micro EER |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
            f"| {chosen['name']} | synthetic validation | {chosen['validation_auc']:.4f} | **{test['micro_auc']:.4f}** "
            f"| {test['macro_auc']:.4f} | {test['micro_eer']:.4f} |",
            f"| the same, centred mean of 1 (no smoothing) | — | | {plain['micro_auc']:.4f} | {plain['macro_auc']:.4f} "
            f"| {plain['micro_eer']:.4f} |",
            f"| Liu et al. 2018 (published, whole-frame PSNR) | | | {PUBLISHED_PED2_AUC:.3f} | | |",
            "",
            f"Validation: {len(self.rows)} candidates, {self.events['events']} synthetic events over "
            f"{self.events['scored_frames']} scored normal frames "
            f"({self.events['anomalous_share_of_scored_frames']:.1%} anomalous).",
            "",
            "| Candidate (validation, best first; top 10) | Fold A→B AUC | Fold B→A AUC | Mean |",
            "| --- | ---: | ---: | ---: |",
        ]
        for row in sorted(self.rows, key=lambda r: -r["validation_auc"])[:10]:
            a, b = row["validation_auc_folds"]
            lines.append(f"| {row['name']} | {a:.4f} | {b:.4f} | {row['validation_auc']:.4f} |")
        lines += ["", f"Protocol: {self.manifest['protocol']['summary']} Device: {self.manifest.get('device', '?')}."]
        if "command" in self.manifest:
            lines += ["", f"Command: `{self.manifest['command']}`"]
        return "\n".join(lines) + "\n"


def run_offline_selection_benchmark(
    frames_dir: str | os.PathLike[str],
    labels: str | os.PathLike[str] | np.ndarray,
    normal_dir: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | FramePredictor = "ped2",
    candidates: Sequence[OfflineCandidate] | None = None,
    synthetic: SyntheticAnomalyConfig | None = None,
    seed: int = 0,
    device: str = "auto",
    batch_size: int = 8,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> OfflineSelectionReport:
    """Choose an offline setting on synthetic anomalies in `normal_dir`, then score the test clips once.

    Args:
        frames_dir: the test clips (Ped2: ``testing``), read only after the choice.
        labels: the test labels file or array (all test clips concatenated), read only after the choice.
        normal_dir: clips known to be normal (Ped2: ``training``), at least two.
        model: a shipped name, a weights/checkpoint file, or a `FramePredictor`.
        candidates: the settings compared (default `offline_candidate_grid()`).
        synthetic: the synthetic anomalies (default `SyntheticAnomalyConfig()`).
        seed: the injection seed.
        device: where the model runs (when `model` is not a `FramePredictor`).
        batch_size: windows per forward pass.
        cache_dir: folder for per-clip evidence (shared with the causal benchmarks' caches).
        progress: called with a line per clip.

    Raises:
        ConfigError: no candidates, fewer than two normal clips, labels that do not match the clips.
        InputVideoError: an unreadable clip.
        CheckpointError: the model cannot be loaded.
    """
    started = time.perf_counter()
    candidates = tuple(candidates) if candidates is not None else offline_candidate_grid()
    if not candidates:
        raise ConfigError("give at least one offline candidate")
    synthetic = synthetic or SyntheticAnomalyConfig()
    predictor = model if isinstance(model, FramePredictor) else FramePredictor.from_pretrained(
        model, device=device, batch_size=batch_size
    )
    data = synthetic_validation_set(predictor, normal_dir, [c.evidence for c in candidates], synthetic=synthetic,
                                    seed=seed, cache_dir=cache_dir, progress=progress)
    folds = data.folds()
    rows = []
    for candidate in candidates:
        aucs = []
        for calibration_fold, validation_fold in (folds, folds[::-1]):
            calibration = _calibration([data.clean[i][candidate.evidence] for i in calibration_fold], candidate)
            scores = [offline_clip_scores(calibration, data.dirty[i][candidate.evidence], candidate.window)
                      for i in validation_fold]
            aucs.append(frame_auc(np.concatenate(scores), np.concatenate([data.labels[i] for i in validation_fold])))
        rows.append({**candidate.to_dict(), "validation_auc_folds": aucs, "validation_auc": float(np.mean(aucs))})
    chosen_index = int(np.argmax([row["validation_auc"] for row in rows]))  # first of ties
    chosen = candidates[chosen_index]

    # only now: the test clips and their labels
    k = predictor.context_frames
    tests, lengths = clips_evidence(predictor, find_clips([frames_dir]), chosen.evidence, cache_dir=cache_dir,
                                    progress=progress)
    aligned, per_clip_labels = _clip_labels(_flat_labels(labels), lengths, k)
    # the normal clips' evidence for the chosen setting was measured with the validation set
    calibration = _calibration([clean[chosen.evidence] for clean in data.clean], chosen)
    test = _metrics([offline_clip_scores(calibration, clip, chosen.window) for clip in tests], per_clip_labels)
    unsmoothed = _metrics([offline_clip_scores(calibration, clip, 1) for clip in tests], per_clip_labels)
    protocol = {
        "summary": (
            "label-free choice of an offline scoring setting (gansuite.bench.anomaly_offline): the normal clips in two "
            "folds by sorted position; seeded synthetic anomalies (gansuite.tasks.predict.synthetic_anomalies, "
            f"{synthetic.duration[0]}-{synthetic.duration[1]} frames, seed {seed}) in the held-out fold; per candidate "
            "(features, patch size, top-k, centred window) the raw score (features' z-scores from the other fold's "
            "clean clips, averaged), its centred mean, min-max per clip (Liu et al. 2018), micro AUC; the best mean "
            "over the two folds is recalibrated on all normal clips and scored on the test clips once. The first "
            f"{k} frames of every clip and their labels dropped."
        ),
        "candidates": len(candidates),
        "seed": seed,
        "synthetic": synthetic.to_dict(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    manifest = build_manifest(
        protocol=protocol, device=predictor.device, seed=seed,
        model_files={predictor.name or "model": predictor.source} if predictor.source is not None else None,
    )
    manifest.update({"normal_data": portable(str(Path(normal_dir).resolve())),
                     "frames_dir": portable(str(Path(frames_dir).resolve())), "test_frames": int(aligned.size)})
    return OfflineSelectionReport(rows=tuple(rows), chosen=chosen_index, test=test, unsmoothed=unsmoothed,
                                  events=data.summary(), manifest=manifest)
