"""Validation during training: PSNR-Y on folders of HR images with the SR protocol.

LR inputs are the HR images cropped to a multiple of the scale and downscaled with MATLAB's
bicubic resize (uint8); PSNR is on the BT.601 Y channel with a border crop of `scale` pixels,
as the benchmark (`gansuite benchmark sr`) measures it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gansuite.io.image import read_image
from gansuite.io.imresize import imresize_array
from gansuite.metrics import psnr
from gansuite.tasks.upscale.data import list_images

__all__ = ["load_validation_pairs", "validate_psnr", "validation_hook"]


def load_validation_pairs(folder: str | os.PathLike[str], scale: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(LR, HR) pairs, each (1, 3, h, w) float32 RGB in [0, 1], from a folder of HR images."""
    pairs = []
    for path in list_images(folder):
        rgb = np.round(read_image(path).color * 255.0).astype(np.uint8)
        h, w = rgb.shape[0] - rgb.shape[0] % scale, rgb.shape[1] - rgb.shape[1] % scale
        rgb = rgb[:h, :w]
        low = imresize_array(rgb, scale=1.0 / scale)
        pairs.append((_tensor(low), _tensor(rgb)))
    return pairs


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float().div(255.0)


@torch.no_grad()
def validate_psnr(
    generator: nn.Module, pairs: list[tuple[torch.Tensor, torch.Tensor]], scale: int, device: torch.device
) -> float:
    """Mean PSNR-Y (dB) of `generator` over `pairs`."""
    was_training = generator.training
    generator.eval()
    scores = []
    for low, high in pairs:
        out = generator(low.to(device)).float().clamp(0, 1).cpu()
        scores.append(float(psnr(out, high, channel="y", crop_border=scale)[0]))
    generator.train(was_training)
    return float(np.mean(scores))


def validation_hook(sets: dict[str, Path], scale: int) -> Callable[[nn.Module, int], dict[str, float]]:
    """A `TrainerHooks.validate` callback scoring PSNR-Y on each named set, on the generator's device."""
    loaded = {name: load_validation_pairs(folder, scale) for name, folder in sets.items()}

    def validate(generator: nn.Module, step: int) -> dict[str, float]:
        device = next(generator.parameters()).device
        return {f"{name}_psnr_y": validate_psnr(generator, pairs, scale, device) for name, pairs in loaded.items()}

    return validate
