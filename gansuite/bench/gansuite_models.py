"""gansuite's own super-resolution models as benchmark methods.

`--method` accepts a shipped model name ("x4", "x4-gan", "x2"), a gansuite weights file
(`.safetensors` exported by gansuite) or a gansuite training checkpoint (`.pt`; its EMA
generator is used when it has one). They run untiled, in float32, through `Upscaler`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gansuite.bench.sr import register_method_resolver
from gansuite.core.checkpoint import load_checkpoint, read_weights_metadata
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.errors import CheckpointError
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path
from gansuite.tasks.upscale.upscaler import Upscaler

__all__ = ["GansuiteMethod", "resolve_gansuite_method"]


@dataclass(frozen=True)
class GansuiteMethod:
    """A gansuite generator wrapped for the benchmark."""

    name: str
    scale: int
    source_file: Path | None
    upscaler: Upscaler

    def __call__(self, low_res: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) float RGB in [0, 1] → (N, 3, h·s, w·s) in [0, 1], on the input's device."""
        model, device = self.upscaler.model, self.upscaler.device
        with torch.no_grad():
            return model(low_res.to(device)).float().clamp(0, 1).to(low_res.device)


def _from_checkpoint(path: Path) -> torch.nn.Module:
    payload = load_checkpoint(path)
    if "generator_spec" not in payload:
        raise CheckpointError(f"--method {path}: this checkpoint does not record its generator's spec")
    model = build_network(NetworkSpec.from_json(payload["generator_spec"]))
    model.load_state_dict(payload.get("ema", payload["generator"]))
    return model.eval()


@register_method_resolver
def resolve_gansuite_method(spec: str, scale: int, device: torch.device) -> GansuiteMethod | None:
    """A `GansuiteMethod` for a shipped name or gansuite file, else None (not ours)."""
    path = Path(spec)
    if spec in SHIPPED_WEIGHTS:
        path = shipped_weights_path(spec)
        upscaler = Upscaler.from_pretrained(spec, device=str(device.type), precision="fp32", tile=0)
        return GansuiteMethod(name=spec, scale=upscaler.scale, source_file=path, upscaler=upscaler)
    if not path.is_file():
        return None
    if path.suffix == ".safetensors":
        try:
            read_weights_metadata(path)
        except CheckpointError:
            return None  # a third-party safetensors file: spandrel's turn
        upscaler = Upscaler.from_pretrained(path, device=str(device.type), precision="fp32", tile=0)
    elif path.suffix == ".pt":
        upscaler = Upscaler(_from_checkpoint(path), device=str(device.type), precision="fp32", tile=0)
    else:
        return None
    return GansuiteMethod(name=path.stem, scale=upscaler.scale, source_file=path, upscaler=upscaler)
