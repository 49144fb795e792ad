"""Frame-level video anomaly detection benchmark (UCSD Ped2), the protocol of Liu et al. (CVPR 2018).

1. Each test clip (one folder of frames per clip, clips in natural order 01, 02, ...) is read
   and resized to the model's working resolution (256x256 for the ``ped2`` model).
2. Every frame t >= k gets the PSNR of its prediction from the k frames before it (peak 1,
   [0, 1] frames, unquantised); the first k frames of each clip are not scored.
3. PSNRs are min-max normalised per clip into a regularity score; anomaly score = 1 - regularity.
4. The scores of all clips are pooled, and the frame-level ROC-AUC and equal error rate are
   computed against the ground truth (``frame_labels_ped2.npy``: shape (1, 2010), 1 =
   anomalous, clips concatenated in order) with the first k labels of every clip dropped, as
   `gansuite.tasks.predict.anomaly.align_frame_labels` documents.

Liu et al. report 95.4% AUC on Ped2 (with an optical-flow loss this head leaves out).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gansuite.bench.manifest import build_manifest, report_json
from gansuite.errors import ConfigError
from gansuite.io.video import iter_video_frames, probe_video
from gansuite.metrics import equal_error_rate, frame_auc
from gansuite.tasks.predict.anomaly import align_frame_labels, anomaly_scores, score_clip
from gansuite.tasks.predict.data import find_clips, resize_frame
from gansuite.tasks.predict.predictor import FramePredictor

__all__ = ["PUBLISHED_PED2_AUC", "AnomalyReport", "load_frame_labels", "run_anomaly_benchmark"]

PUBLISHED_PED2_AUC = 0.954
"""Liu et al. 2018, UCSD Ped2, frame-level AUC."""


@dataclass(frozen=True)
class AnomalyReport:
    """Frame-level scores of one model on a test set.

    Attributes:
        auc: ROC-AUC over the pooled scored frames.
        eer: equal error rate.
        n_frames: frames scored (all frames minus k per clip).
        clips: per clip: name, frames, scored frames, anomalous scored frames, mean PSNR.
        manifest: protocol, versions, device, model hash.
    """

    auc: float
    eer: float
    n_frames: int
    clips: tuple[dict[str, Any], ...]
    manifest: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """``{"auc", "eer", "n_frames", "clips", "manifest"}``."""
        return {"auc": self.auc, "eer": self.eer, "n_frames": self.n_frames, "clips": list(self.clips),
                "manifest": self.manifest}

    def to_json(self, *, indent: int = 2) -> str:
        """The report as JSON text."""
        return report_json(self.to_dict(), indent=indent)

    def to_markdown(self) -> str:
        """The result row, the per-clip table and the protocol."""
        model = self.manifest.get("model_name", "?")
        lines = [
            "| Model | Frames scored | AUC | EER | Liu et al. 2018 AUC |",
            "| --- | ---: | ---: | ---: | ---: |",
            f"| {model} | {self.n_frames} | {self.auc:.4f} | {self.eer:.4f} | {PUBLISHED_PED2_AUC:.3f} |",
            "",
            "| Clip | Frames | Scored | Anomalous (scored) | Mean PSNR (dB) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for clip in self.clips:
            lines.append(
                f"| {clip['name']} | {clip['frames']} | {clip['scored']} | {clip['anomalous']} | "
                f"{clip['mean_psnr']:.2f} |"
            )
        lines += ["", f"Protocol: {self.manifest['protocol']['summary']} Device: {self.manifest.get('device', '?')}."]
        return "\n".join(lines) + "\n"


def load_frame_labels(path: str | os.PathLike[str]) -> np.ndarray:
    """Frame-level labels from a ``.npy`` file (no pickles), flattened to (N,) int64 of 0/1.

    Raises:
        ConfigError: missing or unreadable file, more than one axis longer than 1, or values other than 0 and 1.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"--labels {file} does not exist; give the frame-level labels .npy file")
    try:
        labels = np.load(file, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"--labels {file} is not a plain .npy array ({exc})") from None
    labels = np.asarray(labels)
    if sum(side > 1 for side in labels.shape) > 1:  # (1, N) as Ped2's file is, or (N,); never rows read end to end
        raise ConfigError(
            f"--labels {file} has shape {labels.shape}: expected one label per frame, shape (N,) or (1, N); "
            "save one row of 0/1 values in frame order"
        )
    flat = labels.ravel()
    if not np.isin(flat, (0, 1)).all():
        raise ConfigError(f"--labels {file}: values must be 0 or 1, got {np.unique(flat)[:10]}")
    return flat.astype(np.int64)


def _flat_labels(labels: str | os.PathLike[str] | np.ndarray) -> np.ndarray:
    """The labels file read by `load_frame_labels`, or an array of labels flattened as given."""
    return load_frame_labels(labels) if not isinstance(labels, np.ndarray) else np.asarray(labels).ravel()


def _labels_name(labels: str | os.PathLike[str] | np.ndarray) -> str:
    return "--labels (array)" if isinstance(labels, np.ndarray) else f"--labels {labels}"


def _clip_labels(
    flat: np.ndarray, lengths: Sequence[int], k: int, name: str = "--labels"
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The labels of the scored frames (each clip's first k dropped, `align_frame_labels`): all clips, and per clip.

    Raises:
        ConfigError: the labels do not fit the clips (`align_frame_labels`), or the scored frames'
            labels are all of one class (no ROC); the message starts with `name`.
    """
    try:
        aligned = align_frame_labels(flat, lengths, k)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    if aligned.size and aligned.min() == aligned.max():
        raise ConfigError(
            f"{name}: all {aligned.size} labels of the scored frames are {int(aligned[0])} (the first {k} of each "
            "clip are not scored): frame-level AUC needs normal and anomalous frames; give a test set with both"
        )
    offsets = np.cumsum([0, *[n - k for n in lengths]])
    return aligned, [aligned[offsets[i] : offsets[i + 1]] for i in range(len(lengths))]


def _check_labels_fit(clips: Sequence[Path], flat: np.ndarray, k: int, name: str = "--labels") -> None:
    """Refuse, before any clip is scored, labels that cannot fit frame-folder clips (`_clip_labels`).

    A folder's frames are counted without decoding them; a video file's count is known only once
    it is decoded, so with video clips the same check runs after scoring.
    """
    counts = [probe_video(clip).frame_count if clip.is_dir() else None for clip in clips]
    if clips and all(count is not None for count in counts):
        _clip_labels(flat, [int(count) for count in counts if count is not None], k, name)


def _read_clip(clip: Path, predictor: FramePredictor) -> np.ndarray:
    """(T, h, w, C) float32 frames at the predictor's working size, in the model's channels."""
    frames = []
    size = None
    for frame in iter_video_frames(clip, grayscale=predictor.channels == 1):
        size = size or predictor.working_shape(*frame.shape[:2])
        frames.append(resize_frame(frame, size))
    return np.stack(frames)


def run_anomaly_benchmark(
    frames_dir: str | os.PathLike[str],
    labels: str | os.PathLike[str] | np.ndarray,
    *,
    model: str | os.PathLike[str] | FramePredictor = "ped2",
    device: str = "auto",
    batch_size: int = 8,
    progress: Callable[[str], None] | None = None,
) -> AnomalyReport:
    """Score every test clip under `frames_dir` and compute frame-level AUC and EER.

    Args:
        frames_dir: one folder of frames per test clip (``ped2/testing``), in the labels' order.
        labels: the labels file, or the labels as an array (all clips concatenated).
        model: a shipped name, a gansuite weights/checkpoint file, or a `FramePredictor`.
        device: where the model runs (when `model` is not a `FramePredictor`).
        batch_size: windows per forward pass.
        progress: called with a line per clip.

    Returns:
        The `AnomalyReport`.

    Raises:
        ConfigError: no clips, labels that do not match the clips, or labels of one class only.
        InputVideoError: an unreadable clip.
        CheckpointError: the model cannot be loaded.
    """
    started = time.perf_counter()
    predictor = model if isinstance(model, FramePredictor) else FramePredictor.from_pretrained(
        model, device=device, batch_size=batch_size
    )
    flat = _flat_labels(labels)
    clips = find_clips([frames_dir])
    k = predictor.context_frames
    _check_labels_fit(clips, flat, k, _labels_name(labels))
    psnrs: list[np.ndarray] = []
    lengths: list[int] = []
    sizes: set[tuple[int, int]] = set()
    for clip in clips:
        frames = _read_clip(clip, predictor)
        sizes.add(frames.shape[1:3])
        if frames.shape[0] <= k:
            raise ConfigError(f"{clip}: {frames.shape[0]} frames; scoring needs more than {k}")
        psnrs.append(score_clip(predictor, frames))
        lengths.append(frames.shape[0])
        if progress is not None:
            progress(f"{clip.name}: {frames.shape[0]} frames, mean PSNR {psnrs[-1].mean():.2f} dB")
    aligned, clip_labels = _clip_labels(flat, lengths, k, _labels_name(labels))
    scores = anomaly_scores(psnrs)
    per_clip = tuple(
        {"name": clip.name, "frames": n, "scored": n - k, "anomalous": int(truth.sum()),
         "mean_psnr": float(values.mean())}
        for clip, n, values, truth in zip(clips, lengths, psnrs, clip_labels, strict=True)
    )
    protocol = {
        "summary": (
            f"Liu et al. 2018: PSNR of the prediction of each frame from the {k} before it at "
            f"the model's working size {sorted(sizes)}, min-max normalised per clip, anomaly = 1 - regularity, "
            f"all clips pooled; the first {k} frames of each clip (and their labels) not scored."
        ),
        "context_frames": k,
        "working_size": [list(size) for size in sorted(sizes)],
        "psnr": "10 log10(1 / MSE) on [0, 1] frames, unquantised",
        "normalisation": "per clip min-max",
        "labels": "concatenated over clips in natural folder order; labels[offset + k : offset + length] per clip",
        "seconds": round(time.perf_counter() - started, 1),
    }
    manifest = build_manifest(
        protocol=protocol,
        device=predictor.device,
        seed=0,
        model_files={predictor.name or "model": predictor.source} if predictor.source is not None else None,
        extra={"model_name": predictor.name or "model", "frames_dir": str(Path(frames_dir).resolve()),
               "clips": [c.name for c in clips]},
    )
    return AnomalyReport(
        auc=frame_auc(scores, aligned), eer=equal_error_rate(scores, aligned), n_frames=int(aligned.size),
        clips=per_clip, manifest=manifest,
    )
