"""How low-resolution training inputs are made from high-resolution crops.

- ``bicubic``: MATLAB's bicubic ``imresize`` with antialiasing, quantised to 8 bit — exactly how
  the benchmark LR images are made (the classic SR protocol, Dong et al. 2014 onwards).
- ``realistic``: Real-ESRGAN's second-order degradation (Wang et al. 2021), simplified: blur with
  a random Gaussian kernel, downscale, Gaussian noise, JPEG compression, applied twice, for
  real-world photos whose LR side is not a clean bicubic downscale.

Both take (N, C, H, W) float RGB in [0, 1] and return (N, C, H / scale, W / scale) in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from gansuite.errors import ConfigError
from gansuite.io.imresize import imresize

__all__ = ["DEGRADATIONS", "bicubic_degradation", "realistic_degradation"]


def _quantize(images: torch.Tensor) -> torch.Tensor:
    return images.clamp(0.0, 1.0).mul(255.0).round().div(255.0)


def bicubic_degradation(high_res: torch.Tensor, scale: int, rng: np.random.Generator | None = None) -> torch.Tensor:
    """MATLAB bicubic downscale by `scale`, quantised to 8 bit. `rng` is unused (deterministic)."""
    return _quantize(imresize(high_res, scale=1.0 / scale))


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, round(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    horizontal = kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    vertical = kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    return F.conv2d(F.conv2d(padded, horizontal, groups=channels), vertical, groups=channels)


def _jpeg(images: torch.Tensor, quality: int) -> torch.Tensor:
    out = []
    for image in images:
        array = (image.permute(1, 2, 0).clamp(0, 1).mul(255).round().byte().cpu().numpy())[..., ::-1]
        ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(array), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ConfigError("OpenCV could not JPEG-encode a training crop")
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1]
        out.append(torch.from_numpy(np.ascontiguousarray(decoded)).permute(2, 0, 1).float().div(255))
    return torch.stack(out).to(images.device)


def realistic_degradation(high_res: torch.Tensor, scale: int, rng: np.random.Generator | None = None) -> torch.Tensor:
    """Two rounds of blur → resize → noise → JPEG, ending at exactly 1/scale of the input size."""
    rng = rng or np.random.default_rng()
    height, width = high_res.shape[-2] // scale, high_res.shape[-1] // scale
    x = high_res
    for stage in range(2):
        x = _gaussian_blur(x, float(rng.uniform(0.2, 2.0 if stage == 0 else 1.2)))
        if stage == 0:
            factor = float(rng.uniform(0.5, 1.0)) / scale ** 0.5
            x = imresize(x, scale=factor)
        else:
            x = imresize(x, size=(height, width))
        sigma = float(rng.uniform(0.0, 10.0 if stage == 0 else 6.0)) / 255.0
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(int(rng.integers(2**31))))
        x = x + sigma * noise.to(x.device, x.dtype)
        x = _jpeg(x, int(rng.integers(45 if stage == 0 else 60, 96)))
    return _quantize(x)


DEGRADATIONS = {"bicubic": bicubic_degradation, "realistic": realistic_degradation}
