"""Tiny next-frame models and synthetic clips / MNIST files shared by the predict tests.

Tests build tiny random (or exactly copy-last) models, independent of the shipped weights,
and clips are synthesised in tmp_path: a smooth background drifting in brightness with a small
square moving across it, so the next frame is predictable.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import gansuite.tasks.predict  # noqa: F401  (registers the generator)
from gansuite.core.checkpoint import export_weights
from gansuite.core.networks import build_network
from gansuite.io.video import write_frames, write_video
from gansuite.tasks.predict.recipes import predictor_spec


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Run a test module's tiny convolutions on one thread, restoring the count after.

    On a loaded 2-core machine two OpenMP threads wait on each other: a forward pass of a tiny
    model takes ~0.3 s instead of ~4 ms. Test modules import this fixture to use it.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_model(context: int = 2, channels: int = 3, *, residual: bool = True, seed: int = 0) -> nn.Module:
    """A randomly initialised unet-predictor with 4 base channels and depth 2, eval mode."""
    torch.manual_seed(seed)
    spec = predictor_spec(context_frames=context, channels=channels, base_channels=4, depth=2, residual=residual)
    return build_network(spec).eval()


def copy_last_model(context: int = 2, channels: int = 3) -> nn.Module:
    """A residual unet-predictor whose output layer is zero: it returns the last context frame exactly."""
    model = tiny_model(context, channels, residual=True)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    return model


def export_tiny(path: Path, context: int = 2, channels: int = 3, card: dict | None = None) -> Path:
    """Export a tiny model to `path` (.safetensors with its .json card)."""
    return export_weights(path, tiny_model(context, channels), card=card or {"task": "predict", "note": "tiny"})


def moving_square(frames: int = 12, height: int = 24, width: int = 32, channels: int = 3) -> np.ndarray:
    """(T, H, W, C) float32 in [0, 1]: a drifting gradient with a bright square moving 1 px per frame."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    clip = np.empty((frames, height, width, channels), dtype=np.float32)
    for t in range(frames):
        frame = 0.2 + 0.3 * x / width + 0.2 * y / height + 0.004 * t
        left = 2 + t % (width - 8)
        frame[8:14, left : left + 6] = 0.9
        clip[t] = np.repeat(frame[:, :, None], channels, axis=2)
        if channels == 3:
            clip[t, :, :, 0] *= 0.8  # not gray
    return np.clip(clip, 0.0, 1.0)


def write_clip_video(path: Path, frames: int = 12, height: int = 24, width: int = 32, fps: float = 10.0) -> Path:
    """A lossless .mkv (FFV1) of `moving_square`."""
    return write_video(path, moving_square(frames, height, width), fps)


def write_clip_folder(folder: Path, frames: int = 12, height: int = 24, width: int = 32) -> Path:
    """A folder of PNG frames of `moving_square`."""
    write_frames(folder, moving_square(frames, height, width))
    return folder


def write_mnist(folder: Path, count: int = 10_000) -> Path:
    """Synthetic MNIST-format files: `count` 28x28 uint8 'digits' (a bright bar each) and labels, gzip IDX."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    digits = np.zeros((count, 28, 28), dtype=np.uint8)
    rows = rng.integers(4, 20, size=count)
    for i, row in enumerate(rows):
        digits[i, row : row + 4, 6:22] = 255
    header = bytes([0, 0, 0x08, 3]) + b"".join(n.to_bytes(4, "big") for n in (count, 28, 28))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + digits.tobytes(), compresslevel=1))
    labels = (np.arange(count) % 10).astype(np.uint8)
    label_header = bytes([0, 0, 0x08, 1]) + count.to_bytes(4, "big")
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(label_header + labels.tobytes()))
    return folder
