"""How a data-gated test reacts to missing data: skip on a developer's machine, fail in CI.

CI (any environment with ``CI`` set, as GitHub Actions and ``.ci/run`` do) has the datasets and
backbones beside the checkout, so a data-gated test that cannot find its data there is a broken
set-up, not a reason to pass quietly. The reason is one line naming the variable or file; run
``pytest -rs`` (the default options include it) to list every skip with its reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["in_ci", "missing", "require"]


def in_ci() -> bool:
    """Whether the tests run in CI (``CI`` set to anything but empty, 0 or false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: data-gated tests must find their data in CI)", pytrace=False)
    pytest.skip(reason)


def require(path: Path, what: str) -> Path:
    """`path` when it exists, else `missing(...)` naming `what` and the path."""
    if not path.exists():
        missing(f"{what} not found at {path}")
    return path
