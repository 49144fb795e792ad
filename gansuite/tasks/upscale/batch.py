"""Upscaling many files: expand inputs, name outputs, skip what exists, go on past bad files."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gansuite.errors import ConfigError, GansuiteError
from gansuite.io.image import read_image, write_image
from gansuite.tasks.upscale.data import IMAGE_SUFFIXES
from gansuite.tasks.upscale.upscaler import Upscaler

__all__ = ["BatchReport", "expand_inputs", "output_path", "upscale_files"]

_WRITE_EXTENSIONS = ("png", "jpg", "webp")


@dataclass
class BatchReport:
    """What a batch did: written outputs, skipped existing ones and failures with their reasons."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def expand_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files, folders (their images, sorted) and glob patterns → a de-duplicated list of files.

    Raises:
        ConfigError: an input names nothing.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.exists():
            files.append(path)
        elif glob.has_magic(str(item)):
            matches = sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file())
            if not matches:
                raise ConfigError(f"input pattern {item} matches no file")
            files += matches
        else:
            raise ConfigError(f"input {item} does not exist")
    unique: dict[Path, None] = {}
    for file in files:
        unique.setdefault(file.resolve(), None)
    return list(unique)


def output_path(source: Path, out_dir: Path | None, suffix: str, ext: str) -> Path:
    """`<stem><suffix>.<ext>` in `out_dir` (default: beside the input); "auto" keeps png/jpg/webp."""
    if ext == "auto":
        ext = source.suffix.lower().lstrip(".")
        ext = {"jpeg": "jpg"}.get(ext, ext)
        if ext not in _WRITE_EXTENSIONS:
            ext = "png"
    return (out_dir or source.parent) / f"{source.stem}{suffix}.{ext}"


def upscale_files(
    upscaler: Upscaler,
    files: Sequence[Path],
    *,
    out_dir: Path | None = None,
    suffix: str = "_x4",
    ext: str = "auto",
    overwrite: bool = False,
    on_file: Callable[[Path, str], None] | None = None,
    on_tile: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """Upscale each file; a bad file is recorded and the batch goes on.

    Inputs are never overwritten: an output path equal to an input is a failure for that file.
    Outputs are written atomically, so an interrupted run leaves no half-written file.

    Args:
        upscaler: the configured `Upscaler`.
        files: input image files.
        out_dir: output folder (created if needed); None writes beside each input.
        suffix: added to each output's stem.
        ext: "auto" (the input's format where writable, else png), "png", "jpg" or "webp".
        overwrite: replace existing outputs (never inputs).
        on_file: called as (path, status) with status "written", "skipped" or an error line.
        on_tile: progress callback within large images.
    """
    if ext not in ("auto", *_WRITE_EXTENSIONS):
        raise ConfigError(f"--ext must be auto, png, jpg or webp, got {ext!r}")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    inputs = {f.resolve() for f in files}
    report = BatchReport()
    for source in files:
        target = output_path(source, out_dir, suffix, ext)
        try:
            if target.resolve() in inputs:
                raise ConfigError(f"{target} is one of the inputs and is never overwritten: change --suffix or -o")
            if target.exists() and not overwrite:
                report.skipped.append(target)
                if on_file:
                    on_file(source, "skipped")
                continue
            result = upscaler(read_image(source), on_tile=on_tile)
            image = result.image
            write_image(target, image.color, image.alpha, bit_depth=image.bit_depth, grayscale=image.grayscale)
            report.written.append(target)
            if on_file:
                on_file(source, "written")
        except GansuiteError as error:
            report.failed.append((source, str(error)))
            if on_file:
                on_file(source, str(error))
    return report
