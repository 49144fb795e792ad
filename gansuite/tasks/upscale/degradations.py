"""How low-resolution training inputs are made from high-resolution crops.

- ``bicubic``: MATLAB's bicubic ``imresize`` with antialiasing, quantised to 8 bit — exactly how
  the benchmark LR images are made (the classic SR protocol, Dong et al. 2014 onwards).
- ``realistic``: Real-ESRGAN's second-order degradation (Wang et al. 2021; `realistic.py`): blur,
  resize, noise and JPEG applied twice, then a sinc filter, for real-world photos whose LR side
  is not a clean bicubic downscale.

Both take (N, C, H, W) float RGB in [0, 1] and return (N, C, H / scale, W / scale) in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch

from gansuite.io.imresize import imresize
from gansuite.tasks.upscale.realistic import realistic_degradation_batch

__all__ = ["DEGRADATIONS", "bicubic_degradation", "realistic_degradation"]


def _quantize(images: torch.Tensor) -> torch.Tensor:
    return images.clamp(0.0, 1.0).mul(255.0).round().div(255.0)


def bicubic_degradation(high_res: torch.Tensor, scale: int, rng: np.random.Generator | None = None) -> torch.Tensor:
    """MATLAB bicubic downscale by `scale`, quantised to 8 bit. `rng` is unused (deterministic)."""
    return _quantize(imresize(high_res, scale=1.0 / scale))


def realistic_degradation(high_res: torch.Tensor, scale: int, rng: np.random.Generator | None = None) -> torch.Tensor:
    """Real-ESRGAN's second-order degradation with its default parameters (`realistic.py`)."""
    return realistic_degradation_batch(high_res, scale, rng or np.random.default_rng())


DEGRADATIONS = {"bicubic": bicubic_degradation, "realistic": realistic_degradation}
