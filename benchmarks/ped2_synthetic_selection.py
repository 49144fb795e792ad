"""Ped2 causal anomaly scoring with its settings chosen without test labels (synthetic anomalies).

Runs the protocol of `gansuite.bench.anomaly_selection` with the shipped ``ped2`` predictor:
the scoring settings (features patch PSNR / motion / both, patch 16/32/64 px, top-1/top-4,
causal mean over 1/5/10/20 frames: 60 candidates) are compared on Ped2's 16 *training* clips
only, two folds (clips 01, 03, ..., 15 / 02, 04, ..., 16): calibrated on one fold's clean clips,
validated on the other fold's clips with seeded synthetic anomalies pasted in (rigid textured
objects moving 2.5-6 px/frame, i.e. 1.5-4x walking speed). The best candidate by mean
validation micro AUC is then recalibrated on all 16 training clips and scored on the 12 test
clips once. Writes ``benchmarks/results/anomaly_ped2_synthetic_selection.json`` / ``.md``.

``--protocol offline`` chooses an *offline* setting instead (`gansuite.bench.anomaly_offline`:
the same grid without causal smoothing, plus a centred mean over 1/5/9/17/33 frames, each clip
min-max normalised as in Liu et al. 2018) and writes ``anomaly_ped2_offline_selection.json`` / ``.md``.

``--select-only`` stops before the test set (prints the validation table, writes nothing);
``--seed`` and ``--duration`` vary the synthetic anomalies for a sensitivity check.
``--cache DIR`` keeps per-clip evidence, so a rerun skips the network.
``--test-time-flip`` averages each prediction with the mirrored prediction of the mirrored frames
(a variant measured with ``--select-only``; not the monitor's setting). Give it its own ``--cache``.

Usage (from the repository root)::

    GANSUITE_DATA=DIR OMP_NUM_THREADS=1 python benchmarks/ped2_synthetic_selection.py --cache DIR [--select-only]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

from gansuite.bench.anomaly_offline import OfflineSelectionReport, run_offline_selection_benchmark
from gansuite.bench.anomaly_selection import SelectionReport, run_synthetic_selection_benchmark, select_on_synthetic
from gansuite.tasks.predict.predictor import FramePredictor
from gansuite.tasks.predict.synthetic_anomalies import SyntheticAnomalyConfig

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="ped2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0, help="synthetic-anomaly seed")
    parser.add_argument("--cache", default=None, help="folder caching per-clip evidence")
    parser.add_argument("--name", default=None, help="results file stem (default by protocol)")
    parser.add_argument("--protocol", choices=("causal", "offline"), default="causal",
                        help="choose a causal calibrated setting (default) or an offline one")
    parser.add_argument("--select-only", action="store_true", help="stop before the test set")
    parser.add_argument("--test-time-flip", action="store_true",
                        help="average each prediction with the mirrored one (use its own --cache)")
    parser.add_argument("--duration", type=int, nargs=2, default=None, metavar=("MIN", "MAX"),
                        help="synthetic event length in frames (default 15 45)")
    args = parser.parse_args()

    data = os.environ.get("GANSUITE_DATA")
    if not data:
        print("GANSUITE_DATA is unset: point it at the datasets folder (video/ped2)", file=sys.stderr)
        return 2
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    ped2 = Path(data) / "video" / "ped2"
    predictor = FramePredictor.from_pretrained(args.model, device=args.device, batch_size=8)
    if args.test_time_flip:
        _flip_average(predictor)
    progress = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    synthetic = SyntheticAnomalyConfig(**({"duration": tuple(args.duration)} if args.duration else {}))
    if args.protocol == "offline":
        if args.select_only:
            print("--select-only is for --protocol causal", file=sys.stderr)
            return 2
        report = run_offline_selection_benchmark(
            ped2 / "testing", ped2 / "labels" / "frame_labels_ped2.npy", ped2 / "training", model=predictor,
            synthetic=synthetic, seed=args.seed, cache_dir=args.cache, progress=progress,
        )
        return _write(report, args.name or "anomaly_ped2_offline_selection")
    if args.select_only:
        result = select_on_synthetic(predictor, ped2 / "training", synthetic=synthetic, seed=args.seed,
                                     cache_dir=args.cache, progress=progress)
        for row in sorted(result.rows, key=lambda r: -r["validation_auc"]):
            folds = " ".join(f"{a:.4f}" for a in row["validation_auc_folds"])
            print(f"{row['validation_auc']:.4f} ({folds}) {row['name']}{' *' if row['monitor_default'] else ''}")
        print(f"chosen: {result.rows[result.chosen]['name']}")
        return 0
    report = run_synthetic_selection_benchmark(
        ped2 / "testing", ped2 / "labels" / "frame_labels_ped2.npy", ped2 / "training", model=predictor,
        synthetic=synthetic, seed=args.seed, cache_dir=args.cache, progress=progress,
    )
    return _write(report, args.name or "anomaly_ped2_synthetic_selection")


def _flip_average(predictor: FramePredictor) -> None:
    """Make `predictor.predict_batch` return the mean of the plain and the mirrored prediction."""
    plain = predictor.predict_batch

    def predict_batch(context: torch.Tensor, future: int = 1) -> torch.Tensor:
        return (plain(context, future) + plain(context.flip(-1), future).flip(-1)) / 2

    predictor.predict_batch = predict_batch  # type: ignore[method-assign]


def _write(report: SelectionReport | OfflineSelectionReport, name: str) -> int:
    report.manifest["command"] = ("GANSUITE_DATA=DIR OMP_NUM_THREADS=1 python benchmarks/ped2_synthetic_selection.py "
                                  + " ".join(sys.argv[1:]))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / name
    out.with_suffix(".json").write_text(report.to_json())
    out.with_suffix(".md").write_text(report.to_markdown())
    print(report.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
