"""The two losses of one GAN training step, computed without touching an optimizer.

`Trainer.discriminator_step` and `Trainer.generator_step` run these inside autocast and hand
the result to `guarded_update`. A task head may replace either adversarial objective with its
own (``head.discriminator_loss`` / ``head.generator_loss``, e.g. Eve decoding a cipher).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gansuite.core.losses import AdversarialLoss, r1_penalty
from gansuite.core.training_types import GanHead, Sample

__all__ = ["discriminator_objective", "generator_objective"]


def discriminator_objective(
    discriminator: nn.Module,
    adversarial: AdversarialLoss,
    sample: Sample,
    fake: torch.Tensor,
    *,
    r1_gamma: float,
    r1_grad_scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """D's loss on real targets versus generator outputs, plus R1 (Mescheder et al. 2018) if `r1_gamma` > 0.

    Real and fake go through D as one concatenated batch: one forward per backward, which is
    what DistributedDataParallel expects.

    Args:
        discriminator: D (possibly DDP-wrapped), called as ``D(images, condition)``.
        adversarial: the adversarial loss.
        sample: the batch; ``sample.target`` (N, C, H, W) are the real images.
        fake: the generator's outputs, same shape; detached here.
        r1_gamma: R1 weight γ; the penalty added is γ/2 · E‖∇D(real)‖².
        r1_grad_scale: under fp16, GradScaler's scale as a 0-dim tensor: R1's input gradient is
            then taken of the loss-scaled logits (see `r1_penalty`).

    Returns:
        The 0-dim float32 loss, attached to the graph.
    """
    real = sample.target.detach().requires_grad_(r1_gamma > 0)
    condition = sample.condition
    if condition is not None:
        condition = torch.cat([condition, condition])
    logits = discriminator(torch.cat([real, fake.detach().to(real.dtype)]), condition).float()
    real_logits, fake_logits = logits.chunk(2)
    loss = adversarial.discriminator(real_logits, fake_logits)
    if r1_gamma > 0:
        loss = loss + 0.5 * r1_gamma * r1_penalty(real_logits, real, grad_scale=r1_grad_scale)
    return loss


def generator_objective(
    fake: torch.Tensor,
    sample: Sample,
    *,
    content_losses: Sequence[nn.Module],
    reference: torch.Tensor | None,
    discriminator: nn.Module | None,
    adversarial: AdversarialLoss | None,
    adversarial_weight: float,
    head: GanHead,
) -> tuple[torch.Tensor, torch.Tensor]:
    """G's weighted content losses and its weighted adversarial term.

    Args:
        fake: the generator's outputs (N, C, H, W), attached to the graph.
        sample: the batch; ``sample.target`` has the same shape as `fake`.
        content_losses: weighted content losses ``loss(fake, target[, reference])``, in float32.
        reference: the EMA generator's output for losses marked ``needs_reference`` (LDL), or None.
        discriminator: D unwrapped from DDP with its parameters frozen, or None (no adversarial term).
        adversarial: the adversarial loss, or None.
        adversarial_weight: the adversarial term's weight.
        head: the task head; its ``generator_loss(D, sample, fake)``, if it has one, replaces the
            adversarial loss and adds its own content term.

    Returns:
        (content, adversarial), both 0-dim float32 tensors attached to the graph.
    """
    content = fake.new_zeros((), dtype=torch.float32)
    for loss_fn in content_losses:
        extra = (reference,) if getattr(loss_fn, "needs_reference", False) else ()
        content = content + loss_fn(fake.float(), sample.target.float(), *extra)
    adversarial_term = fake.new_zeros((), dtype=torch.float32)
    own_objective = getattr(head, "generator_loss", None)
    if discriminator is not None and own_objective is not None:
        own_content, own_adversarial = own_objective(discriminator, sample, fake)
        content = content + own_content.float()
        adversarial_term = adversarial_weight * own_adversarial.float()
    elif discriminator is not None and adversarial is not None:
        fake_logits = discriminator(fake, sample.condition).float()
        real_logits = fake_logits.new_zeros(())
        if adversarial.generator_uses_real:
            with torch.no_grad():
                real_logits = discriminator(sample.target, sample.condition).float()
        adversarial_term = adversarial_weight * adversarial.generator(real_logits, fake_logits)
    return content, adversarial_term
