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


def test_outputs_written_after_long_work_are_probed_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """predict-frames -o / --frames-dir and monitor --video into a read-only folder: refused before any prediction."""
    from _predict_helpers import export_tiny, write_clip_video

    from gansuite.apps.monitor import check_outputs
    from gansuite.tasks.predict.predictor import FramePredictor

    clip = write_clip_video(tmp_path / "clip.mkv", frames=8)
    model = export_tiny(tmp_path / "tiny.safetensors")
    blocked = tmp_path / "ro"
    blocked.mkdir()
    _read_only_folder(blocked, monkeypatch)
    predicted = []
    monkeypatch.setattr(FramePredictor, "predict_batch", lambda *args, **kwargs: predicted.append(1))
    for flag, target in (("-o", blocked / "p.mp4"), ("--frames-dir", blocked / "frames")):
        result = CliRunner().invoke(main, ["predict-frames", str(clip), "--model", str(model), flag, str(target)])
        assert result.exit_code == 1, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith(f"Error: {flag} {target}") and "is not writable (Read-only file system)" in line
    assert not predicted
    with pytest.raises(OutputError, match=r"--video .*o\.mp4: output folder .* is not writable"):
        check_outputs(str(clip), video=blocked / "o.mp4")
