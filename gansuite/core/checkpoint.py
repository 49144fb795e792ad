"""Training checkpoints and exported weights.

- A checkpoint is one file written atomically (temp file in the same folder, fsync, rename), so a
  crash while saving leaves the previous checkpoint intact. It holds only tensors, numbers,
  strings and lists — the config travels as a JSON string — and is loaded with
  ``torch.load(weights_only=True)``, which never unpickles arbitrary code.
- Exported weights are safetensors with the network spec and a model card as JSON metadata,
  plus a ``.json`` card beside them. Loading checks the metadata before anything is built: the
  spec and card must be JSON objects of the expected shape, and the network the spec describes
  is first built on PyTorch's "meta" device (no memory) and its tensor names and shapes compared
  with those the file's header lists. A 268-byte file whose spec asks for billions of
  parameters is refused in one line naming the file, before any real allocation.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from gansuite.core._file_kinds import (  # re-exported: they lived here
    describe_load_error,
    missing_file_error,
    not_a_torch_file,
    unreadable_weights_message,
)
from gansuite.core.atomic import atomic_path, atomic_write, check_output_path
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.core.rng import capture_rng_state, restore_rng_state  # re-exported: they lived here
from gansuite.core.run_folder import disk_full_error, is_disk_full
from gansuite.errors import CheckpointError, GansuiteError

__all__ = [
    "capture_rng_state",
    "check_weights_fit",
    "checkpoint_files",
    "describe_load_error",
    "export_from_checkpoint",
    "export_weights",
    "is_training_checkpoint",
    "load_checkpoint",
    "load_transferable_weights",
    "load_weights",
    "missing_file_error",
    "read_weights_metadata",
    "restore_rng_state",
    "save_checkpoint",
    "unreadable_weights_message",
]


def checkpoint_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``step_<n>.pt`` checkpoints in `folder`, oldest step first (an empty list if none)."""

    def step(path: Path) -> int:
        match = re.fullmatch(r"step_(\d+)\.pt", path.name)
        return int(match.group(1)) if match else -1

    return sorted(Path(folder).glob("step_*.pt"), key=step)


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> Path:
    """Write `payload` (tensors, numbers, strings, lists, dicts) atomically to `path`.

    Raises:
        OutputError: the disk (or quota) is full — one line saying so — or `path` cannot be written.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        # into a file object: a full disk then raises OSError(ENOSPC), where torch.save with a
        # path raises a RuntimeError about an "unexpected pos"
        with atomic_write(path) as handle:
            torch.save(payload, handle)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(exc, path) from exc
        raise
    return Path(path)


def is_training_checkpoint(payload: object) -> bool:
    """Whether a loaded file's content is a `Trainer` checkpoint (step, generator, optimizer...), not weights."""
    if not isinstance(payload, dict):
        return False
    marked = str(payload.get("format", "")).startswith("gansuite-checkpoint")
    return marked or {"step", "generator", "optimizer_g"} <= payload.keys()


def load_checkpoint(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint without unpickling code (``weights_only=True``).

    Raises:
        CheckpointError: missing, truncated or not a gansuite checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise missing_file_error(path, "checkpoint")
    not_torch = not_a_torch_file(path)
    if not_torch:
        raise CheckpointError(f"checkpoint {path} is not a training checkpoint: {not_torch}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"checkpoint {path} could not be read ({describe_load_error(exc)})") from None
    if not isinstance(payload, dict) or "step" not in payload:
        raise CheckpointError(f"{path} is not a gansuite training checkpoint")
    return payload


def export_weights(
    path: str | os.PathLike[str], module: nn.Module, *, card: dict[str, Any] | None = None, overwrite: bool = True
) -> Path:
    """Save a registry-built network as safetensors, with its spec and card, plus `<path>.json`.

    Args:
        path: destination ending in ``.safetensors``.
        module: a network built by `build_network` (it carries `module.spec`).
        card: model card (data, recipe, steps, metrics...), JSON-serialisable.
        overwrite: whether an existing weights file or card beside it may be replaced.

    Raises:
        OutputExistsError: `overwrite` is False and the weights file or its ``.json`` card exists
            (checked for both before either is written).
    """
    spec: NetworkSpec = module.spec
    card = dict(card or {})
    metadata = {"gansuite_spec": spec.to_json(), "gansuite_card": json.dumps(card, sort_keys=True)}
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    target = Path(path)
    card_path = target.with_suffix(".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    for output in (target, card_path):
        check_output_path(output, overwrite=overwrite)
    with atomic_path(target, overwrite=overwrite) as tmp:
        save_file(state, str(tmp), metadata=metadata)
    with atomic_path(card_path, overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps({"spec": json.loads(spec.to_json()), **card}, indent=2, sort_keys=True) + "\n")
    return target


def read_weights_metadata(path: str | os.PathLike[str]) -> tuple[NetworkSpec, dict[str, Any]]:
    """The network spec and model card stored in a gansuite safetensors file.

    Raises:
        CheckpointError: not a safetensors file, or one without gansuite metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise missing_file_error(path, "weights file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(unreadable_weights_message(path, exc)) from exc
    if "gansuite_spec" not in metadata:
        raise CheckpointError(f"{path} has no gansuite network spec: it was not exported by gansuite")
    spec = _parse_spec(_json_object(metadata["gansuite_spec"], path, "network spec (gansuite_spec)"), path)
    card = _json_object(metadata.get("gansuite_card", "{}"), path, "model card (gansuite_card)")
    return spec, card


_MAX_SPEC_NUMBER = 1 << 16
"""No gansuite network has a width, depth or count above this; a larger one is a damaged or hostile spec."""


def _json_object(text: str, path: Path, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: its {what} is not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: its {what} is a JSON {type(value).__name__} where an object belongs")
    return value


def _parse_spec(data: dict[str, Any], path: Path) -> NetworkSpec:
    kind, name, kwargs = data.get("kind"), data.get("name"), data.get("kwargs", {})
    if not isinstance(kind, str) or not isinstance(name, str) or not isinstance(kwargs, dict):
        raise CheckpointError(
            f"{path}: its network spec needs a string 'kind', a string 'name' and an object 'kwargs', "
            f"got kind={kind!r}, name={name!r}, kwargs of type {type(kwargs).__name__}"
        )
    for key, value in kwargs.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > _MAX_SPEC_NUMBER:
            raise CheckpointError(
                f"{path}: its network spec asks for {key}={value}, beyond any gansuite network "
                f"(at most {_MAX_SPEC_NUMBER}); the file is damaged or not a gansuite model"
            )
    try:
        return NetworkSpec(kind=kind, name=name, kwargs=dict(kwargs))
    except GansuiteError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def _stored_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from the safetensors header (no tensor data is read)."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            return {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc})") from exc


def check_weights_fit(
    path: str | os.PathLike[str], spec: NetworkSpec, *, require: tuple[str, ...] = ()
) -> dict[str, tuple[int, ...]]:
    """Checks, without allocating the network, that a weights file holds exactly what `spec` builds.

    The network is built on the "meta" device (shapes only) and its state dict compared with the
    tensor names and shapes in the file's header.

    Args:
        path: a gansuite safetensors file.
        spec: its stored spec (`read_weights_metadata`).
        require: attributes the built network must have (e.g. ("scale", "receptive_radius") for
            an upscaler), so a model of another task is refused by name.

    Returns:
        The expected tensor shapes by name.

    Raises:
        CheckpointError: the spec cannot be built, lacks a required attribute, or does not match
            the stored tensors (names, shapes or count), e.g. a spec asking for a huge network.
    """
    path = Path(path)
    stored = _stored_shapes(path)
    try:
        with torch.device("meta"):
            module = build_network(spec)
    except GansuiteError as exc:
        raise CheckpointError(f"{path}: its network spec cannot be built here ({exc})") from None
    except (RuntimeError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: its network spec {spec.name!r} cannot be built ({message})") from None
    missing = [name for name in require if not hasattr(module, name)]
    if missing:
        raise CheckpointError(
            f"{path}: holds a {spec.kind} {spec.name!r}, which has no {' or '.join(missing)}: "
            "it is a model of another task"
        )
    expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    if expected != stored:
        wanted = sum(math.prod(shape) for shape in expected.values())
        held = sum(math.prod(shape) for shape in stored.values())
        differing = sorted(set(expected) ^ set(stored)) or [k for k in expected if expected[k] != stored.get(k)]
        raise CheckpointError(
            f"{path}: its spec asks for a {spec.name!r} {spec.kind} of {wanted:,} parameters "
            f"({wanted * 4 / 2**30:.2g} GiB as float32), but the file stores {len(stored)} tensor(s) of {held:,} "
            f"values (first difference: {differing[0]!r}); the metadata does not match the weights, so nothing "
            "was built"
        )
    return expected


def load_weights(
    path: str | os.PathLike[str], *, device: str | torch.device = "cpu", require: tuple[str, ...] = ()
) -> nn.Module:
    """Rebuild the network stored in a gansuite safetensors file and load its weights (eval mode).

    The metadata and the tensor shapes are checked first (`check_weights_fit`), so a damaged or
    mismatched file is refused before any memory is allocated for the network.

    Args:
        path: the `.safetensors` file.
        device: where to put the network.
        require: attributes the network must have (see `check_weights_fit`).

    Raises:
        CheckpointError: unreadable file, malformed metadata, or weights that do not fit the
            stored spec.
    """
    spec, card = read_weights_metadata(path)
    check_weights_fit(path, spec, require=require)
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
    overwrite: bool = True,
) -> Path:
    """Export the (EMA) generator of a training checkpoint as gansuite safetensors weights.

    The card gets the checkpoint's step, its trainer config and the run's extra config (recipe,
    data, ...), then whatever `card` adds.

    Raises:
        CheckpointError: the checkpoint is unreadable or does not record its generator's spec.
        OutputExistsError: `overwrite` is False and `path` or its ``.json`` card exists (checked
            before the checkpoint is read).
    """
    for output in (Path(path), Path(path).with_suffix(".json")):
        if not overwrite and output.exists():
            check_output_path(output, overwrite=False)  # raises, naming the file
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
    return export_weights(path, module, card=full_card, overwrite=overwrite)
