"""Super-resolution methods for the benchmark: the `SRMethod` protocol, bicubic, spandrel files, resolvers.

A ``--method`` value becomes an `SRMethod` in `resolve_method`: "bicubic" (MATLAB bicubic
upsampling, the baseline), whatever a resolver registered with `register_method_resolver`
accepts (gansuite's shipped models and checkpoints, `gansuite.bench.gansuite_models`), or any
model file the optional ``spandrel`` package can load. See `gansuite.bench.sr` for the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

from gansuite.errors import ConfigError
from gansuite.io.imresize import imresize

__all__ = ["BicubicMethod", "MethodResolver", "SRMethod", "register_method_resolver", "resolve_method"]


@runtime_checkable
class SRMethod(Protocol):
    """A super-resolution method as the benchmark runs it.

    Attributes:
        name: the name in the results table (a model file's stem for files).
        scale: the integer upscaling factor.
        source_file: the model file, recorded with its sha256 in the manifest; None for none.
    """

    name: str
    scale: int
    source_file: Path | None

    def __call__(self, low_res: torch.Tensor) -> torch.Tensor:
        """Upscale (N, 3, h, w) float32 RGB in [0, 1] → (N, 3, h*scale, w*scale), same device."""
        ...


MethodResolver = Callable[[str, int, torch.device], SRMethod | None]
"""``resolver(spec, scale, device)``: an `SRMethod` for `spec` (a name or a file path), or None
when `spec` is not its kind. It may raise a `GansuiteError` for a spec it owns but cannot load."""

_RESOLVERS: list[MethodResolver] = []


def register_method_resolver(resolver: MethodResolver) -> MethodResolver:
    """Let the benchmark resolve more method specs (gansuite's shipped models and checkpoints).

    Resolvers are asked in registration order, after "bicubic" and before spandrel; the first
    that returns an `SRMethod` wins. Usable as a decorator.

    Args:
        resolver: ``resolver(spec, scale, device) -> SRMethod | None``.

    Returns:
        `resolver`, unchanged.

    Raises:
        ConfigError: the resolver is registered already.
    """
    if resolver in _RESOLVERS:
        raise ConfigError(f"method resolver {resolver!r} is registered twice")
    _RESOLVERS.append(resolver)
    return resolver


@dataclass(frozen=True)
class BicubicMethod:
    """MATLAB bicubic upsampling (``imresize(lr, scale, 'bicubic')``), the SR baseline."""

    scale: int
    name: str = "bicubic"
    source_file: Path | None = None

    def __call__(self, low_res: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) float RGB in [0, 1] → (N, 3, h*scale, w*scale), clipped to [0, 1]."""
        return imresize(low_res, scale=self.scale).clamp(0.0, 1.0)


@dataclass(frozen=True)
class _SpandrelMethod:
    """A third-party model file loaded by spandrel (Real-ESRGAN, SwinIR, ... files)."""

    name: str
    scale: int
    source_file: Path | None
    model: Any

    def __call__(self, low_res: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.model(image[None]) for image in low_res])


def _load_spandrel(path: Path, device: torch.device) -> _SpandrelMethod:
    """A third-party SR model file as a method (through `model_files.load_spandrel`; errors name ``--method``)."""
    from gansuite.tasks.upscale.model_files import load_spandrel, read_state_dict  # never unpickles code

    descriptor = load_spandrel(path, read_state_dict(path), flag="--method")
    descriptor.to(device).eval()
    return _SpandrelMethod(name=path.stem, scale=int(descriptor.scale), source_file=path, model=descriptor)


def resolve_method(spec: str | SRMethod, scale: int, device: torch.device) -> SRMethod:
    """Turn a ``--method`` value into an `SRMethod` for `scale` on `device`.

    Args:
        spec: "bicubic"; a name or file a registered resolver accepts; a model file spandrel can
            load; or an `SRMethod` (returned as it is, after the scale check).
        scale: the benchmark's upscaling factor.
        device: where the model runs.

    Returns:
        The method.

    Raises:
        ConfigError: `spec` is none of these, or the method's scale differs from `scale`.
        CheckpointError, NotAvailableError: a model file cannot be loaded.
    """
    method: SRMethod | None
    if not isinstance(spec, str):
        method = spec
    elif spec == "bicubic":
        method = BicubicMethod(scale=scale)
    else:
        method = next((m for m in (r(spec, scale, device) for r in _RESOLVERS) if m is not None), None)
        if method is None and Path(spec).is_file():
            method = _load_spandrel(Path(spec), device)
        if method is None:
            raise ConfigError(
                f"--method {spec!r}: not 'bicubic', not a model name any registered resolver knows, and not "
                "an existing file; give bicubic, a gansuite model name, or the path of a model file"
            )
    if method.scale != scale:
        raise ConfigError(
            f"--method {method.name}: the model upscales x{method.scale}, but the benchmark runs --scale "
            f"{scale}; pick a x{scale} model or --scale {method.scale}"
        )
    return method
