"""Batch inference over several processes: ``torchrun ... -m gansuite upscale DIR -o OUT``.

The same process-group set-up as training (`gansuite.core.distributed.init_distributed`:
NCCL with one GPU per rank on CUDA, gloo on the CPU). Every rank expands the inputs to the
same sorted list and takes every `world_size`-th file starting at its rank (strided, so ranks
get a similar mix of sizes); no file is given to two ranks, so each output is written once.
Video files are shared out the same way, whole (one rank decodes, upscales and encodes a video).
At the end the per-rank reports are gathered (``all_gather_object``, so every rank knows
whether any file failed and exits with the same status) and rank 0 prints the one summary.

Multi-node works the same way: ``torchrun --nnodes M --node-rank R --rdzv-endpoint HOST:PORT``
on each node, with the inputs and the output folder on a file system all nodes share.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import torch.distributed as dist

from gansuite.core.distributed import DistributedContext, init_distributed
from gansuite.errors import ConfigError
from gansuite.tasks.upscale.batch import BatchReport

__all__ = ["finish", "gather_count", "gather_reports", "init_distributed", "shard"]

T = TypeVar("T")


def shard(items: Sequence[T], rank: int, world_size: int) -> list[T]:
    """This rank's share of `items`: every `world_size`-th item from index `rank`.

    The shares of ranks 0 .. world_size − 1 partition `items`: each item is in exactly one.

    Raises:
        ConfigError: world_size < 1 or rank outside [0, world_size).
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ConfigError(f"rank {rank} of world size {world_size}: need world_size >= 1 and 0 <= rank < world_size")
    return list(items[rank::world_size])


def gather_reports(report: BatchReport, context: DistributedContext) -> BatchReport:
    """Merge every rank's `BatchReport` (all ranks get the merged report; single process: `report`)."""
    if not context.enabled:
        return report
    reports: list[BatchReport | None] = [None] * context.world_size
    dist.all_gather_object(reports, report)
    merged = BatchReport()
    for part in reports:
        if part is None:
            continue
        merged.written += [Path(p) for p in part.written]
        merged.skipped += [Path(p) for p in part.skipped]
        merged.failed += [(Path(p), reason) for p, reason in part.failed]
    return merged


def gather_count(value: int, context: DistributedContext) -> int:
    """The sum of an integer over all ranks (every rank gets it; single process: `value`)."""
    if not context.enabled:
        return value
    values: list[int | None] = [None] * context.world_size
    dist.all_gather_object(values, int(value))
    return sum(v or 0 for v in values)


def finish(context: DistributedContext) -> None:
    """Leave the process group (a no-op in a single process)."""
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
