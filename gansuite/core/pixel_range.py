"""The [0, 1] range of float pixels, checked where a public function takes float images.

Every float image boundary in gansuite is ``float in [0, 1]``. The commonest mix-up, a float
image still on the 0..255 scale, would otherwise pass silently: clamped into a near-white image,
or scored by PSNR/SSIM as if its errors were 255 times smaller. One min/max pass per call finds
it. Values a hair outside, within `UNIT_RANGE_TOLERANCE` = half an 8-bit step (rounding after
resampling or a colour conversion: they still round to 0..255), pass.
"""

from __future__ import annotations

import numpy as np
import torch

from gansuite.errors import ConfigError

__all__ = ["UNIT_RANGE_TOLERANCE", "check_unit_range"]

UNIT_RANGE_TOLERANCE = 0.5 / 255
"""How far outside [0, 1] float pixels may stray and still count as in range: half an 8-bit step,
so every accepted value rounds into 0..255."""


def check_unit_range(values: torch.Tensor | np.ndarray, what: str) -> None:
    """Raise unless float `values` lie in [0, 1] within `UNIT_RANGE_TOLERANCE`.

    Args:
        values: float pixels of any shape, a tensor on any device or an array. NaN is not
            judged here (it passes on to the result, as it always did); infinities are out of range.
        what: the argument as the message should name it, e.g. "psnr: prediction".

    Raises:
        ConfigError: a value below -`UNIT_RANGE_TOLERANCE` or above 1 + `UNIT_RANGE_TOLERANCE`;
            the message gives the range seen, the range expected and the usual fix.
    """
    if values.size == 0 if isinstance(values, np.ndarray) else values.numel() == 0:
        return
    if isinstance(values, np.ndarray):
        low, high = float(np.min(values)), float(np.max(values))
    else:
        extremes = torch.aminmax(values.detach())
        low, high = float(extremes.min), float(extremes.max)
    below, above = low < -UNIT_RANGE_TOLERANCE, high > 1.0 + UNIT_RANGE_TOLERANCE  # False for NaN
    if not (below or above):
        return
    if high > 2.0:
        fix = "divide images on the 0..255 scale by 255 (16-bit ones by 65535)"
    elif low >= -1.0 - UNIT_RANGE_TOLERANCE and not above:
        fix = "map images in [-1, 1] to [0, 1] with (x + 1) / 2"
    else:
        fix = "clamp values that resampling pushed out with .clamp(0, 1)"
    raise ConfigError(
        f"{what} has float values in [{low:.4g}, {high:.4g}]; float images must be in [0, 1] (within "
        f"half an 8-bit step, 0.5/255): {fix}"
    )
