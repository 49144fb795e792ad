"""Run a next-frame recipe: data, networks, trainer, validation, samples, exported EMA generator.

The run directory holds config.json, log.jsonl, checkpoints/, samples/ and, at the end,
generator_ema.safetensors with its .json model card — the file `FramePredictor` and the
benchmarks load, and what ships as ``gansuite/weights/predict_<recipe>.safetensors``.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from gansuite.core.atomic import atomic_path
from gansuite.core.checkpoint import load_transferable_weights
from gansuite.core.losses import CONTENT_LOSSES
from gansuite.core.networks import build_network
from gansuite.core.rng import seed_everything
from gansuite.core.run_card import export_run_weights
from gansuite.core.run_folder import check_run_folder, disk_full_reported
from gansuite.core.sampling import SeededConcat
from gansuite.core.trainer import Sample, Trainer, TrainerHooks, TrainingResult
from gansuite.errors import ConfigError
from gansuite.tasks.predict.data import ClipWindows
from gansuite.tasks.predict.head import FrameStackLoss, PredictHead
from gansuite.tasks.predict.models import rollout
from gansuite.tasks.predict.moving_mnist import MovingMNIST
from gansuite.tasks.predict.recipes import PredictRecipe
from gansuite.tasks.predict.synthetic import MotionRanges, SyntheticMotion
from gansuite.tasks.predict.validation import validation_hook

__all__ = ["build_dataset", "train_predict"]


def build_dataset(
    recipe: PredictRecipe,
    data: Sequence[str | os.PathLike[str]],
    *,
    stills: Sequence[str | os.PathLike[str]] = (),
    validation: bool = False,
    on_warning: Callable[[str], None] | None = None,
) -> Dataset:
    """The recipe's training (or validation) dataset over `data`.

    Args:
        recipe: the recipe.
        data: clips recipes: video files, frame folders or folders of clips; ``mmnist``: one
            folder holding the MNIST IDX files.
        stills: folders of still images for synthetic motion (recipes with a ``stills_share``);
            they make up that share of the training items.
        validation: whole frames without flips (clips), or the fixed test sequences (mmnist).
        on_warning: told, in one line, of the clips left out (too short, or too small for the crop);
            default `warnings.warn`.

    Raises:
        ConfigError, InputVideoError: unusable data.
    """
    window = recipe.context_frames + recipe.rollout
    if stills and not recipe.stills_share:
        raise ConfigError(f"recipe {recipe.name} does not train on still images; leave out --stills")
    if recipe.data_kind == "mmnist":
        if len(data) != 1:
            raise ConfigError(f"recipe {recipe.name} takes one --data folder with the MNIST files, got {len(data)}")
        if validation:
            return MovingMNIST(data[0], split="test", sequences=64, num_frames=window)
        return MovingMNIST(data[0], split="train", num_frames=window)
    clips = ClipWindows(
        data,
        context_frames=recipe.context_frames,
        future_frames=recipe.rollout,
        grayscale=recipe.grayscale,
        frame_size=recipe.frame_size,
        max_short_side=recipe.max_short_side,
        crop_size=None if validation else recipe.crop_size,
        flip=recipe.flip and not validation,
    )
    if clips.skipped:  # the others train: a clip left out is said, not dropped without a word
        crop = f" or {recipe.crop_size}x{recipe.crop_size} pixels" if recipe.crop_size and not validation else ""
        line = (f"{'--val' if validation else '--data'}: left out {len(clips.skipped)} of "
                f"{len(clips.skipped) + len(clips.paths)} clips with fewer than {window} frames{crop}: "
                f"{', '.join(clips.skipped)}")
        (on_warning or (lambda text: warnings.warn(text, stacklevel=3)))(line)
    if validation or not stills:
        return clips
    synthetic_items = max(1, round(len(clips) * recipe.stills_share / (1.0 - recipe.stills_share)))
    synthetic = SyntheticMotion(
        stills,
        num_frames=window,
        size=recipe.crop_size or 128,
        grayscale=recipe.grayscale,
        length=synthetic_items,
        max_short_side=recipe.max_short_side,
        **({"motion": recipe.motion} if recipe.motion is not None else {}),
    )
    return SeededConcat([clips, synthetic])


def _sample_writer(head: PredictHead):
    def save(generator: nn.Module, sample: Sample, step: int, run_dir: Path) -> None:
        """Rows: last context frame | predictions (step 1 …) | true frames."""
        from gansuite._extras import require_extra

        save_image = require_extra("train", "torchvision.utils", feature="training sample grids").save_image

        device = next(generator.parameters()).device  # the batch comes on the CPU, the generator may be on CUDA
        with torch.no_grad():
            inputs = sample.inputs[:4].to(device)
            fake = rollout(generator, inputs, head.rollout, head.channels, clamp=True).float().cpu()
        c = head.channels
        last = sample.inputs[:4, -c:].float()
        parts = [last, *fake.split(c, dim=1), *sample.target[:4].float().split(c, dim=1)]
        grid = torch.cat(parts, dim=3).cpu()
        path = run_dir / "samples" / f"step_{step:08d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            save_image(grid, tmp, nrow=1, format="png")

    return save


def train_predict(
    recipe: PredictRecipe,
    *,
    data: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    val: Sequence[str | os.PathLike[str]] = (),
    stills: Sequence[str | os.PathLike[str]] = (),
    init: str | os.PathLike[str] | None = None,
    steps: int | None = None,
    until: int | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    precision: str | None = None,
    num_workers: int | None = None,
    resume: bool = True,
    progress: bool = True,
    checkpoint_every: int | None = None,
    force_resume: bool = False,
    on_warning: Callable[[str], None] | None = None,
) -> TrainingResult:
    """Train `recipe`; the run directory ends with the EMA generator exported with its card.

    Args:
        recipe: a recipe (`get_recipe`).
        data: training data, see `build_dataset`.
        out: the run directory (config, log, checkpoints, samples, weights).
        val: validation data of the same kind (per-step PSNR is logged); empty for none.
        stills: folders of still images for synthetic motion, see `build_dataset`.
        init: a `.safetensors` file to start the generator from: every tensor whose name and
            shape fit is loaded (so a variant of the architecture, e.g. a ``flow-unet`` with more
            blend candidates, starts from its predecessor); the others keep their initialisation
            and are named in the card (``init_fresh_tensors``, as for upscale runs).
        steps, batch_size, num_workers: override the recipe's values.
        until: stop at this step (checkpointed), to continue later with the same command.
        device: "auto", "cpu" or "cuda".
        precision: "auto", "fp32", "fp16" or "bf16" (autocast; fp16 with a GradScaler), or
            None for the recipe's ("auto": bf16 on CUDA where supported, fp32 on the CPU).
        resume: continue from the latest checkpoint in `out` if there is one.
        progress: show a progress bar.
        checkpoint_every: override the recipe's checkpoint period in steps (0: only at the end).
        force_resume: resume even if settings that shape the run changed since its checkpoint.
        on_warning: told of clips left out of `data` or `val` (see `build_dataset`).

    Returns:
        The trainer's `TrainingResult`.

    Raises:
        ConfigError, InputVideoError: unusable data or settings, `out` in use by another trainer, or a
            resume with changed settings.
        OutputError: `out` cannot be written, or the disk filled up.
        CheckpointError: `init` is unreadable, or fewer than half of the generator's tensors fit it.
    """
    run_dir = Path(out)
    check_run_folder(run_dir)
    config = recipe.trainer.override(
        device=device, precision=precision, progress=progress, steps=steps, batch_size=batch_size,
        num_workers=num_workers, checkpoint_every=checkpoint_every,
    )
    seed_everything(config.seed)  # before any network is built: a fresh run is reproducible from its seed
    dataset = build_dataset(recipe, data, stills=stills, on_warning=on_warning)
    # the validation clips are checked before any network is built (a bad --val fails before the work starts)
    validation_set = build_dataset(recipe, val, validation=True, on_warning=on_warning) if val else None
    generator = build_network(recipe.generator)
    fresh = load_transferable_weights(generator, init) if init is not None else ()
    discriminator = build_network(recipe.discriminator) if recipe.discriminator is not None else None
    head = PredictHead(context_frames=recipe.context_frames, rollout=recipe.rollout, channels=recipe.channels)
    content_losses = [
        FrameStackLoss(CONTENT_LOSSES.get(c.name)(weight=c.weight, **c.options), recipe.channels)
        for c in config.content_losses
    ]
    started = time.perf_counter()
    trainer = Trainer(
        generator=generator,
        discriminator=discriminator,
        head=head,
        config=config,
        run_dir=run_dir,
        content_losses=content_losses,
        extra_config={
            "recipe": recipe.name,
            "generator": asdict(recipe.generator),
            "discriminator": asdict(recipe.discriminator) if recipe.discriminator else None,
            "context_frames": recipe.context_frames,
            "rollout": recipe.rollout,
            "grayscale": recipe.grayscale,
            "frame_size": list(recipe.frame_size) if recipe.frame_size else None,
            "max_short_side": recipe.max_short_side,
            "crop_size": recipe.crop_size,
            "full_resolution": recipe.full_resolution,
            "data": [Path(d).name for d in data],
            "stills": [Path(d).name for d in stills],
            "synthetic_motion": asdict(recipe.motion or MotionRanges()) if stills else None,
            "init": Path(init).name if init else None,
            "init_fresh_tensors": list(fresh),
        },
    )
    validate = validation_hook(validation_set, head, trainer.device) if validation_set is not None else None
    trainer.hooks = TrainerHooks(validate=validate, samples=_sample_writer(head))
    result = trainer.fit(dataset, resume="auto" if resume else None, until=until, force_resume=force_resume)
    if trainer.context.is_main:
        with disk_full_reported(run_dir):  # the exported weights and card
            _export(trainer, recipe, data, stills, result, time.perf_counter() - started)
    return result


def _export(
    trainer: Trainer,
    recipe: PredictRecipe,
    data: Sequence[str | os.PathLike[str]],
    stills: Sequence[str | os.PathLike[str]],
    result: TrainingResult,
    seconds: float,
) -> None:
    card = {
        "task": "predict",
        "recipe": recipe.name,
        "context_frames": recipe.context_frames,
        "rollout": recipe.rollout,
        "channels": recipe.channels,
        "frame_size": list(recipe.frame_size) if recipe.frame_size else None,
        "max_short_side": None if recipe.full_resolution else recipe.max_short_side,
        "train_max_short_side": recipe.max_short_side,
        "crop_size": recipe.crop_size,
        "adversarial_loss": trainer.config.adversarial_loss,
        "data": [Path(d).name for d in data],
        "stills": [Path(d).name for d in stills],
        "stills_share": recipe.stills_share if stills else 0.0,
        # the still-image motion and where the run started from, as recorded in its config
        "synthetic_motion": trainer.extra_config["synthetic_motion"],
        "init": trainer.extra_config["init"],
        "init_fresh_tensors": trainer.extra_config["init_fresh_tensors"],
    }
    export_run_weights(trainer, result, seconds=seconds, card=card)
