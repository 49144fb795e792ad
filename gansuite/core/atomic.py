"""Atomic file output: a file at its final path is either the old one or the complete new one.

Every output of gansuite (images, videos, checkpoints, JSON) is first written to a temporary
file in the target's own folder, flushed and fsynced, and then moved over the target with
`os.replace`, which POSIX and Windows both perform atomically within one file system. If
anything fails before the move, the temporary file is removed and the previous file at the
target path is left untouched. The temporary name starts with a dot and keeps the target's
extension, so writers that choose a format from the extension (OpenCV's `VideoWriter`) work.

Without overwriting, the move is a hard link (`os.link` fails if the target exists), so a file
that appeared at the target while the work ran is never replaced. A process killed outright
(SIGKILL, power loss) cannot remove its temporary file; the name carries the writer's process
id, so `remove_stale_temps` can delete the leftovers of writers that no longer run, and
`is_temp_name` lets folder scans skip them. `terminate_like_interrupt` makes SIGTERM unwind like
Ctrl-C, so the temporary file of an interrupted write is removed in both cases.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

from gansuite.errors import ConfigError, OutputError, OutputExistsError

__all__ = [
    "OutputError",
    "OutputExistsError",
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "check_not_input",
    "check_output_path",
    "is_temp_name",
    "missing_folders",
    "output_folder_problem",
    "remove_empty_folders",
    "remove_stale_temps",
    "terminate_like_interrupt",
]

_TEMP_NAME = re.compile(r"^\.(?P<stem>.*)\.(?:(?P<pid>\d+)-)?[0-9a-f]{8}\.tmp(?:\.[^.]*)?$")
_NAME_MAX = 255  # bytes in one file name on ext4, XFS, btrfs, APFS, NTFS
# the library serves the command line and Python callers alike, so the message names both switches
_REPLACE_HINT = "pass --overwrite on the command line (overwrite=True in Python) to replace it"


def is_temp_name(name: str | os.PathLike[str]) -> bool:
    """Whether a file name (or a path's last part) is a gansuite temporary file (`.<stem>.<pid>-<hex>.tmp<ext>`)."""
    return _TEMP_NAME.match(os.path.basename(os.fspath(name))) is not None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(
    folder: str | os.PathLike[str], *, min_age_s: float = 3600.0, dead_min_age_s: float = 60.0
) -> list[Path]:
    """Removes temporary files that killed gansuite writers left in `folder`.

    A temporary file is stale when the process whose id it carries no longer runs and it has not
    changed for `dead_min_age_s` (a writer on another machine sharing the folder keeps its file
    fresh while it writes); one without a process id (written by an older version) when it is
    older than `min_age_s`. Temporary files of running writers (another batch into the same
    folder) are left alone.

    Returns:
        The removed files (an unreadable folder gives none).
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        pid = match.group("pid")
        try:
            age = now - entry.stat().st_mtime
            stale = (age > dead_min_age_s and not _pid_alive(int(pid))) if pid else age > min_age_s
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def terminate_like_interrupt() -> None:
    """Makes SIGTERM raise `KeyboardInterrupt`, as SIGINT does, so `finally` blocks (temp-file
    removal) run when a job is stopped by `kill` or a job scheduler. Only from the main thread,
    and only when SIGTERM still has its default action."""
    if threading.current_thread() is not threading.main_thread():
        return
    with contextlib.suppress(ValueError, OSError):
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _raise_interrupt)


def check_output_path(
    path: str | os.PathLike[str], *, overwrite: bool = True, option: str | None = None, writable: bool = False
) -> Path:
    """Checks that `path` can receive a new file, before any costly work is done.

    Args:
        path: The file to be written.
        overwrite: Whether an existing file at `path` may be replaced.
        option: The command-line flag that named `path`; given, an existing file is refused with a
            message naming it and `--overwrite` (the flag of every command that replaces outputs).
        writable: Also probe the folder for write permission (`output_folder_problem`: read-only
            mounts, ACLs), for outputs written only after long work.

    Returns:
        `path` as a `Path`.

    Raises:
        OutputError: The parent folder does not exist or (`writable`) cannot be written, or `path` is a folder.
        OutputExistsError: `path` exists and `overwrite` is False.
    """
    target = Path(path)
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(
            f"{target}: output folder {parent} does not exist; create it first or choose another output path"
        )
    if target.is_dir():
        raise OutputError(f"{target}: output path is a folder; give a file name such as {target / 'out.png'}")
    if not overwrite and target.exists():
        if option is not None:
            raise OutputExistsError(
                f"{option} {target} already exists: pass --overwrite to replace it, or choose another path"
            )
        raise OutputExistsError(
            f"{target}: output file already exists; {_REPLACE_HINT}, or choose another path"
        )
    if writable:
        problem = output_folder_problem(parent, option=option or "output path")
        if problem is not None:
            raise OutputError(f"{option} {target}: {problem}" if option else f"{target}: {problem}")
    return target


def check_not_input(
    output: str | os.PathLike[str], source: str | os.PathLike[str], *, option: str, what: str = "clip"
) -> None:
    """Refuses an output that is the input clip, or that lies inside the input's frame folder.

    Inputs are never overwritten, and a frame folder holds only its frames: a file written among
    them is read as a frame (or breaks the clip) on the next run. Links are followed, so another
    spelling of the same file or folder is refused too. A `source` that does not exist is left to
    the reader to report.

    Args:
        output: The file or folder to be written.
        source: The input: a video or image file, or a folder of frames.
        option: The command-line flag that named `output`, for the message.
        what: What the input is called in the message ("clip", "drawing", ...).

    Raises:
        ConfigError: `output` is `source`, or lies inside the frame folder `source` (naming `option`).
    """
    target, clip = Path(output), Path(source)
    if not clip.exists():
        return
    same = target.resolve() == clip.resolve() or (target.exists() and os.path.samefile(target, clip))
    if same and clip.is_dir():
        raise ConfigError(
            f"{option} {target} is the input clip's frame folder, whose frames would be overwritten or joined by "
            "other files: choose another folder"
        )
    if same:
        raise ConfigError(
            f"{option} {target} is the input {what} {clip}, which is never overwritten: choose another output"
        )
    if clip.is_dir() and target.resolve().is_relative_to(clip.resolve()):
        raise ConfigError(
            f"{option} {target} is inside the input clip's frame folder {clip}, which holds only its frames: "
            "choose a path outside it"
        )


def output_folder_problem(folder: Path, *, option: str = "-o") -> str | None:
    """Why outputs cannot be written into `folder` (made if missing), or None when they can.

    Creates and removes a probe file in `folder` (or the nearest existing folder above it): the only test
    that sees read-only mounts, ACLs and quotas as the writer will, also for root. `option` is the
    command-line flag that named the folder, for the message.
    """
    existing = folder
    while not existing.exists():
        if existing == existing.parent:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return f"output folder {folder}: {existing} is a file, not a folder; choose another {option}"
    probe_dir = existing
    try:  # the only reliable test (read-only mounts, ACLs, root): create and remove a file
        probe = probe_dir / f".gansuite-write-test.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        where = folder if probe_dir == folder else f"{folder} (it would be made inside {probe_dir})"
        return (
            f"output folder {where} is not writable ({error.strerror}); choose another {option} or fix its permissions"
        )
    return None


def missing_folders(folder: str | os.PathLike[str]) -> list[Path]:
    """`folder` and those of its parents that do not exist yet, deepest first (none when it exists).

    Taken before a run makes its output folder, so `remove_empty_folders` can take away the folders
    the run made but left empty (every input failed): an empty folder is no output.
    """
    missing = []
    path = Path(folder)
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove each of `folders` (deepest first, as `missing_folders` lists them) that is an empty folder."""
    for folder in folders:
        try:
            folder.rmdir()  # refuses a folder that holds anything
        except OSError:
            return  # not empty (or gone): its parents are not empty either


def _create_temp(target: Path) -> Path:
    """Creates an empty, exclusively owned temporary file beside `target` and returns its path."""
    pid = os.getpid()
    # the stem is shortened so that the temporary name fits wherever the target's name does
    room = _NAME_MAX - len(f"..{pid}-00000000.tmp{target.suffix}".encode())
    stem = target.stem.encode()[: max(room, 1)].decode("utf-8", "ignore")
    for _ in range(100):
        temp = target.with_name(f".{stem}.{pid}-{secrets.token_hex(4)}.tmp{target.suffix}")
        try:
            # Mode 0o666 minus the umask gives the permissions an ordinary new file would get
            # (mkstemp would give 0o600).
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as error:  # a read-only mount, a folder without write permission, a full inode table
            raise OutputError(
                f"{target}: output folder {target.parent} is not writable ({error.strerror or error}); "
                "choose another output path or fix its permissions"
            ) from None
        os.close(fd)
        if target.exists():  # keep the permissions of the file being replaced
            os.chmod(temp, stat.S_IMODE(target.stat().st_mode))
        return temp
    raise OutputError(f"{target}: could not create a temporary file beside it after 100 tries")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Makes the rename durable; best effort, since some platforms cannot open folders."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit(temp: Path, target: Path, *, overwrite: bool) -> None:
    """Moves the finished `temp` file to `target`, refusing to clobber when `overwrite` is False."""
    if overwrite:
        os.replace(temp, target)
    else:
        try:
            os.link(temp, target)  # atomic "create only if absent"
        except FileExistsError:
            raise OutputExistsError(
                f"{target}: output file appeared while writing; nothing was replaced ({_REPLACE_HINT})"
            ) from None
        except OSError:  # file systems without hard links: check, then replace
            if target.exists():
                raise OutputExistsError(
                    f"{target}: output file appeared while writing; nothing was replaced ({_REPLACE_HINT})"
                ) from None
            os.replace(temp, target)
        else:
            os.unlink(temp)
    _fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yields a temporary path to write to; on success it is fsynced and moved to `path`.

    For writers that need a file name rather than a file object (OpenCV's `VideoWriter`,
    `torch.save` with a path). The temporary file exists (empty) when the body starts, lies in
    the same folder as `path` and has the same extension.

    Args:
        path: The final file.
        overwrite: Whether an existing file at `path` may be replaced.

    Yields:
        The temporary path. The body must write the complete file there.

    Raises:
        OutputError: The folder is missing or not writable, `path` is a folder, or the body left no file.
        OutputExistsError: `path` exists and `overwrite` is False.
    """
    target = check_output_path(path, overwrite=overwrite)
    temp = _create_temp(target)
    mode = stat.S_IMODE(temp.stat().st_mode)
    try:
        yield temp
        if not temp.is_file():
            raise OutputError(f"{target}: the writer left no file behind; nothing was written")
        # a writer that replaces the file (some libraries write their own temp and rename it,
        # with mode 0600) must not leave the output unreadable to other users
        os.chmod(temp, mode)
        _fsync_file(temp)
        _commit(temp, target, overwrite=overwrite)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: Literal["wb", "w"] = "wb",
    *,
    encoding: str | None = None,
    overwrite: bool = True,
) -> Iterator[IO]:
    """Opens a temporary file for writing; on success it is fsynced and moved to `path`.

    Example:
        >>> with atomic_write("model.pt") as f:  # doctest: +SKIP
        ...     torch.save(state, f)

    Args:
        path: The final file.
        mode: "wb" for bytes, "w" for text.
        encoding: Text encoding for mode "w" (default "utf-8").
        overwrite: Whether an existing file at `path` may be replaced.

    Yields:
        The open file object.

    Raises:
        OutputError: The folder is missing or not writable, or `path` is a folder.
        OutputExistsError: `path` exists and `overwrite` is False.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    if mode == "w" and encoding is None:
        encoding = "utf-8"
    with atomic_path(path, overwrite=overwrite) as temp, open(temp, mode, encoding=encoding) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> Path:
    """Writes `data` to `path` atomically.

    Args:
        path: The final file.
        data: The complete file content.
        overwrite: Whether an existing file at `path` may be replaced.

    Returns:
        `path` as a `Path`.

    Raises:
        OutputError: The folder is missing or not writable, or `path` is a folder.
        OutputExistsError: `path` exists and `overwrite` is False.
    """
    with atomic_write(path, "wb", overwrite=overwrite) as handle:
        handle.write(data)
    return Path(path)
