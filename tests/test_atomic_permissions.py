"""Atomic outputs get the permissions of an ordinary new file, whatever the writer did; an unwritable folder is one
clear error."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save_file

from gansuite.cli import main
from gansuite.core.atomic import atomic_path, atomic_write_bytes
from gansuite.errors import OutputError


def test_a_writer_that_replaces_the_temp_file_still_gives_an_ordinary_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        target = tmp_path / "weights.safetensors"
        with atomic_path(target) as temp:
            save_file({"w": torch.zeros(3)}, str(temp))
            os.chmod(temp, 0o600)  # what a library writing its own temp file and renaming it leaves
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
    finally:
        os.umask(umask)


def _read_only_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files cannot be created in `folder`, as on a read-only mount (root writes anywhere else)."""
    real_open = os.open

    def read_only(path, flags, *args):  # type: ignore[no-untyped-def]
        if Path(path).parent == folder and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)


def test_an_unwritable_output_folder_is_one_output_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _read_only_folder(tmp_path, monkeypatch)
    with pytest.raises(OutputError, match=r"report\.json: output folder .* is not writable \(Read-only file system\)"):
        atomic_write_bytes(tmp_path / "report.json", b"{}")
    assert list(tmp_path.iterdir()) == []


def test_a_command_writing_into_an_unwritable_folder_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _read_only_folder(tmp_path, monkeypatch)
    result = CliRunner().invoke(main, ["demo", "generate", "--n", "2", "-o", str(tmp_path / "grid.png")])
    assert result.exit_code == 1
    assert "internal error" not in result.output
    assert f"output folder {tmp_path} is not writable (Read-only file system)" in result.output
