"""Upscaling many files: expand inputs, check the batch first, skip what exists, go on past bad files.

Before any compute the whole batch goes through `gansuite.tasks.upscale.preflight.plan_batch`
(output names, format limits, memory, alpha, output folders). Then each file is read, upscaled
and written atomically; any failure of one file — a decode error, an OS error (permission, disk
full, name too long), running out of memory — is one line naming the file, and the batch goes
on. Animated GIF/APNG/WebP inputs have every frame upscaled into an animated file of the same
kind with the same delays.
"""

from __future__ import annotations

import dataclasses
import errno
import glob
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gansuite.core.atomic import is_temp_name, remove_stale_temps
from gansuite.errors import ConfigError, GansuiteError, OutputExistsError
from gansuite.io.image import DEFAULT_MAX_PIXELS, read_image, write_image
from gansuite.tasks.upscale.data import IMAGE_SUFFIXES
from gansuite.tasks.upscale.preflight import Job, looks_like_output, plan_batch
from gansuite.tasks.upscale.upscaler import Upscaler
from gansuite.tasks.upscale.video import is_video_file

__all__ = ["BatchReport", "FolderSkipWarning", "expand_inputs", "output_path", "taken_by_pattern", "upscale_files"]

_WRITE_EXTENSIONS = ("png", "jpg", "webp")


@dataclass
class BatchReport:
    """What a batch did: written outputs, skipped existing ones and failures with their reasons."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def taken_by_pattern(path: Path, skip_suffixes: Sequence[str] = ()) -> bool:
    """Whether folder and glob expansion take `path`: not a dot file (temporary files among them), not an output.

    gansuite's own outputs are `<stem>_x<scale>.<ext>` or a stem ending in one of `skip_suffixes`.
    """
    return not (path.name.startswith(".") or is_temp_name(path.name) or looks_like_output(path, skip_suffixes))


_NAMED_ONLY = (".gif", ".apng")
"""Animated formats upscaled when named as files or by a pattern, never taken from a folder."""


class FolderSkipWarning(UserWarning):
    """An input folder holds videos or animated files, which folders never yield (named files only)."""


def expand_inputs(inputs: Sequence[str | os.PathLike[str]], *, skip_suffixes: Sequence[str] = ()) -> list[Path]:
    """Files, folders (their images, sorted) and glob patterns → a de-duplicated list of files.

    Folders and patterns never yield dot files (gansuite's temporary files are dot files) or
    gansuite's own outputs (`<stem>_x<scale>.<ext>`, or a stem ending in one of `skip_suffixes`),
    so rerunning `gansuite upscale photos/` does not upscale its earlier outputs. Files named
    explicitly are always taken.

    A folder's videos and animated GIF/APNG files are left out with a `FolderSkipWarning`.

    Raises:
        ConfigError: an input names nothing: a missing path, a pattern matching no file, or a
            folder holding no image to upscale.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            # the folder is listed once; a broken link is kept so that it fails alone, naming itself
            entries = sorted(p for p in path.iterdir() if p.is_file() or (p.is_symlink() and not p.exists()))
            found = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES]
            taken = [p for p in found if taken_by_pattern(p, skip_suffixes)]
            left = [p for p in entries if is_video_file(p) or p.suffix.lower() in _NAMED_ONLY]
            if not taken:
                raise ConfigError(_empty_folder_message(item, found, [p for p in left if is_video_file(p)]))
            files += taken
            if left:
                warnings.warn(FolderSkipWarning(
                    f"input folder {item}: {len(left)} video or animated file(s) not taken from a folder "
                    f"(e.g. {left[0].name}); {_name_them(left[0])}"
                ), stacklevel=2)
        elif path.exists() or path.is_symlink():  # a broken link or a loop fails alone, naming itself
            files.append(path)
        elif glob.has_magic(str(item)):
            found = sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file() and not is_temp_name(p))
            # a pattern that names only outputs (`*_x4.png`) is meant; otherwise outputs are left out
            matches = [p for p in found if taken_by_pattern(p, skip_suffixes)] or found
            if not matches:
                raise ConfigError(f"input pattern {item} matches no file")
            files += matches
        elif str(item) == "-":
            raise ConfigError("input -: reading an image from standard input is not supported; save it to a file "
                              "and give its path")
        else:
            raise ConfigError(f"input {item} does not exist")
    unique: dict[Path, Path] = {}
    for file in files:
        named = file.parent.resolve() / file.name  # a link keeps its own name (messages, output names)
        try:
            unique.setdefault(file.resolve(), named)
        except (OSError, RuntimeError):  # a symlink loop
            unique.setdefault(named, named)
    return list(unique.values())


def _name_them(example: Path) -> str:
    """The way to upscale files a folder does not yield, with a pattern for `example`'s kind."""
    return f"give them as files or a pattern such as {example.parent / ('*' + example.suffix)}"


def _empty_folder_message(item: str | os.PathLike[str], images: Sequence[Path], videos: Sequence[Path]) -> str:
    """Why an input folder yields nothing to upscale (its `images` are all skipped, if any), and what to give."""
    message = f"input folder {item} holds no image to upscale"
    outputs = [p for p in images if not p.name.startswith(".") and not is_temp_name(p.name)]
    if outputs:  # only gansuite's own earlier outputs, which a folder never yields
        return f"{message}, only earlier outputs such as {outputs[0].name}; name them as files to upscale them again"
    if videos:
        return f"{message}; videos are not taken from folders: {_name_them(videos[0])}"
    return f"{message} (no {', '.join(IMAGE_SUFFIXES)} file)"


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
    max_pixels: int | None = None,
    on_note: Callable[[str], None] | None = None,
) -> BatchReport:
    """Upscale each file; a bad file is recorded and the batch goes on.

    The batch is checked first (`plan_batch`): problems with the command as given stop it
    before any compute, inputs that cannot be used fail at once. Inputs are never overwritten.
    Outputs are written atomically, and without `overwrite` an output that appears while the
    batch runs is not replaced (a no-clobber link). Temporary files of killed earlier runs in
    the output folders are removed first.

    Args:
        upscaler: the configured `Upscaler`.
        files: input image files.
        out_dir: output folder (created if needed); None writes beside each input.
        suffix: added to each output's stem.
        ext: "auto" (the input's format where writable, else png), "png", "jpg" or "webp".
        overwrite: replace existing outputs (never inputs).
        on_file: called as (path, status) with status "written", "skipped" or an error line.
        on_tile: progress callback within large images.
        max_pixels: the largest input in pixels (None: `GANSUITE_MAX_PIXELS`, else what memory allows).
        on_note: called with each note of the check (e.g. outputs renamed to keep them apart).

    Raises:
        PreflightError: the batch as given cannot run (every problem listed); nothing was computed.
    """
    if ext not in ("auto", *_WRITE_EXTENSIONS):
        raise ConfigError(f"--ext must be auto, png, jpg or webp, got {ext!r}")
    plan = plan_batch(
        files, scale=upscaler.scale, outscale=upscaler.outscale, out_dir=out_dir, suffix=suffix, ext=ext,
        max_pixels=max_pixels,
    )
    report = BatchReport(notes=list(plan.notes))
    for note in plan.notes:
        if on_note:
            on_note(note)
    for source, message in plan.failed:
        report.failed.append((source, message))
        if on_file:
            on_file(source, message)
    if out_dir is not None and plan.jobs:
        out_dir.mkdir(parents=True, exist_ok=True)
    for folder in {job.target.parent for job in plan.jobs}:
        remove_stale_temps(folder)
    read_limit = max(DEFAULT_MAX_PIXELS, max_pixels or 0)
    for job in plan.jobs:
        source, target = job.source, job.target
        try:
            if target.exists() and not overwrite:
                report.skipped.append(target)
                if on_file:
                    on_file(source, "skipped")
                continue
            if job.frames > 1:
                _upscale_animation(upscaler, job, overwrite=overwrite, max_pixels=read_limit, on_tile=on_tile)
            else:
                image = read_image(source, max_pixels=read_limit)
                if job.drop_alpha:  # opaque everywhere, and the format has no alpha
                    image = dataclasses.replace(image, alpha=None)
                image = upscaler(image, on_tile=on_tile).image
                write_image(
                    target, image.color, image.alpha, bit_depth=image.bit_depth, grayscale=image.grayscale,
                    overwrite=overwrite,
                )
            report.written.append(target)
            if on_file:
                on_file(source, "written")
        except (GansuiteError, OSError, MemoryError, torch.OutOfMemoryError) as error:
            message = _failure_line(source, target, error)
            report.failed.append((source, message))
            if on_file:
                on_file(source, message)
    return report


def _upscale_animation(
    upscaler: Upscaler, job: Job, *, overwrite: bool, max_pixels: int, on_tile: Callable[[int, int], None] | None
) -> None:
    """Every frame of an animated GIF/APNG/WebP upscaled, written as the same kind with the same delays."""
    from gansuite.io.animation import read_animation, write_animation

    animation = read_animation(job.source, max_pixels=max_pixels * job.frames)
    frames = [upscaler(frame, on_tile=on_tile).image for frame in animation.frames]
    write_animation(job.target, frames, animation.durations, loop=animation.loop, overwrite=overwrite)


def _failure_line(source: Path, target: Path, error: BaseException) -> str:
    """One line naming the file for any per-file failure."""
    if isinstance(error, OutputExistsError):
        return f"{target}: appeared while this batch ran and was not replaced (--overwrite replaces it)"
    if isinstance(error, GansuiteError):
        return str(error)
    if isinstance(error, (MemoryError, torch.OutOfMemoryError)):
        return f"{source}: ran out of memory while upscaling; use a smaller --tile, --device cpu, or a smaller input"
    if isinstance(error, OSError):
        where = error.filename or target
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"{source}: the disk holding {where} is full; nothing was written for this file"
        return f"{source}: {error.strerror or type(error).__name__} ({where})"
    return f"{source}: {type(error).__name__}: {error}"
