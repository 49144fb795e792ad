"""Next-frame prediction benchmark: per-horizon tables on Moving MNIST and natural clips.

Moving MNIST (Srivastava et al. 2015), the 10 → 10 protocol of OpenSTL (Tan et al., "OpenSTL: A
Comprehensive Benchmark of Spatio-Temporal Predictive Learning", NeurIPS 2023 D&B): each model
sees the first 10 frames and rolls out the next 10. Scored per step ahead on [0, 1] frames,
unquantised: "MSE" as OpenSTL reports it (squared error summed over the 64x64 pixels of a
frame, averaged over frames), per-pixel MSE, SSIM (Wang et al. 2004, 11x11 Gaussian window) and
PSNR (peak 1). The test set is gansuite's fixed set of 2000 sequences of MNIST test digits
9000–9999 (`MovingMNIST`, split "test"), or its first N (`sequences`); OpenSTL's published
figures are on the common 10000-sequence ``mnist_test_seq.npy`` and their SSIM uses another
window, so they are anchors, not a like-for-like comparison.

Natural clips: every window of k + `future` frames (every `stride` frames) of each clip,
downscaled so the short side is at most `max_short_side` (area averaging), scored per step on
8-bit-quantised RGB frames: PSNR, SSIM, LPIPS (alex, v0.1, Zhang et al. 2018) and sharpness
(gradient energy, Mathieu et al. 2016: MSE-trained predictors blur, so their predictions have
less gradient energy than the true frames). k is the largest context among the models.

Every table has two classical baselines: copy-last-frame, and optical-flow extrapolation
(`flow_extrapolation`: OpenCV DIS flow between the last two context frames, "medium" preset,
held constant and warping the last frame forward). Give a GAN model and its MSE-only twin
(``--model natural --model natural-mse``) to see what the adversarial term buys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gansuite.bench._clip_checks import check_clip_lengths
from gansuite.bench.manifest import build_manifest, report_json
from gansuite.errors import ConfigError
from gansuite.io.video import iter_video_frames
from gansuite.metrics import LPIPSMetric, resolve_device
from gansuite.tasks.predict.baselines import flow_extrapolation
from gansuite.tasks.predict.data import find_clips, resize_frame, target_shape
from gansuite.tasks.predict.evaluation import HorizonAccumulator, HorizonMetrics, copy_last_frame, sliding_windows
from gansuite.tasks.predict.moving_mnist import MovingMNIST
from gansuite.tasks.predict.predictor import FramePredictor

__all__ = ["MNIST_ANCHORS", "HorizonRow", "PredictBenchmarkReport", "run_predict_benchmark"]

MNIST_ANCHORS = (
    {"method": "ConvLSTM", "mse": 29.8, "ssim": 0.929},
    {"method": "PredRNN", "mse": 24.0, "ssim": 0.946},
    {"method": "SimVP", "mse": 26.7, "ssim": 0.940},
)
"""OpenSTL's published Moving MNIST 10 → 10 results (MSE per frame summed over pixels, SSIM)."""

BASELINE = "copy-last"
FLOW_BASELINE = "flow-extrapolation"
"""Method name of the optical-flow extrapolation baseline (DIS, medium preset)."""


@dataclass(frozen=True)
class HorizonRow(HorizonMetrics):
    """`HorizonMetrics` of one method on one dataset."""

    dataset: str
    method: str


@dataclass(frozen=True)
class PredictBenchmarkReport:
    """Per-horizon rows of every (dataset, method), with the manifest."""

    manifest: dict[str, Any]
    rows: tuple[HorizonRow, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"manifest": ..., "anchors": ..., "results": [rows]}``."""
        return {"manifest": self.manifest, "anchors": list(MNIST_ANCHORS), "results": [asdict(r) for r in self.rows]}

    def to_json(self, *, indent: int = 2) -> str:
        """The report as JSON text."""
        return report_json(self.to_dict(), indent=indent)

    def mean(self, dataset: str, method: str, field: str) -> float | None:
        """`field` of (dataset, method) averaged over the steps; None when not computed."""
        values = [getattr(r, field) for r in self.rows if r.dataset == dataset and r.method == method]
        return None if not values or values[0] is None else float(np.mean(values))

    def to_markdown(self) -> str:
        """Per dataset: a summary table (means over the steps) and per-step PSNR and SSIM tables."""
        lines: list[str] = []
        datasets = list(dict.fromkeys(r.dataset for r in self.rows))
        for dataset in datasets:
            rows = [r for r in self.rows if r.dataset == dataset]
            methods = list(dict.fromkeys(r.method for r in rows))
            steps = max(r.step for r in rows)
            mnist = dataset == "moving-mnist"
            lines += [f"### {dataset} ({rows[0].count} windows, {steps} steps ahead)", ""]
            if mnist:
                anchors = "; ".join(f"{a['method']} MSE {a['mse']:.1f} / SSIM {a['ssim']:.3f}" for a in MNIST_ANCHORS)
                lines += [f"OpenSTL 10 → 10 anchors (their test set and SSIM window): {anchors}.", ""]
            lines += [
                "| Method | MSE/frame | MSE/pixel | PSNR (dB) | SSIM | LPIPS | sharpness (target) |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            ]
            for method in methods:
                m = {f: self.mean(dataset, method, f) for f in asdict(rows[0]) if f not in ("dataset", "method")}
                lpips = "n/a" if m["lpips"] is None else f"{m['lpips']:.4f}"
                lines.append(
                    f"| {method} | {m['frame_mse']:.2f} | {m['mse']:.5f} | {m['psnr']:.2f} | {m['ssim']:.4f} | "
                    f"{lpips} | {m['sharpness']:.5f} ({m['target_sharpness']:.5f}) |"
                )
            per_step = [("psnr", 2), ("ssim", 4)] + ([("lpips", 4)] if rows[0].lpips is not None else [])
            for field, digits in per_step:
                lines += ["", f"{field.upper()} per step ahead:", ""]
                lines.append("| Method | " + " | ".join(f"t+{t}" for t in range(1, steps + 1)) + " |")
                lines.append("| --- |" + " ---: |" * steps)
                for method in methods:
                    values = [getattr(r, field) for r in rows if r.method == method]
                    lines.append(f"| {method} | " + " | ".join(f"{v:.{digits}f}" for v in values) + " |")
            lines.append("")
        protocol = self.manifest.get("protocol", {})
        lines.append(f"Protocol: {protocol.get('summary', '')} Device: {self.manifest.get('device', '?')}.")
        return "\n".join(lines) + "\n"


def _rows(dataset: str, scores: HorizonAccumulator) -> list[HorizonRow]:
    rows = []
    for method in scores.methods():
        metrics: list[HorizonMetrics] = scores.results(method)
        rows += [HorizonRow(dataset=dataset, method=method, **asdict(m)) for m in metrics]
    return rows


POOLED = "all clips"
"""Dataset name of the rows pooled over every clip (each window weighs the same)."""


def _pooled(rows: Sequence[HorizonRow]) -> list[HorizonRow]:
    """Window-weighted means of per-clip rows, per (method, step), named `POOLED`."""
    groups: dict[tuple[str, int], list[HorizonRow]] = {}
    for row in rows:
        groups.setdefault((row.method, row.step), []).append(row)
    pooled = []
    for (method, step), group in groups.items():
        total = sum(r.count for r in group)

        def mean(field: str, group: list[HorizonRow] = group, total: int = total) -> float:
            return sum(getattr(r, field) * r.count for r in group) / total

        pooled.append(HorizonRow(
            dataset=POOLED, method=method, step=step, count=total, psnr=mean("psnr"), ssim=mean("ssim"),
            mse=mean("mse"), frame_mse=mean("frame_mse"),
            lpips=None if any(r.lpips is None for r in group) else mean("lpips"),
            sharpness=mean("sharpness"), target_sharpness=mean("target_sharpness"),
        ))
    return pooled


def _score_batch(
    predictors: dict[str, FramePredictor], clips: torch.Tensor, context: int, scores: HorizonAccumulator
) -> None:
    """clips: (N, context + steps, C, H, W); every method predicts the last `steps` frames."""
    steps = clips.shape[1] - context
    past, target = clips[:, :context], clips[:, context:]
    scores.add(BASELINE, copy_last_frame(past, steps), target)
    scores.add(FLOW_BASELINE, flow_extrapolation(past, steps), target)
    for name, predictor in predictors.items():
        scores.add(name, predictor.predict_batch(past, steps), target)


def _moving_mnist(
    predictors: dict[str, FramePredictor], root: Path, sequences: int, batch_size: int,
    progress: Callable[[str], None] | None,
) -> list[HorizonRow]:
    dataset = MovingMNIST(root, split="test", sequences=sequences, num_frames=20)
    scores = HorizonAccumulator(10)
    for start in range(0, len(dataset), batch_size):
        clips = torch.stack([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
        _score_batch(predictors, clips, 10, scores)
        if progress is not None:
            progress(f"moving-mnist: {min(start + batch_size, len(dataset))}/{len(dataset)} sequences")
    return _rows("moving-mnist", scores)


def _clip_frames(path: Path, max_short_side: int | None) -> Iterable[np.ndarray]:
    size = None
    for frame in iter_video_frames(path):
        size = size or target_shape(*frame.shape[:2], max_short_side=max_short_side)
        yield resize_frame(frame, size)


def _clips(
    predictors: dict[str, FramePredictor], sources: Sequence[str | os.PathLike[str]], *, context: int, future: int,
    stride: int, max_short_side: int | None, batch_size: int, lpips: LPIPSMetric | None,
    progress: Callable[[str], None] | None,
) -> list[HorizonRow]:
    rows: list[HorizonRow] = []
    for clip in find_clips(sources):
        scores = HorizonAccumulator(future, lpips=lpips, quantize=True)
        pending: list[np.ndarray] = []
        windows = sliding_windows(_clip_frames(clip, max_short_side), length=context + future, stride=stride)
        for _, window in windows:
            pending.append(window)
            if len(pending) == batch_size:
                _score_batch(predictors, torch.from_numpy(np.stack(pending).transpose(0, 1, 4, 2, 3).copy()),
                             context, scores)
                pending.clear()
        if pending:
            _score_batch(predictors, torch.from_numpy(np.stack(pending).transpose(0, 1, 4, 2, 3).copy()),
                         context, scores)
        if not scores.methods():
            raise ConfigError(f"--clips {clip}: fewer than {context + future} frames; lower --future or drop the clip")
        rows += _rows(clip.stem if clip.is_file() else clip.name, scores)
        if progress is not None:
            progress(f"{clip.name}: {scores.results(BASELINE)[0].count} windows")
    return rows + _pooled(rows) if len({r.dataset for r in rows}) > 1 else rows


def run_predict_benchmark(
    models: Sequence[str | os.PathLike[str]],
    *,
    mnist: str | os.PathLike[str] | None = None,
    clips: Sequence[str | os.PathLike[str]] = (),
    sequences: int = 2000,
    future: int = 4,
    stride: int = 8,
    max_short_side: int | None = 256,
    device: str | torch.device = "auto",
    lpips: LPIPSMetric | None = None,
    batch_size: int = 16,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> PredictBenchmarkReport:
    """Score next-frame models and copy-last-frame per step ahead (see the module docstring).

    Args:
        models: shipped names or gansuite weights/checkpoint files (may be empty: baseline only).
        mnist: folder of the MNIST IDX files for the Moving-MNIST table, or None.
        clips: video files, frame folders or folders of clips for the natural-clip tables.
        sequences: how many of the 2000 fixed test sequences to score.
        future: steps ahead on clips.
        stride: frames between window starts on clips.
        max_short_side: downscale clips to this short side at most (None: native size).
        device: where the models run.
        lpips: an `LPIPSMetric` for the clip tables, or None.
        batch_size: windows per forward pass.
        seed: torch seed set before the run, recorded in the manifest.
        progress: called with a short line as work is done.

    Returns:
        The `PredictBenchmarkReport`.

    Raises:
        ConfigError: nothing to score, duplicate model names, bad options or unusable data.
        CheckpointError: a model cannot be loaded.
    """
    if mnist is None and not clips:
        raise ConfigError("give --mnist DIR and/or --clips PATH: there is nothing to benchmark")
    if future < 1 or stride < 1 or batch_size < 1:
        raise ConfigError(f"--future, --stride and batch size must be >= 1; got {future}, {stride}, {batch_size}")
    torch_device = resolve_device(device)
    torch.manual_seed(seed)
    predictors: dict[str, FramePredictor] = {}
    for spec in models:
        predictor = FramePredictor.from_pretrained(spec, device=torch_device, batch_size=batch_size)
        if predictor.name in predictors or predictor.name in (BASELINE, FLOW_BASELINE):
            raise ConfigError(f"--model: two models are named {predictor.name!r}; rename one of the files")
        predictors[predictor.name] = predictor
    rows: list[HorizonRow] = []
    context = max([p.context_frames for p in predictors.values()], default=4)
    if clips:  # a clip too short for one window is refused before anything is scored
        longest = max(predictors.values(), key=lambda p: p.context_frames, default=None)
        whose = f" (--model {longest.name}'s)" if longest is not None else ""
        check_clip_lengths(
            find_clips(clips), context + future, "--clips", f"a window of {context} context{whose} + {future} future "
            "frames", "lower --future or drop the clip",
        )
    if mnist is not None:
        too_long = [name for name, p in predictors.items() if p.context_frames > 10]
        if too_long:
            raise ConfigError(f"--model {too_long}: Moving MNIST gives 10 context frames, these models need more")
        rows += _moving_mnist(predictors, Path(mnist), sequences, batch_size, progress)
    if clips:
        rows += _clips(
            predictors, clips, context=context, future=future, stride=stride, max_short_side=max_short_side,
            batch_size=batch_size, lpips=lpips, progress=progress,
        )
    lpips_text = "LPIPS alex v0.1 on clips" if lpips is not None else "LPIPS skipped"
    protocol = {
        "summary": (
            "Moving MNIST 10 → 10 on gansuite's fixed test sequences (digits 9000–9999), unquantised [0, 1] frames, "
            "MSE/frame = squared error summed over pixels (OpenSTL); clips: windows of "
            f"{context} + {future} frames every {stride}, short side <= {max_short_side}, 8-bit RGB, {lpips_text}; "
            "PSNR peak 1 (each frame's capped at 100 dB), SSIM 11x11 Gaussian sigma 1.5; "
            "copy-last = last context frame repeated; flow-extrapolation = OpenCV DIS (medium) flow from the last "
            "context frame to the one before, held constant, the last frame sampled at x + h·flow for step h."
        ),
        "mnist": None if mnist is None else {"sequences": sequences, "context": 10, "future": 10, "quantized": False},
        "clips": None if not clips else {
            "context": context, "future": future, "stride": stride, "max_short_side": max_short_side,
            "resize": "area averaging (cv2.INTER_AREA)", "quantized": True,
        },
        "lpips": None if lpips is None else {"net": "alex", "version": "0.1", "backbone": lpips.backbone_source},
        "anchors": "OpenSTL (Tan et al. 2023) Moving MNIST 10 → 10: " + json.dumps(list(MNIST_ANCHORS)),
    }
    manifest = build_manifest(
        protocol=protocol,
        device=torch_device,
        seed=seed,
        model_files={name: p.source for name, p in predictors.items() if p.source is not None},
        extra={"mnist": None if mnist is None else str(Path(mnist).resolve()),
               "clips": [str(Path(c).resolve()) for c in clips]},
    )
    return PredictBenchmarkReport(manifest=manifest, rows=tuple(rows))
