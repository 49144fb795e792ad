"""Optional dependency groups (pip extras) and a one-line error naming the one to install.

`pip install gansuite` brings inference only (upscale, predict-frames, the library). Training,
benchmarks, the web page, ONNX and third-party model files need an extra; every import of such
a package goes through `require_extra`, inside the function that needs it, so the inference
paths never import them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from gansuite.errors import MissingExtraError

__all__ = ["EXTRAS", "require_extra"]

EXTRAS: dict[str, str] = {
    "train": "training (torchvision, tensorboard, lpips, scipy)",
    "bench": "benchmarks and metrics (lpips, scikit-learn, scikit-image, matplotlib)",
    "web": "the local web page, `gansuite serve` (gradio)",
    "onnx": "ONNX export and the onnxruntime engine (onnx, onnxruntime)",
    "peers": "third-party model files (spandrel)",
    "images": "animated GIF/APNG/WebP and planar TIFF (pillow, tifffile, imagecodecs)",
}
"""Extra name → what it is for."""


def require_extra(extra: str, module: str, *, feature: str | None = None) -> ModuleType:
    """Import `module`, or raise a one-line error saying which extra installs it.

    Args:
        extra: the pip extra that provides `module` (a key of `EXTRAS`).
        module: the module to import, e.g. "lpips" or "onnxruntime".
        feature: what needs it, for the message (default: the module's name).

    Returns:
        The imported module.

    Raises:
        MissingExtraError: `module` cannot be imported (also an `ImportError`).
        KeyError: `extra` is not a known extra (a programming error).
    """
    if extra not in EXTRAS:
        raise KeyError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = feature or module
        raise MissingExtraError(
            f"{what} needs the optional package {module.split('.')[0]!r}: pip install 'gansuite[{extra}]'"
        ) from exc
