"""JSON text that strict parsers read: NaN and infinities written as null.

``json.dumps`` writes them as ``NaN``/``Infinity``, which jq, browsers and ``JSON.parse`` refuse,
so one such number (an identical frame's infinite PSNR, a diverged loss) would make a whole report
or JSON line unreadable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["finite_values", "strict_json"]


def finite_values(value: Any) -> Any:
    """`value` with every non-finite float inside it (mappings, lists, tuples) replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: finite_values(entry) for key, entry in value.items()}
    if isinstance(value, list | tuple):
        return [finite_values(entry) for entry in value]
    return value


def strict_json(value: Any, *, indent: int | None = None) -> str:
    """`value` as strict JSON text (`finite_values` first); one line unless `indent` is given."""
    return json.dumps(finite_values(value), indent=indent, allow_nan=False)
