"""DDP faults with two gloo processes on the CPU: a NaN on one rank, and an exact per-rank resume.

A rank that skipped backward() alone would leave the other waiting in DDP's gradient
all-reduce (gloo aborts, NCCL hangs), so each worker runs under a deadline.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).parent))

DEADLINE_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _join_env(rank: int, world_size: int, port: int) -> None:
    os.environ.update(
        {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
         "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    )
    torch.set_num_threads(1)


def _run_two(worker, *args: object) -> None:
    """Run `worker(rank, *args)` in two spawned processes; fail (and kill them) past the deadline."""
    context = mp.start_processes(worker, args=args, nprocs=2, join=False, start_method="spawn")
    deadline = time.monotonic() + DEADLINE_S
    while not context.join(timeout=max(deadline - time.monotonic(), 0.1)):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the two DDP ranks did not finish within {DEADLINE_S} s: their collectives diverged")


class _NaNOnRankOneHead:
    """The toy head, but rank 1's generator output is NaN at step 3 (both of its calls there)."""

    def __init__(self, rank: int) -> None:
        from gansuite.tasks.toy.demo import ToyHead

        self.toy, self.rank, self.calls = ToyHead(), rank, 0

    def prepare(self, batch):
        return self.toy.prepare(batch)

    def generate(self, generator, sample):
        self.calls += 1
        out = generator(sample.inputs)
        return out * float("nan") if self.rank == 1 and self.calls in (5, 6) else out  # step 3: D call, G call


def _worker(rank: int, port: int, out_dir: str) -> None:
    """Both scenarios in one pair of processes (starting them is most of the cost)."""
    _join_env(rank, 2, port)
    _nan_scenario(rank, Path(out_dir) / "nan")
    _resume_scenario(rank, Path(out_dir) / "resume")
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ddp")
    _run_two(_worker, _free_port(), str(root))
    return root


def _nan_scenario(rank: int, out_dir: Path) -> None:
    from _toy_helpers import toy_config, toy_dataset, toy_trainer

    trainer = toy_trainer(out_dir / "run", toy_config(steps=6, checkpoint_every=0, r1_gamma=0.0),
                          head=_NaNOnRankOneHead(rank))
    result = trainer.fit(toy_dataset())
    torch.save(
        {
            "generator": trainer.generator.module.state_dict(),
            "discriminator": trainer.discriminator.module.state_dict(),
            "ema": trainer.ema.state_dict(),
            "skipped": [s.skipped for s in result.history],
            "streak": trainer.nonfinite_streak,
        },
        out_dir / f"rank{rank}.pt",
    )


def test_a_nan_on_one_rank_skips_the_step_on_both_and_keeps_them_in_sync(ddp_runs: Path) -> None:
    rank0 = torch.load(ddp_runs / "nan" / "rank0.pt", weights_only=True)
    rank1 = torch.load(ddp_runs / "nan" / "rank1.pt", weights_only=True)
    for part in ("generator", "discriminator", "ema"):
        for key, value in rank0[part].items():
            assert torch.equal(value, rank1[part][key]), f"{part}.{key} differs between ranks"
            assert torch.isfinite(value).all()
    expected = [False, False, True, False, False, False]  # step 3 skipped everywhere, counted once
    assert rank0["skipped"] == expected and rank1["skipped"] == expected
    assert rank0["streak"] == rank1["streak"] == 0


def _resume_scenario(rank: int, root: Path) -> None:
    from _toy_helpers import toy_config, toy_dataset, toy_trainer

    config = toy_config(steps=10, checkpoint_every=4)  # the toy generator draws its noise from the global RNG
    whole = toy_trainer(root / "whole", config).fit(toy_dataset())
    first = toy_trainer(root / "split", config).fit(toy_dataset(), until=5)
    resumed = toy_trainer(root / "split", config)
    second = resumed.fit(toy_dataset(), resume="auto")
    torch.save(
        {
            "whole": [(s.discriminator_loss, s.generator_loss) for s in whole.history],
            "split": [(s.discriminator_loss, s.generator_loss) for s in first.history + second.history],
            "generator": resumed.generator.module.state_dict(),
        },
        root / f"rank{rank}.pt",
    )


def test_a_resumed_ddp_run_continues_every_rank_exactly(ddp_runs: Path) -> None:
    for rank in (0, 1):
        got = torch.load(ddp_runs / "resume" / f"rank{rank}.pt", weights_only=True)
        assert got["split"] == got["whole"], f"rank {rank}'s resumed run drew other noise"
    checkpoint = torch.load(ddp_runs / "resume" / "split" / "checkpoints" / "step_00000010.pt", weights_only=True)
    per_rank = checkpoint["rng_per_rank"]
    assert len(per_rank) == 2 and not torch.equal(per_rank[0]["torch"], per_rank[1]["torch"])
    assert torch.equal(checkpoint["rng"]["torch"], per_rank[0]["torch"])
