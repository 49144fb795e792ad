"""Any super-resolution model file: gansuite weights, or whatever spandrel recognises.

gansuite's own `.safetensors` (network spec in the metadata) are rebuilt by
`gansuite.core.load_weights`. Every other file is handed to spandrel (Real-ESRGAN/ESRGAN
RRDBNet and SRVGGNetCompact, SwinIR, HAT, DAT, OmniSR, SPAN, ...), which detects the
architecture from the state dict's keys and shapes. The state dict is read by gansuite, never
by unpickling code: `.safetensors` through safetensors, `.pth`/`.ckpt`/`.pt`/`.bin` through
``torch.load(weights_only=True)``; TorchScript files (code) are refused.

The loaded network is wrapped in `SpandrelNetwork`, an `nn.Module` with the attributes
`Upscaler` uses (`scale`, `receptive_radius`, `supports_half`, `supports_bfloat16`). Its
`receptive_radius` is the *effective* one, measured once per file by the impulse-response probe
of `gansuite.tasks.upscale.receptive_field` and cached by the file's SHA-256.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gansuite.core.checkpoint import (
    describe_load_error,
    is_training_checkpoint,
    missing_file_error,
    unreadable_weights_message,
)
from gansuite.errors import CheckpointError, NotAvailableError
from gansuite.tasks.upscale._memory import activation_bytes_per_pixel
from gansuite.tasks.upscale.pretrained import load_upscale_weights
from gansuite.tasks.upscale.receptive_field import cached_receptive_radius

__all__ = [
    "PICKLE_SUFFIXES", "SpandrelNetwork", "is_gansuite_weights", "load_model_file", "load_spandrel", "read_state_dict",
]

PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")
_SUFFIXES = (".safetensors", *PICKLE_SUFFIXES)


def is_gansuite_weights(path: Path) -> bool:
    """Whether `path` is a safetensors file exported by gansuite (with a network spec)."""
    if path.suffix.lower() != ".safetensors":
        return False
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            return "gansuite_spec" in (handle.metadata() or {})
    except Exception:  # not a readable safetensors file: let the loader report it
        return False


def _flatten(state: Any, path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a loaded `.pth`/`.ckpt`: a state dict, or one nested under a usual key."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: holds a {type(state).__name__}, not a state dict of tensors")
    for key in ("params_ema", "params", "state_dict", "model", "generator", "net_g"):
        if isinstance(state.get(key), dict) and any(isinstance(v, torch.Tensor) for v in state[key].values()):
            return {k: v for k, v in state[key].items() if isinstance(v, torch.Tensor)}
    tensors = {k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError(f"{path}: no tensors found (keys: {', '.join(map(str, list(state)[:8]))})")
    return tensors


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a model file's tensors without running any pickled code.

    Args:
        path: a `.safetensors`, `.pth`, `.ckpt`, `.pt` or `.bin` file.

    Returns:
        name → tensor, on the CPU. A checkpoint's ``params_ema``/``params``/``state_dict`` entry
        is used when present (BasicSR and Lightning layouts); spandrel canonicalises the rest.

    Raises:
        CheckpointError: a missing file or a folder, another suffix, a TorchScript archive, a file that needs
            arbitrary pickled objects, or no tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise missing_file_error(path, "model file")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        raise CheckpointError(f"{path}: unsupported model file type '.onnx' for PyTorch; an ONNX file runs in "
                              "onnxruntime: add --engine onnxruntime")
    if suffix not in _SUFFIXES:
        raise CheckpointError(f"{path}: unsupported model file type {suffix!r}; give one of {', '.join(_SUFFIXES)}")
    if suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(unreadable_weights_message(
                path, exc, advice="give gansuite weights or an SR model file (Real-ESRGAN, SwinIR, ...)")) from exc
    try:  # weights_only also refuses TorchScript archives (code)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for disallowed globals, RuntimeError for corrupt files
        raise CheckpointError(
            f"{path} cannot be read as plain weights ({describe_load_error(exc)}); "
            "convert it to .safetensors or a plain state dict"
        ) from None
    if is_training_checkpoint(state):  # its "generator" would pass for weights, then fit no architecture
        raise CheckpointError(
            f"{path} is a gansuite training checkpoint (step {state.get('step', '?')}), not model weights; export it "
            f"with `gansuite train export {path} -o {path.stem}.safetensors` and give that file"
        )
    return _flatten(state, path)


class SpandrelNetwork(nn.Module):
    """A spandrel `ImageModelDescriptor` as an `nn.Module` for `Upscaler`.

    The forward pass is the descriptor's call: (N, 3, h, w) float RGB in [0, 1] →
    (N, 3, h·scale, w·scale) in [0, 1], padded to the architecture's size requirements and
    cropped back.

    Attributes:
        scale: the upscaling factor.
        receptive_radius: context in input pixels a tile needs (the probed effective radius).
        supports_half, supports_bfloat16: whether fp16/bf16 inference is safe for this architecture.
        architecture: spandrel's architecture name (e.g. "ESRGAN", "SwinIR").
        activation_bytes_per_pixel: measured activation memory per input pixel, for `--tile auto`.
    """

    def __init__(self, descriptor: Any, *, receptive_radius: int) -> None:
        super().__init__()
        self.net = descriptor.model
        self._descriptor = descriptor  # a plain attribute: shares `net`, so deepcopy and .to() keep them together
        self.scale = int(descriptor.scale)
        self.receptive_radius = int(receptive_radius)
        self.supports_half = bool(descriptor.supports_half)
        self.supports_bfloat16 = bool(descriptor.supports_bfloat16)
        self.architecture = str(descriptor.architecture.name)
        side = max(16, int(descriptor.size_requirements.minimum), int(descriptor.size_requirements.multiple_of))
        self.activation_bytes_per_pixel = activation_bytes_per_pixel(self, side=side)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, 3, h, w) → (N, 3, h*s, w*s); spandrel's call takes (1, C, h, w) per image and may return
        # an inference-mode tensor, which the engine could not update in place: hence the copy
        if x.shape[0] == 1:
            return self._descriptor(x).clone()
        return torch.cat([self._descriptor(image[None]) for image in x])


def load_spandrel(path: Path, state: dict[str, torch.Tensor], *, flag: str = "--model") -> Any:
    """A spandrel descriptor (eval mode, CPU) of an RGB SR model; errors name `flag` and `path`."""
    try:
        import spandrel
    except ImportError as exc:
        raise NotAvailableError(
            f"{flag} {path}: third-party model files need the optional 'spandrel' package; "
            "install it with pip install 'gansuite[peers]'"
        ) from exc
    try:
        descriptor = spandrel.ModelLoader(device="cpu").load_from_state_dict(spandrel.canonicalize_state_dict(state))
    except Exception as exc:  # UnsupportedModelError, KeyError, shape mismatches, ...
        raise CheckpointError(
            f"{flag} {path}: no architecture spandrel knows fits this file ({describe_load_error(exc)}); give a "
            "gansuite weights file or an SR model spandrel supports (ESRGAN/Real-ESRGAN, SwinIR, HAT, DAT, OmniSR, "
            "SPAN, ...)"
        ) from exc
    if not isinstance(descriptor, spandrel.ImageModelDescriptor) or descriptor.purpose != "SR":
        purpose = getattr(descriptor, "purpose", type(descriptor).__name__)
        name = descriptor.architecture.name
        raise CheckpointError(f"{flag} {path}: a {purpose} model ({name}), not super-resolution")
    if descriptor.input_channels != 3 or descriptor.output_channels != 3:
        raise CheckpointError(
            f"{flag} {path}: {descriptor.input_channels} input / {descriptor.output_channels} output channels; "
            "gansuite runs RGB models (3 → 3)"
        )
    if descriptor.scale < 1:
        raise CheckpointError(f"{flag} {path}: scale {descriptor.scale} is not an upscaling factor")
    return descriptor.eval()


def load_model_file(
    path: str | os.PathLike[str], *, probe_device: str | torch.device = "cpu", receptive_radius: int | None = None
) -> nn.Module:
    """Load any supported SR model file as a module with `scale` and `receptive_radius`.

    Args:
        path: a gansuite `.safetensors`, or a file spandrel recognises.
        probe_device: where the receptive-field probe runs (once per file; then cached).
        receptive_radius: skip the probe and use this radius (input pixels).

    Returns:
        The network in eval mode, on the CPU: a gansuite generator, or a `SpandrelNetwork`.

    Raises:
        CheckpointError: unreadable, unsafe or unrecognised file, or not an RGB SR model.
        NotAvailableError: spandrel is not installed.
    """
    path = Path(path)
    if is_gansuite_weights(path):
        return load_upscale_weights(path)
    descriptor = load_spandrel(path, read_state_dict(path))
    if receptive_radius is None:
        receptive_radius = cached_receptive_radius(
            path, lambda x: descriptor(x), scale=int(descriptor.scale), device=probe_device,
            multiple_of=int(descriptor.size_requirements.multiple_of), module=descriptor.model,
        )
    return SpandrelNetwork(descriptor, receptive_radius=receptive_radius)
