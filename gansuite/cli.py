"""The `gansuite` command line: thin click commands that parse options and call the library."""

from __future__ import annotations

import json
import os
import sys
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


@main.command("predict-frames", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def predict_frames() -> None:
    """Predict the next frames of a video clip (not available yet)."""
    _not_available("predict-frames", "video prediction head")


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
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run directory.")
@click.option("--init", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Start from these weights.")
@click.option("--steps", type=click.IntRange(min=1), help="Override the recipe's total steps.")
@click.option("--until", type=click.IntRange(min=1), help="Stop at this step (checkpointed); rerun to continue.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override the recipe's batch size.")
@click.option("--workers", type=click.IntRange(min=0), help="DataLoader worker processes.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--resume/--no-resume", default=True, show_default=True, help="Continue from the run's checkpoint.")
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


@train.command("predict", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def train_predict() -> None:
    """Train a next-frame predictor (not available yet)."""
    _not_available("train predict", "video prediction head")


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
