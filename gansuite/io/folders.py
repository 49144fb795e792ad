"""Finding the image files of a training folder."""

from __future__ import annotations

import os
from pathlib import Path

from gansuite.errors import ConfigError
from gansuite.io.video import FRAME_EXTENSIONS

__all__ = ["IMAGE_SUFFIXES", "list_images"]

IMAGE_SUFFIXES = FRAME_EXTENSIONS
"""File extensions taken as images when a folder is searched (those of frame folders too)."""


def list_images(folder: str | os.PathLike[str]) -> list[Path]:
    """Image files inside `folder` and its sub-folders, sorted by path.

    Raises:
        ConfigError: the folder does not exist or holds no images.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"image folder {root} does not exist")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ConfigError(f"{root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files
