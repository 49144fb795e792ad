"""Registries of generators and discriminators, and building a network from its spec.

A network is built from a `NetworkSpec` (registry name + keyword arguments), which is what a
checkpoint or a shipped weights file stores, so it can rebuild its model alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from gansuite.core.registry import Registry
from gansuite.errors import ConfigError

__all__ = ["DISCRIMINATORS", "GENERATORS", "NetworkSpec", "build_network"]

GENERATORS: Registry[type[nn.Module]] = Registry("generator")
DISCRIMINATORS: Registry[type[nn.Module]] = Registry("discriminator")

_KINDS = {"generator": GENERATORS, "discriminator": DISCRIMINATORS}


@dataclass(frozen=True)
class NetworkSpec:
    """What is needed to rebuild a network: its kind, registry name and constructor arguments.

    Args:
        kind: "generator" or "discriminator".
        name: the registered name.
        kwargs: JSON-serialisable keyword arguments of the constructor.
    """

    kind: str
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(f"network kind {self.kind!r} is not one of {sorted(_KINDS)}")
        try:
            json.dumps(self.kwargs)
        except TypeError as exc:
            raise ConfigError(f"arguments of {self.name!r} are not JSON-serialisable: {exc}") from exc

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "name": self.name, "kwargs": self.kwargs}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> NetworkSpec:
        data = json.loads(text)
        return cls(kind=data["kind"], name=data["name"], kwargs=dict(data.get("kwargs", {})))


def build_network(spec: NetworkSpec) -> nn.Module:
    """Build the network `spec` names; the module keeps its spec as `module.spec`.

    Raises:
        UnknownNameError: if the name is not registered for that kind.
        ConfigError: if the arguments do not fit the constructor.
    """
    cls = _KINDS[spec.kind].get(spec.name)
    try:
        module = cls(**spec.kwargs)
    except TypeError as exc:
        raise ConfigError(f"{spec.kind} {spec.name!r}: bad arguments {spec.kwargs}: {exc}") from exc
    module.spec = spec
    return module
