"""`torchrun --nproc_per_node N -m gansuite upscale DIR -o OUT`: files shared out among ranks, one summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _upscale_helpers import export_tiny, write_images

from gansuite.deploy.distributed import shard
from gansuite.errors import ConfigError


@pytest.mark.parametrize("count", [0, 1, 2, 5, 8, 13])
@pytest.mark.parametrize("world_size", [1, 2, 3, 8])
def test_shards_partition_the_files(count: int, world_size: int) -> None:
    items = [f"file{i}" for i in range(count)]
    shares = [shard(items, rank, world_size) for rank in range(world_size)]
    assert sorted(item for share in shares for item in share) == sorted(items)  # every file once, none twice
    assert max(map(len, shares)) - min(map(len, shares)) <= 1  # balanced


def test_bad_rank_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="rank 2 of world size 2"):
        shard([1, 2, 3], 2, 2)


def test_torchrun_two_cpu_processes_write_every_file_exactly_once(tmp_path: Path) -> None:
    model = export_tiny(tmp_path / "tiny.safetensors", "compact", 2)
    inputs = write_images(tmp_path / "in", 7, 12)
    (tmp_path / "in" / "broken.png").write_bytes(b"not a png")  # one failure, reported once
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "gansuite", "upscale", str(tmp_path / "in"), "-o", str(out), "--model", str(model),
        "--device", "cpu", "--overwrite",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # the broken file fails the batch
    # --overwrite: a file handled by both ranks would be counted as written twice
    summaries = [line for line in done.stdout.splitlines() if "written" in line]
    assert summaries == ["7 written, 0 skipped (exist; --overwrite to replace), 1 failed by 2 processes"], done.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{p.stem}_x2.png" for p in inputs)
    assert done.stderr.count("broken.png") == 1
