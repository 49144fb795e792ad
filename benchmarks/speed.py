"""Inference and training speed of the upscale models: the speed tables in the README.

Runs ``gansuite benchmark speed`` once per device (the CPU, and CUDA when present) and writes
``benchmarks/results/speed_{device}.json`` and ``.md``. The models are the shipped ones present
in ``gansuite/weights``; without any, the generator architectures of the x4-psnr and x2-psnr
recipes with random weights (same speed). Options after ``--`` go to the command unchanged.

Usage (from the repository root)::

    python benchmarks/speed.py [--device cpu|cuda] [--arch SPEC ...] [--model NAME|FILE ...]
        [--note "loaded machine"] [-- --precision fp32,bf16 --size 512 ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
RECIPES = ("x4-psnr", "x2-psnr")


def _recipe_arch(name: str) -> str:
    """``--arch`` text of a recipe's generator, e.g. compact:scale=4,channels=48,..."""
    from gansuite.tasks.upscale.recipes import get_recipe

    spec = get_recipe(name).generator
    return f"{spec.name}:" + ",".join(f"{key}={value}" for key, value in spec.kwargs.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", action="append", choices=("cpu", "cuda"),
                        help="device to measure (repeatable; default: cpu, and cuda when present)")
    parser.add_argument("--model", action="append", default=[], help="shipped name or gansuite .safetensors file")
    parser.add_argument("--arch", action="append", default=[], help="NAME[:k=v,...] generator with random weights")
    parser.add_argument("--note", help="a line recorded with the results, e.g. that the machine was loaded")
    parser.add_argument("extra", nargs="*", help="further `gansuite benchmark speed` options, after --")
    args = parser.parse_args()

    import torch

    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

    models, archs = list(args.model), list(args.arch)
    if not models and not archs:
        models = [name for name in SHIPPED_WEIGHTS if shipped_weights_path(name).is_file()]
        archs = [] if models else [_recipe_arch(name) for name in RECIPES]
    devices = args.device or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    RESULTS.mkdir(exist_ok=True)
    code = 0
    for device in devices:
        command = [sys.executable, "-m", "gansuite.cli", "benchmark", "speed", "--device", device]
        for model in models:
            command += ["--model", model]
        for arch in archs:
            command += ["--arch", arch]
        if args.note:
            command += ["--note", args.note]
        command += [*args.extra, "--json", str(RESULTS / f"speed_{device}.json")]
        command += ["--markdown", str(RESULTS / f"speed_{device}.md")]
        print("$", " ".join(command), file=sys.stderr)
        code = code or subprocess.call(command)
    return code


if __name__ == "__main__":
    sys.exit(main())
