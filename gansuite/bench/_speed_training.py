"""Training-step rate for the speed benchmark: `Trainer.train_step` of the x4-gan recipe's setup.

A discriminator step, then a generator step with EMA, with the U-Net discriminator (spectral
norm, Real-ESRGAN), BCE adversarial loss (weight 0.1), Adam and generator EMA, on a fixed
synthetic batch; the L1 content loss only unless VGG16 backbones are given for the recipe's
perceptual loss. Data loading is not timed. See `gansuite.bench.speed` for the protocol.
"""

from __future__ import annotations

import os
import tempfile

import torch
import torch.nn.functional as F
from torch import nn

from gansuite.bench._speed_memory import MIB
from gansuite.bench._speed_models import SpeedModel
from gansuite.bench._speed_report import TrainingSpeed
from gansuite.bench._speed_roofline import median, time_calls
from gansuite.core.config import ContentLossConfig
from gansuite.core.networks import build_network
from gansuite.core.trainer import Sample, Trainer
from gansuite.errors import ConfigError
from gansuite.tasks.upscale.recipes import get_recipe

__all__ = ["measure_training"]


class _SyntheticHead:
    """The smallest task head: the batch already is (LR, HR)."""

    def prepare(self, batch: tuple[torch.Tensor, torch.Tensor]) -> Sample:
        return Sample(inputs=batch[0], target=batch[1])

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        return generator(sample.inputs)


def measure_training(
    model: SpeedModel,
    *,
    device: torch.device,
    precision: str = "fp32",
    batch_size: int = 4,
    patch_size: int = 128,
    warmup: int = 1,
    steps: int = 3,
    backbones: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> TrainingSpeed:
    """Time `Trainer.train_step` of `model`'s architecture against the x4-gan recipe's discriminator.

    Args:
        model: the generator (trained from a random initialisation: the weights do not change speed).
        device: CPU or CUDA.
        precision: "fp32"; on CUDA also "fp16" (autocast + GradScaler) or "bf16" (autocast).
        batch_size: HR crops per step.
        patch_size: HR crop side; the LR input is patch_size / scale (random data).
        warmup: untimed steps first (Adam state, kernel selection).
        steps: timed steps; the median step time gives it/s.
        backbones: VGG16 weights (file or folder) to add the recipe's perceptual loss; None: L1 only.
        seed: torch seed of the networks and the batch.

    Returns:
        The measured row.

    Raises:
        ConfigError: AMP on the CPU, or a patch size that is not a multiple of 8 and of the scale.
        BackboneNotFoundError: `backbones` holds no VGG16 weights.
    """
    recipe = get_recipe("x4-gan")
    torch.manual_seed(seed)
    generator = build_network(model.spec)
    scale = int(generator.scale)
    if patch_size % 8 or patch_size % scale:
        raise ConfigError(
            f"--train-patch {patch_size}: the U-Net discriminator needs a multiple of 8 and the x{scale} model a "
            f"multiple of {scale}; use e.g. --train-patch 128"
        )
    losses = (recipe.trainer.content_losses[0],)
    if backbones is not None:
        perceptual = recipe.trainer.content_losses[1]
        options = {**perceptual.options, "backbones": str(backbones)}
        losses += (ContentLossConfig("perceptual", perceptual.weight, options),)
    config = recipe.trainer.replace(
        batch_size=batch_size, device=device.type, precision=precision, content_losses=losses, progress=False,
        tensorboard=False, seed=seed,
    )
    high_res = torch.rand(batch_size, 3, patch_size, patch_size)
    sample = Sample(inputs=F.avg_pool2d(high_res, scale), target=high_res)
    with tempfile.TemporaryDirectory() as run_dir:  # train_step writes nothing; the trainer wants a folder
        trainer = Trainer(
            generator=generator, discriminator=build_network(recipe.discriminator), head=_SyntheticHead(),
            config=config, run_dir=run_dir,
        )
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        seconds = time_calls(lambda: trainer.train_step(sample), device, warmup, max(steps, 1))
    step = median(seconds)
    return TrainingSpeed(
        model=model.name, device=device.type, precision=precision, batch_size=batch_size, patch_size=patch_size,
        content_losses=" + ".join(c.name for c in losses), iterations_per_s=1 / step,
        images_per_s=batch_size / step, median_seconds=step, seconds=tuple(seconds),
        peak_memory_mib=torch.cuda.max_memory_allocated(device) / MIB if device.type == "cuda" else None,
        note="fp16 with GradScaler" if precision == "fp16" else "",
    )
