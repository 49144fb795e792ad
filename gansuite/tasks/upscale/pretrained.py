"""The weights shipped inside the package for the upscale head."""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

__all__ = ["SHIPPED_WEIGHTS", "load_upscale_weights", "shipped_weights_path"]

_WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"

# shipped name → file in gansuite/weights
SHIPPED_WEIGHTS = {
    "x4": "upscale_x4_psnr.safetensors",
    "x4-gan": "upscale_x4_gan.safetensors",
    "x2": "upscale_x2_psnr.safetensors",
}


def shipped_weights_path(name: str) -> Path:
    """The path of shipped weights `name` (it may not exist in this build)."""
    from gansuite.errors import UnknownNameError

    if name not in SHIPPED_WEIGHTS:
        raise UnknownNameError(f"unknown shipped model {name!r}: valid names are {sorted(SHIPPED_WEIGHTS)}")
    return _WEIGHTS_DIR / SHIPPED_WEIGHTS[name]


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
            f"{path}: holds a {task!r} model ({spec.name!r}), not an upscaler; give x4, x4-gan, x2 or weights "
            "exported by `gansuite train upscale`"
        )
    return load_weights(path, require=("scale", "receptive_radius"))
