"""`gansuite train ...`: training with shipped recipes, and weight export."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from gansuite.cli._base import SEED, Group, json_line, main


@main.group(cls=Group)
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
    click.option("--precision", type=click.Choice(["auto", "fp32", "fp16", "bf16"]),
                 help="Mixed precision on CUDA; default: the recipe's (auto: bf16 where supported, fp32 on the CPU)."),
    click.option("--resume/--no-resume", default=True, show_default=True, help="Continue from the run's checkpoint."),
    click.option("--checkpoint-every", type=click.IntRange(min=0),
                 help="Checkpoint period in steps (0: only at the end); default: the recipe's."),
    click.option("--force-resume", is_flag=True,
                 help="Resume even if batch size, recipe, data or other run-shaping settings changed."),
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
    "--data", "data", multiple=True, required=True, type=click.Path(exists=True, path_type=Path),
    help="Folder of HR training images (repeatable); for x4-real-distill, teacher-pairs shards (.safetensors).",
)
@click.option("--val", "val", multiple=True, help="NAME=DIR of HR validation images (repeatable).")
@_run_options
def train_upscale(
    recipe: str, data: tuple[Path, ...], val: tuple[str, ...], out: Path, init: Path | None, steps: int | None,
    until: int | None, batch_size: int | None, workers: int | None, device: str, precision: str | None,
    resume: bool, checkpoint_every: int | None, force_resume: bool,
) -> None:
    """Train a super-resolution model with a shipped recipe (torchrun-ready)."""
    from gansuite.tasks.upscale import get_recipe, train_upscale

    result = train_upscale(
        get_recipe(recipe), data=data, out=out, val=_named_dirs(val, "--val"), init=init, steps=steps,
        until=until, batch_size=batch_size, device=device, precision=precision, num_workers=workers, resume=resume,
        progress=sys.stderr.isatty(), checkpoint_every=checkpoint_every, force_resume=force_resume,
    )
    click.echo(json_line({"step": result.final_step, "validation": result.validation, "run_dir": str(out)}))


@train.command("teacher-pairs")
@click.option("--teacher", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The teacher model file (any x4 model spandrel loads, e.g. Real-ESRGAN x4plus).")
@click.option("--data", "data", multiple=True, required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="Folder of HR images (repeatable).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Shard to write (.safetensors).")
@click.option("--count", required=True, type=click.IntRange(min=1), help="Crops to write.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Same seed, same crops and degradations.")
@click.option("--holdout-every", default=10, show_default=True, type=click.IntRange(min=0),
              help="Leave out every n-th image of each folder (for validation); 0 keeps all.")
def train_teacher_pairs(
    teacher: Path, data: tuple[Path, ...], out: Path, count: int, seed: int, holdout_every: int
) -> None:
    """Record a teacher's outputs on realistic-degraded crops, for the distillation recipe."""
    from gansuite.tasks.upscale.distill import write_teacher_pairs

    if out.suffix != ".safetensors":
        raise click.BadParameter(f"{out} must end in .safetensors", param_hint="--out")
    if out.exists():
        raise click.BadParameter(f"{out} exists; give a new file (shards are never overwritten)", param_hint="--out")
    write_teacher_pairs(teacher, data, out, count=count, seed=seed, holdout_every=holdout_every)
    click.echo(json_line({"shard": str(out), "count": count, "seed": seed}))


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
@click.option("--rollout", type=click.IntRange(min=1),
              help="Override the recipe's rollout: frames predicted and fed back per training sample.")
@_run_options
def train_predict(
    recipe: str, data: tuple[Path, ...], val: tuple[Path, ...], stills: tuple[Path, ...], rollout: int | None,
    out: Path, init: Path | None, steps: int | None, until: int | None, batch_size: int | None,
    workers: int | None, device: str, precision: str | None, resume: bool, checkpoint_every: int | None,
    force_resume: bool,
) -> None:
    """Train a next-frame predictor with a shipped recipe (torchrun-ready)."""
    from gansuite.tasks.predict import get_recipe
    from gansuite.tasks.predict import train_predict as run_training

    chosen = get_recipe(recipe)
    result = run_training(
        chosen if rollout is None else chosen.with_rollout(rollout), data=data, out=out, val=val, stills=stills,
        init=init, steps=steps, until=until,
        batch_size=batch_size, device=device, precision=precision, num_workers=workers, resume=resume,
        progress=sys.stderr.isatty(),
        checkpoint_every=checkpoint_every, force_resume=force_resume,
        on_warning=_warn_once,
    )
    click.echo(json_line({
        "step": result.final_step, "validation": result.validation, "run_dir": str(out),
        "weights": str(out / "generator_ema.safetensors"),
    }))


def _warn_once(line: str) -> None:
    """One warning line on stderr; under torchrun from rank 0 only (every rank reads the same clips)."""
    if os.environ.get("RANK", "0") == "0":
        click.echo(f"warning: {line}", err=True)


@train.command("export")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Weights file.")
@click.option("--raw", is_flag=True, help="Export the raw generator instead of its EMA.")
@click.option("--card", "card_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON object of model-card fields (data, metrics, ...) added to the recorded ones.")
@click.option("--overwrite", is_flag=True, help="Replace an existing weights file and the card beside it.")
def train_export(checkpoint: Path, out: Path, raw: bool, card_file: Path | None, overwrite: bool) -> None:
    """Export the generator of a training checkpoint as weights usable with --model (and its card, <out>.json)."""
    from gansuite.core.atomic import check_output_path
    from gansuite.core.checkpoint import export_from_checkpoint
    from gansuite.errors import ConfigError, OutputExistsError

    if out.suffix != ".safetensors":
        raise click.BadParameter(f"{out} does not end in .safetensors", param_hint="--out")
    card_out = out.with_suffix(".json")
    if card_file is not None and card_out.exists() and card_file.samefile(card_out):
        raise ConfigError(
            f"--card {card_file} is the card file -o {out} writes beside the weights ({card_out}), and an input "
            "is never overwritten: copy it elsewhere or choose another -o"
        )
    if not overwrite and card_out.exists() and not out.exists():
        raise OutputExistsError(
            f"-o {out}: the card beside it, {card_out}, already exists: pass --overwrite to replace it, "
            "or choose another path"
        )
    if out.parent.is_dir():  # a missing folder is made
        check_output_path(out, overwrite=overwrite, option="-o", writable=True)
    card = None
    if card_file is not None:
        try:
            card = json.loads(card_file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise click.BadParameter(f"{card_file} is not readable JSON ({exc})", param_hint="--card") from exc
        if not isinstance(card, dict):
            kind = type(card).__name__
            raise click.BadParameter(f"{card_file} holds a {kind}, not a JSON object", param_hint="--card")
    export_from_checkpoint(checkpoint, out, card=card, use_ema=not raw, overwrite=overwrite)
    click.echo(f"wrote {out} and {out.with_suffix('.json')}")
