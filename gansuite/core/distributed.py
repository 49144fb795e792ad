"""Multi-process training through ``torchrun`` (DistributedDataParallel).

`torchrun --nproc_per_node N gansuite train ...` sets RANK, WORLD_SIZE and LOCAL_RANK; the
trainer then joins a process group (NCCL on CUDA, gloo on CPU) and wraps its networks in DDP.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

from gansuite.errors import ConfigError, GansuiteError

__all__ = ["DistributedContext", "all_ranks_true", "init_distributed", "run_on_main"]


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: its rank, the world size and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str = "auto") -> DistributedContext:
    """Join the process group torchrun describes in the environment, or run single-process.

    Args:
        device: "auto" (CUDA if available), "cpu" or "cuda".

    Raises:
        ConfigError: "cuda" asked for where torch sees no CUDA device.
    """
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    if use_cuda and not torch.cuda.is_available():
        raise ConfigError(f"`device` {device}: torch sees no CUDA device here; use `device` cpu or auto")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(device=torch.device("cuda" if use_cuda else "cpu"))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    target = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    return DistributedContext(rank=rank, world_size=world_size, local_rank=local_rank, device=target)


def all_ranks_true(flag: bool | torch.Tensor, context: DistributedContext) -> bool:
    """Whether `flag` holds on every rank: a collective call under DDP, so every rank must make it.

    Decisions that change which collectives run next (skip an update, stop training) must be
    the same on every rank, or the ranks' all-reduces pair up wrongly: gloo aborts, NCCL hangs.
    A tensor flag is reduced where it lies, so this costs one host sync, not a copy.

    Args:
        flag: a Python bool or a 0-dim tensor (bool or number; non-zero is true).
        context: this process's `DistributedContext`.
    """
    if not context.enabled:
        return bool(flag)
    value = torch.as_tensor(flag).to(device=context.device, dtype=torch.int32).reshape(()).clone()
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value)


def run_on_main(action: Callable[[], Any], context: DistributedContext, failure: str) -> None:
    """Run `action` on rank 0 only; if it raises, every rank raises (so none waits forever).

    Rank 0 re-raises its own error; the other ranks raise `GansuiteError(failure)`. A collective
    call under DDP: every rank must make it.
    """
    error: BaseException | None = None
    if context.is_main:
        try:
            action()
        except Exception as exc:  # re-raised below, once the other ranks know
            error = exc
    if not all_ranks_true(error is None, context):
        raise error if error is not None else GansuiteError(failure)
