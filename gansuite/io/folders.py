"""Folders of images: frame folders (a clip as numbered images) and training image folders."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from gansuite.errors import ConfigError, InputImageError, InputVideoError, OutputError
from gansuite.io.image import WRITE_FORMATS, read_image, write_image

__all__ = [
    "FRAME_EXTENSIONS",
    "IMAGE_SUFFIXES",
    "folder_frames",
    "frame_files",
    "is_frame_file",
    "list_images",
    "natural_key",
    "write_frames",
]

FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
"""Image files taken from a frame folder (case-insensitive)."""

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


def write_frames(
    directory: str | os.PathLike[str],
    frames: np.ndarray | Iterable[np.ndarray],
    *,
    ext: str = "png",
    bit_depth: int = 8,
    overwrite: bool = True,
) -> list[Path]:
    """Writes frames as numbered images `000000.<ext>`, `000001.<ext>`, ... (each file atomically).

    Args:
        directory: Output folder, created if missing.
        frames: `(T, H, W, C)` array or iterable of `(H, W, C)` frames, floating point in
            [0, 1], RGB (C = 3) or gray (C = 1, written as one channel).
        ext: Image format, one of `WRITE_FORMATS` without the dot.
        bit_depth: 8 or 16 (16 only for png and tif).
        overwrite: Whether existing files may be replaced.

    Returns:
        The written files, in order.

    Raises:
        ConfigError: Unknown `ext` or bad `bit_depth`.
        InputImageError: A frame is not a valid image.
        OutputError: `directory` is a file.
        OutputExistsError: A frame file exists and `overwrite` is False.
    """
    extension = "." + ext.lower().lstrip(".")
    if extension not in WRITE_FORMATS:
        raise ConfigError(f"write_frames: cannot write frame format {ext!r}; accepted: {', '.join(WRITE_FORMATS)}")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder; choose a folder for the frames")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, frame in enumerate(frames):
        shape = getattr(frame, "shape", ())
        gray = len(shape) == 2 or (len(shape) == 3 and shape[2] == 1)
        file = folder / f"{index:06d}{extension}"
        written.append(write_image(file, frame, bit_depth=bit_depth, grayscale=gray, overwrite=overwrite))
    return written


def natural_key(file: Path) -> tuple[list[int | str], str]:
    """Sort key of natural order: ``frame2.png`` before ``frame10.png`` (digits compared as numbers, case ignored)."""
    parts: list[int | str] = [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", file.name)]
    return parts, file.name


def is_frame_file(path: Path) -> bool:
    """Whether `path` is taken as a frame of a frame folder: a file with a `FRAME_EXTENSIONS` extension, no dot name."""
    return path.suffix.lower() in FRAME_EXTENSIONS and not path.name.startswith(".") and path.is_file()


def frame_files(folder: Path) -> list[Path]:
    """The frame images of `folder` in natural order (names starting with a dot skipped).

    Raises:
        InputVideoError: the folder holds no file with a `FRAME_EXTENSIONS` extension, or two frames of one
            name in two formats (``000.jpg`` and ``000.png``: their order is unknown, the clip would
            hold the frame twice).
    """
    files = [file for file in folder.iterdir() if is_frame_file(file)]
    if not files:
        raise InputVideoError(
            f"{folder}: folder holds no frame images; accepted extensions: {', '.join(FRAME_EXTENSIONS)}"
        )
    seen: dict[str, Path] = {}
    for file in sorted(files, key=natural_key):
        other = seen.setdefault(file.stem.lower(), file)
        if other is not file:
            raise InputVideoError(
                f"{folder}: frames {other.name} and {file.name} have one name in two formats, so the clip's order is "
                "unknown; keep one format in a frame folder (move the other files out)"
            )
    return sorted(files, key=natural_key)


def folder_frames(folder: Path, files: list[Path], limit: float) -> Iterator[np.ndarray]:
    """Decode up to `limit` of `files` (from `folder`) as (H, W, 3) float32 RGB frames in [0, 1].

    Gray files come back with the gray value in all three channels.

    Raises:
        InputVideoError: a frame cannot be read as an image (naming its index and the folder).
    """
    for index, file in enumerate(files):
        if index >= limit:
            return
        try:
            yield read_image(file).color
        except InputImageError as error:
            raise InputVideoError(f"frame {index} of folder {folder}: {error}") from None
