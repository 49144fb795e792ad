"""High-resolution training crops from folders of images.

Every image is read once into memory as 8-bit RGB, optionally with extra copies downscaled by
MATLAB's bicubic resize (scale augmentation, as VDSR did with the same 291 images); items are
random crops with random flips and 90° rotations, seeded per sample by the core's
`SeededSampler`, so a resumed run sees the same crops. The low-resolution side is made per batch
by the head (`UpscaleHead`), on the training device.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from gansuite.core.sampling import SeededIndex, sample_rng
from gansuite.errors import ConfigError
from gansuite.io.folders import IMAGE_SUFFIXES, list_images
from gansuite.io.image import read_image
from gansuite.io.imresize import imresize_array

__all__ = ["IMAGE_SUFFIXES", "HighResCrops", "list_images", "load_training_images"]


def load_training_images(
    paths: Sequence[str | os.PathLike[str]], *, patch_size: int, scale_augment: Sequence[float] = ()
) -> list[np.ndarray]:
    """Images as (H, W, 3) uint8 RGB arrays, each with its downscaled copies (`scale_augment`
    factors < 1, MATLAB bicubic); copies whose short side is under `patch_size` are dropped."""
    images: list[np.ndarray] = []
    for path in paths:
        rgb = np.round(read_image(path).color * 255.0).astype(np.uint8)
        for factor in (1.0, *scale_augment):
            copy = rgb if factor == 1.0 else imresize_array(rgb, scale=factor)
            if min(copy.shape[:2]) >= patch_size:
                images.append(copy)
    return images


class HighResCrops(Dataset):
    """Random HR crops: items are (patch, patch, 3) uint8 tensors, RGB.

    Args:
        folders: folders of HR images.
        patch_size: side of the HR crop.
        scale_augment: extra downscaled copies of each image (factors < 1).
        items_per_epoch: virtual dataset length (crops per pass).
    """

    seeded_keys = True  # __getitem__ takes a SeededIndex (see gansuite.core.sampling)

    def __init__(
        self,
        folders: Sequence[str | os.PathLike[str]],
        *,
        patch_size: int,
        scale_augment: Sequence[float] = (),
        items_per_epoch: int = 10_000,
    ) -> None:
        images = load_training_images(
            [path for folder in folders for path in list_images(folder)], patch_size=patch_size,
            scale_augment=scale_augment,
        )
        if not images:
            names = ", ".join(str(f) for f in folders)
            raise ConfigError(f"no training image is at least {patch_size}x{patch_size} pixels in {names}")
        self.images = images
        self.patch_size = patch_size
        self.items_per_epoch = items_per_epoch
        # sample images in proportion to their area, so every pixel is equally likely
        areas = np.array([im.shape[0] * im.shape[1] for im in images], dtype=np.float64)
        self._cumulative = np.cumsum(areas / areas.sum())

    def __len__(self) -> int:
        return self.items_per_epoch

    def __getitem__(self, key: SeededIndex | int) -> torch.Tensor:
        _, rng = sample_rng(key)
        which = int(np.searchsorted(self._cumulative, rng.random(), side="right"))
        image = self.images[min(which, len(self.images) - 1)]
        p = self.patch_size
        top = int(rng.integers(0, image.shape[0] - p + 1))
        left = int(rng.integers(0, image.shape[1] - p + 1))
        crop = image[top : top + p, left : left + p]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = np.rot90(crop, k=int(rng.integers(0, 4)))
        return torch.from_numpy(np.ascontiguousarray(crop))
