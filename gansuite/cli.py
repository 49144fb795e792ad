"""The `gansuite` command line: thin click commands that parse options and call the library."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gansuite.errors import GansuiteError, NotAvailableError

__all__ = ["main"]


class _Group(click.Group):
    """A click group that turns library errors into one line and a non-zero exit, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GansuiteError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("GANSUITE_DEBUG"):
                raise
            message = str(exc).splitlines()[0] if str(exc) else ""
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {message} (set GANSUITE_DEBUG=1 for the traceback)"
            ) from None


def _not_available(command: str, issue: str) -> None:
    raise NotAvailableError(f"'gansuite {command}' is not available yet: it arrives with the {issue}")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="gansuite")
def main() -> None:
    """GAN applications on a shared adversarial core: super-resolution and next-frame prediction."""


def _tile(value: str) -> int | str:
    if value == "auto":
        return "auto"
    try:
        size = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not auto, 0 or a tile size", param_hint="--tile") from None
    if size < 0 or 0 < size < 16:
        raise click.BadParameter(f"{size} is not 0 (no tiling) or a size >= 16", param_hint="--tile")
    return size


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o", "--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: beside each input)."
)
@click.option("--scale", type=click.Choice(["2", "4"]), default="4", show_default=True, help="Shipped model to use.")
@click.option("--model", help="Shipped model name (x4, x4-gan, x2) or a gansuite .safetensors file.")
@click.option("--realism", type=click.FloatRange(0, 1), help="0 = most faithful … 1 = most detail (x4 only).")
@click.option("--outscale", type=float, help="Final scale after the network (high-quality resize).")
@click.option("--tile", default="auto", show_default=True, help="auto, 0 (no tiling) or a tile size in input pixels.")
@click.option("--tile-overlap", type=click.IntRange(min=0), help="Context around each tile (default: receptive field).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(["auto", "fp32", "fp16", "bf16"]), default="auto", show_default=True)
@click.option("--suffix", help="Added to output names (default: _x<scale>).")
@click.option("--ext", type=click.Choice(["auto", "png", "jpg", "webp"]), default="auto", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace existing outputs (inputs are never overwritten).")
def upscale(
    inputs: tuple[str, ...], out: Path | None, scale: str, model: str | None, realism: float | None,
    outscale: float | None, tile: str, tile_overlap: int | None, device: str, precision: str, suffix: str | None,
    ext: str, overwrite: bool,
) -> None:
    """Upscale images x2/x4: files, folders or glob patterns."""
    from tqdm import tqdm

    from gansuite.tasks.upscale.batch import expand_inputs, upscale_files
    from gansuite.tasks.upscale.upscaler import Upscaler

    files = expand_inputs(inputs)
    name = model or f"x{scale}"
    upscaler = Upscaler.from_pretrained(
        name, realism=realism, device=device, precision=precision, tile=_tile(tile),
        tile_overlap=tile_overlap, outscale=outscale,
    )
    final_scale = outscale or upscaler.scale
    suffix = suffix if suffix is not None else f"_x{final_scale:g}"
    bar = tqdm(total=len(files), unit="image", disable=not sys.stderr.isatty())

    def on_file(path: Path, status: str) -> None:
        bar.update(1)
        if status not in ("written", "skipped"):
            tqdm.write(f"error: {status}" if str(path) in status else f"error: {path}: {status}", file=sys.stderr)

    report = upscale_files(
        upscaler, files, out_dir=out, suffix=suffix, ext=ext, overwrite=overwrite, on_file=on_file
    )
    bar.close()
    click.echo(
        f"{len(report.written)} written, {len(report.skipped)} skipped (exist; --overwrite to replace), "
        f"{len(report.failed)} failed"
    )
    if report.failed:
        sys.exit(1)


def _lpips_or_note(backbones: Path | None, device: str, min_side: int | None = None) -> Any:
    """An AlexNet `LPIPSMetric`, or None with a one-line note on stderr when it cannot be used."""
    from gansuite.errors import BackboneNotFoundError
    from gansuite.metrics import LPIPSMetric
    from gansuite.tasks.predict.evaluation import LPIPS_MIN_SIDE

    if min_side is not None and min_side < LPIPS_MIN_SIDE:
        click.echo(f"note: lpips reported as null: frames are smaller than the {LPIPS_MIN_SIDE} pixels AlexNet needs",
                   err=True)
        return None
    try:
        return LPIPSMetric(net="alex", backbones=backbones, device=device)
    except (BackboneNotFoundError, ImportError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        click.echo(f"note: lpips reported as null: {message}", err=True)
        return None


def _finite(value: Any) -> Any:
    """JSON has no infinity or NaN (identical frames give an infinite PSNR): write null."""
    import math

    return None if isinstance(value, float) and not math.isfinite(value) else value


@main.command("predict-frames")
@click.argument("clip", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Output video, .mp4/.avi/.mkv (default: <clip stem>_predicted.mp4 beside the clip).")
@click.option("--model", default="natural", show_default=True,
              help="Shipped model (natural, ped2, mmnist, or their -mse twins) or a gansuite .safetensors/.pt file.")
@click.option("--context", type=click.IntRange(min=1), help="Context frames; must equal the model's (its default).")
@click.option("--future", type=click.IntRange(min=1), default=8, show_default=True, help="Frames to predict.")
@click.option("--start", type=click.IntRange(min=0),
              help="First context frame (default: the clip's last frames, predicting past its end).")
@click.option("--side-by-side", is_flag=True, help="Write last context | prediction | ground truth side by side.")
@click.option("--frames-dir", type=click.Path(file_okay=False, path_type=Path), help="Also write the PNG frames here.")
@click.option("--evaluate", is_flag=True, help="Per-horizon PSNR/SSIM/LPIPS against the clip, beside copy-last-frame.")
@click.option("--stride", type=click.IntRange(min=1), default=1, show_default=True,
              help="Frames between evaluated windows (all start positions, without --start).")
@click.option("--backbones", type=click.Path(path_type=Path),
              help="Folder or file of the AlexNet backbone for LPIPS (default: GANSUITE_BACKBONES).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing output (the input is never overwritten).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def predict_frames(
    clip: Path, out: Path | None, model: str, context: int | None, future: int, start: int | None,
    side_by_side: bool, frames_dir: Path | None, evaluate: bool, stride: int, backbones: Path | None, device: str,
    overwrite: bool, as_json: bool,
) -> None:
    """Predict the next frames of a video clip (file or frame folder) and write them as a video."""
    from gansuite.errors import ConfigError
    from gansuite.io.video import probe_video
    from gansuite.tasks.predict.clip_prediction import predict_clip_file
    from gansuite.tasks.predict.predictor import FramePredictor

    predictor = FramePredictor.from_pretrained(model, device=device)
    if context is not None and context != predictor.context_frames:
        raise ConfigError(
            f"--context {context}: model {predictor.name} takes {predictor.context_frames} context frames; "
            f"omit --context or pass {predictor.context_frames}"
        )
    info = probe_video(clip) if evaluate else None
    min_side = min(info.height, info.width) if info is not None else None
    report = predict_clip_file(
        predictor, clip, output=out, future=future, start=start, side_by_side=side_by_side, frames_dir=frames_dir,
        evaluate=evaluate, stride=stride, lpips=_lpips_or_note(backbones, device, min_side) if evaluate else None,
        overwrite=overwrite,
    )
    if as_json:
        payload: dict[str, Any] = {
            "output": str(report.output), "frames_dir": None if report.frames_dir is None else str(report.frames_dir),
            "model": predictor.name, "start": report.start, "context_frames": report.context_frames,
            "future": report.future, "clip_frames": report.clip_frames, "fps": report.fps,
            "width": report.size[0], "height": report.size[1],
        }
        if report.per_horizon is not None:
            payload["windows"] = report.windows
            payload["per_horizon"] = [{k: _finite(v) for k, v in row.items()} for row in report.per_horizon]
        click.echo(json.dumps(payload))
        return
    click.echo(
        f"wrote {report.output}: {report.future} predicted frames after frames {report.start}.."
        f"{report.start + report.context_frames - 1} of {report.clip_frames}, {report.size[0]}x{report.size[1]} "
        f"at {report.fps:g} fps"
    )
    for row in report.per_horizon or []:
        lpips = "" if row["lpips"] is None else f", LPIPS {row['lpips']:.4f} (copy-last {row['baseline_lpips']:.4f})"
        click.echo(
            f"  t+{row['step']}: PSNR {row['psnr']:.2f} dB (copy-last {row['baseline_psnr']:.2f}), "
            f"SSIM {row['ssim']:.4f} (copy-last {row['baseline_ssim']:.4f}){lpips}"
        )


@main.group(cls=_Group)
def train() -> None:
    """Train a model with a shipped recipe."""


def _named_dirs(values: tuple[str, ...], flag: str) -> dict[str, Path]:
    """Parse NAME=DIR pairs (a bare DIR is named after its folder)."""
    named: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep:
            name, folder = Path(value).name, value
        path = Path(folder)
        if not path.is_dir():
            raise click.BadParameter(f"{path} is not a folder", param_hint=flag)
        named[name] = path
    return named


_RUN_OPTIONS = (
    click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run directory."),
    click.option(
        "--init", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Start from these weights."
    ),
    click.option("--steps", type=click.IntRange(min=1), help="Override the recipe's total steps."),
    click.option("--until", type=click.IntRange(min=1), help="Stop at this step (checkpointed); rerun to continue."),
    click.option("--batch-size", type=click.IntRange(min=1), help="Override the recipe's batch size."),
    click.option("--workers", type=click.IntRange(min=0), help="DataLoader worker processes."),
    click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True),
    click.option("--resume/--no-resume", default=True, show_default=True, help="Continue from the run's checkpoint."),
)


def _run_options(command: Callable[..., None]) -> Callable[..., None]:
    """The run-directory options every `train` command shares, in --help order."""
    for option in reversed(_RUN_OPTIONS):
        command = option(command)
    return command


def _recipe_names() -> list[str]:
    from gansuite.tasks.upscale.recipes import RECIPES

    return RECIPES.names()


@train.command("upscale")
@click.option("--recipe", required=True, type=click.Choice(_recipe_names()), help="A shipped training recipe.")
@click.option(
    "--data", "data", multiple=True, required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path), help="Folder of HR training images (repeatable).",
)
@click.option("--val", "val", multiple=True, help="NAME=DIR of HR validation images (repeatable).")
@_run_options
def train_upscale(
    recipe: str, data: tuple[Path, ...], val: tuple[str, ...], out: Path, init: Path | None, steps: int | None,
    until: int | None, batch_size: int | None, workers: int | None, device: str, resume: bool,
) -> None:
    """Train a super-resolution model with a shipped recipe (torchrun-ready)."""
    from gansuite.tasks.upscale import get_recipe, train_upscale

    result = train_upscale(
        get_recipe(recipe), data=data, out=out, val=_named_dirs(val, "--val"), init=init, steps=steps,
        until=until, batch_size=batch_size, device=device, num_workers=workers, resume=resume,
        progress=sys.stderr.isatty(),
    )
    click.echo(json.dumps({"step": result.final_step, "validation": result.validation, "run_dir": str(out)}))


def _predict_recipe_names() -> list[str]:
    from gansuite.tasks.predict.recipes import RECIPES

    return RECIPES.names()


@train.command("predict")
@click.option("--recipe", required=True, type=click.Choice(_predict_recipe_names()), help="A shipped training recipe.")
@click.option(
    "--data", "data", multiple=True, required=True, type=click.Path(exists=True, path_type=Path),
    help="Video files, frame folders or folders of clips (repeatable); mmnist: the folder of the MNIST IDX files.",
)
@click.option("--val", "val", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Validation data of the same kind (repeatable); per-step PSNR is logged.")
@click.option("--stills", "stills", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folders of still images for synthetic camera and layer motion (recipe natural; repeatable).")
@_run_options
def train_predict(
    recipe: str, data: tuple[Path, ...], val: tuple[Path, ...], stills: tuple[Path, ...], out: Path,
    init: Path | None, steps: int | None, until: int | None, batch_size: int | None, workers: int | None,
    device: str, resume: bool,
) -> None:
    """Train a next-frame predictor with a shipped recipe (torchrun-ready)."""
    from gansuite.tasks.predict import get_recipe
    from gansuite.tasks.predict import train_predict as run_training

    result = run_training(
        get_recipe(recipe), data=data, out=out, val=val, stills=stills, init=init, steps=steps, until=until,
        batch_size=batch_size, device=device, num_workers=workers, resume=resume, progress=sys.stderr.isatty(),
    )
    click.echo(json.dumps({
        "step": result.final_step, "validation": result.validation, "run_dir": str(out),
        "weights": str(out / "generator_ema.safetensors"),
    }))


@train.command("export")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Weights file.")
@click.option("--raw", is_flag=True, help="Export the raw generator instead of its EMA.")
@click.option("--card", "card_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON object of model-card fields (data, metrics, ...) added to the recorded ones.")
def train_export(checkpoint: Path, out: Path, raw: bool, card_file: Path | None) -> None:
    """Export the generator of a training checkpoint as weights usable with --model."""
    from gansuite.core.checkpoint import export_from_checkpoint

    if out.suffix != ".safetensors":
        raise click.BadParameter(f"{out} does not end in .safetensors", param_hint="--out")
    card = None
    if card_file is not None:
        try:
            card = json.loads(card_file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise click.BadParameter(f"{card_file} is not readable JSON ({exc})", param_hint="--card") from exc
        if not isinstance(card, dict):
            kind = type(card).__name__
            raise click.BadParameter(f"{card_file} holds a {kind}, not a JSON object", param_hint="--card")
    export_from_checkpoint(checkpoint, out, card=card, use_ema=not raw)
    click.echo(f"wrote {out} and {out.with_suffix('.json')}")


@main.group(cls=_Group)
def benchmark() -> None:
    """Quality and speed benchmarks with a recorded protocol."""


@benchmark.command("sr")
@click.option("--method", "methods", multiple=True, required=True,
              help="bicubic, a shipped model (x4, x4-gan, x2), a gansuite weights/checkpoint file, or a model file "
              "spandrel loads (repeatable).")
@click.option("--dataset", "datasets", multiple=True, required=True, help="NAME=HR_DIR (repeatable).")
@click.option("--scale", type=click.IntRange(2, 8), default=4, show_default=True)
@click.option("--lr-dir", "lr_dirs", multiple=True, help="NAME=LR_DIR of ready-made LR images for a dataset.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--backbones", type=click.Path(path_type=Path), help="Folder or file of the AlexNet backbone for LPIPS.")
@click.option("--no-lpips", is_flag=True, help="Skip LPIPS.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
@click.option("--save-images", type=click.Path(file_okay=False, path_type=Path), help="Save every SR output here.")
def benchmark_sr(
    methods: tuple[str, ...], datasets: tuple[str, ...], scale: int, lr_dirs: tuple[str, ...], device: str,
    backbones: Path | None, no_lpips: bool, json_out: Path | None, markdown_out: Path | None,
    save_images: Path | None,
) -> None:
    """Super-resolution quality: PSNR-Y, SSIM-Y and LPIPS with the papers' protocol."""
    import gansuite.bench.gansuite_models  # noqa: F401  (lets --method name gansuite models)
    from gansuite.bench.sr import parse_named_paths, run_sr_benchmark
    from gansuite.core.atomic import atomic_write_bytes

    report = run_sr_benchmark(
        methods, parse_named_paths(datasets, "--dataset"), scale=scale,
        lr_dirs=parse_named_paths(lr_dirs, "--lr-dir"), device=device, save_images=save_images,
        backbones=backbones, compute_lpips=not no_lpips, progress=lambda line: click.echo(line, err=True),
    )
    table = report.to_markdown()
    if json_out is not None:
        atomic_write_bytes(json_out, report.to_json().encode())
    if markdown_out is not None:
        atomic_write_bytes(markdown_out, table.encode())
    click.echo(table)


@benchmark.command("speed")
@click.option("--model", "models", multiple=True,
              help="Shipped model (x4, x4-gan, x2) or gansuite .safetensors file (repeatable); with neither --model "
              "nor --arch, every shipped model present.")
@click.option("--arch", "archs", multiple=True,
              help="Randomly initialised generator NAME[:k=v,...] (repeatable), e.g. "
              "compact:scale=4,channels=48,num_convs=16,activation=lrelu.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="auto: the CPU, and CUDA when present.")
@click.option("--precision", help="Comma-separated fp32,fp16,bf16 (default: fp32 on the CPU, all three on CUDA).")
@click.option("--size", type=click.IntRange(min=8), default=256, show_default=True, help="Side of the square LR input.")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True, help="Timed runs (median).")
@click.option("--warmup", type=click.IntRange(min=0), default=2, show_default=True, help="Untimed runs before them.")
@click.option("--no-training", is_flag=True, help="Skip the GAN training-step measurement.")
@click.option("--train-batch", type=click.IntRange(min=1), default=4, show_default=True, help="Training batch size.")
@click.option("--train-patch", type=click.IntRange(min=8), default=128, show_default=True, help="Training HR patch.")
@click.option("--backbones", type=click.Path(path_type=Path), help="VGG16 weights: adds the perceptual loss.")
@click.option("--note", help="A line recorded with the results (e.g. that the machine was loaded).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
def benchmark_speed(
    models: tuple[str, ...], archs: tuple[str, ...], device: str, precision: str | None, size: int, repeats: int,
    warmup: int, no_training: bool, train_batch: int, train_patch: int, backbones: Path | None, note: str | None,
    json_out: Path | None, markdown_out: Path | None,
) -> None:
    """Speed: inference megapixels/s and peak memory, GAN training it/s, and the fraction of a conv peak."""
    from gansuite.bench.speed import run_speed_benchmark
    from gansuite.core.atomic import atomic_write_bytes

    report = run_speed_benchmark(
        models, archs, device=device, precisions=precision, size=size, repeats=repeats, warmup=warmup,
        training=not no_training, train_batch=train_batch, train_patch=train_patch, backbones=backbones, note=note,
        progress=lambda line: click.echo(line, err=True),
    )
    table = report.to_markdown()
    if json_out is not None:
        atomic_write_bytes(json_out, report.to_json().encode())
    if markdown_out is not None:
        atomic_write_bytes(markdown_out, table.encode())
    click.echo(table)


def _write_reports(report: Any, json_out: Path | None, markdown_out: Path | None) -> str:
    """Write a report's JSON and markdown where asked (atomically); returns the markdown."""
    from gansuite.core.atomic import atomic_write_bytes

    table = report.to_markdown()
    if json_out is not None:
        atomic_write_bytes(json_out, report.to_json().encode())
    if markdown_out is not None:
        atomic_write_bytes(markdown_out, table.encode())
    return table


@benchmark.command("predict")
@click.option("--model", "models", multiple=True,
              help="Shipped model (mmnist, natural, ...-mse) or gansuite weights/checkpoint file (repeatable); "
              "copy-last-frame is always scored.")
@click.option("--mnist", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the MNIST IDX files (t10k-images-idx3-ubyte.gz): Moving MNIST 10 → 10.")
@click.option("--clips", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Video files, frame folders or folders of clips (repeatable).")
@click.option("--sequences", type=click.IntRange(1, 2000), default=2000, show_default=True,
              help="How many of the 2000 fixed Moving-MNIST test sequences to score.")
@click.option("--future", type=click.IntRange(min=1), default=4, show_default=True, help="Steps ahead on clips.")
@click.option("--stride", type=click.IntRange(min=1), default=8, show_default=True, help="Frames between clip windows.")
@click.option("--max-short-side", type=click.IntRange(min=16), default=256, show_default=True,
              help="Downscale clips to this short side at most.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--backbones", type=click.Path(path_type=Path), help="Folder or file of the AlexNet backbone for LPIPS.")
@click.option("--no-lpips", is_flag=True, help="Skip LPIPS.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
def benchmark_predict(
    models: tuple[str, ...], mnist: Path | None, clips: tuple[Path, ...], sequences: int, future: int, stride: int,
    max_short_side: int, device: str, backbones: Path | None, no_lpips: bool, json_out: Path | None,
    markdown_out: Path | None,
) -> None:
    """Next-frame prediction quality per step ahead, beside copy-last-frame (Moving MNIST, clips)."""
    from gansuite.bench.predict import run_predict_benchmark

    lpips = _lpips_or_note(backbones, device) if clips and not no_lpips else None
    report = run_predict_benchmark(
        models, mnist=mnist, clips=clips, sequences=sequences, future=future, stride=stride,
        max_short_side=max_short_side, device=device, lpips=lpips, progress=lambda line: click.echo(line, err=True),
    )
    click.echo(_write_reports(report, json_out, markdown_out))


@benchmark.command("anomaly")
@click.option("--frames", "frames_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Test clips: one folder of frames per clip, in the labels' order (ped2/testing).")
@click.option("--labels", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Frame-level labels .npy, all clips concatenated (ped2/labels/frame_labels_ped2.npy).")
@click.option("--model", default="ped2", show_default=True, help="Shipped model or gansuite weights/checkpoint file.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
def benchmark_anomaly(
    frames_dir: Path, labels: Path, model: str, device: str, json_out: Path | None, markdown_out: Path | None
) -> None:
    """Frame-level anomaly detection AUC/EER from prediction PSNR (Liu et al. 2018 protocol)."""
    from gansuite.bench.anomaly import run_anomaly_benchmark

    report = run_anomaly_benchmark(
        frames_dir, labels, model=model, device=device, progress=lambda line: click.echo(line, err=True)
    )
    click.echo(_write_reports(report, json_out, markdown_out))


@main.group(cls=_Group)
def demo() -> None:
    """Small self-contained demonstrations."""


@demo.command("toy")
@click.option("--steps", type=click.IntRange(min=50), default=1500, show_default=True, help="Training steps per model.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the three spreads.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Save a scatter plot (PNG).")
def demo_toy(steps: int, seed: int, as_json: bool, plot: Path | None) -> None:
    """Why GANs exist: MSE collapses onto the line, a conditional GAN keeps the spread."""
    from gansuite.tasks.toy import plot_toy_result, run_toy_demo

    result = run_toy_demo(steps=steps, seed=seed, progress=not as_json and sys.stderr.isatty())
    if plot is not None:
        plot_toy_result(result, plot)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    click.echo("Points around y = 1.5·x + 0.5 with Gaussian noise; spread = std of y around the line.")
    click.echo(f"  data spread          {result.data_spread:.4f}")
    click.echo(f"  MSE regressor spread {result.mse_spread:.4f}   (collapses onto the mean: 'that's fake')")
    click.echo(f"  conditional GAN      {result.gan_spread:.4f}   (reproduces the spread)")
    if plot is not None:
        click.echo(f"plot written to {plot}")


@demo.command("photo")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="photo.png")
@click.option("--size", type=click.IntRange(16, 1024), default=192, show_default=True, help="Side of the image.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
def demo_photo(path: Path, size: int, overwrite: bool) -> None:
    """Write a small sample photo (scikit-image's bundled 'astronaut') to try `gansuite upscale` on."""
    import numpy as np
    from skimage import data

    from gansuite.io.image import write_image
    from gansuite.io.imresize import imresize_array

    rgb = imresize_array(data.astronaut(), size=(size, size))  # MATLAB-bicubic, antialiased
    write_image(path, rgb.astype(np.float32) / 255.0, overwrite=overwrite)
    click.echo(f"wrote {path} ({size}x{size}); try: gansuite upscale {path}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Versions, device, CUDA/AMP support and where weights and backbones come from."""
    from gansuite._info import environment_info

    details = environment_info()
    if as_json:
        click.echo(json.dumps(details, indent=2))
        return
    for section, values in details.items():
        if isinstance(values, dict):
            click.echo(f"{section}:")
            for key, value in values.items():
                click.echo(f"  {key}: {value}")
        else:
            click.echo(f"{section}: {values}")


if __name__ == "__main__":
    main()
