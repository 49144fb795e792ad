"""Super-resolution quality on Set5/Set14 with the papers' protocol: the numbers in the README.

Runs `gansuite benchmark sr` for bicubic, every shipped gansuite model of the scale, and the
peer models found under ``$GANSUITE_BACKBONES/peers`` (run through spandrel, same protocol), and
writes ``benchmarks/results/sr_x{scale}.json`` and ``.md``.

Usage (from the repository root)::

    GANSUITE_DATA=DIR GANSUITE_BACKBONES=DIR python benchmarks/sr_quality.py --scale 4 [--method ...]

``GANSUITE_DATA`` holds ``sr/Set5/HR`` and ``sr/Set14/HR``; LR inputs are made from the HR images
by the MATLAB-compatible bicubic downscaler, or with ``--degradation real`` by the benchmark's
fixed real-looking degradation (``benchmarks/sr_real.py``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=4, choices=(2, 4))
    parser.add_argument("--method", action="append", default=None, help="extra methods (default: the set above)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--degradation", choices=("bicubic", "real"), default="bicubic",
                        help="LR by MATLAB bicubic (the papers' protocol) or the fixed real-looking degradation")
    parser.add_argument("--no-peers", action="store_true", help="leave out the peers (x4plus is slow on a CPU)")
    parser.add_argument("--name", help="results file stem (default sr_x{scale}, or sr_real_x{scale})")
    args = parser.parse_args(argv)

    data = os.environ.get("GANSUITE_DATA")
    if not data:
        print("GANSUITE_DATA is unset: point it at the datasets folder (sr/Set5/HR, sr/Set14/HR)", file=sys.stderr)
        return 2
    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

    methods = ["bicubic"]
    for name in SHIPPED_WEIGHTS:
        if name.startswith(f"x{args.scale}") and shipped_weights_path(name).is_file():
            methods.append(name)
    peers = Path(os.environ.get("GANSUITE_BACKBONES", "")) / "peers"
    if args.scale == 4 and peers.is_dir() and not args.no_peers:
        methods += [str(p) for p in sorted(peers.glob("*x4*.safetensors"))]
    methods += args.method or []

    RESULTS.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "gansuite.cli", "benchmark", "sr", "--scale", str(args.scale)]
    command += ["--device", args.device, "--degradation", args.degradation]
    stem = args.name or (f"sr_real_x{args.scale}" if args.degradation == "real" else f"sr_x{args.scale}")
    for method in methods:
        command += ["--method", method]
    for name in ("Set5", "Set14"):
        command += ["--dataset", f"{name}={Path(data) / 'sr' / name / 'HR'}"]
    command += ["--json", str(RESULTS / f"{stem}.json"), "--markdown", str(RESULTS / f"{stem}.md")]
    print("$", " ".join(command), file=sys.stderr)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
