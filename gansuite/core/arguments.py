"""Type and value checks of scalar arguments at public boundaries (thresholds, windows, scales).

Python lets `True` pass for 1, `float("nan")` pass every ``<`` / ``>`` range test the wrong way and
`2.5` pass for a frame count; these checks refuse them with a `ConfigError` naming the argument,
the value seen and what is accepted. `name` is how the caller's user knows the argument: the
keyword for library callers (``"threshold"``), the flag where the CLI checks its own options
(``"--threshold"``).
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable

from gansuite.errors import ConfigError

__all__ = ["check_finite_number", "check_integer", "check_setting_names"]


def check_finite_number(value: object, name: str, *, advice: str = "") -> float:
    """`value` as a float after checking it is a finite real number (not a bool, a string, NaN or ±inf).

    Args:
        value: the argument (int, float or a numpy scalar).
        name: the argument as the message names it.
        advice: what to do, appended to the message (e.g. "or None for the calibration's").

    Returns:
        `value` as a float.

    Raises:
        ConfigError: a bool, not a real number, NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "a bool" if isinstance(value, bool) else f"a {type(value).__name__}"
        raise ConfigError(f"{name} must be a finite number, got {value!r} ({kind}); give an int or a float{advice}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be a finite number, got {value!r}; give a real number{advice}")
    return number


def check_integer(value: object, name: str, *, minimum: int, unit: str = "", advice: str = "") -> int:
    """`value` as an int after checking it is an integer (not a bool or a float) >= `minimum`.

    Args:
        value: the argument (int or a numpy integer).
        name: the argument as the message names it.
        minimum: the smallest value accepted.
        unit: what it counts, for the message (e.g. "frames").
        advice: what to do, appended to the message (e.g. "or None for no window").

    Returns:
        `value` as an int.

    Raises:
        ConfigError: a bool, not an integer (2.0 included), or below `minimum`.
    """
    counted = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        kind = "a bool" if isinstance(value, bool) else f"a {type(value).__name__}"
        raise ConfigError(
            f"{name} must be an integer >= {minimum}{counted}, got {value!r} ({kind}); give an int{advice}"
        )
    if value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}{counted}, got {value!r}; give a larger one{advice}")
    return int(value)


def check_setting_names(given: Iterable[str], accepted: Iterable[str], where: str, *, note: str = "") -> None:
    """Refuse keyword settings a loader would pass on to a constructor that does not take them.

    A misspelt keyword (`devcie="cpu"`) would otherwise reach the constructor as a bare
    `TypeError` after the model file was read, or be silently dropped.

    Args:
        given: the keyword names the caller passed.
        accepted: the names the constructor takes.
        where: the call as the message names it, e.g. "Upscaler.from_pretrained".
        note: appended to the message (e.g. why a constructor argument is not accepted here).

    Raises:
        ConfigError: a name not in `accepted`; the message lists the accepted names and the
            closest match.
    """
    accepted = tuple(accepted)
    unknown = sorted(set(given) - set(accepted))
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], accepted, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ConfigError(
        f"{where}: unknown setting {', '.join(unknown)}{hint}; accepted: {', '.join(accepted)}{note}"
    )
