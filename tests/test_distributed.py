"""Two-process DistributedDataParallel training with gloo on the CPU, as torchrun would start it."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).parent))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    os.environ.update(
        {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
         "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    )
    torch.set_num_threads(1)
    from _toy_helpers import toy_config, toy_dataset, toy_trainer

    trainer = toy_trainer(Path(out_dir) / "run", toy_config(steps=5, checkpoint_every=5))
    result = trainer.fit(toy_dataset())
    torch.save(
        {
            "generator": trainer.generator.module.state_dict(),
            "discriminator": trainer.discriminator.module.state_dict(),
            "ema": trainer.ema.state_dict(),
            "first_batch_loss": result.history[0].discriminator_loss,
        },
        Path(out_dir) / f"rank{rank}.pt",
    )
    dist.destroy_process_group()


def test_two_gloo_processes_end_with_identical_weights(tmp_path: Path) -> None:
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for part in ("generator", "discriminator", "ema"):
        for key, value in rank0[part].items():
            assert torch.equal(value, rank1[part][key]), f"{part}.{key} differs between ranks"
    # the ranks saw different shards of the data
    assert rank0["first_batch_loss"] != rank1["first_batch_loss"]
    # only rank 0 wrote checkpoints
    assert [p.name for p in (tmp_path / "run" / "checkpoints").iterdir()] == ["step_00000005.pt"]
