"""The Python parts of `benchmarks/gpu_check.sh`: training speed per precision, resume on CUDA, the report.

    python benchmarks/gpu_check.py training-speed --json OUT.json [--dry-run]
    python benchmarks/gpu_check.py resume --json OUT.json [--dry-run]
    python benchmarks/gpu_check.py report --work DIR --out docs/GPU.md [--dry-run]

- training-speed: `Trainer.train_step` of the x4-psnr recipe (compact generator, L1) and of the
  x4-gan recipe (compact generator + U-Net discriminator, BCE weight 0.1, L1, plus the VGG
  perceptual loss when ``GANSUITE_BACKBONES`` holds VGG16 weights) at the recipes' batch size and
  patch and at 8x that batch, and of the x4-gan-rrdb recipe (RRDB generator) at its own; random
  data, in fp32, fp16 (autocast + GradScaler) and bf16 (autocast): 3 untimed steps, then the median
  of 10 timed ones (CUDA synchronised around each), peak memory, and how many steps the non-finite
  guard skipped.
- resume: three `gansuite train upscale --recipe x4-psnr` runs on synthetic images in fresh
  processes, on CUDA with deterministic algorithms: 12 steps straight, and 6 + 6 with a resume
  in between. The resumed run must give the straight run's weights (max |difference| reported).
- report: writes the results, the date, GPU, torch and CUDA versions between the
  ``gpu_check`` markers of docs/GPU.md.

``--dry-run`` runs every part on the CPU in fp32 with tiny sizes (to check the script, not to
measure anything) and writes its report elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- gpu_check:begin -->", "<!-- gpu_check:end -->"


def _device(dry_run: bool) -> torch.device:
    if dry_run:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device; use --dry-run to check the script on the CPU")
    return torch.device("cuda")


# --------------------------------------------------------------------------------- training speed


def _vgg_backbones() -> str | None:
    folder = os.environ.get("GANSUITE_BACKBONES")
    if folder and Path(folder).is_dir() and any("vgg16" in p.name for p in Path(folder).rglob("*")):
        return folder
    return None


def _measure(recipe_name: str, precision: str, device: torch.device, dry_run: bool, batch_factor: int = 1) -> dict:
    import torch.nn.functional as F

    from gansuite.core.config import ContentLossConfig
    from gansuite.core.networks import build_network
    from gansuite.core.trainer import Sample, Trainer
    from gansuite.tasks.upscale import get_recipe

    recipe = get_recipe(recipe_name)
    losses = tuple(c for c in recipe.trainer.content_losses if c.name != "perceptual")
    backbones = _vgg_backbones()
    perceptual = [c for c in recipe.trainer.content_losses if c.name == "perceptual"]
    if perceptual and backbones is not None:
        losses += (ContentLossConfig("perceptual", perceptual[0].weight, {**perceptual[0].options,
                                                                            "backbones": backbones}),)
    batch, patch = (2, 32) if dry_run else (recipe.trainer.batch_size * batch_factor, recipe.patch_size)
    warmup, timed = (1, 2) if dry_run else (3, 10)
    config = recipe.trainer.replace(
        device=device.type, precision=precision, content_losses=losses, progress=False, tensorboard=False,
        batch_size=batch, seed=0,
    )
    torch.manual_seed(0)
    generator = build_network(recipe.generator)
    discriminator = build_network(recipe.discriminator) if recipe.discriminator is not None else None

    class Head:
        def prepare(self, pair):
            return Sample(inputs=pair[0], target=pair[1])

        def generate(self, network, sample):
            return network(sample.inputs)

    high_res = torch.rand(batch, 3, patch, patch)
    sample = Sample(inputs=F.avg_pool2d(high_res, recipe.scale), target=high_res)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(generator=generator, discriminator=discriminator, head=Head(), config=config,
                          run_dir=run_dir)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        skipped, seconds = 0, []
        for index in range(warmup + timed):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            outcome = trainer.train_step(sample)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            trainer.step += 1
            skipped += outcome.skipped
            if index >= warmup:
                seconds.append(time.perf_counter() - start)
    step = statistics.median(seconds)
    return {
        "recipe": recipe_name, "precision": precision, "batch_size": batch, "patch_size": patch,
        "content_losses": " + ".join(c.name for c in losses), "median_step_s": step,
        "it_per_s": 1 / step, "images_per_s": batch / step, "skipped_steps": skipped,
        "steps": warmup + timed,
        "peak_memory_mib": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None,
    }


def training_speed(out: Path, dry_run: bool) -> None:
    device = _device(dry_run)
    precisions = ["fp32"] if dry_run else ["fp32", "fp16", "bf16"]
    if not dry_run and not torch.cuda.is_bf16_supported():
        precisions.remove("bf16")
    rows = []
    # the recipes' own batch sizes, 8x those (does autocast pay off once the GPU is busy?), and the
    # RRDB recipe meant for GPUs
    cases = [("x4-psnr", 1), ("x4-gan", 1)] if dry_run else [
        ("x4-psnr", 1), ("x4-psnr", 8), ("x4-gan", 1), ("x4-gan", 8), ("x4-gan-rrdb", 1)]
    for recipe, factor in cases:
        for precision in precisions:
            row = _measure(recipe, precision, device, dry_run, factor)
            print(f"{recipe} {precision}: {row['it_per_s']:.2f} it/s, {row['images_per_s']:.1f} img/s, "
                  f"skipped {row['skipped_steps']}", flush=True)
            rows.append(row)
    out.write_text(json.dumps({"device": _device_name(device), "rows": rows}, indent=2) + "\n")


# --------------------------------------------------------------------------------- resume on CUDA

# runs the CLI with deterministic algorithms, so the straight and the resumed run can match bit for bit
_DETERMINISTIC_CLI = (
    "import sys, torch; torch.use_deterministic_algorithms(True, warn_only=True); "
    "torch.backends.cudnn.benchmark = False; from gansuite.cli import main; main(args=sys.argv[1:])"
)


def _write_images(folder: Path, count: int, size: int) -> None:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        small = rng.integers(0, 256, size=(size // 8, size // 8, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f"img{index}.png"), cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC))


def _train(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _DETERMINISTIC_CLI, *args], capture_output=True, text=True,
                          env=env, timeout=300)
    output = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, output[-1] if output else "", time.perf_counter() - start


def resume_check(out: Path, dry_run: bool) -> None:
    from safetensors.torch import load_file

    device = _device(dry_run)
    steps, until, batch = (4, 2, 2) if dry_run else (12, 6, 8)
    env = {**os.environ, "CUBLAS_WORKSPACE_CONFIG": ":4096:8", "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_images(root / "hr", 4, 128)
        base = ["train", "upscale", "--recipe", "x4-psnr", "--data", str(root / "hr"), "--device", device.type,
                "--batch-size", str(batch), "--steps", str(steps)]
        runs = {
            "straight": _train([*base, "--out", str(root / "straight")], env),
            "first chunk": _train([*base, "--out", str(root / "split"), "--until", str(until)], env),
            "resumed chunk": _train([*base, "--out", str(root / "split")], env),
        }
        ok = all(code == 0 for code, _, _ in runs.values())
        result: dict = {"device": _device_name(device), "steps": steps, "resumed_at": until, "batch_size": batch,
                        "runs": {name: {"exit_code": code, "last_line": line, "seconds": round(sec, 1)}
                                 for name, (code, line, sec) in runs.items()}}
        if ok:
            straight = load_file(str(root / "straight" / "generator_ema.safetensors"))
            resumed = load_file(str(root / "split" / "generator_ema.safetensors"))
            diff = max(float((straight[k].double() - resumed[k].double()).abs().max()) for k in straight)
            result.update(max_abs_difference=diff, exact=diff == 0.0, passed=diff <= 1e-5)
        else:
            result.update(max_abs_difference=None, exact=False, passed=False)
    print(f"resume: {'passed' if result['passed'] else 'FAILED'} "
          f"(max |straight - resumed| = {result['max_abs_difference']})", flush=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


# --------------------------------------------------------------------------------- report


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "CPU (dry run)"


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _pytest_summary(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        return "not run"
    summary = [line for line in lines if (" passed" in line or " failed" in line or " skipped" in line
                                          or " error" in line) and " in " in line]
    return summary[-1].strip("= ") if summary else (lines[-1] if lines else "no output")


def _pytest_outcomes(path: Path) -> list[str]:
    """Each test's outcome from pytest's ``-rA`` short summary, as ``OUTCOME test-id`` lines."""
    try:
        text = path.read_text()
    except OSError:
        return []
    outcomes = ("PASSED ", "FAILED ", "SKIPPED ", "ERROR ", "XFAIL ", "XPASS ")
    return [line.strip() for line in text.splitlines() if line.startswith(outcomes)]


def report(work: Path, out: Path, dry_run: bool) -> None:
    device = _device(dry_run)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cuda = torch.version.cuda or "none"
    lines = [
        BEGIN,
        "## Last `benchmarks/gpu_check.sh` run" + (" (DRY RUN on the CPU: checks the script, measures nothing)"
                                                   if dry_run else ""),
        "",
        f"{when} · {_device_name(device)} · torch {torch.__version__} · CUDA {cuda}",
        "",
        f"- `pytest -m gpu`: {_pytest_summary(work / 'pytest_gpu.log')}",
        *(f"  - {line}" for line in _pytest_outcomes(work / "pytest_gpu.log")),
    ]
    resume = _load(work / "resume.json")
    if resume is None:
        lines.append("- resume on CUDA: not run")
    else:
        verdict = "passed" if resume["passed"] else "FAILED"
        lines.append(
            f"- resume on CUDA (`gansuite train upscale --recipe x4-psnr`, {resume['steps']} steps straight vs "
            f"{resume['resumed_at']} + {resume['steps'] - resume['resumed_at']} resumed in a new process, "
            f"deterministic algorithms): {verdict}, max |straight − resumed| weight = {resume['max_abs_difference']}"
        )
        for name, run in resume["runs"].items():
            if run["exit_code"] != 0:
                lines.append(f"  - {name}: exit {run['exit_code']}: {run['last_line']}")
    speed = _load(work / "training_speed.json")
    lines += ["", "### Training speed (`Trainer.train_step`, random data, median of the timed steps)", ""]
    if speed is None:
        lines.append("not run")
    else:
        lines += ["| recipe | precision | batch × patch | content losses | it/s | images/s | vs fp32 | peak MiB | "
                  "skipped |", "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        base = {(r["recipe"], r["batch_size"]): r["it_per_s"] for r in speed["rows"] if r["precision"] == "fp32"}
        for r in speed["rows"]:
            peak = f"{r['peak_memory_mib']:.0f}" if r["peak_memory_mib"] is not None else "–"
            key = (r["recipe"], r["batch_size"])
            ratio = r["it_per_s"] / base[key] if key in base else float("nan")
            lines.append(
                f"| {r['recipe']} | {r['precision']} | {r['batch_size']} × {r['patch_size']} | {r['content_losses']} | "
                f"{r['it_per_s']:.2f} | {r['images_per_s']:.1f} | {ratio:.2f}× | {peak} | "
                f"{r['skipped_steps']}/{r['steps']} |"
            )
    lines += ["", "### Upscale speed (`gansuite benchmark speed --model x4 --no-training`)", ""]
    try:
        table = (work / "upscale_speed.md").read_text().strip()
    except OSError:
        table = "not run"
    lines += [table, "", END]
    section = "\n".join(lines) + "\n"
    text = out.read_text() if out.is_file() else "# CUDA paths and where they have been checked\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    out.write_text(text)
    print(f"wrote {out}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["training-speed", "resume", "report"])
    parser.add_argument("--json", type=Path, help="result file (training-speed, resume)")
    parser.add_argument("--work", type=Path, help="folder of the parts' results (report)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "GPU.md", help="report file (report)")
    parser.add_argument("--dry-run", action="store_true", help="tiny CPU run that checks the script")
    args = parser.parse_args()
    if args.part == "training-speed":
        training_speed(args.json, args.dry_run)
    elif args.part == "resume":
        resume_check(args.json, args.dry_run)
    else:
        report(args.work, args.out, args.dry_run)


if __name__ == "__main__":
    main()
