"""Loading an application's generator: a shipped name (in `gansuite/apps/weights/`) or a gansuite weights file."""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from gansuite.core import load_weights
from gansuite.core.checkpoint import read_weights_metadata
from gansuite.errors import CheckpointError

__all__ = ["WEIGHTS_DIR", "load_app_generator"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def load_app_generator(name_or_path: str | os.PathLike[str], *, network: str, what: str) -> nn.Module:
    """The generator an application runs, checked to be the right network before it is built.

    Args:
        name_or_path: a shipped model name (a file stem in `WEIGHTS_DIR`) or a gansuite ``.safetensors`` file.
        network: the registered network name the application needs (e.g. ``"dcgan-digits"``).
        what: how the message calls such a model (e.g. ``"digit generator"``).

    Returns:
        The network with its weights, in eval mode.

    Raises:
        CheckpointError: an unknown name, a missing or unreadable file, or another network (named).
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = WEIGHTS_DIR / f"{path}.safetensors"
        if not path.is_file():
            shipped = ", ".join(sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors")))
            raise CheckpointError(f"--model {name_or_path}: no shipped model of that name ({shipped}) and no such file")
    spec, _ = read_weights_metadata(path)
    if spec.name != network:
        raise CheckpointError(
            f"--model {name_or_path} holds a {spec.name!r} network, not a {what} ({network!r})"
        )
    return load_weights(path).eval()
