"""R1 gradient penalty (Mescheder et al. 2018): the squared gradient norm of D on real data."""

from __future__ import annotations

import torch

__all__ = ["r1_penalty"]


def r1_penalty(real_logits: torch.Tensor, real_inputs: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||∇_x D(x)||² at real samples.

    Args:
        real_logits: D's output on `real_inputs`, any shape with batch first.
        real_inputs: the real batch, with `requires_grad=True` set before D was applied.

    Returns:
        A scalar; the trainer multiplies it by gamma / 2.
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real_inputs, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()
