"""A small explicit registry per kind of component (generators, discriminators, losses).

Names are registered by decorator at import time; duplicates raise, an unknown name lists the
valid ones and the closest match, and `names()` feeds `--help` and the contract tests.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Generic, TypeVar

from gansuite.errors import ConfigError, UnknownNameError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to builders of one kind of component.

    Args:
        kind: what is registered, used in error messages (e.g. "discriminator").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers `obj` under `name`.

        Raises:
            ConfigError: if `name` is already registered.
        """

        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ConfigError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        """Return the entry registered under `name`.

        Raises:
            UnknownNameError: naming the valid names and the closest match.
        """
        if name not in self._entries:
            valid = ", ".join(sorted(self._entries)) or "(none registered)"
            close = difflib.get_close_matches(name, list(self._entries), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(f"unknown {self.kind} {name!r}: valid names are {valid}{hint}")
        return self._entries[name]

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries
