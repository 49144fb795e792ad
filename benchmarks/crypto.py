"""Adversarial neural cryptography over seeds: Bob's and Eve's errors in bits, success rate.

    OMP_NUM_THREADS=1 python benchmarks/crypto.py --seeds 10 --out benchmarks/results/crypto

Each finished seed is appended to `<out>.jsonl` at once (seeds can be split over processes with
`--first-seed`); `--summarize` (or the end of a run) turns the lines into `<out>.json` and a
table `<out>.md`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from gansuite.apps.crypto import (
    DEFAULT_ACTIVATION,
    DEFAULT_SCHEDULE,
    DEFAULT_STEPS,
    SUCCESS_BOB_BITS,
    SUCCESS_EVE_BITS,
    CryptoResult,
    CryptoRun,
    train_crypto,
)


def summarize(out: Path, command: str, fresh_eve_steps: int = 1000) -> str:
    runs = {}
    for line in out.with_suffix(".jsonl").read_text().splitlines():
        record = json.loads(line)
        runs[record["seed"]] = CryptoRun(**{k: record[k] for k in CryptoRun.__dataclass_fields__ if k in record})
    result = CryptoResult(bits=16, runs=[runs[s] for s in sorted(runs)])
    report = {
        **result.as_dict(),
        "criterion": f"Bob < {SUCCESS_BOB_BITS} and Eve > {SUCCESS_EVE_BITS} bits wrong (of {result.bits})",
        "eve": "the stronger of the Eve trained alongside and a fresh Eve trained against the frozen Alice",
        "recipe": {"activation": DEFAULT_ACTIVATION, "adversarial_weight": "bits / 2 = 8",
                   "schedule": DEFAULT_SCHEDULE, "batch_size": 256, "learning_rate": 2e-3,
                   "fresh_eve_steps": fresh_eve_steps},
        "command": command,
        "torch": torch.__version__,
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["| seed | Bob bits wrong | Eve bits wrong (trained Eve / fresh Eve) | success | seconds (wall / CPU) |",
             "| --- | --- | --- | --- | --- |"]
    for run in result.runs:
        lines.append(f"| {run.seed} | {run.bob_bits_wrong:.3f} | {run.eve_bits_wrong:.2f} "
                     f"({run.trained_eve_bits_wrong:.2f} / {run.fresh_eve_bits_wrong:.2f}) | "
                     f"{'yes' if run.success else 'no'} | {run.seconds:.0f} / {run.cpu_seconds:.0f} |")
    lines.append(f"\nSuccess (Bob < {SUCCESS_BOB_BITS}, Eve > {SUCCESS_EVE_BITS}) in {result.success_rate:.0%} of "
                 f"{len(result.runs)} seeds; `{command}`.")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--fresh-eve-steps", type=int, default=1000,
                        help="steps of the fresh Eve attacking each frozen Alice (the demo's default: 1000)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/crypto"))
    parser.add_argument("--summarize", action="store_true", help="only rebuild the table from <out>.jsonl")
    parser.add_argument("--note", default="", help="how the runs were made (e.g. the commands of split runs)")
    args = parser.parse_args()
    argv = [arg for arg in sys.argv if arg not in ("--note", args.note)]
    command = "python " + " ".join(argv) + (f" ({args.note})" if args.note else "")
    if not args.summarize:
        torch.set_num_threads(1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            started = time.perf_counter()
            run, _ = train_crypto(steps=args.steps, fresh_eve_steps=args.fresh_eve_steps, seed=seed)
            with args.out.with_suffix(".jsonl").open("a") as handle:
                handle.write(json.dumps({**asdict(run), "wall_seconds": time.perf_counter() - started}) + "\n")
            print(run, flush=True)
    print(summarize(args.out, command, args.fresh_eve_steps))


if __name__ == "__main__":
    main()
