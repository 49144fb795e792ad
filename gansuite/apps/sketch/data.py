"""Edge maps of photos (Canny, 1988) and of users' line drawings, and the training crops.

Training pairs are (Canny edges of a crop, the crop): edges come from the crop itself, so the
evaluation crops and a user's drawing are treated alike. A line drawing (dark strokes on a light
background, any stroke width) is turned into the same kind of map: 1-pixel white lines on black.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from gansuite.core.sampling import SeededIndex, sample_rng
from gansuite.errors import ConfigError
from gansuite.io.image import read_image

__all__ = ["IMAGE_SUFFIXES", "MAX_INK", "EdgePhotoCrops", "drawing_to_edges", "edges_of", "list_images"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
CANNY_THRESHOLDS = (100, 200)
MAX_INK = 0.3
"""The largest share of a drawing that may be ink: line drawings are mostly blank paper (a few
percent), while a photo thresholded at mid-gray is about half "ink" by construction."""


def edges_of(photo: np.ndarray) -> np.ndarray:
    """Canny edges of a photo: (H, W, 3) float32 in [0, 1] RGB → (H, W) float32 in {0, 1}.

    The photo is converted to 8-bit gray and smoothed (Gaussian, σ = 1) before Canny with
    hysteresis thresholds 100 / 200.
    """
    gray = cv2.cvtColor((np.clip(photo, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    gray = cv2.GaussianBlur(gray, (5, 5), 1.0)
    return (cv2.Canny(gray, *CANNY_THRESHOLDS) > 0).astype(np.float32)


def drawing_to_edges(drawing: np.ndarray) -> np.ndarray:
    """A user's line drawing → an edge map like `edges_of`'s: (H, W) float32 in {0, 1}.

    Args:
        drawing: (H, W) gray or (H, W, 3) RGB, float in [0, 1]. Dark strokes on a light
            background are inverted; strokes wider than one pixel are thinned to their
            morphological skeleton.

    Raises:
        ConfigError: an empty drawing (no strokes at all), or an image over `MAX_INK` ink (a photo:
            its edges are `edges_of`'s, ``gansuite demo sketch --from-photo``).
    """
    gray = drawing if drawing.ndim == 2 else cv2.cvtColor(drawing.astype(np.float32), cv2.COLOR_RGB2GRAY)
    if float(np.median(gray)) > 0.5:  # light paper, dark ink
        gray = 1.0 - gray
    strokes = (gray > 0.5).astype(np.uint8)
    if not strokes.any():
        raise ConfigError("the drawing has no strokes: draw dark lines on a light background (or light on dark)")
    ink = float(strokes.mean())
    if ink > MAX_INK:  # thinning half an image to skeletons gives a maze, not the lines of a drawing
        raise ConfigError(
            f"this looks like a photo, not a line drawing: {ink:.0%} of it is ink, where a drawing is mostly blank "
            f"paper (at most {MAX_INK:.0%}); give a photo with --from-photo (its Canny edges are used, as in "
            "training) or draw lines on plain paper"
        )
    skeleton = np.zeros_like(strokes)
    element = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    remaining = strokes.copy()
    while remaining.any():  # Lantuéjoul's morphological skeleton
        eroded = cv2.erode(remaining, element)
        skeleton |= remaining - cv2.dilate(eroded, element).clip(0, 1) * remaining
        remaining = eroded
    return skeleton.astype(np.float32)


def list_images(folders: list[str | os.PathLike[str]]) -> list[Path]:
    """Image files directly inside `folders`, sorted. Raises ConfigError when there are none."""
    files = sorted(p for folder in folders for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ConfigError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {[str(f) for f in folders]}")
    return files


class EdgePhotoCrops(Dataset):
    """Random crops of photos with their Canny edges; `crops_per_image` items per photo.

    Items: (edges (1, crop, crop) float32 in {0, 1}, photo (3, crop, crop) float32 in [0, 1]).
    Each item's crop and horizontal flip come from its seeded index, so runs are reproducible.
    """

    seeded_keys = True  # the trainer hands over SeededIndex keys

    def __init__(self, files: list[Path], *, crop: int = 64, crops_per_image: int = 64) -> None:
        self.photos = [read_image(f).color for f in files]
        small = [f for f, p in zip(files, self.photos, strict=True) if min(p.shape[:2]) < crop]
        if small:
            raise ConfigError(f"images smaller than the {crop}-pixel crop: {[str(f) for f in small[:3]]}")
        self.crop, self.crops_per_image = crop, crops_per_image

    def __len__(self) -> int:
        return len(self.photos) * self.crops_per_image

    def __getitem__(self, key: SeededIndex | int) -> tuple[torch.Tensor, torch.Tensor]:
        index, rng = sample_rng(key)
        photo = self.photos[index % len(self.photos)]
        top = int(rng.integers(0, photo.shape[0] - self.crop + 1))
        left = int(rng.integers(0, photo.shape[1] - self.crop + 1))
        patch = photo[top:top + self.crop, left:left + self.crop]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        patch = np.ascontiguousarray(patch)
        edges = edges_of(patch)
        return torch.from_numpy(edges)[None], torch.from_numpy(patch).permute(2, 0, 1).contiguous()
