"""`gansuite demo ...` and `gansuite info`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gansuite.cli._base import SEED, Group, json_line, main


@main.group(cls=Group)
def demo() -> None:
    """Small self-contained demonstrations."""


@demo.command("toy")
@click.option("--steps", type=click.IntRange(min=50), default=1500, show_default=True, help="Training steps per model.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the three spreads.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Save a scatter plot (PNG; .svg, .pdf, .jpg by extension).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --plot file.")
def demo_toy(steps: int, seed: int, as_json: bool, plot: Path | None, overwrite: bool) -> None:
    """Why GANs exist: MSE collapses onto the line, a conditional GAN keeps the spread."""
    from gansuite.tasks.toy import check_plot_path, plot_toy_result, run_toy_demo

    if plot is not None:  # before the two models train
        check_plot_path(plot, overwrite=overwrite)
    result = run_toy_demo(steps=steps, seed=seed, progress=not as_json and sys.stderr.isatty())
    if plot is not None:
        plot_toy_result(result, plot, overwrite=overwrite)
    if as_json:
        click.echo(json_line(result.as_dict()))
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

    from gansuite._extras import require_extra

    data = require_extra("bench", "skimage.data", feature="gansuite demo photo")

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
