"""The `gansuite` command group and the helpers its command modules share."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from gansuite.errors import GansuiteError

# the shipped upscaler names the --model / --method help texts list (a test keeps it equal to the weights present)
SHIPPED_UPSCALERS = "x4-real, x4-real-gan, x4, x4-gan, x2"

SEED = click.IntRange(0, 2**32 - 1)
"""The type of every --seed option: numpy's and torch's generators both take these (a larger or negative
seed was an internal error deep in one of them, after the command had started)."""

__all__ = [
    "SEED", "SHIPPED_UPSCALERS", "Group", "as_flags", "check_report_paths", "given", "in_flags", "json_line",
    "lpips_or_note", "main", "parse_tile", "write_reports",
]


class Group(click.Group):
    """A click group that turns library errors into one line and a non-zero exit, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from gansuite.core.atomic import terminate_like_interrupt

        terminate_like_interrupt()  # `kill` (SIGTERM) unwinds like Ctrl-C: temporary files are removed
        _one_line_warnings()
        try:
            return super().invoke(ctx)
        except GansuiteError as exc:
            raise click.ClickException(as_flags(str(exc), ctx.command)) from None
        except KeyboardInterrupt as exc:
            from gansuite.errors import RunInterrupted

            click.echo(f"interrupted: {exc}" if isinstance(exc, RunInterrupted) else "interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader went away (`gansuite monitor ... | head`): stop quietly, as cat does
            with contextlib.suppress(OSError, ValueError):  # stdout may not be a file (captured)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush must not fail
            sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("GANSUITE_DEBUG"):
                raise
            from gansuite.core.run_folder import disk_full_error, is_disk_full

            if is_disk_full(exc):  # outside training (which says how to resume): an export, a video, a report
                assert isinstance(exc, OSError)
                error = disk_full_error(exc, exc.filename or "an output", resume=False)
                raise click.ClickException(str(error)) from None
            message = str(exc).splitlines()[0] if str(exc) else ""
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {message} (set GANSUITE_DEBUG=1 for the traceback)"
            ) from None


_ARGUMENT = re.compile(r"`([a-z][a-z0-9_]*)`")


def as_flags(message: str, command: click.Command) -> str:
    """A library message as the command line says it: each argument it names as `name` becomes its flag.

    Library errors name the keyword a caller passed (`tile_overlap`); a CLI user typed
    `--tile-overlap`. Names that no option of `command` (or its subcommands) has stay as written.
    """
    flags = _option_flags(command)
    return _ARGUMENT.sub(lambda match: flags.get(match.group(1), match.group(0)), message)


def in_flags(message: str) -> str:
    """`as_flags` for the command now running (a per-file error or a warning printed on the way)."""
    context = click.get_current_context(silent=True)
    return as_flags(message, context.command) if context is not None else message


@functools.cache
def _option_flags(command: click.Command) -> dict[str, str]:
    """Parameter name → its longest flag, over `command` and its subcommands (the first command wins a name)."""
    flags: dict[str, str] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            flags.setdefault(param.name or "", max(param.opts, key=len))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            for name, flag in _option_flags(sub).items():
                flags.setdefault(name, flag)
    return flags


def _one_line_warnings() -> None:
    """gansuite's own warnings (e.g. `VideoWarning`: a clip shorter than its container says) as one stderr line."""
    import warnings

    original = warnings.showwarning

    def show(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        if category.__module__.startswith("gansuite"):
            click.echo(f"warning: {in_flags(str(message))}", err=True)
        else:
            original(message, category, filename, lineno, file, line)

    if getattr(original, "__name__", "") != "show":
        warnings.showwarning = show


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="gansuite")
def main() -> None:
    """GAN applications on a shared adversarial core: super-resolution and next-frame prediction."""


def parse_tile(value: str) -> int | str:
    if value == "auto":
        return "auto"
    try:
        size = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not auto, 0 or a tile size", param_hint="--tile") from None
    if size < 0 or 0 < size < 16:
        raise click.BadParameter(f"{size} is not 0 (no tiling) or a size >= 16", param_hint="--tile")
    return size




def given(name: str) -> bool:
    """Whether the running command's parameter `name` was given (command line or environment), not defaulted."""
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def lpips_or_note(
    backbones: Path | None, device: str, min_side: int | None = None, notes: list[str] | None = None
) -> Any:
    """An AlexNet `LPIPSMetric`, or None with a one-line note when it cannot be used.

    The note goes to stderr now, or is appended to `notes` (to be printed after the command
    succeeds, so that an error stays the only line) when that list is given.
    """

    def note(line: str) -> None:
        if notes is None:
            click.echo(line, err=True)
        else:
            notes.append(line)

    from gansuite.core._backbone_offline import backbone_unreachable

    unreachable = backbone_unreachable("alexnet", backbones)  # offline: say so now, not after a failed download
    if unreachable:
        note(f"note: lpips reported as null: {unreachable}")
        return None

    from gansuite.errors import BackboneNotFoundError
    from gansuite.metrics import LPIPSMetric
    from gansuite.tasks.predict.evaluation import LPIPS_MIN_SIDE

    if min_side is not None and min_side < LPIPS_MIN_SIDE:
        note(f"note: lpips reported as null: frames are smaller than the {LPIPS_MIN_SIDE} pixels AlexNet needs")
        return None
    try:
        return LPIPSMetric(net="alex", backbones=backbones, device=device)
    except (BackboneNotFoundError, ImportError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        note(f"note: lpips reported as null: {message}")
        return None


def json_line(value: Any) -> str:
    """`value` as one line of strict JSON: NaN and infinities anywhere inside become null."""
    from gansuite.core.strict_json import strict_json

    return strict_json(value)


# what an existing file must be for a report flag to replace it (a rerun replaces its own report)
_REPORT_SUFFIXES = {"--json": (".json",), "--markdown": (".md", ".markdown"), "--calibration-out": (".json",)}


def check_report_paths(paths: dict[str, Path | None]) -> None:
    """Refuse report files (flag → path, None when not given) that could not be written, before the benchmark runs.

    A report rewrites an earlier report of its own kind, so that a benchmark can be rerun, but never
    another existing file (`--json photo.png`).

    Raises:
        OutputError: a missing or unwritable folder, a folder given as the file, or one file named by two flags.
        OutputExistsError: an existing file that is not of the flag's kind (.json, .md).
    """
    from gansuite.core.atomic import check_output_path
    from gansuite.errors import OutputError, OutputExistsError

    given_paths = {flag: path for flag, path in paths.items() if path is not None}
    for flag, path in given_paths.items():
        try:
            check_output_path(path, writable=True)
        except OutputError as exc:
            raise OutputError(f"{flag} {exc}") from None
        suffixes = _REPORT_SUFFIXES.get(flag, ())
        if suffixes and path.is_file() and path.suffix.lower() not in suffixes:
            raise OutputExistsError(
                f"{flag} {path} already exists and is not a {' or '.join(suffixes)} report; a report only replaces "
                f"an earlier report: name a {suffixes[0]} file"
            )
    seen: dict[Path, str] = {}
    for flag, path in given_paths.items():
        first = seen.setdefault(path.resolve(), flag)
        if first != flag:
            raise OutputError(f"{first} and {flag} both name {path}; the second report would replace the first")


def write_reports(report: Any, json_out: Path | None, markdown_out: Path | None) -> str:
    """Write a report's JSON and markdown where asked (atomically); returns the markdown."""
    from gansuite.core.atomic import atomic_write_bytes

    table = report.to_markdown()
    if json_out is not None:
        atomic_write_bytes(json_out, report.to_json().encode())
    if markdown_out is not None:
        atomic_write_bytes(markdown_out, table.encode())
    return table
