"""Moving MNIST 10 → 10 on validation sequences made from the *training* digits, for choosing models.

    python benchmarks/mmnist_validation.py --mnist $GANSUITE_DATA/video/mnist --model mmnist --model NEW.safetensors

The benchmark's test set (`gansuite benchmark predict --mnist`, digits 9000–9999) reports a model;
choosing between models on it would tune to it. This script scores the same 10 → 10 protocol
(autoregressive, MSE/frame = squared error summed over the 64x64 pixels, unquantised [0, 1]
frames) on `--sequences` sequences of training digits 0–8999, sequence i drawn from the seed
(VALIDATION_SEED, i). No training item uses those seeds: training draws its own seeds.
Copy-last-frame is scored beside the models. Prints one line per model; `--json` writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

VALIDATION_SEED = 7777


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", help="folder of the MNIST t10k files (default: $GANSUITE_DATA/video/mnist)")
    parser.add_argument("--model", action="append", required=True, help="shipped name or weights file (repeatable)")
    parser.add_argument("--sequences", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    root = args.mnist or (Path(os.environ.get("GANSUITE_DATA", "")) / "video" / "mnist")

    from gansuite.core.sampling import SeededIndex
    from gansuite.tasks.predict import FramePredictor
    from gansuite.tasks.predict.evaluation import HorizonAccumulator, copy_last_frame
    from gansuite.tasks.predict.moving_mnist import MovingMNIST

    dataset = MovingMNIST(root, split="train", num_frames=20)
    predictors = {name: FramePredictor.from_pretrained(name, device=args.device) for name in args.model}
    scores = HorizonAccumulator(10)  # the benchmark's per-step scores, frame_mse among them
    for start in range(0, args.sequences, args.batch_size):
        indices = range(start, min(start + args.batch_size, args.sequences))
        clips = torch.stack([dataset[SeededIndex(i, VALIDATION_SEED * 100_003 + i)] for i in indices])
        past, target = clips[:, :10], clips[:, 10:]
        scores.add("copy-last", copy_last_frame(past, 10), target)
        for name, predictor in predictors.items():
            scores.add(name, predictor.predict_batch(past, 10), target)
    results = {name: sum(row.frame_mse for row in scores.results(name)) / 10 for name in scores.methods()}
    for name, value in results.items():
        print(f"{name}: MSE/frame {value:.2f} on {args.sequences} validation sequences (training digits)")
    if args.json is not None:
        args.json.write_text(json.dumps({"sequences": args.sequences, "seed": VALIDATION_SEED,
                                         "mse_per_frame": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
