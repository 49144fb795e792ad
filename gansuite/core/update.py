"""One guarded optimizer update: backward, a skip decision every rank shares, and the step.

The guard skips an update whose loss or gradients are not finite, so one bad batch (or an fp16
overflow) cannot put NaN into the weights. Three things make it right on CUDA and under DDP:

- Every rank always runs ``backward()``. DistributedDataParallel all-reduces gradients during
  backward; a rank that skipped it would leave the others waiting in that all-reduce, and the
  next collectives would pair up wrongly (gloo aborts, NCCL hangs).
- The decision is taken once for all ranks (`all_ranks_true`): a NaN loss on one rank skips the
  update everywhere, so the replicas stay identical. stylegan2-ada instead zeroes non-finite
  gradients and always steps; skipping keeps Adam's moments clean as well.
- A step that ``GradScaler`` skips (inf/NaN gradients in fp16; it then lowers its scale) is
  reported as skipped, so the EMA does not move and the non-finite streak does not reset.

It costs one host sync per update (the decision; ``GradScaler.step`` makes one of its own):
the losses stay on the device.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gansuite.core.distributed import DistributedContext, all_ranks_true

__all__ = ["guarded_update", "total_grad_norm"]


def total_grad_norm(parameters: list[nn.Parameter], max_norm: float = 0.0) -> torch.Tensor:
    """The L2 norm of all gradients together (a 0-dim tensor on their device), clipping to `max_norm` if > 0.

    A non-finite gradient anywhere makes the norm non-finite, so one test covers them all.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    if max_norm > 0:
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    if hasattr(torch.nn.utils, "get_total_norm"):  # torch >= 2.6
        return torch.nn.utils.get_total_norm(grads)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))


def guarded_update(
    loss: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    scaler: Any,
    *,
    context: DistributedContext,
    grad_clip: float = 0.0,
) -> bool:
    """Backward `loss` and step `optimizer`, unless the loss or a gradient is non-finite on any rank.

    Args:
        loss: a scalar tensor (float32).
        optimizer: the optimizer; its parameters' gradients are checked (and clipped).
        scaler: a ``torch.amp.GradScaler`` (disabled outside fp16), or an object with its methods.
        context: this process's `DistributedContext`; every rank must call this together.
        grad_clip: max gradient norm; 0 disables clipping.

    Returns:
        Whether the optimizer stepped (False: the update was skipped on every rank).
    """
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()  # on every rank, finite or not: DDP's all-reduce runs inside
    scaler.unscale_(optimizer)  # gradients in true units before the norm (no-op when disabled)
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    norm = total_grad_norm(parameters, grad_clip).to(loss.device)
    finite = torch.isfinite(loss.detach()) & torch.isfinite(norm)
    stepped = all_ranks_true(finite, context)  # the one sync of an update, the same answer on every rank
    enabled = scaler.is_enabled()
    scale_before = scaler.get_scale() if enabled else None
    if stepped:
        scaler.step(optimizer)
    else:
        optimizer.zero_grad(set_to_none=True)
    scaler.update()  # lowers the scale after inf/NaN gradients (fp16)
    if scale_before is not None and scaler.get_scale() < scale_before:
        stepped = False  # GradScaler found inf/NaN gradients and skipped optimizer.step()
    return stepped
