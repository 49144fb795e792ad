"""Atomic outputs get the permissions of an ordinary new file, whatever the writer did."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import torch
from safetensors.torch import save_file

from gansuite.core.atomic import atomic_path


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
