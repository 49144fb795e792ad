"""Frame-level anomaly detection on UCSD Ped2 with the shipped ``ped2`` model (Liu et al. 2018).

Runs `gansuite benchmark anomaly` on ``video/ped2/testing`` with the frame labels
``video/ped2/labels/frame_labels_ped2.npy`` and writes ``benchmarks/results/anomaly_ped2.json``
and ``.md``. Protocol: per-frame PSNR of the next-frame prediction from the 4 frames before it,
regularity = per-clip min-max normalised PSNR, anomaly score = 1 - regularity, ROC-AUC and EER
over all test frames pooled; the first 4 frames of each clip have no prediction and are left out
(labels are aligned by frame index within each clip).

With ``--causal`` it runs the side-by-side comparison instead: the same test clips scored with
Liu et al.'s offline per-clip normalisation and with the causal calibrated protocol (normalisation
and a 1% false-alarm threshold fixed on the 16 *training* clips, scores from the past only), for
whole-frame PSNR and the localised scores (worst-patch PSNR, fastest-patch optical flow), writing
``benchmarks/results/anomaly_ped2_causal.json`` / ``.md`` and the calibration JSON
``anomaly_ped2_calibration.json``. ``--cache DIR`` keeps the per-clip evidence, so a rerun skips
the network.

Usage (from the repository root)::

    GANSUITE_DATA=DIR python benchmarks/ped2_anomaly.py [--model ped2|FILE]
    GANSUITE_DATA=DIR python benchmarks/ped2_anomaly.py --causal [--cache DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="ped2")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--name", default=None, help="results file stem")
    parser.add_argument("--causal", action="store_true", help="offline vs causal calibrated, side by side")
    parser.add_argument("--cache", default=None, help="with --causal: folder caching per-clip evidence")
    args = parser.parse_args()
    args.name = args.name or ("anomaly_ped2_causal" if args.causal else "anomaly_ped2")

    data = os.environ.get("GANSUITE_DATA")
    if not data:
        print("GANSUITE_DATA is unset: point it at the datasets folder (video/ped2)", file=sys.stderr)
        return 2
    ped2 = Path(data) / "video" / "ped2"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / args.name
    command = [
        sys.executable, "-m", "gansuite.cli", "benchmark", "anomaly", "--frames", str(ped2 / "testing"),
        "--labels", str(ped2 / "labels" / "frame_labels_ped2.npy"), "--model", args.model,
        "--device", args.device, "--json", str(out.with_suffix(".json")), "--markdown", str(out.with_suffix(".md")),
    ]
    if args.causal:
        command += ["--calibration-frames", str(ped2 / "training"), "--false-alarm-rate", "0.01",
                    "--calibration-out", str(RESULTS / "anomaly_ped2_calibration.json")]
        command += ["--cache", args.cache] if args.cache else []
    print("$", " ".join(command), file=sys.stderr)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
