"""The weights shipped inside the package for the upscale head."""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

__all__ = ["SHIPPED_WEIGHTS", "default_model", "load_upscale_weights", "shipped_weights_path"]

_WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"

# shipped name → file in gansuite/weights
SHIPPED_WEIGHTS = {
    "x4": "upscale_x4_psnr.safetensors",
    "x4-gan": "upscale_x4_gan.safetensors",
    "x2": "upscale_x2_psnr.safetensors",
    "x4-real": "upscale_x4_real.safetensors",
    "x4-real-gan": "upscale_x4_real_gan.safetensors",
}


def shipped_weights_path(name: str) -> Path:
    """The path of shipped weights `name` (it may not exist in this build)."""
    from gansuite.errors import UnknownNameError

    if name not in SHIPPED_WEIGHTS:
        raise UnknownNameError(f"unknown shipped model {name!r}: valid names are {sorted(SHIPPED_WEIGHTS)}")
    return _WEIGHTS_DIR / SHIPPED_WEIGHTS[name]


def default_model(scale: int, *, realism: bool = False) -> str:
    """The shipped model `gansuite upscale` uses when no --model is given.

    At x4 that is the model trained for real photos (`x4-real`, blur + noise + JPEG
    degradations) when this build ships it, since it measures best on real-looking inputs
    (`benchmarks/results/sr_real_x4.md`); the clean-protocol `x4` otherwise. With --realism
    the pair being interpolated must both be shipped: `x4-real`/`x4-real-gan`, else `x4`/`x4-gan`.

    Args:
        scale: 2 or 4.
        realism: whether --realism was given.

    Returns:
        A key of `SHIPPED_WEIGHTS`.
    """
    name = f"x{scale}"
    real = f"{name}-real"
    needed = (real, f"{real}-gan") if realism else (real,)
    if all(n in SHIPPED_WEIGHTS and shipped_weights_path(n).is_file() for n in needed):
        return real
    return name


def load_upscale_weights(path: str | os.PathLike[str]) -> nn.Module:
    """Load a gansuite weights file that must hold an upscaler, checking its metadata first.

    The card's task and the network's attributes are checked on the metadata (the network is
    built on the "meta" device only), so a next-frame model or a damaged file is refused in one
    line naming the file, before any memory is allocated.

    Raises:
        CheckpointError: malformed metadata, weights that do not fit their spec, or a model of
            another task (e.g. a predict model given to `upscale`).
    """
    from gansuite.core.checkpoint import load_weights, read_weights_metadata
    from gansuite.errors import CheckpointError

    spec, card = read_weights_metadata(path)
    task = card.get("task")
    if task not in (None, "upscale"):
        raise CheckpointError(
            f"{path}: holds a {task!r} model ({spec.name!r}), not an upscaler; give a shipped upscaler name or weights "
            "exported by `gansuite train upscale`"
        )
    return load_weights(path, require=("scale", "receptive_radius"))
