"""Frame-level anomaly detection on UCSD Ped2 with the shipped ``ped2`` model (Liu et al. 2018).

Runs `gansuite benchmark anomaly` on ``video/ped2/testing`` with the frame labels
``video/ped2/labels/frame_labels_ped2.npy`` and writes ``benchmarks/results/anomaly_ped2.json``
and ``.md``. Protocol: per-frame PSNR of the next-frame prediction from the 4 frames before it,
regularity = per-clip min-max normalised PSNR, anomaly score = 1 - regularity, ROC-AUC and EER
over all test frames pooled; the first 4 frames of each clip have no prediction and are left out
(labels are aligned by frame index within each clip).

Usage (from the repository root)::

    GANSUITE_DATA=DIR python benchmarks/ped2_anomaly.py [--model ped2|FILE]
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
    parser.add_argument("--name", default="anomaly_ped2", help="results file stem")
    args = parser.parse_args()

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
    print("$", " ".join(command), file=sys.stderr)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
