"""The surveillance monitor's report: score plot, markdown summary, per-frame JSON lines.

Split from `gansuite.apps.monitor` (the live loop). Every file is written atomically into a
folder checked before any frame is scored (`prepare_report_folder`); a folder holding an earlier
report is refused unless it may be overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gansuite.errors import ConfigError, MissingExtraError, OutputError, OutputExistsError
from gansuite.io import atomic_path, atomic_write_bytes, output_folder_problem
from gansuite.metrics import frame_auc
from gansuite.tasks.predict import AnomalyCalibration

if TYPE_CHECKING:
    from gansuite.apps.monitor import MonitorResult

__all__ = ["REPORT_FILES", "labels_for_source", "prepare_report_folder", "write_report"]

REPORT_FILES = ("scores.jsonl", "scores.png", "report.md", "summary.json")
"""The files a report folder receives."""


def write_report(
    folder: str | Path,
    result: MonitorResult,
    calibration: AnomalyCalibration,
    *,
    source: str,
    model: str,
    labels: np.ndarray | None = None,
    overwrite: bool = True,
) -> dict[str, Any]:
    """Write ``scores.png``, ``report.md``, ``summary.json`` and ``scores.jsonl`` into `folder`; returns the summary.

    Args:
        folder: created if missing.
        result: the `MonitorResult`.
        calibration: the calibration used (named in the report).
        source: the source, as given.
        model: the model's name.
        labels: 0/1 per frame of the source (1 = anomalous), at least as many as frames read, or None.
        overwrite: replace the files of an earlier report in `folder`.

    Raises:
        ConfigError: fewer labels than frames, or values other than 0/1.
        OutputExistsError: `folder` holds an earlier report and `overwrite` is False.
    """
    scored = [r for r in result.records if r["score"] is not None]
    index = np.array([r["frame"] for r in scored], dtype=np.int64)
    scores = np.array([r["score"] for r in scored], dtype=np.float64)
    alerts = np.array([r["alert"] for r in scored], dtype=bool)
    threshold = scored[0]["threshold"] if scored else calibration.threshold
    summary: dict[str, Any] = {
        "source": source, "model": model, "frames": result.frames, "scored": int(index.size),
        "threshold": threshold, "calibration_data": calibration.calibration_data,
        "calibration_false_alarm_rate": calibration.false_alarm_rate, "alert_frames": int(alerts.sum()),
        "events": result.events, "fps": result.fps, "seconds": round(result.seconds, 2),
        "score_ms_per_frame": round(1000 * result.score_seconds / max(1, result.frames), 2),
        "score_cpu_ms_per_frame": round(1000 * result.score_cpu_seconds / max(1, result.frames), 2),
        "realtime_factor": round(result.realtime_factor, 2),
        "cpu_realtime_factor": round(result.frames / max(result.score_cpu_seconds, 1e-9) / result.fps, 2),
    }
    truth = None
    if labels is not None:
        flat = np.asarray(labels).ravel()
        if flat.size < result.frames or not np.isin(flat, (0, 1)).all():
            raise ConfigError(f"--labels: need 0/1 labels for all {result.frames} frames, got {flat.size} values "
                              f"({np.unique(flat)[:5]})")
        truth = flat[: result.frames].astype(np.int64)
        y = truth[index]
        summary["anomalous_frames"] = int(y.sum())
        summary["detection_rate"] = float(alerts[y == 1].mean()) if y.sum() else None
        summary["false_alarm_rate"] = float(alerts[y == 0].mean()) if (y == 0).any() else None
        try:
            summary["clip_auc"] = frame_auc(scores, y) if 0 < y.sum() < y.size else None
        except ImportError:  # scikit-learn is in the bench extra
            summary["clip_auc"] = None
    out = prepare_report_folder(folder, overwrite=overwrite)  # after the labels' check: no empty folder on its error
    lines = "".join(json.dumps(record) + "\n" for record in result.records)
    atomic_write_bytes(out / "scores.jsonl", lines.encode(), overwrite=overwrite)
    with atomic_path(out / "scores.png", overwrite=overwrite) as temp:
        _plot(temp, index, scores, alerts, threshold, truth, source)
    atomic_write_bytes(out / "report.md", _markdown(summary, calibration).encode(), overwrite=overwrite)
    atomic_write_bytes(out / "summary.json", (json.dumps(summary, indent=2) + "\n").encode(), overwrite=overwrite)
    return summary


def labels_for_source(
    labels: np.ndarray, file: str | Path, *, offset: int = 0, frames: int | None = None, max_frames: int | None = None
) -> np.ndarray:
    """The labels of the source's frames, `labels[offset:]`, checked against the source before any frame is scored.

    Args:
        labels: (N,) 0/1 labels (`gansuite.bench.anomaly.load_frame_labels`).
        file: the labels file, for the messages.
        offset: index of the source's first frame in `labels`.
        frames: the source's frame count when known (a frame folder), else None.
        max_frames: the run's frame limit, or None.

    Raises:
        ConfigError: `offset` is past the end of `labels`, or fewer labels remain than the frames to score.
    """
    if offset >= labels.size:
        raise ConfigError(
            f"--labels-offset {offset} is past the end of --labels {file} ({labels.size} values); give the index of "
            f"the source's first frame in that file, below {labels.size}"
        )
    rest = labels[offset:]
    needed = min(n for n in (frames, max_frames) if n is not None) if frames is not None else None
    if needed is not None and rest.size < needed:
        start = f" from --labels-offset {offset}" if offset else ""
        raise ConfigError(
            f"--labels {file}: {rest.size} values{start}, but the source has {needed} frames; give a 0/1 "
            "label for each frame (or a smaller --labels-offset or --max-frames)"
        )
    return rest


def prepare_report_folder(folder: str | Path, *, overwrite: bool = True, create: bool = True) -> Path:
    """Check the report folder before any scoring; create it (and its parents) once found writable.

    Args:
        folder: the report folder.
        overwrite: allow a folder that holds an earlier report (its files are replaced).
        create: make the folder; False only checks it (`output_folder_problem`), so a run that fails
            before its report leaves no empty folder behind.

    Raises:
        OutputError: it names a file, or it cannot be created or written to.
        OutputExistsError: it holds an earlier report's files and `overwrite` is False.
    """
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--report {out}: is a file; give a folder for the report")
    earlier = [name for name in REPORT_FILES if (out / name).exists()] if out.is_dir() and not overwrite else []
    if earlier:
        raise OutputExistsError(
            f"--report {out} already holds a report ({', '.join(earlier)}) of an earlier run: pass --overwrite to "
            "replace it, or choose another folder"
        )
    problem = output_folder_problem(out, option="--report")
    if problem:
        raise OutputError(f"--report: {problem}")
    if create:
        out.mkdir(parents=True, exist_ok=True)
    return out


def _plot(path: Path, index: np.ndarray, scores: np.ndarray, alerts: np.ndarray, threshold: float,
          truth: np.ndarray | None, source: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError(
            "the report's score plot needs matplotlib: pip install 'gansuite[bench]' (or leave out --report)"
        ) from None

    figure, axes = plt.subplots(figsize=(9, 3.2), dpi=110)
    if truth is not None:
        axes.fill_between(np.arange(truth.size), 0, 1, where=truth == 1, transform=axes.get_xaxis_transform(),
                          color="tab:red", alpha=0.15, step="mid", label="ground truth: anomalous")
    axes.plot(index, scores, color="tab:blue", lw=1.2, label="live score")
    axes.axhline(threshold, color="tab:red", ls="--", lw=1, label=f"threshold {threshold:.2f}")
    axes.scatter(index[alerts], scores[alerts], s=6, color="tab:red", zorder=3, label="alert")
    axes.set_xlabel("frame")
    axes.set_ylabel("score (calibration std)")
    axes.set_title(f"anomaly score: {Path(source).name or source}", fontsize=10)
    axes.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _smoothing_words(frames: int) -> str:
    return "no causal mean (each frame on its own)" if frames == 1 else f"{frames}-frame causal mean"


def _markdown(summary: dict[str, Any], calibration: AnomalyCalibration) -> str:
    lines = [
        f"# Anomaly monitor report: {summary['source']}",
        "",
        f"- Model `{summary['model']}`; calibration on {calibration.calibration_data or '?'} "
        f"({calibration.calibration_frames} normal frames), threshold {summary['threshold']:.3f} set for "
        f"{calibration.false_alarm_rate:.1%} false alarms there; score = {' + '.join(calibration.causal.features)} "
        f"(z-scores), {_smoothing_words(calibration.causal.smoothing)}.",
        f"- Frames: {summary['frames']} read, {summary['scored']} scored; {summary['alert_frames']} alerting, "
        f"{len(summary['events'])} alert events.",
        f"- Speed: {summary['score_ms_per_frame']} ms per frame scoring (wall), "
        f"{summary['score_cpu_ms_per_frame']} ms CPU time; source at {summary['fps']:g} fps → real-time factor "
        f"{summary['realtime_factor']} as run, {summary['cpu_realtime_factor']} from CPU time (what an idle core "
        f"would do; > 1 keeps up with the source); whole run {summary['seconds']} s.",
    ]
    if "detection_rate" in summary:
        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1%}"

        auc = summary["clip_auc"]
        lines.append(
            f"- Against the labels: {summary['anomalous_frames']} anomalous scored frames, "
            f"{pct(summary['detection_rate'])} caught; false-alarm rate on normal frames "
            f"{pct(summary['false_alarm_rate'])}; clip AUC {'n/a' if auc is None else f'{auc:.3f}'}."
        )
    lines += ["", "![scores](scores.png)", "", "| Event | Start frame | End frame | Frames | Peak score |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for i, event in enumerate(summary["events"], 1):
        lines.append(f"| {i} | {event['start']} | {event['end']} | {event['frames']} | {event['peak']:.2f} |")
    return "\n".join(lines) + "\n"
