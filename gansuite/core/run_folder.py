"""Guards of a training run folder: one trainer at a time, resume only with the same settings, disk full.

- `RunLock`: ``RUN_DIR/train.lock`` holds the PID and host of the trainer that uses the folder.
  A second trainer is refused; a lock left by a process that no longer runs (killed, machine
  restarted) is taken over. Created with ``O_CREAT | O_EXCL``, so two trainers starting at once
  cannot both get it.
- `resume_mismatch`: the settings that shape a run's trajectory (batch size, learning rates,
  losses, seed, schedule, recipe, network, data...) are compared with the ones its checkpoint
  recorded; runtime-only ones (device, workers, progress, logging periods) may change.
- `disk_full_error`: an ``ENOSPC``/``EDQUOT`` while training becomes one line that says so.
- `check_run_folder`: a run folder that cannot be written is refused before any data is read.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gansuite.core.atomic import output_folder_problem
from gansuite.errors import ConfigError, OutputError

__all__ = [
    "LOCK_NAME", "RunLock", "check_run_folder", "disk_full_error", "disk_full_reported", "is_disk_full",
    "resume_mismatch", "write_run_config",
]

LOCK_NAME = "train.lock"

# Trainer settings that may differ between the chunks of one run: they change where and how it
# runs or what it reports, not what it computes (precision and channels-last change rounding only).
_RUNTIME_SETTINGS = frozenset({
    "checkpoint_every", "channels_last", "device", "keep_checkpoints", "log_every", "max_nonfinite_steps",
    "num_workers", "precision", "progress", "sample_every", "tensorboard", "validate_every",
})
# Run settings (beside the trainer's) that only say where a run started from.
_PROVENANCE_SETTINGS = frozenset({"init", "init_fresh_tensors"})
# The command-line flag that sets a setting, to name it in the message.
_FLAGS = {
    "batch_size": "--batch-size", "steps": "--steps", "recipe": "--recipe", "data": "--data", "stills": "--stills",
    "dataset_size": "--data",
}


class RunLock:
    """An exclusive claim on a run folder by this process (``RUN_DIR/train.lock``).

    Args:
        run_dir: the run folder (created if needed).

    Use `acquire` and `release`, or ``with RunLock(run_dir):``.
    """

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self.held = False

    def acquire(self) -> None:
        """Claim the folder.

        Raises:
            ConfigError: another live trainer holds it (the message names its PID and host).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
            "process_start": _process_start(os.getpid()),
        })
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and _alive(owner):
                    pid, host = owner.get("pid"), owner.get("host")
                    raise ConfigError(
                        f"{self.path.parent} is in use by another trainer (PID {pid} on {host}): wait for it, stop it, "
                        f"or train into another --out; if no trainer runs there, delete {self.path}"
                    ) from None
                # stale: its process is gone (or the file is unreadable, e.g. cut short by a crash)
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(record + "\n")
            self.held = True
            return
        raise ConfigError(f"could not claim {self.path}: other trainers keep recreating it")

    def release(self) -> None:
        """Give the folder up (only a lock this process holds is removed)."""
        if self.held:
            owner = self._owner()
            if owner is not None and owner.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def _owner(self) -> dict[str, Any] | None:
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return owner if isinstance(owner, dict) else None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _alive(owner: dict[str, Any]) -> bool:
    """Whether the lock's process still runs; a lock from another host is assumed alive."""
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if owner.get("host") != socket.gethostname():
        return True  # cannot tell: a shared file system seen from another machine
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        pass
    # a PID reused by an unrelated process after the trainer died: its start time differs
    recorded, now = owner.get("process_start"), _process_start(pid)
    return recorded is None or now is None or recorded == now


def _process_start(pid: int) -> int | None:
    """The start time of process `pid` in clock ticks since boot (Linux), or None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]) if len(fields) > 19 else None


def _normalise(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def resume_mismatch(
    saved: dict[str, Any], current: dict[str, Any], *, schedule_uses_steps: bool
) -> str | None:
    """The first setting that differs between a checkpoint's run and this one, as a phrase, or None.

    Args:
        saved: the checkpoint's settings: ``{"trainer": {...}, **extra, "dataset_size": n}``.
        current: this run's settings, in the same shape.
        schedule_uses_steps: whether the learning-rate schedule is laid out over ``steps``
            (cosine, multistep); with a constant one, ``steps`` may grow to train longer.

    Settings present on one side only are not compared: a checkpoint of an older gansuite
    records fewer of them, and resuming it must keep working.
    """
    saved, current = _normalise(saved), _normalise(current)
    pairs: list[tuple[str, Any, Any]] = []
    saved_trainer, current_trainer = saved.pop("trainer", {}) or {}, current.pop("trainer", {}) or {}
    for key in sorted(set(saved_trainer) & set(current_trainer) - _RUNTIME_SETTINGS):
        if key == "steps" and not schedule_uses_steps:
            continue
        pairs.append((key, saved_trainer[key], current_trainer[key]))
    for key in sorted(set(saved) & set(current) - _PROVENANCE_SETTINGS):
        pairs.append((key, saved[key], current[key]))
    for key, before, now in pairs:
        if before != now:
            flag = f" ({_FLAGS[key]})" if key in _FLAGS else ""
            what = "data" if key == "dataset_size" else key
            if key == "dataset_size":
                detail = f"{before} items then, {now} now"
            else:
                detail = f"was {_short(before)}, now {_short(now)}"
            return f"{what}{flag} changed: {detail}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` is an OS error saying the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full_error(exc: OSError, what: str | os.PathLike[str], *, resume: bool = True) -> OutputError:
    """One-line `OutputError` for a disk that filled up while writing `what`.

    `resume`: the command resumes from its last checkpoint when rerun (training), which the message says.
    """
    where = Path(exc.filename) if getattr(exc, "filename", None) else Path(what)
    folder = where if where.is_dir() else where.parent
    try:
        free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize / 2**20
        room = f" ({free:.0f} MiB free there)"
    except OSError:
        room = ""
    advice = " to resume from the last checkpoint" if resume else ""
    return OutputError(
        f"disk full: {what} could not be written{room}; free some space and rerun the same command{advice}"
    )


def check_run_folder(run_dir: str | os.PathLike[str]) -> None:
    """Refuse a run folder that cannot be written (a read-only mount, no permission, a file on its path),
    before the data is read and the networks are built.

    Raises:
        OutputError: naming the folder and why (as ``--out``, the training commands' flag).
    """
    problem = output_folder_problem(Path(run_dir), option="--out")
    if problem is not None:
        raise OutputError(problem)


@contextlib.contextmanager
def disk_full_reported(what: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a full disk inside the block into `disk_full_error` (other errors pass unchanged).

    Args:
        what: the file or folder being written, named when the error carries no file name.
    """
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(exc, exc.filename or what) from exc
        raise


def write_run_config(run_dir: Path, settings: dict[str, Any]) -> None:
    """Write ``run_dir/config.json``: `settings` as sorted, indented JSON (non-JSON values as strings)."""
    (run_dir / "config.json").write_text(json.dumps(settings, sort_keys=True, default=str, indent=2) + "\n")
