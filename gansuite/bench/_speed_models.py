"""What the speed benchmark times: ``--precision`` and ``--arch`` parsing, and the models to run.

A model is a shipped name, a gansuite weights file or a registered generator spec with random
weights (same speed); see `gansuite.bench.speed` for the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gansuite.core.checkpoint import load_weights, read_weights_metadata
from gansuite.core.networks import GENERATORS, NetworkSpec, build_network
from gansuite.errors import CheckpointError, ConfigError, GansuiteError
from gansuite.tasks.upscale import models as _models  # noqa: F401  (registers the SR generators)
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

__all__ = ["ARCH_EXAMPLE", "PRECISIONS", "SpeedModel", "parse_arch", "parse_precisions", "resolve_speed_models"]

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
ARCH_EXAMPLE = "compact:scale=4,channels=48,num_convs=16,activation=lrelu"
"""An ``--arch`` value quoted in error messages."""


def parse_precisions(value: str | Sequence[str]) -> tuple[str, ...]:
    """Parse ``--precision fp32,bf16`` (or a sequence of names) into a tuple without repeats.

    Raises:
        ConfigError: an empty list or a name other than fp32, fp16, bf16.
    """
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [name.strip().lower() for name in names if name.strip()]
    bad = [name for name in names if name not in PRECISIONS]
    if bad or not names:
        raise ConfigError(
            f"--precision {value!r}: {', '.join(map(repr, bad)) or 'nothing'} is not a precision; "
            "give a comma-separated list of fp32, fp16, bf16 (e.g. --precision fp32,bf16)"
        )
    return tuple(dict.fromkeys(names))


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_arch(text: str) -> NetworkSpec:
    """Parse ``--arch NAME[:key=value,...]`` into a generator spec (numbers and true/false typed).

    Raises:
        ConfigError: a malformed spec or a repeated key.
        UnknownNameError: NAME is not a registered generator (the message lists them).
    """
    name, _, rest = text.strip().partition(":")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, raw = (part.strip() for part in item.partition("="))
        if not sep or not key or not raw or key in kwargs:
            problem = f"{key!r} is given twice" if key in kwargs else f"{item!r} is not key=value"
            raise ConfigError(f"--arch {text!r}: {problem}; expected NAME[:key=value,...], e.g. {ARCH_EXAMPLE}")
        kwargs[key] = _value(raw)
    if not name:
        raise ConfigError(f"--arch {text!r}: no generator name; expected NAME[:key=value,...], e.g. {ARCH_EXAMPLE}")
    GENERATORS.get(name)
    return NetworkSpec("generator", name, kwargs)


@dataclass(frozen=True)
class SpeedModel:
    """A generator to time: its table name, spec and weights file (None: random weights, same speed)."""

    name: str
    spec: NetworkSpec
    source_file: Path | None = None

    def build(self) -> nn.Module:
        """The generator in eval mode on the CPU, weights from `source_file` or seeded random ones."""
        return (load_weights(self.source_file) if self.source_file is not None else build_network(self.spec)).eval()


def _checked(model: SpeedModel, flag: str) -> SpeedModel:
    try:
        network = build_network(model.spec)
    except GansuiteError as exc:
        raise type(exc)(f"{flag} {model.name!r}: {exc}") from exc
    if not isinstance(getattr(network, "scale", None), int):
        raise ConfigError(
            f"{flag} {model.name!r}: {model.spec.name!r} is not a super-resolution generator (it has no integer "
            f"scale); give an upscale generator, e.g. {ARCH_EXAMPLE}"
        )
    return model


def resolve_speed_models(models: Sequence[str] = (), archs: Sequence[str] = ()) -> list[SpeedModel]:
    """Turn ``--model`` and ``--arch`` values into `SpeedModel`s (default: every shipped model present).

    Args:
        models: shipped names ("x4", "x4-gan", "x2") or gansuite ``.safetensors`` files.
        archs: ``NAME[:key=value,...]`` specs of registered generators, randomly initialised.

    Returns:
        The models, `models` first, in the given order.

    Raises:
        CheckpointError: a missing shipped file, a missing or non-gansuite weights file.
        ConfigError: a bad spec, a non-SR generator, repeated names, or nothing to run.
        UnknownNameError: an unknown generator name.
    """
    resolved: list[SpeedModel] = []
    if not models and not archs:
        models = [name for name in SHIPPED_WEIGHTS if shipped_weights_path(name).is_file()]
        if not models:
            raise ConfigError(
                f"no shipped upscale weights in this build (gansuite/weights holds none of "
                f"{', '.join(SHIPPED_WEIGHTS)}); give --model FILE or --arch SPEC, e.g. --arch {ARCH_EXAMPLE}"
            )
    for value in models:
        path = shipped_weights_path(value) if value in SHIPPED_WEIGHTS else Path(value)
        if not path.is_file():
            what = "shipped model, but its file is not in this build" if value in SHIPPED_WEIGHTS else "not a file"
            raise CheckpointError(
                f"--model {value!r}: {what}; give a shipped name ({', '.join(SHIPPED_WEIGHTS)}) whose weights are "
                "installed, or a gansuite .safetensors file"
            )
        try:
            spec, _ = read_weights_metadata(path)
        except CheckpointError as exc:
            raise CheckpointError(
                f"--model: {exc}; benchmark speed times gansuite generators (a shipped name, a gansuite "
                "weights file, or --arch SPEC); a third-party model's seconds per megapixel are in the s/MP column "
                f"of `gansuite benchmark sr --method {value}`"
            ) from None
        resolved.append(_checked(SpeedModel(value if value in SHIPPED_WEIGHTS else path.stem, spec, path), "--model"))
    for text in archs:
        try:
            spec = parse_arch(text)
        except GansuiteError as exc:
            raise type(exc)(f"--arch {text!r}: {exc}" if not str(exc).startswith("--arch") else str(exc)) from exc
        resolved.append(_checked(SpeedModel(text.strip(), spec), "--arch"))
    names = [model.name for model in resolved]
    if len(set(names)) != len(names):
        raise ConfigError(f"two models share a name ({names}); give each --model/--arch once")
    return resolved
