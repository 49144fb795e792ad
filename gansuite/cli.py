"""The `gansuite` command line: thin click commands that parse options and call the library."""

from __future__ import annotations

import json
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


def _not_available(command: str, issue: str) -> None:
    raise NotAvailableError(f"'gansuite {command}' is not available yet: it arrives with the {issue}")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="gansuite")
def main() -> None:
    """GAN applications on a shared adversarial core: super-resolution and next-frame prediction."""


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def upscale() -> None:
    """Upscale images x2/x4 with a super-resolution GAN (not available yet)."""
    _not_available("upscale", "super-resolution head")


@main.command("predict-frames", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def predict_frames() -> None:
    """Predict the next frames of a video clip (not available yet)."""
    _not_available("predict-frames", "video prediction head")


@main.group(cls=_Group)
def train() -> None:
    """Train a model with a shipped recipe."""


@train.command("upscale", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def train_upscale() -> None:
    """Train a super-resolution model (not available yet)."""
    _not_available("train upscale", "super-resolution head")


@train.command("predict", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def train_predict() -> None:
    """Train a next-frame predictor (not available yet)."""
    _not_available("train predict", "video prediction head")


@main.group(cls=_Group)
def benchmark() -> None:
    """Quality and speed benchmarks with a recorded protocol."""


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
