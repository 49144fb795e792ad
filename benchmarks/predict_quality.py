"""Next-frame prediction quality per step ahead: the prediction numbers in the README.

Runs `gansuite benchmark predict` with every shipped predict model of a suite beside the
copy-last-frame baseline, and writes ``benchmarks/results/predict_{suite}.json`` and ``.md``:

- ``mmnist``: the fixed seeded Moving MNIST test set (2000 sequences from test digits), 10 → 10,
  autoregressive; per-frame MSE summed over pixels (OpenSTL's figure), per-pixel MSE, SSIM, PSNR.
- ``natural``: every 8th window of the colour clips in ``video/clips``, 4 → 4, downscaled to a
  short side of 256; PSNR, SSIM, LPIPS(alex) and gradient energy; the GAN model beside its
  MSE-only twin.
- ``natural-unseen``: the same on ``cockatoo.mp4`` alone, the clip the ``natural`` flow models
  never trained on (their honest test); ``natural-seen``: on ``realshort.mp4`` and
  ``newtonscradle.gif``, which they trained on.

Every table also has optical-flow extrapolation (OpenCV DIS between the last two frames, held
constant) beside copy-last-frame. ``--model FILE`` adds models (e.g. a run's weights);
``--name`` changes the output name.

Usage (from the repository root)::

    GANSUITE_DATA=DIR GANSUITE_BACKBONES=DIR python benchmarks/predict_quality.py --suite mmnist|natural
    GANSUITE_DATA=DIR GANSUITE_BACKBONES=DIR python benchmarks/predict_quality.py --suite natural-unseen
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SUITES = {
    "mmnist": ("mmnist", "mmnist-mse"),
    "natural": ("natural", "natural-mse"),
    "natural-unseen": ("natural", "natural-mse"),
    "natural-seen": ("natural", "natural-mse"),
}
CLIPS = {"natural-unseen": ("cockatoo.mp4",), "natural-seen": ("realshort.mp4", "newtonscradle.gif")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=sorted(SUITES), required=True)
    parser.add_argument("--model", action="append", default=None, help="extra models (names or weights files)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--name", help="output name (default predict_<suite>)")
    parser.add_argument("--no-shipped", action="store_true", help="score only the --model models")
    args = parser.parse_args()

    data = os.environ.get("GANSUITE_DATA")
    if not data:
        print("GANSUITE_DATA is unset: point it at the datasets folder (video/mnist, video/clips)", file=sys.stderr)
        return 2
    from gansuite.tasks.predict.pretrained import shipped_weights_path

    shipped = [] if args.no_shipped else [name for name in SUITES[args.suite] if shipped_weights_path(name).is_file()]
    models = shipped + (args.model or [])
    command = [sys.executable, "-m", "gansuite.cli", "benchmark", "predict", "--device", args.device]
    for model in models:
        command += ["--model", model]
    if args.suite == "mmnist":
        command += ["--mnist", str(Path(data) / "video" / "mnist"), "--no-lpips"]
    else:
        clips = [Path(data) / "video" / "clips" / name for name in CLIPS.get(args.suite, ())]
        for clip in clips or [Path(data) / "video" / "clips"]:
            command += ["--clips", str(clip)]
        command += ["--future", "4", "--stride", "8"]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / (args.name or f"predict_{args.suite.replace('-', '_')}")
    command += ["--json", str(out.with_suffix(".json")), "--markdown", str(out.with_suffix(".md"))]
    print("$", " ".join(command), file=sys.stderr)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
