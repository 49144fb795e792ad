"""CPU throughput of the shipped upscalers on each inference engine, side by side in one run.

Engines:
  torch-eager          the module as loaded (NCHW, contiguous), ``torch.inference_mode``
  torch-channels-last  weights and input in channels-last (what `Upscaler` does on the CPU)
  torch-compile        ``torch.compile`` (inductor, default mode) of the channels-last module;
                       compile time is reported apart; a failure is recorded, not fatal
  onnxruntime          the model exported by `gansuite export onnx` (opset 17, dynamic axes),
                       CPUExecutionProvider, intra-op threads = the torch thread count

Protocol: one (1, 3, size, size) float32 input (seeded uniform noise), every engine warmed up,
then `repeats` rounds, each timing one forward pass of every engine in turn (interleaved, so a
load change on a shared machine hits all engines alike); the median per engine gives ms per image
and output megapixels per second; "max |Δ|" is the largest difference from torch-eager's output
on that input. The load average before and after is recorded; on a loaded machine the absolute
numbers are low and the ratios are what to read.

Usage (from the repository root)::

    python benchmarks/engines_cpu.py [--size 256] [--repeats 7] [--threads N] [--model NAME ...]
        [--no-compile] [--note TEXT] [--out benchmarks/results/engines_cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ENGINES = ("torch-eager", "torch-channels-last", "torch-compile", "onnxruntime")


def _engines(name: str, threads: int, use_compile: bool, cache: Path) -> dict[str, Any]:
    """Engine name → (callable on a (1, 3, h, w) tensor, setup seconds) or an error string."""
    import torch

    from gansuite.deploy.onnx import OnnxUpscaleModel, cached_onnx_upscaler
    from gansuite.tasks.upscale.upscaler import Upscaler

    model = Upscaler.from_pretrained(name, device="cpu", precision="fp32").model
    eager = model.to(memory_format=torch.contiguous_format)
    last = __import__("copy").deepcopy(eager).to(memory_format=torch.channels_last)
    engines: dict[str, Any] = {
        "torch-eager": (lambda x: eager(x), 0.0),
        "torch-channels-last": (lambda x: last(x.contiguous(memory_format=torch.channels_last)), 0.0),
    }
    if use_compile:
        try:
            compiled = torch.compile(__import__("copy").deepcopy(last))
            started = time.perf_counter()
            with torch.inference_mode():
                compiled(torch.rand(1, 3, 64, 64).contiguous(memory_format=torch.channels_last))
            engines["torch-compile"] = (
                lambda x: compiled(x.contiguous(memory_format=torch.channels_last)), time.perf_counter() - started
            )
        except Exception as exc:  # inductor needs a C++ compiler; record why it is missing
            engines["torch-compile"] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    else:
        engines["torch-compile"] = "skipped (--no-compile)"
    os.environ["GANSUITE_CACHE"] = str(cache)
    started = time.perf_counter()
    runtime = OnnxUpscaleModel(cached_onnx_upscaler(name), threads=threads)
    engines["onnxruntime"] = (runtime, time.perf_counter() - started)
    return engines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="input side in pixels (default 256)")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per engine (default 2)")
    parser.add_argument("--threads", type=int, help="torch and onnxruntime threads (default: torch's default)")
    parser.add_argument("--model", action="append", default=[], help="shipped upscaler (default: all present)")
    parser.add_argument("--no-compile", action="store_true", help="leave torch.compile out")
    parser.add_argument("--note", help="a line recorded with the results, e.g. that the machine was loaded")
    parser.add_argument("--out", type=Path, default=RESULTS / "engines_cpu", help="results path without suffix")
    args = parser.parse_args()

    import torch

    from gansuite.bench.manifest import build_manifest
    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    models = args.model or [name for name in SHIPPED_WEIGHTS if shipped_weights_path(name).is_file()]
    torch.manual_seed(0)
    x = torch.rand(1, 3, args.size, args.size)
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as cache, torch.inference_mode():
        for name in models:
            engines = _engines(name, threads, not args.no_compile, Path(cache))
            runnable = {k: v for k, v in engines.items() if isinstance(v, tuple)}
            reference = runnable["torch-eager"][0](x).float()
            outputs = {}
            for engine, (run, _) in runnable.items():
                for _ in range(args.warmup):
                    outputs[engine] = run(x)
            times: dict[str, list[float]] = {engine: [] for engine in runnable}
            for _ in range(args.repeats):
                for engine, (run, _) in runnable.items():
                    started = time.perf_counter()
                    run(x)
                    times[engine].append(time.perf_counter() - started)
            eager_ms = statistics.median(times["torch-eager"]) * 1000
            scale = reference.shape[-1] // args.size
            for engine in ENGINES:
                value = engines.get(engine)
                if not isinstance(value, tuple):
                    rows.append({"model": name, "engine": engine, "status": value})
                    continue
                ms = statistics.median(times[engine]) * 1000
                rows.append({
                    "model": name, "engine": engine, "status": "ok", "ms_per_image": round(ms, 1),
                    "output_mp_per_s": round((args.size * scale) ** 2 / 1e6 / (ms / 1000), 3),
                    "speedup_vs_eager": round(eager_ms / ms, 2),
                    "max_abs_diff_vs_eager": float((outputs[engine].float() - reference).abs().max()),
                    "setup_s": round(value[1], 1), "runs_ms": [round(t * 1000, 1) for t in times[engine]],
                })
            print(f"{name}: done", file=sys.stderr)
    load_after = os.getloadavg()

    lines = [
        f"CPU engines, {args.size}x{args.size} input, batch 1, float32, {threads} threads, median of "
        f"{args.repeats} interleaved rounds after {args.warmup} warm-ups; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after ({os.cpu_count()} CPUs)"
        + (f"; {args.note}" if args.note else ""),
        "",
        "| Model | Engine | ms / image | output MP/s | vs eager | max abs diff vs eager | setup s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if row["status"] != "ok":
            lines.append(f"| {row['model']} | {row['engine']} | {row['status']} | | | | |")
            continue
        lines.append(
            f"| {row['model']} | {row['engine']} | {row['ms_per_image']:.1f} | {row['output_mp_per_s']:.2f} | "
            f"{row['speedup_vs_eager']:.2f}x | {row['max_abs_diff_vs_eager']:.1e} | {row['setup_s']:.1f} |"
        )
    table = "\n".join(lines) + "\n"
    manifest = build_manifest(
        protocol={
            "input": f"(1, 3, {args.size}, {args.size}) float32 uniform noise, seed 0", "repeats": args.repeats,
            "warmup": args.warmup, "order": "interleaved rounds over the engines", "statistic": "median",
            "threads": threads, "engines": list(ENGINES), "onnx": "opset 17, dynamic batch/height/width",
            "setup_s": "torch.compile: first call on a 64x64 input; onnxruntime: export + session creation",
        },
        device=torch.device("cpu"), seed=0,
        model_files={name: shipped_weights_path(name) for name in models},
        extra={
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "load_average_before": load_before, "load_average_after": load_after, "cpu_count": os.cpu_count(),
            "note": args.note, "onnxruntime": __import__("onnxruntime").__version__,
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(table)
    args.out.with_suffix(".json").write_text(json.dumps({"manifest": manifest, "rows": rows}, indent=2) + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
