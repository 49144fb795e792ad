"""gansuite's user cache folder: probed receptive radii and ONNX exports, made once and kept.

``$GANSUITE_CACHE`` when set (``$GANSUITE_CACHE_DIR``, its earlier name, is still read), else
``$XDG_CACHE_HOME/gansuite``, else ``~/.cache/gansuite`` (the XDG base directory convention).
Nothing here creates the folder; its users do when they first write.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_root"]

CACHE_ENV = "GANSUITE_CACHE"


def cache_root() -> Path:
    """The cache folder (not created here); see the module docstring for the order it is looked up in."""
    for name in (CACHE_ENV, "GANSUITE_CACHE_DIR"):
        if os.environ.get(name):
            return Path(os.environ[name])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gansuite"
