"""R1 gradient penalty (Mescheder et al. 2018): the squared gradient norm of D on real data."""

from __future__ import annotations

import torch

__all__ = ["r1_penalty"]


def r1_penalty(
    real_logits: torch.Tensor, real_inputs: torch.Tensor, *, grad_scale: torch.Tensor | float | None = None
) -> torch.Tensor:
    """Mean over the batch of ||∇_x D(x)||² at real samples, in float32.

    Under fp16 autocast the gradient flows back through D's half-precision activations, where
    values below 6e-8 flush to zero: pass the loss scale as `grad_scale` and the gradient is
    taken of the scaled logits, then unscaled in float32 (PyTorch's AMP recipe for gradient
    penalties). bf16 has float32's range and needs no scale.

    Args:
        real_logits: D's output on `real_inputs`, any shape with batch first.
        real_inputs: the real batch, with `requires_grad=True` set before D was applied.
        grad_scale: the GradScaler's current scale (a tensor, so reading it costs no host sync),
            or None for no scaling.

    Returns:
        A float32 scalar; the trainer multiplies it by gamma / 2.
    """
    outputs = real_logits.float().sum()
    if grad_scale is not None:
        outputs = outputs * grad_scale
    (grad,) = torch.autograd.grad(outputs, real_inputs, create_graph=True)
    grad = grad.float()
    if grad_scale is not None:
        grad = grad / grad_scale
    return grad.pow(2).flatten(1).sum(1).mean()
