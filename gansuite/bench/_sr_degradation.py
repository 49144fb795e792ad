"""The benchmark's fixed "real-looking" degradation of HR test images (`--degradation real`).

The clean protocol (MATLAB bicubic LR) is what papers report; photos people upscale were also
blurred by the lens, noisy from the sensor and JPEG-compressed. This degradation is one fixed,
seeded draw per image, the same for every method and every run:

1. isotropic Gaussian blur of the HR image, σ ~ U(0.8, 1.6) HR pixels (OpenCV, reflected border);
2. MATLAB bicubic downscale by the scale (antialiased), as the clean protocol;
3. sensor-like noise on the LR image: Poisson shot noise at 8-bit photon counts times
   U(0.5, 1.5), plus Gaussian read noise σ ~ U(1, 5) 8-bit levels, independent per channel;
4. quantisation to 8 bit and JPEG at quality 60 (libjpeg through OpenCV, 4:2:0 chroma).

Each image's draws come from ``numpy.random.default_rng([seed, crc32(file name)])``.
"""

from __future__ import annotations

import zlib
from typing import Any

import cv2
import numpy as np

from gansuite.io.imresize import imresize_array

__all__ = ["DEGRADATIONS", "REAL_DEGRADATION", "real_degradation"]

REAL_DEGRADATION: dict[str, Any] = {
    "blur": "isotropic Gaussian on HR, sigma ~ U(0.8, 1.6) px, OpenCV GaussianBlur, reflect-101 border",
    "downscale": "MATLAB bicubic imresize by 1/scale, antialiased",
    "noise": "Poisson at 8-bit counts x U(0.5, 1.5) + Gaussian sigma ~ U(1, 5) levels, per channel, on LR",
    "jpeg": {"quality": 60, "library": "libjpeg via OpenCV imencode", "chroma": "4:2:0"},
    "rng": "numpy default_rng([seed, crc32(HR file name)])",
}
DEGRADATIONS = ("bicubic", "real")


def real_degradation(high_res: np.ndarray, scale: int, *, seed: int, name: str) -> np.ndarray:
    """The fixed real-looking LR image of one HR image.

    Args:
        high_res: (H, W, 3) uint8 RGB, H and W multiples of `scale`.
        scale: the downscaling factor.
        seed: the benchmark's seed.
        name: the HR file name (keys the per-image draws).

    Returns:
        (H / scale, W / scale, 3) uint8 RGB, JPEG-decoded.
    """
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    sigma = float(rng.uniform(0.8, 1.6))
    blurred = cv2.GaussianBlur(high_res, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)
    low = imresize_array(blurred, scale=1.0 / scale).astype(np.float64)
    shot_scale = float(rng.uniform(0.5, 1.5))
    read_sigma = float(rng.uniform(1.0, 5.0))
    shot = rng.poisson(np.clip(low, 0, 255)) - np.clip(low, 0, 255)
    noisy = low + shot_scale * shot + rng.normal(0.0, read_sigma, size=low.shape)
    quantized = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(quantized[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 60])
    if not ok:
        raise RuntimeError("OpenCV could not JPEG-encode a benchmark image")
    return np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])
