"""The weights shipped inside the package for the upscale head."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED_WEIGHTS", "shipped_weights_path"]

_WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"

# shipped name → file in gansuite/weights
SHIPPED_WEIGHTS = {
    "x4": "upscale_x4_psnr.safetensors",
    "x4-gan": "upscale_x4_gan.safetensors",
    "x2": "upscale_x2_psnr.safetensors",
}


def shipped_weights_path(name: str) -> Path:
    """The path of shipped weights `name` (it may not exist in this build)."""
    from gansuite.errors import UnknownNameError

    if name not in SHIPPED_WEIGHTS:
        raise UnknownNameError(f"unknown shipped model {name!r}: valid names are {sorted(SHIPPED_WEIGHTS)}")
    return _WEIGHTS_DIR / SHIPPED_WEIGHTS[name]
