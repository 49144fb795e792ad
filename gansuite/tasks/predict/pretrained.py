"""Next-frame models: the shipped names, and loading a model from a name or a file.

Shipped weights live in ``gansuite/weights`` as ``predict_<name>.safetensors`` with a ``.json``
card beside them, one per recipe they were trained with. A build may not include all of them;
asking for a missing one is a one-line error that says how to train it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from gansuite.core.checkpoint import load_checkpoint, load_weights, missing_file_error
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.errors import CheckpointError, UnknownNameError
from gansuite.tasks.predict.recipes import RECIPES

__all__ = ["SHIPPED_MODELS", "LoadedModel", "load_model", "shipped_weights_path", "trained_frame_size"]

_WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"

SHIPPED_MODELS = ("mmnist", "mmnist-mse", "natural", "natural-mse", "ped2", "ped2-mse")
"""Names `--model` accepts for shipped weights (each the recipe it was trained with)."""


def shipped_weights_path(name: str) -> Path:
    """The path of the shipped weights `name` (the file may be missing in this build).

    Raises:
        UnknownNameError: `name` is not a shipped model name.
    """
    if name not in SHIPPED_MODELS:
        raise UnknownNameError(f"unknown shipped predict model {name!r}: valid names are {', '.join(SHIPPED_MODELS)}")
    return _WEIGHTS_DIR / f"predict_{name}.safetensors"


@dataclass(frozen=True)
class LoadedModel:
    """A next-frame generator with where it came from.

    Attributes:
        module: the generator in eval mode, with `context_frames` and `channels` attributes.
        card: its model card (recipe, frame size, training details); {} when there is none.
        name: the shipped name or the file's stem.
        path: the weights or checkpoint file.
        trained_frame_size: the (height, width) of every frame it was trained on (see
            `trained_frame_size`), or None when they varied or are not known.
    """

    module: nn.Module
    card: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    path: Path | None = None
    trained_frame_size: tuple[int, int] | None = None


def trained_frame_size(card: dict[str, Any], recipe: str | None = None) -> tuple[int, int] | None:
    """The (height, width) of every frame a model was trained on, from its card.

    The card's ``frame_size`` when it has one (Ped2's 256x256); otherwise the size its recipe's
    data fixes (Moving MNIST's 64x64 canvas: the shipped mmnist card records no frame_size, its
    frames never needed resizing), looked up by the card's ``recipe`` or else `recipe` (the
    name of a shipped model, which is its recipe's).

    Returns:
        (height, width), or None when the training frames varied in size or nothing says.
    """
    frame_size = card.get("frame_size")
    if frame_size:
        return int(frame_size[0]), int(frame_size[1])
    for name in (card.get("recipe"), recipe):
        if isinstance(name, str) and name in RECIPES:
            return RECIPES.get(name).training_frame_size
    return None


def _from_checkpoint(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    payload = load_checkpoint(path)
    if "generator_spec" not in payload:
        raise CheckpointError(f"{path}: this checkpoint does not record its generator's spec")
    module = build_network(NetworkSpec.from_json(payload["generator_spec"]))
    try:
        module.load_state_dict(payload.get("ema", payload["generator"]))
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the recorded generator ({exc})") from exc
    extra = json.loads(payload.get("extra_config", "{}"))
    card = {k: extra[k] for k in ("recipe", "frame_size", "max_short_side") if k in extra}
    if extra.get("full_resolution"):  # the generator reduces the resolution itself (flow-unet)
        card["max_short_side"] = None
    return module.eval(), card


def load_model(model: str | os.PathLike[str]) -> LoadedModel:
    """Load a next-frame generator by shipped name, exported ``.safetensors`` file or training ``.pt``.

    Args:
        model: a name in `SHIPPED_MODELS`, a weights file exported by gansuite, or a training
            checkpoint (its EMA generator is used when it has one).

    Returns:
        The `LoadedModel` on the CPU, in eval mode.

    Raises:
        CheckpointError: `model` is not a str or `os.PathLike` (e.g. None or a number), a shipped
            model that is not in this build, a name that is neither shipped nor a file (the
            message lists the shipped names), a folder, an unreadable file, or a network that is
            not a next-frame predictor.
    """
    if not isinstance(model, str | os.PathLike):
        raise CheckpointError(
            f"model {model!r} ({type(model).__name__}) is neither a shipped name nor a path: give one of "
            f"{', '.join(SHIPPED_MODELS)}, or the path (str or pathlib.Path) of a gansuite .safetensors or .pt file"
        )
    text = str(model)
    if text in SHIPPED_MODELS:
        path = shipped_weights_path(text)
        if not path.is_file():
            raise CheckpointError(
                f"shipped model {text!r} is not included in this build ({path.name} is missing from "
                f"gansuite/weights): train it with `gansuite train predict --recipe {text}` and pass the run's "
                "generator_ema.safetensors with --model FILE"
            )
        name = text
    else:
        path = Path(model)
        if path.is_dir():
            raise missing_file_error(path, "model file")
        if not path.is_file():
            raise CheckpointError(
                f"model {text!r} is neither a shipped name ({', '.join(SHIPPED_MODELS)}) nor an existing file"
            )
        name = path.stem
    if path.suffix == ".pt":
        module, card = _from_checkpoint(path)
    else:
        module = load_weights(path)
        card = dict(getattr(module, "card", {}))
    if not (hasattr(module, "context_frames") and hasattr(module, "channels")):
        spec = getattr(module, "spec", None)
        raise CheckpointError(
            f"{path}: holds a {getattr(spec, 'name', type(module).__name__)!r} network, not a next-frame predictor; "
            "give weights exported by `gansuite train predict`"
        )
    _check_card_sizes(path, card)
    trained = trained_frame_size(card, name if text in SHIPPED_MODELS else None)
    return LoadedModel(module=module, card=card, name=name, path=path, trained_frame_size=trained)


MAX_WORKING_SIDE = 4096
"""Largest working frame side a model card may ask for (frame_size, max_short_side)."""


def _check_card_sizes(path: Path, card: dict[str, Any]) -> None:
    """Refuses a card whose working size could not be what a recipe trained at (a corrupt or hostile card)."""
    frame_size = card.get("frame_size")
    if frame_size is not None:
        valid = (
            isinstance(frame_size, (list, tuple)) and len(frame_size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_WORKING_SIDE for v in frame_size)
        )
        if not valid:
            raise CheckpointError(
                f"{path}: its model card asks for frame_size {frame_size!r}; a working size is two integers from 1 "
                f"to {MAX_WORKING_SIDE} (the card is corrupt or not written by gansuite)"
            )
    short = card.get("max_short_side")
    integer = isinstance(short, int) and not isinstance(short, bool)
    if short is not None and not (integer and 1 <= short <= MAX_WORKING_SIDE):
        raise CheckpointError(
            f"{path}: its model card asks for max_short_side {short!r}; expected null or an integer from 1 to "
            f"{MAX_WORKING_SIDE} (the card is corrupt or not written by gansuite)"
        )
    if frame_size is not None and short is not None:
        raise CheckpointError(
            f"{path}: its model card gives both frame_size {frame_size!r} and max_short_side {short!r}; a model "
            "works at one of them (the card is corrupt or not written by gansuite)"
        )
