"""Random state of a training process: seeding, capture and restore, and gathering over DDP ranks.

A fresh run seeds every generator (Python, NumPy, torch CPU and CUDA) from its config seed before
any network is built, so two runs of one command start from identical weights. A checkpoint
holds the random state of every rank: under DistributedDataParallel each process draws its own
noise (rank r is seeded with seed + r), so restoring rank 0's state everywhere, or none, would
make a resumed run differ from an uninterrupted one.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from gansuite.core.distributed import DistributedContext

__all__ = ["capture_rng_state", "gather_rng_states", "restore_rng_state", "seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def capture_rng_state() -> dict[str, Any]:
    """The Python, NumPy, torch CPU (and CUDA) random states, as CPU tensors and plain values."""
    np_state = np.random.get_state()
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "python": [list(internal), version, gauss],
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Restore what `capture_rng_state` captured.

    Tensors may come from a checkpoint loaded onto any device: ``torch.set_rng_state`` takes a
    CPU ByteTensor only, so they are moved first. CUDA states are restored for the devices both
    the checkpoint and this machine have.
    """
    internal, version, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))
    keys = state["numpy_keys"].cpu().numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, int(state["numpy_pos"]), 0, 0.0))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        for index, cuda_state in enumerate(list(state["cuda"])[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state.cpu(), index)


def _pack(state: dict[str, Any]) -> list[torch.Tensor]:
    """`capture_rng_state`'s dict as fixed-size tensors (all_gather moves tensors only)."""
    internal, version, gauss = state["python"]
    packed = [
        torch.tensor([*internal, version], dtype=torch.int64),
        torch.tensor([0.0 if gauss is None else 1.0, gauss or 0.0], dtype=torch.float64),
        torch.cat([state["numpy_keys"].to(torch.int64), torch.tensor([state["numpy_pos"]], dtype=torch.int64)]),
        state["torch"],
    ]
    if "cuda" in state:
        packed.append(torch.stack(list(state["cuda"])))
    return packed


def _unpack(packed: list[torch.Tensor]) -> dict[str, Any]:
    python, gauss, numpy_state, torch_state = (t.cpu() for t in packed[:4])
    state: dict[str, Any] = {
        "python": [python[:-1].tolist(), int(python[-1]), float(gauss[1]) if gauss[0] else None],
        "numpy_keys": numpy_state[:-1].clone(),
        "numpy_pos": int(numpy_state[-1]),
        "torch": torch_state.clone(),
    }
    if len(packed) > 4:
        state["cuda"] = list(packed[4].cpu().unbind(0))
    return state


def gather_rng_states(context: DistributedContext) -> list[dict[str, Any]]:
    """Every rank's `capture_rng_state`, in rank order; a collective call under DDP.

    Every rank must call it at the same point (the trainer does, at each checkpoint). Without
    DDP it returns this process's state alone.
    """
    own = capture_rng_state()
    if not context.enabled:
        return [own]
    gathered: list[list[torch.Tensor]] = [[] for _ in range(context.world_size)]
    for tensor in _pack(own):
        # NCCL moves CUDA tensors only; gloo takes CPU ones
        local = tensor.to(context.device)
        parts = [torch.empty_like(local) for _ in range(context.world_size)]
        dist.all_gather(parts, local)
        for rank, part in enumerate(parts):
            gathered[rank].append(part.cpu())
    return [_unpack(parts) for parts in gathered]
