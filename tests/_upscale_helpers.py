"""Tiny seeded super-resolution models and synthetic images shared by the upscale tests.

No weights ship with the package yet, so every test builds its own random models (a few
thousand parameters) and, where a file is needed, exports them with `export_weights`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

import gansuite.tasks.upscale  # noqa: F401  (registers the SR generators)
from gansuite.core.checkpoint import export_weights
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.tasks.upscale import pretrained

# the smallest settings that keep each architecture's structure (and so its receptive field)
TINY = {
    "srresnet": {"channels": 4, "num_blocks": 1},
    "compact": {"channels": 8, "num_convs": 2},
    "rrdbnet": {"channels": 4, "num_blocks": 1, "growth": 2},
}


def tiny_spec(name: str = "compact", scale: int = 4) -> NetworkSpec:
    """The spec of a tiny `name` generator upscaling by `scale`."""
    return NetworkSpec("generator", name, {"scale": scale, **TINY[name]})


def tiny_generator(name: str = "compact", scale: int = 4, seed: int = 0) -> nn.Module:
    """A tiny randomly initialised generator, in eval mode."""
    torch.manual_seed(seed)
    return build_network(tiny_spec(name, scale)).eval()


def near_identity_generator(scale: int = 4, residual: float = 0.0, seed: int = 0) -> nn.Module:
    """A compact generator whose learned residual is scaled by `residual`.

    With `residual=0` it is exactly nearest-neighbour upsampling, so (N, C, h, w) float in
    [0, 1] maps to each pixel repeated `scale` x `scale` times, bit for bit.
    """
    model = tiny_generator("compact", scale, seed)
    last_conv = model.body[-2]
    with torch.no_grad():
        last_conv.weight.mul_(residual)
        last_conv.bias.mul_(residual)
    return model


def export_tiny(path: Path, name: str = "compact", scale: int = 4, seed: int = 0) -> Path:
    """Export a tiny generator to `path` (a `.safetensors` file with its `.json` card)."""
    return export_weights(path, tiny_generator(name, scale, seed), card={"note": "tiny random test model"})


def install_shipped(monkeypatch: pytest.MonkeyPatch, folder: Path, names: tuple[str, ...] = ()) -> dict[str, Path]:
    """Point the shipped-weights folder at `folder` and export a tiny x4 compact model per name.

    Each name gets its own seed, so "x4" and "x4-gan" have the same architecture but
    different weights, as a PSNR model and its GAN fine-tune have. No names: an empty folder,
    as in a build without weights.
    """
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(pretrained, "_WEIGHTS_DIR", folder)
    paths = {}
    for seed, name in enumerate(names):
        scale = int(name[1])  # "x4", "x4-gan", "x2"
        paths[name] = export_tiny(folder / pretrained.SHIPPED_WEIGHTS[name], "compact", scale, seed=10 + seed)
    return paths


def random_array(height: int, width: int, channels: int = 3, dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    """A random image as OpenCV reads it: (H, W) when `channels` is 1, else (H, W, channels)."""
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels == 1 else (height, width, channels)
    return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


def write_images(folder: Path, count: int, size: int, *, seed: int = 0, prefix: str = "img") -> list[Path]:
    """Write `count` smooth random size x size 8-bit BGR PNGs into `folder` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        small = random_array(max(2, size // 8), max(2, size // 8), 3, seed=seed + index)
        image = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)  # photo-like, not pure noise
        path = folder / f"{prefix}{index}.png"
        assert cv2.imwrite(str(path), image)
        paths.append(path)
    return paths


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread, then restore the thread count.

    Tiny tensors gain nothing from a second thread, and on a shared, loaded 2-core machine every
    parallel region can wait tens of milliseconds for the second thread to be scheduled, which
    makes a tiny convolution ~200x slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
