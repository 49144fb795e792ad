"""Moving MNIST (Srivastava, Mansimov & Salakhutdinov, ICML 2015), rendered from the MNIST IDX files.

Two 28x28 digits move inside a 64x64 canvas, each at constant speed in a random direction,
bouncing off the edges; where they overlap the brighter pixel wins. A sequence has 20 frames:
10 context frames and 10 to predict (the 10 → 10 protocol of OpenSTL, Tan et al. 2023).

The digits come from MNIST's ``t10k-images-idx3-ubyte.gz`` (10000 test digits):

- training sequences use digits 0–8999 and are generated on the fly, each from its
  `SeededIndex` seed, so every step sees fresh sequences and a run is still reproducible;
- the test set is a fixed list of 2000 sequences of digits 9000–9999, sequence i drawn from the
  seed (`TEST_SEED`, i), so it is identical on every machine and any prefix is a valid subset.

Items are clips `(T, 1, 64, 64) float32 in [0, 1]`.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from gansuite.core.sampling import SeededIndex, sample_rng
from gansuite.errors import ConfigError

__all__ = [
    "MNIST_IMAGES",
    "MNIST_LABELS",
    "TEST_DIGITS",
    "TEST_SEED",
    "TEST_SEQUENCES",
    "TRAIN_DIGITS",
    "MovingMNIST",
    "read_idx",
]

MNIST_IMAGES = "t10k-images-idx3-ubyte.gz"
MNIST_LABELS = "t10k-labels-idx1-ubyte.gz"
TRAIN_DIGITS = range(0, 9000)
TEST_DIGITS = range(9000, 10000)
TEST_SEQUENCES = 2000
TEST_SEED = 2015
CANVAS_SIZE = 64
"""Side of the square Moving MNIST frames (Srivastava et al. 2015), the size the ``mmnist`` recipes train at."""

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4")}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzip-compressed or not.

    Args:
        path: e.g. ``t10k-images-idx3-ubyte.gz``.

    Returns:
        The array with the shape the header states, e.g. (10000, 28, 28) uint8 for images.

    Raises:
        ConfigError: missing file, or not a valid IDX file.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"MNIST file {file} does not exist; give the folder holding {MNIST_IMAGES}")
    try:
        data = gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ConfigError(f"{file} cannot be read as a gzip file ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ConfigError(f"{file} is not an IDX file (header {data[:4]!r})")
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    body = data[4 + 4 * dims :]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(body) != expected:
        raise ConfigError(f"{file}: header announces {shape} ({expected} bytes), file holds {len(body)} bytes")
    return np.frombuffer(body, dtype=dtype).reshape(shape)


def _find(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


class MovingMNIST(Dataset):
    """Moving-MNIST sequences rendered on demand.

    Args:
        root: folder holding ``t10k-images-idx3-ubyte.gz`` (and optionally the labels file).
        split: "train" (digits 0–8999, seeded per item) or "test" (the fixed set, digits 9000–9999).
        sequences: items: for "test" the first `sequences` of the fixed 2000 (default all); for
            "train" the virtual epoch length (default 10000).
        num_frames: frames per sequence (20 for 10 → 10).
        num_digits: digits per sequence.
        canvas_size: side of the square frames.
        speed: pixels a digit moves per frame (0.1 of the free range, as the common generator).

    Raises:
        ConfigError: bad options, a missing or malformed MNIST file, or fewer than 10000 digits.
    """

    seeded_keys = True  # __getitem__ takes a SeededIndex (see gansuite.core.sampling)

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        split: Literal["train", "test"] = "train",
        sequences: int | None = None,
        num_frames: int = 20,
        num_digits: int = 2,
        canvas_size: int = CANVAS_SIZE,
        speed: float = 3.6,
    ) -> None:
        if split not in ("train", "test"):
            raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
        if num_frames < 1 or num_digits < 1 or speed < 0:
            raise ConfigError(f"bad Moving MNIST settings: {num_frames} frames, {num_digits} digits, speed {speed}")
        folder = Path(root)
        images_path = _find(folder, MNIST_IMAGES) if folder.is_dir() else None
        if images_path is None:
            raise ConfigError(f"{folder} holds no {MNIST_IMAGES}: give the folder of the MNIST test files")
        digits = read_idx(images_path)
        if digits.ndim != 3 or digits.dtype != np.uint8 or digits.shape[0] < TEST_DIGITS.stop:
            raise ConfigError(
                f"{images_path}: expected at least {TEST_DIGITS.stop} uint8 digits (N, H, W), got {digits.dtype} "
                f"{digits.shape}; use MNIST's t10k images file"
            )
        if canvas_size <= max(digits.shape[1:]):
            raise ConfigError(f"canvas_size {canvas_size} must exceed the digit size {digits.shape[1:]}")
        labels_path = _find(folder, MNIST_LABELS)
        self.labels = read_idx(labels_path) if labels_path is not None else None
        self.digits = digits
        self.split = split
        self.digit_range = TRAIN_DIGITS if split == "train" else TEST_DIGITS
        limit = TEST_SEQUENCES if split == "test" else None
        default = TEST_SEQUENCES if split == "test" else 10_000
        self.sequences = default if sequences is None else int(sequences)
        if self.sequences < 1 or (limit is not None and self.sequences > limit):
            raise ConfigError(f"sequences must be in 1..{limit or 'inf'} for split {split!r}, got {sequences}")
        self.num_frames, self.num_digits, self.canvas_size, self.speed = num_frames, num_digits, canvas_size, speed

    def __len__(self) -> int:
        return self.sequences

    def _rng(self, key: SeededIndex | int) -> tuple[int, np.random.Generator]:
        index, rng = sample_rng(key)
        if self.split == "test":  # fixed set: the seed depends on the index alone
            if not 0 <= index < self.sequences:
                raise IndexError(f"test sequence {index} is outside 0..{self.sequences - 1}")
            rng = np.random.default_rng([TEST_SEED, index])
        return index, rng

    def sequence_digits(self, key: SeededIndex | int) -> np.ndarray:
        """The indices into the MNIST file of the digits of sequence `key`, shape (num_digits,)."""
        _, rng = self._rng(key)
        return self._draw(rng)[0]

    def _draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        chosen = rng.integers(self.digit_range.start, self.digit_range.stop, size=self.num_digits)
        free = self.canvas_size - np.array(self.digits.shape[1:], dtype=np.float64)  # (2,) rows, cols
        position = rng.random((self.num_digits, 2)) * free
        angle = rng.random(self.num_digits) * 2 * np.pi
        velocity = self.speed * np.stack([np.sin(angle), np.cos(angle)], axis=1)
        return chosen, position, velocity

    def render(self, key: SeededIndex | int) -> np.ndarray:
        """Sequence `key` as (num_frames, canvas, canvas) uint8."""
        _, rng = self._rng(key)
        chosen, position, velocity = self._draw(rng)
        free = self.canvas_size - np.array(self.digits.shape[1:], dtype=np.float64)
        height, width = self.digits.shape[1:]
        frames = np.zeros((self.num_frames, self.canvas_size, self.canvas_size), dtype=np.uint8)
        for t in range(self.num_frames):
            for d in range(self.num_digits):
                top, left = np.rint(position[d]).astype(int)
                window = frames[t, top : top + height, left : left + width]
                np.maximum(window, self.digits[chosen[d]], out=window)
            position += velocity
            # bounce: reflect the position into [0, free] and reverse that velocity component
            low, high = position < 0, position > free
            position = np.where(low, -position, np.where(high, 2 * free - position, position))
            velocity = np.where(low | high, -velocity, velocity)
        return frames

    def __getitem__(self, key: SeededIndex | int) -> torch.Tensor:
        return torch.from_numpy(self.render(key)).unsqueeze(1).float().div_(255.0)
