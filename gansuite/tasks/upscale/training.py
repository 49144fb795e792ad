"""Run a super-resolution recipe: data, networks, trainer, validation, samples, exported weights."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from gansuite.core.atomic import atomic_path
from gansuite.core.checkpoint import load_transferable_weights, load_weights
from gansuite.core.networks import build_network
from gansuite.core.rng import seed_everything
from gansuite.core.run_card import export_run_weights
from gansuite.core.run_folder import check_run_folder, disk_full_reported
from gansuite.core.trainer import Sample, Trainer, TrainerHooks, TrainingResult
from gansuite.errors import CheckpointError, ConfigError
from gansuite.tasks.upscale.data import HighResCrops
from gansuite.tasks.upscale.distill import DistillHead, TeacherPairs
from gansuite.tasks.upscale.head import UpscaleHead
from gansuite.tasks.upscale.recipes import UpscaleRecipe
from gansuite.tasks.upscale.validation import validation_hook

__all__ = ["train_upscale"]


def _save_samples(generator: nn.Module, sample: Sample, step: int, run_dir: Path) -> None:
    """A grid per sample: nearest-upscaled LR | generator output | HR target."""
    from gansuite._extras import require_extra

    save_image = require_extra("train", "torchvision.utils", feature="training sample grids").save_image

    # the trainer hands hooks the batch as the head prepared it (on the CPU); the generator may be on CUDA
    device = next(generator.parameters()).device
    with torch.no_grad():
        fake = generator(sample.inputs[:4].to(device)).float().clamp(0, 1).cpu()
    target = sample.target[:4].float().cpu()
    low = torch.nn.functional.interpolate(sample.inputs[:4].float().cpu(), size=target.shape[-2:], mode="nearest")
    grid = torch.cat([low, fake, target], dim=3)
    path = run_dir / "samples" / f"step_{step:08d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_image(grid, tmp, nrow=1, format="png")


def train_upscale(
    recipe: UpscaleRecipe,
    *,
    data: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    val: dict[str, Path] | None = None,
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
) -> TrainingResult:
    """Train `recipe` on HR image folders; the run directory ends with the EMA generator exported.

    Args:
        recipe: a shipped recipe (`get_recipe`).
        data: folders of HR training images; for a distillation recipe (`teacher_weight` set),
            teacher-pairs shards (`gansuite.tasks.upscale.distill.write_teacher_pairs`).
        out: the run directory (config, log, checkpoints, samples, weights).
        val: named folders of HR validation images (PSNR-Y is logged per evaluation).
        init: weights to start the generator from (a `.safetensors` file); for recipes that
            start from shipped weights (the GAN stage, x2 from x4's body) the default is those.
        steps, batch_size, num_workers: override the recipe's values.
        until: stop at this step (checkpointed), to continue later with the same command.
        device: "auto", "cpu" or "cuda".
        precision: "auto", "fp32", "fp16" or "bf16" (autocast; fp16 with a GradScaler), or
            None for the recipe's ("auto": bf16 on CUDA where supported, fp32 on the CPU).
        resume: continue from the latest checkpoint in `out` if there is one.
        progress: show a progress bar.
        checkpoint_every: override the recipe's checkpoint period in steps (0: only at the end).
        force_resume: resume even if settings that shape the run changed since its checkpoint.

    Returns:
        The trainer's `TrainingResult`.

    Raises:
        ConfigError: bad settings, data of the wrong kind for the recipe, `out` in use by another
            trainer, or a resume with changed settings.
        OutputError: `out` cannot be written, or the disk filled up.
    """
    run_dir = Path(out)
    check_run_folder(run_dir)
    config = recipe.trainer.override(
        device=device, precision=precision, progress=progress, steps=steps, batch_size=batch_size,
        num_workers=num_workers, checkpoint_every=checkpoint_every,
    )

    seed_everything(config.seed)  # before any network is built: a fresh run is reproducible from its seed
    generator = build_network(recipe.generator)
    init_path = _resolve_init(recipe, init)
    fresh: tuple[str, ...] = ()
    if init_path is not None and recipe.init_transfer:
        fresh = load_transferable_weights(generator, init_path)
    elif init_path is not None:
        generator.load_state_dict(load_weights(init_path).state_dict())
    discriminator = build_network(recipe.discriminator) if recipe.discriminator is not None else None
    dataset, head = _data_and_head(recipe, data, config.seed)
    started = time.perf_counter()
    trainer = Trainer(
        generator=generator,
        discriminator=discriminator,
        head=head,
        config=config,
        run_dir=run_dir,
        hooks=TrainerHooks(validate=validation_hook(val, recipe.scale) if val else None, samples=_save_samples),
        extra_config={
            "recipe": recipe.name,
            "generator": asdict(recipe.generator),
            "discriminator": asdict(recipe.discriminator) if recipe.discriminator else None,
            "patch_size": recipe.patch_size,
            "scale_augment": list(recipe.scale_augment),
            "degradation": recipe.degradation,
            **({"realistic_degradation": head.realistic.as_dict()} if isinstance(head, UpscaleHead)
               and recipe.degradation == "realistic" else {}),
            **({"teacher_weight": recipe.teacher_weight} if recipe.teacher_weight is not None else {}),
            "data": [str(Path(d).name) for d in data],
            "init": str(init_path.name) if init_path else None,
            "init_fresh_tensors": list(fresh),
        },
    )
    result = trainer.fit(dataset, resume="auto" if resume else None, until=until, force_resume=force_resume)
    if trainer.context.is_main:
        with disk_full_reported(run_dir):  # the exported weights and card
            _export(trainer, recipe, data, init_path, result, time.perf_counter() - started)
    return result


def _data_and_head(
    recipe: UpscaleRecipe, data: Sequence[str | os.PathLike[str]], seed: int
) -> tuple[Dataset, UpscaleHead | DistillHead]:
    """HR crops + LR made per batch; or, for a distillation recipe, teacher-pairs shards."""
    paths = [Path(d) for d in data]
    if recipe.teacher_weight is not None:
        folders = [p for p in paths if p.is_dir()]
        if folders:
            raise ConfigError(
                f"--data {folders[0]}: recipe {recipe.name} learns from teacher-pairs shards (.safetensors files "
                "written by gansuite train teacher-pairs), not image folders"
            )
        return TeacherPairs(paths), DistillHead(teacher_weight=recipe.teacher_weight)
    files = [p for p in paths if not p.is_dir()]
    if files:
        raise ConfigError(f"--data {files[0]}: recipe {recipe.name} takes folders of HR images, not a file")
    dataset = HighResCrops(paths, patch_size=recipe.patch_size, scale_augment=recipe.scale_augment)
    head = UpscaleHead(scale=recipe.scale, degradation=recipe.degradation, seed=seed, realistic=recipe.realistic)
    return dataset, head


def _resolve_init(recipe: UpscaleRecipe, init: str | os.PathLike[str] | None) -> Path | None:
    if init is not None:
        return Path(init)
    if recipe.init_from is None:
        return None
    from gansuite.tasks.upscale.pretrained import shipped_weights_path

    path = shipped_weights_path(recipe.init_from)
    if not path.is_file():
        raise CheckpointError(
            f"recipe {recipe.name} starts from the shipped {recipe.init_from!r} weights, which are not in this "
            "package: train the PSNR recipe first and pass its weights with --init"
        )
    return path


def _export(
    trainer: Trainer,
    recipe: UpscaleRecipe,
    data: Sequence[str | os.PathLike[str]],
    init_path: Path | None,
    result: TrainingResult,
    seconds: float,
) -> None:
    card = {
        "task": "upscale",
        "scale": recipe.scale,
        "recipe": recipe.name,
        "patch_size": recipe.patch_size,
        "degradation": recipe.degradation,
        "data": [Path(d).name for d in data],
        **({"teacher_weight": recipe.teacher_weight} if recipe.teacher_weight is not None else {}),
        "init": init_path.name if init_path else None,
    }
    if "realistic_degradation" in trainer.extra_config:  # as recorded in the run's config
        card["realistic_degradation"] = trainer.extra_config["realistic_degradation"]
    export_run_weights(trainer, result, seconds=seconds, card=card)
