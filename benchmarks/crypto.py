"""Adversarial neural cryptography over seeds: Bob's and Eve's errors in bits, success rate.

    OMP_NUM_THREADS=1 python benchmarks/crypto.py --seeds 10 --out benchmarks/results/crypto

Writes `<out>.json` (every seed) and `<out>.md` (a table), with the command and timings.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from apps.crypto import SUCCESS_BOB_BITS, SUCCESS_EVE_BITS, run_crypto_demo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/crypto"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    result = run_crypto_demo(seeds=args.seeds, steps=args.steps)
    report = {
        **result.as_dict(),
        "criterion": f"Bob < {SUCCESS_BOB_BITS} and Eve > {SUCCESS_EVE_BITS} bits wrong (of {result.bits})",
        "command": "python " + " ".join(sys.argv),
        "seconds": round(time.perf_counter() - started, 1),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["| seed | Bob bits wrong | Eve bits wrong (trained Eve / fresh Eve) | success | seconds |",
             "| --- | --- | --- | --- | --- |"]
    for run in result.runs:
        lines.append(f"| {run.seed} | {run.bob_bits_wrong:.3f} | {run.eve_bits_wrong:.2f} "
                     f"({run.trained_eve_bits_wrong:.2f} / {run.fresh_eve_bits_wrong:.2f}) | "
                     f"{'yes' if run.success else 'no'} | {run.seconds:.0f} |")
    lines.append(f"\nSuccess rate {result.success_rate:.0%} of {len(result.runs)} seeds; "
                 f"`{report['command']}`, {report['seconds']} s.")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
