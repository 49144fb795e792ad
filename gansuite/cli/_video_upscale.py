"""The video half of `gansuite upscale`: video files among the inputs go through the video pipeline."""

from __future__ import annotations

import glob
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = [
    "IMAGE_OPTIONS", "VIDEO_OPTIONS", "VideoCounts", "split_video_inputs", "upscale_video_inputs",
    "warn_unused_image_options", "warn_unused_video_options",
]

VIDEO_OPTIONS = {"codec": "--codec", "crf": "--crf", "pix_fmt": "--pix-fmt", "batch_size": "--batch-size",
                 "temporal_blend": "--temporal-blend"}
"""The `upscale` options that only video inputs use: parameter name → flag."""

IMAGE_OPTIONS = {"ext": "--ext", "max_pixels": "--max-pixels"}
"""The `upscale` options that only image inputs use: parameter name → flag."""


@dataclass(frozen=True)
class VideoCounts:
    """What became of the video inputs: written, skipped (the output exists), failed."""

    written: int = 0
    skipped: int = 0
    failed: int = 0


def split_video_inputs(inputs: Sequence[str], skip_suffixes: Sequence[str] = ()) -> tuple[list[Path], tuple[str, ...]]:
    """(video files, the other inputs): files and glob matches with a video extension are videos.

    Folders stay with the other inputs (their images are upscaled one by one, as before). A pattern
    leaves out gansuite's own outputs (`clip_x4.mp4`, or a stem ending in one of `skip_suffixes`)
    unless it matches nothing else, as for images: rerunning ``gansuite upscale 'clips/*.mp4'``
    does not upscale its earlier outputs into ``clip_x4_x4.mp4``. Files named explicitly are taken.
    """
    from gansuite.tasks.upscale.batch import taken_by_pattern
    from gansuite.tasks.upscale.video import is_video_file

    videos: list[Path] = []
    others: list[str] = []
    for item in inputs:
        path = Path(item)
        if is_video_file(path):
            videos.append(path)
        elif not path.exists() and glob.has_magic(str(item)):
            matches = sorted(Path(p) for p in glob.glob(str(item)))
            found = [m for m in matches if is_video_file(m)]
            videos += [m for m in found if taken_by_pattern(m, skip_suffixes)] or found
            if len(found) < len(matches) or not matches:
                others.append(item)
        else:
            others.append(item)
    unique = list(dict.fromkeys(v.resolve() for v in videos))
    return [Path(v) for v in unique], tuple(others)


def warn_unused_video_options() -> None:
    """One warning line on stderr naming the video-only options given to a command with no video input."""
    from gansuite.cli._base import given

    _warn_unused([flag for name, flag in VIDEO_OPTIONS.items() if given(name)], "video inputs", "images")


def warn_unused_image_options() -> None:
    """One warning line on stderr naming the image-only options typed for a command with only video inputs.

    Only the command line counts: `GANSUITE_MAX_PIXELS` set in the environment is not a request to warn about.
    """
    from click.core import ParameterSource

    context = click.get_current_context()
    flags = [flag for name, flag in IMAGE_OPTIONS.items()
             if context.get_parameter_source(name) is ParameterSource.COMMANDLINE]
    _warn_unused(flags, "image inputs", "videos")


def _warn_unused(flags: list[str], used_by: str, ignored_for: str) -> None:
    """'warning: --a, --b apply to <used_by> only; ignored for <ignored_for>' on stderr, when `flags` are given."""
    if flags:
        verb = "applies" if len(flags) == 1 else "apply"
        click.echo(f"warning: {', '.join(flags)} {verb} to {used_by} only; ignored for {ignored_for}", err=True)


def upscale_video_inputs(
    upscaler: Any,
    videos: Sequence[Path],
    *,
    out: Path | None,
    suffix: str,
    codec: str,
    crf: int | None,
    pix_fmt: str | None,
    batch_size: int,
    overwrite: bool,
    temporal_blend: float | None = None,
    batch: Sequence[Path] | None = None,
) -> VideoCounts:
    """Upscales each video into `<stem><suffix>.<ext>`; one line per video; returns what became of them.

    `batch`: all the command's videos when `videos` is this process's share of them (torchrun), so
    outputs two videos would share are kept apart alike on every rank (`video_output_paths`).
    """
    from tqdm import tqdm

    from gansuite.cli._base import in_flags
    from gansuite.errors import GansuiteError, OutputExistsError
    from gansuite.tasks.upscale.preflight import target_folder_problem
    from gansuite.tasks.upscale.video import upscale_video, video_output_paths

    targets, clashes, notes = video_output_paths(batch if batch is not None else videos, out, suffix)
    if batch is None or list(videos[:1]) == list(batch[:1]):  # said once: by the process that has the first video
        for note in notes:
            click.echo(f"note: {note}", err=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    written = skipped = failed = 0
    for source in videos:
        target = targets[source]
        taken = clashes.get(source) or target_folder_problem(target)
        if taken:
            failed += 1
            click.echo(f"error: {source}: {taken}", err=True)
            continue
        if target.exists() and not overwrite:
            skipped += 1
            click.echo(f"skipped {source}: {target} exists (--overwrite to replace)", err=True)
            continue
        bar = tqdm(unit="frame", desc=source.name, disable=not sys.stderr.isatty(), dynamic_ncols=True)

        def on_start(total: int | None, bar: Any = bar) -> None:
            bar.reset(total=total)

        def on_frame(done: int, bar: Any = bar) -> None:
            bar.update(done - bar.n)

        try:
            report = upscale_video(
                upscaler, source, target, codec=codec, crf=crf, pix_fmt=pix_fmt, batch_size=batch_size,
                temporal_blend=temporal_blend, overwrite=overwrite, on_start=on_start, on_frame=on_frame,
                on_warning=lambda line: tqdm.write(f"warning: {line}", file=sys.stderr),
            )
        except OutputExistsError as error:
            bar.close()
            skipped += 1
            click.echo(f"skipped {source}: {error}", err=True)
            continue
        except GansuiteError as error:
            bar.close()
            failed += 1
            message = in_flags(str(error))
            click.echo(f"error: {message}" if str(source) in message else f"error: {source}: {message}", err=True)
            continue
        bar.close()
        written += 1
        streams = f", copied {', '.join(report.copied_streams)}" if report.copied_streams else ", no audio"
        click.echo(
            f"wrote {report.output}: {report.frames} frames {report.input_size[0]}x{report.input_size[1]} → "
            f"{report.output_size[0]}x{report.output_size[1]}, {report.codec} {report.pix_fmt}{streams}, "
            f"{report.frames_per_second:.2f} frames/s"
        )
    return VideoCounts(written, skipped, failed)
