"""What `export_onnx` exports: the torch network a shipped name or a model file stands for."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gansuite.core.checkpoint import missing_file_error
from gansuite.errors import CheckpointError, ConfigError

__all__ = ["ExportableModel", "load_exportable"]

_THIRD_PARTY_SUFFIXES = (".safetensors", ".pth", ".ckpt", ".bin")
"""Files handed to spandrel when they are not gansuite weights (``.pt`` is a predictor's training file)."""


@dataclass(frozen=True)
class ExportableModel:
    """A torch network ready for export, with what the ONNX metadata records.

    Attributes:
        module: the network on the CPU, eval mode, float32, contiguous weights.
        kind: "upscale" or "predict".
        name: the shipped name or the file's stem.
        source: the weights file (the first one, with realism).
        card: the model card.
    """

    module: nn.Module
    kind: str
    name: str
    source: Path | None
    card: dict[str, Any] = field(default_factory=dict)


def load_exportable(model: str | os.PathLike[str], *, realism: float | None = None) -> ExportableModel:
    """The network a name or file stands for: a shipped upscaler or predictor, or a gansuite file.

    Args:
        model: a shipped upscaler ("x4", "x4-gan", "x2"), a shipped predictor ("natural", "ped2",
            ...), a gansuite ``.safetensors`` weights file, a predictor's training ``.pt``, or a
            third-party SR model file (``.safetensors``, ``.pth``, ``.ckpt``, ``.bin``) that
            spandrel recognises, as `upscale --engine torch` takes it.
        realism: upscalers with a GAN twin only: blend the weights as `Upscaler.from_pretrained`.

    Raises:
        CheckpointError: an unknown name, a missing or unreadable file, an ``.onnx`` file, or a
            network that is neither an upscaler nor a next-frame predictor.
        ConfigError: `realism` for a model without a GAN twin, or for a predictor.
    """
    from gansuite.core.checkpoint import load_weights
    from gansuite.tasks.predict.pretrained import SHIPPED_MODELS, load_model
    from gansuite.tasks.upscale.model_files import is_gansuite_weights, load_model_file
    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path
    from gansuite.tasks.upscale.upscaler import Upscaler

    text = str(model)
    if text.lower().endswith(".onnx"):
        raise CheckpointError(f"--model {text} is already an ONNX file; give a shipped name or a .safetensors file")
    if text in SHIPPED_WEIGHTS or (realism is not None and text not in SHIPPED_MODELS):
        module = Upscaler.from_pretrained(text, realism=realism, device="cpu", precision="fp32").model
        module = module.to(memory_format=torch.contiguous_format)
        card = dict(getattr(module, "card", {}))
        if realism is not None:
            card["realism"] = realism
        source = shipped_weights_path(text) if text in SHIPPED_WEIGHTS else Path(text)
        return ExportableModel(module=module, kind="upscale", name=Path(text).stem, source=source, card=card)
    if text in SHIPPED_MODELS or text.endswith(".pt"):
        if realism is not None:  # it was ignored: the predictor was exported as it is
            raise ConfigError(f"--realism blends an upscaler with its GAN twin; {text} is a next-frame predictor")
        loaded = load_model(text)
        return ExportableModel(module=loaded.module, kind="predict", name=loaded.name, source=loaded.path,
                               card=dict(loaded.card))
    path = Path(text)
    if path.is_dir():
        raise missing_file_error(path, "model file")
    if not path.is_file():
        names = ", ".join([*sorted(SHIPPED_WEIGHTS), *SHIPPED_MODELS])
        raise CheckpointError(f"--model {text!r} is neither a shipped model ({names}) nor an existing file")
    if not is_gansuite_weights(path) and path.suffix.lower() in _THIRD_PARTY_SUFFIXES:
        # a third-party SR file (Real-ESRGAN, SwinIR, ...), as `upscale --engine torch` runs it (spandrel)
        module = load_model_file(path)
        card = {"architecture": getattr(module, "architecture", type(module).__name__), "source_file": path.name}
        return ExportableModel(module=module, kind="upscale", name=path.stem, source=path, card=card)
    module = load_weights(path)
    card = dict(getattr(module, "card", {}))
    if hasattr(module, "scale") and hasattr(module, "receptive_radius"):
        return ExportableModel(module=module, kind="upscale", name=path.stem, source=path, card=card)
    if hasattr(module, "context_frames") and hasattr(module, "channels"):
        return ExportableModel(module=module, kind="predict", name=path.stem, source=path, card=card)
    spec = getattr(module, "spec", None)
    raise CheckpointError(
        f"{path}: holds a {getattr(spec, 'name', type(module).__name__)!r} network, which is neither an upscaler "
        "nor a next-frame predictor; only those are exported"
    )
