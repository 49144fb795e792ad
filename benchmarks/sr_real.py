"""Super-resolution on real-looking inputs: the README's real-photo table.

Runs `gansuite benchmark sr --degradation real` (a fixed, seeded blur + sensor noise + JPEG q60
degradation of the HR test images; its parameters are in the manifest) for bicubic, every shipped
x4 gansuite model, and the peers under ``$GANSUITE_BACKBONES/peers`` (Real-ESRGAN x4plus and
animevideov3, through spandrel) in one run, and writes ``benchmarks/results/sr_real_x4.json``
and ``.md``: PSNR-Y, SSIM-Y, LPIPS, JPEG-grid strength and CPU seconds per output megapixel.

Usage (from the repository root)::

    GANSUITE_DATA=DIR GANSUITE_BACKBONES=DIR python benchmarks/sr_real.py [--method FILE ...] [--threads N]
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
    parser.add_argument("--method", action="append", default=None, help="extra methods (weights files)")
    parser.add_argument("--no-peers", action="store_true", help="leave out the peers (x4plus is slow on a CPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--name", default="sr_real_x4", help="results file stem")
    args = parser.parse_args()

    data = os.environ.get("GANSUITE_DATA")
    if not data:
        print("GANSUITE_DATA is unset: point it at the datasets folder (sr/Set5/HR, sr/Set14/HR)", file=sys.stderr)
        return 2
    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

    methods = ["bicubic"]
    methods += [n for n in SHIPPED_WEIGHTS if n.startswith("x4") and shipped_weights_path(n).is_file()]
    peers = Path(os.environ.get("GANSUITE_BACKBONES", "")) / "peers"
    if peers.is_dir() and not args.no_peers:
        methods += [str(p) for p in sorted(peers.glob("*x4*.safetensors"))]
    methods += args.method or []

    RESULTS.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "gansuite.cli", "benchmark", "sr", "--scale", "4", "--degradation", "real"]
    command += ["--device", args.device]
    for method in methods:
        command += ["--method", method]
    for name in ("Set5", "Set14"):
        command += ["--dataset", f"{name}={Path(data) / 'sr' / name / 'HR'}"]
    command += ["--json", str(RESULTS / f"{args.name}.json"), "--markdown", str(RESULTS / f"{args.name}.md")]
    print("$", " ".join(command), file=sys.stderr)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
