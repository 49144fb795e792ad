"""MNIST digits from the IDX files (``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``).

The split used here: digits 0–8999 of the file train (generator, discriminator, classifier,
baseline), digits 9000–9999 are the held-out reference of the evaluation.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from gansuite.errors import ConfigError
from gansuite.tasks.predict.moving_mnist import read_idx

__all__ = ["DIGITS_EVAL", "DIGITS_TRAIN", "load_digits"]

DIGITS_TRAIN = range(0, 9000)
DIGITS_EVAL = range(9000, 10000)
_IMAGES, _LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


def load_digits(root: str | os.PathLike[str], split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Digits and labels of one split.

    Args:
        root: the folder holding the two IDX files (e.g. ``$GANSUITE_DATA/video/mnist``).
        split: "train" (digits 0–8999) or "eval" (9000–9999).

    Returns:
        images (N, 1, 28, 28) float32 in [0, 1] (white digit on black), labels (N,) int64 in 0..9.

    Raises:
        ConfigError: unknown split, missing files or wrong shapes.
    """
    if split not in ("train", "eval"):
        raise ConfigError(f"split {split!r} is not 'train' or 'eval'")
    folder = Path(root)
    missing = [name for name in (_IMAGES, _LABELS) if not (folder / name).is_file()]
    if missing:
        raise ConfigError(f"{folder}: missing {', '.join(missing)} (point --data at MNIST's IDX files)")
    images, labels = read_idx(folder / _IMAGES), read_idx(folder / _LABELS)
    if images.shape[1:] != (28, 28) or len(images) != len(labels) or len(images) < DIGITS_EVAL.stop:
        raise ConfigError(f"{folder}: expected 10000 digits of 28x28 with labels, got {images.shape}, {labels.shape}")
    part = DIGITS_TRAIN if split == "train" else DIGITS_EVAL
    chosen = slice(part.start, part.stop)
    pixels = torch.from_numpy(images[chosen].astype(np.float32) / 255.0).unsqueeze(1)
    return pixels, torch.from_numpy(labels[chosen].astype(np.int64))
