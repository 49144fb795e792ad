"""Training checkpoints and exported weights.

- A checkpoint is one file written atomically (temp file in the same folder, fsync, rename), so a
  crash while saving leaves the previous checkpoint intact. It holds only tensors, numbers,
  strings and lists — the config travels as a JSON string — and is loaded with
  ``torch.load(weights_only=True)``, which never unpickles arbitrary code.
- Exported weights are safetensors with the network spec and a model card as JSON metadata,
  plus a ``.json`` card beside them.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from gansuite.core.atomic import atomic_path
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.errors import CheckpointError

__all__ = [
    "capture_rng_state",
    "export_from_checkpoint",
    "export_weights",
    "load_checkpoint",
    "load_transferable_weights",
    "load_weights",
    "read_weights_metadata",
    "restore_rng_state",
    "save_checkpoint",
]


def capture_rng_state() -> dict[str, Any]:
    """The Python, NumPy, torch (and CUDA) random states, as tensors and plain values."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": [list(random.getstate()[1]), random.getstate()[0], random.getstate()[2]],
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Restore what `capture_rng_state` captured."""
    internal, version, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(("MT19937", state["numpy_keys"].numpy().astype(np.uint32), state["numpy_pos"], 0, 0.0))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> Path:
    """Write `payload` (tensors, numbers, strings, lists, dicts) atomically to `path`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint without unpickling code (``weights_only=True``).

    Raises:
        CheckpointError: missing, truncated or not a gansuite checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"checkpoint {path} could not be read ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or "step" not in payload:
        raise CheckpointError(f"{path} is not a gansuite training checkpoint")
    return payload


def export_weights(
    path: str | os.PathLike[str], module: nn.Module, *, card: dict[str, Any] | None = None
) -> Path:
    """Save a registry-built network as safetensors, with its spec and card, plus `<path>.json`.

    Args:
        path: destination ending in ``.safetensors``.
        module: a network built by `build_network` (it carries `module.spec`).
        card: model card (data, recipe, steps, metrics...), JSON-serialisable.
    """
    spec: NetworkSpec = module.spec
    card = dict(card or {})
    metadata = {"gansuite_spec": spec.to_json(), "gansuite_card": json.dumps(card, sort_keys=True)}
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        save_file(state, str(tmp), metadata=metadata)
    card_path = target.with_suffix(".json")
    with atomic_path(card_path) as tmp:
        tmp.write_text(json.dumps({"spec": json.loads(spec.to_json()), **card}, indent=2, sort_keys=True) + "\n")
    return target


def read_weights_metadata(path: str | os.PathLike[str]) -> tuple[NetworkSpec, dict[str, Any]]:
    """The network spec and model card stored in a gansuite safetensors file.

    Raises:
        CheckpointError: not a safetensors file, or one without gansuite metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc})") from exc
    if "gansuite_spec" not in metadata:
        raise CheckpointError(f"{path} has no gansuite network spec: it was not exported by gansuite")
    return NetworkSpec.from_json(metadata["gansuite_spec"]), json.loads(metadata.get("gansuite_card", "{}"))


def load_weights(path: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the network stored in a gansuite safetensors file and load its weights (eval mode).

    Raises:
        CheckpointError: unreadable file or weights that do not fit the stored spec.
    """
    spec, card = read_weights_metadata(path)
    module = build_network(spec)
    try:
        module.load_state_dict(load_file(str(path), device=str(device)))
    except (RuntimeError, SafetensorError) as exc:
        raise CheckpointError(f"{path}: weights do not fit {spec.name!r} ({exc})") from exc
    module.card = card
    return module.to(device).eval()


def load_transferable_weights(module: nn.Module, path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Load into `module` every tensor of a gansuite weights file whose name and shape fit.

    For transfer between variants of one architecture, such as an x4 upscaler's body starting an
    x2 one (EDSR, Lim et al. 2017, starts its larger scales from the x2 model the same way): the
    tensors that differ (the x2 upsampler) keep `module`'s initialisation.

    Returns:
        The names of `module`'s tensors that were left as they were.

    Raises:
        CheckpointError: an unreadable file, a different architecture, or fewer than half of
            `module`'s tensors fitting.
    """
    spec, _ = read_weights_metadata(path)
    try:
        stored = load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise CheckpointError(f"{path}: unreadable weights ({exc})") from exc
    own = module.state_dict()
    fitting = {k: v for k, v in stored.items() if k in own and own[k].shape == v.shape}
    if len(fitting) * 2 < len(own):
        raise CheckpointError(
            f"{path}: only {len(fitting)} of {len(own)} tensors fit this network ({spec.name!r} weights); "
            "transfer needs the same architecture"
        )
    module.load_state_dict(fitting, strict=False)
    return tuple(k for k in own if k not in fitting)


def export_from_checkpoint(
    checkpoint: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    card: dict[str, Any] | None = None,
    use_ema: bool = True,
) -> Path:
    """Export the (EMA) generator of a training checkpoint as gansuite safetensors weights.

    The card gets the checkpoint's step, its trainer config and the run's extra config (recipe,
    data, ...), then whatever `card` adds.

    Raises:
        CheckpointError: the checkpoint is unreadable or does not record its generator's spec.
    """
    payload = load_checkpoint(checkpoint)
    if "generator_spec" not in payload:
        raise CheckpointError(f"{checkpoint} does not record its generator's spec, so it cannot be exported")
    module = build_network(NetworkSpec.from_json(payload["generator_spec"]))
    weights = payload["ema"] if use_ema and "ema" in payload else payload["generator"]
    module.load_state_dict(weights)
    full_card = {
        "steps": int(payload["step"]),
        "weights": "EMA of the generator" if use_ema and "ema" in payload else "raw generator",
        "trainer": json.loads(payload["config"]),
        **json.loads(payload.get("extra_config", "{}")),
        **(card or {}),
    }
    return export_weights(path, module, card=full_card)
