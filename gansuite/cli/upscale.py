"""`gansuite upscale`: super-resolution of files, folders and globs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gansuite.cli._base import main, parse_tile


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
        name, realism=realism, device=device, precision=precision, tile=parse_tile(tile),
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
