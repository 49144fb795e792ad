"""Label-free choice of the anomaly-scoring settings, then one evaluation on the test set.

Choosing the patch size, top-k, features or smoothing by the test AUC inflates the test AUC.
This protocol ("synthetic-anomaly validation on normal footage") chooses them from the
*normal* training clips only; no test frame or label is read until the choice is made:

1. Split the normal clips in two fixed folds by their sorted position: A = 1st, 3rd, 5th, ...
   (Ped2: training clips 01, 03, ..., 15) and B = 2nd, 4th, ... (02, 04, ..., 16).
2. Into every clip paste seeded synthetic anomalies (`gansuite.tasks.predict.synthetic_anomalies`:
   rigid textured objects cut from the clip, moving 1.5-4x walking speed, appearing and
   vanishing suddenly; seed ``[seed, clip position]``) and label their frames.
3. For each candidate setting (a grid of patch size, top-k, features and causal smoothing) and
   each fold: `calibrate` on the *clean* clips of one fold (z-scores and a threshold for the
   false-alarm rate), score the *synthetic* clips of the other fold causally (`causal_scores`),
   and compute the micro AUC over their pooled frames (the first k frames of every clip
   dropped). A candidate's validation AUC is the mean over the two folds.
4. The candidate with the highest validation AUC is chosen (ties: the first in grid order).
5. Only then: recalibrate the chosen setting on all the clean normal clips and score the test
   set once (`run_causal_anomaly_benchmark` with that one variant).

Evidence is cached per clip and setting (`cache_dir`): clean clips under the same key as
`gansuite.bench.anomaly_causal.clips_evidence`, synthetic clips under a key that also holds the
synthetic-anomaly settings and seed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gansuite.bench.anomaly_causal import CausalAnomalyReport, Variant, run_causal_anomaly_benchmark
from gansuite.bench.anomaly_synthetic import synthetic_validation_set
from gansuite.bench.manifest import build_manifest, report_json
from gansuite.errors import ConfigError
from gansuite.metrics import frame_auc
from gansuite.tasks.predict.calibration import CausalConfig, calibrate, causal_scores
from gansuite.tasks.predict.evidence import EvidenceConfig
from gansuite.tasks.predict.predictor import FramePredictor
from gansuite.tasks.predict.synthetic_anomalies import SyntheticAnomalyConfig

__all__ = [
    "MONITOR_DEFAULT",
    "Candidate",
    "SelectionReport",
    "SelectionResult",
    "candidate_grid",
    "run_synthetic_selection_benchmark",
    "select_on_synthetic",
]


@dataclass(frozen=True)
class Candidate:
    """One scoring setting: how the evidence is measured and how the live score is formed."""

    evidence: EvidenceConfig
    causal: CausalConfig

    @property
    def name(self) -> str:
        """e.g. ``patch_psnr+motion, patch 32, top 1, mean of 5``."""
        top = f", top {self.evidence.top_k}" if "patch_psnr" in self.causal.features else ""
        return (f"{'+'.join(self.causal.features)}, patch {self.evidence.patch_size}{top}, "
                f"mean of {self.causal.smoothing}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "evidence": self.evidence.to_dict(), "features": list(self.causal.features),
                "smoothing": self.causal.smoothing, "baseline_frames": self.causal.baseline_frames}


MONITOR_DEFAULT = Candidate(EvidenceConfig(), CausalConfig())
"""`gansuite monitor`'s default setting (chosen earlier with the Ped2 test labels in view)."""


def candidate_grid(
    patch_sizes: Sequence[int] = (16, 32, 64),
    top_ks: Sequence[int] = (1, 4),
    smoothings: Sequence[int] = (1, 5, 10, 20),
    feature_sets: Sequence[Sequence[str]] = (("patch_psnr", "motion"), ("patch_psnr",), ("motion",)),
) -> tuple[Candidate, ...]:
    """Every combination, in this order (features, patch size, top-k, smoothing).

    Motion alone does not depend on top-k, so it appears with the first top-k only.

    Raises:
        ConfigError: an empty axis or an invalid value.
    """
    if not (patch_sizes and top_ks and smoothings and feature_sets):
        raise ConfigError("every axis of the candidate grid needs at least one value")
    grid = []
    for features in feature_sets:
        for size in patch_sizes:
            for top_k in top_ks if "patch_psnr" in features else top_ks[:1]:
                for smoothing in smoothings:
                    grid.append(Candidate(EvidenceConfig(patch_size=size, top_k=top_k, motion=True),
                                          CausalConfig(features=tuple(features), smoothing=smoothing)))
    return tuple(grid)


@dataclass(frozen=True)
class SelectionResult:
    """The validation table and the choice.

    Attributes:
        rows: per candidate (grid order): its dict, per-fold validation micro AUC, their mean.
        chosen: index of the chosen candidate in `rows`.
        events: synthetic events per validation clip (their dicts) and the share of anomalous frames.
        folds: the clip names of folds A and B.
    """

    rows: tuple[dict[str, Any], ...]
    chosen: int
    events: dict[str, Any]
    folds: tuple[list[str], list[str]]


def select_on_synthetic(
    predictor: FramePredictor,
    normal_dir: str | os.PathLike[str],
    *,
    candidates: Sequence[Candidate] | None = None,
    synthetic: SyntheticAnomalyConfig | None = None,
    seed: int = 0,
    false_alarm_rate: float = 0.01,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SelectionResult:
    """Steps 1-4 of the protocol: choose a candidate on normal clips with synthetic anomalies.

    Args:
        predictor: the `FramePredictor`.
        normal_dir: clips known to be normal (Ped2: ``training``), at least two.
        candidates: the settings compared (default `candidate_grid()`).
        synthetic: the synthetic anomalies (default `SyntheticAnomalyConfig()`).
        seed: the injection seed.
        false_alarm_rate: for the calibration thresholds (recorded detection rates only; the
            AUC does not depend on it).
        cache_dir: folder for per-clip evidence.
        progress: called with a line per clip.

    Raises:
        ConfigError: fewer than two clips, no candidates, or a clip of k frames or fewer.
    """
    candidates = tuple(candidates) if candidates is not None else candidate_grid()
    if not candidates:
        raise ConfigError("label-free selection needs at least one candidate")
    data = synthetic_validation_set(predictor, normal_dir, [c.evidence for c in candidates], synthetic=synthetic,
                                    seed=seed, cache_dir=cache_dir, progress=progress)
    clips, clean, dirty, labels = data.clips, data.clean, data.dirty, data.labels
    folds = data.folds()
    rows = []
    for candidate in candidates:
        aucs, caught = [], []
        for calibration_fold, validation_fold in (folds, folds[::-1]):
            calibration = calibrate([clean[i][candidate.evidence] for i in calibration_fold],
                                    false_alarm_rate=false_alarm_rate, evidence_config=candidate.evidence,
                                    causal=candidate.causal)
            live = [causal_scores(calibration, dirty[i][candidate.evidence]) for i in validation_fold]
            truth = np.concatenate([labels[i] for i in validation_fold])
            aucs.append(frame_auc(np.concatenate([s for s, _ in live]), truth))
            caught.append(float(np.concatenate([a for _, a in live])[truth == 1].mean()))
        rows.append({**candidate.to_dict(), "validation_auc_folds": aucs, "validation_auc": float(np.mean(aucs)),
                     "validation_caught_folds": caught, "monitor_default": candidate == MONITOR_DEFAULT})
    chosen = int(np.argmax([row["validation_auc"] for row in rows]))  # first of ties
    names = ([clips[i].name for i in folds[0]], [clips[i].name for i in folds[1]])
    return SelectionResult(rows=tuple(rows), chosen=chosen, events=data.summary(), folds=names)


@dataclass(frozen=True)
class SelectionReport:
    """The label-free selection and the chosen setting's one test evaluation.

    Attributes:
        selection: the `SelectionResult` (validation on synthetic anomalies).
        test: the chosen setting's `CausalAnomalyReport` row (offline and causal metrics).
        calibration: the chosen setting's calibration on all normal clips, as a dict.
        manifest: protocol, data, versions, model hash.
    """

    selection: SelectionResult
    test: dict[str, Any]
    calibration: dict[str, Any]
    manifest: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """All fields as a dict."""
        s = self.selection
        return {"chosen": s.rows[s.chosen], "test": self.test, "validation": list(s.rows), "folds": list(s.folds),
                "synthetic_events": s.events, "calibration": self.calibration, "manifest": self.manifest}

    def to_json(self, *, indent: int = 2) -> str:
        """The report as JSON text."""
        return report_json(self.to_dict(), indent=indent)

    def to_markdown(self) -> str:
        """The choice, its test result, and the validation table (best first)."""
        s, t = self.selection, self.test
        chosen, cau, off = s.rows[s.chosen], self.test["causal"], self.test["offline"]
        default = next((row for row in s.rows if row["monitor_default"]), None)
        lines = [
            "| Setting chosen without test labels | Validation AUC (synthetic) | Test causal micro AUC "
            "| Test causal macro AUC | Test causal EER | Test offline micro AUC | Caught at 1% FA "
            "| FA on normal test |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {chosen['name']} | {chosen['validation_auc']:.4f} | **{cau['micro_auc']:.4f}** "
            f"| {cau['macro_auc']:.4f} | {cau['micro_eer']:.4f} | {off['micro_auc']:.4f} | {t['detection_rate']:.1%} "
            f"| {t['test_false_alarm_rate']:.1%} |",
            "",
            f"Validation: {len(s.rows)} candidates, {s.events['events']} synthetic events over "
            f"{s.events['scored_frames']} scored training frames ({s.events['anomalous_share_of_scored_frames']:.1%} "
            f"anomalous); folds A = clips {', '.join(s.folds[0])}, B = clips {', '.join(s.folds[1])}.",
        ]
        if default is not None:
            rank = 1 + sum(row["validation_auc"] > default["validation_auc"] for row in s.rows)
            lines.append(f"`gansuite monitor`'s default ({default['name']}) has validation AUC "
                         f"{default['validation_auc']:.4f}, rank {rank} of {len(s.rows)}.")
        lines += ["", "| Candidate (validation, best first) | Fold A→B AUC | Fold B→A AUC | Mean | Caught at 1% FA "
                  "(mean) |", "| --- | ---: | ---: | ---: | ---: |"]
        for row in sorted(s.rows, key=lambda r: -r["validation_auc"]):
            mark = " (monitor default)" if row["monitor_default"] else ""
            a, b = row["validation_auc_folds"]
            lines.append(f"| {row['name']}{mark} | {a:.4f} | {b:.4f} | {row['validation_auc']:.4f} | "
                         f"{np.mean(row['validation_caught_folds']):.1%} |")
        lines += ["", f"Protocol: {self.manifest['protocol']['summary']} Device: {self.manifest.get('device', '?')}."]
        if "command" in self.manifest:
            lines += ["", f"Command: `{self.manifest['command']}`"]
        return "\n".join(lines) + "\n"


def run_synthetic_selection_benchmark(
    frames_dir: str | os.PathLike[str],
    labels: str | os.PathLike[str] | np.ndarray,
    normal_dir: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | FramePredictor = "ped2",
    candidates: Sequence[Candidate] | None = None,
    synthetic: SyntheticAnomalyConfig | None = None,
    seed: int = 0,
    false_alarm_rate: float = 0.01,
    device: str = "auto",
    batch_size: int = 8,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SelectionReport:
    """The whole protocol: choose on synthetic anomalies in `normal_dir`, then score the test set once.

    Args:
        frames_dir: the test clips (Ped2: ``testing``), read only after the choice.
        labels: the test labels file or array, read only after the choice.
        normal_dir: clips known to be normal (Ped2: ``training``).
        model: a shipped name, a weights/checkpoint file, or a `FramePredictor`.
        candidates, synthetic, seed, false_alarm_rate, cache_dir, progress: as `select_on_synthetic`.
        device: where the model runs (when `model` is not a `FramePredictor`).
        batch_size: windows per forward pass.

    Raises:
        ConfigError, InputVideoError, CheckpointError: as `select_on_synthetic` and
            `run_causal_anomaly_benchmark`.
    """
    started = time.perf_counter()
    synthetic = synthetic or SyntheticAnomalyConfig()
    predictor = model if isinstance(model, FramePredictor) else FramePredictor.from_pretrained(
        model, device=device, batch_size=batch_size
    )
    selection = select_on_synthetic(predictor, normal_dir, candidates=candidates, synthetic=synthetic, seed=seed,
                                    false_alarm_rate=false_alarm_rate, cache_dir=cache_dir, progress=progress)
    chosen = selection.rows[selection.chosen]
    candidate = Candidate(EvidenceConfig(**chosen["evidence"]),
                          CausalConfig(features=tuple(chosen["features"]), smoothing=chosen["smoothing"]))
    report: CausalAnomalyReport = run_causal_anomaly_benchmark(
        frames_dir, labels, normal_dir, model=predictor, false_alarm_rate=false_alarm_rate,
        evidence=candidate.evidence, variants=[Variant(candidate.name, candidate.causal)], cache_dir=cache_dir,
        progress=progress,
    )
    protocol = {
        "summary": (
            "label-free selection (gansuite.bench.anomaly_selection): the normal clips split in two folds by sorted "
            "position (1st, 3rd, ... / 2nd, 4th, ...); seeded synthetic anomalies (rigid textured objects cut from "
            f"the clip, {synthetic.speed[0]}-{synthetic.speed[1]} px/frame, {synthetic.duration[0]}-"
            f"{synthetic.duration[1]} frames, {synthetic.events_per_clip} per clip, seed {seed}) pasted into every "
            "clip; each candidate calibrated on one fold's clean clips and scored causally on the other fold's "
            "synthetic clips; validation AUC = mean micro AUC of the two folds; the best candidate recalibrated on "
            "all normal clips and evaluated on the test clips once. "
            + report.manifest["protocol"]["summary"]
        ),
        "synthetic": synthetic.to_dict(),
        "seed": seed,
        "false_alarm_rate": false_alarm_rate,
        "candidates": len(selection.rows),
        "seconds": round(time.perf_counter() - started, 1),
    }
    manifest = build_manifest(
        protocol=protocol, device=predictor.device, seed=seed,
        model_files={predictor.name or "model": predictor.source} if predictor.source is not None else None,
        extra={key: report.manifest[key] for key in ("model_name", "frames_dir", "calibration_data",
                                                     "calibration_clips", "test_clips") if key in report.manifest},
    )
    return SelectionReport(selection=selection, test=report.rows[0], calibration=report.calibration,
                           manifest=manifest)
