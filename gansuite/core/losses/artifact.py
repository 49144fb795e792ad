"""LDL artifact loss: penalise where a GAN generator paints artefacts, not where it adds detail.

Liang, Zeng & Zhang, "Details or Artifacts: A Locally Discriminative Learning Approach to
Realistic Image Super-Resolution", CVPR 2022. GAN super-resolution paints two kinds of
high-frequency content: detail that matches the target, and artefacts (grain, worms, noise
amplified out of JPEG blocks). Artefacts show as a residual |target − prediction| that is large
and locally erratic, and that the slowly moving EMA of the same generator does not have (an EMA
averages the unstable, artefact-producing directions of training away). The artifact map is

    M = var(R)^(1/5) · localvar_k(R),  R = Σ_channels |target − prediction|

(``var`` over the whole patch, ``localvar_k`` the unbiased variance in a k×k window around each
pixel), set to 0 where the EMA's residual is larger than the generator's (there the generator is
the better one: detail, not artefact). The loss is the L1 distance between M·prediction and
M·target, so the gradient pushes only the artefact pixels towards the target. M itself carries no
gradient. Real-ESRGAN + LDL uses it with weight 1 beside L1, VGG perceptual and adversarial terms.
"""

from __future__ import annotations

import torch

from gansuite.core.filters import local_variance
from gansuite.core.losses.content import CONTENT_LOSSES, ContentLoss, reduce
from gansuite.errors import ConfigError

__all__ = ["ArtifactLoss", "artifact_map"]


def artifact_map(
    target: torch.Tensor, prediction: torch.Tensor, reference: torch.Tensor, *, kernel_size: int = 7
) -> torch.Tensor:
    """LDL's refined artifact map (Liang et al. 2022, eq. 4-7), without gradient.

    Args:
        target: (N, C, H, W) float, the ground truth.
        prediction: the generator's output, same shape.
        reference: the EMA generator's output for the same input, same shape.
        kernel_size: odd window size of the local variance, >= 3 (the paper's 7).

    Returns:
        (N, 1, H, W) float, >= 0: large where the prediction has artefacts; 0 where the
        reference's residual is larger than the prediction's.

    Raises:
        ConfigError: shapes differ or a bad `kernel_size`.
    """
    if not prediction.shape == target.shape == reference.shape:
        raise ConfigError(
            f"artifact_map: target {tuple(target.shape)}, prediction {tuple(prediction.shape)} and reference "
            f"{tuple(reference.shape)} must have one shape"
        )
    if kernel_size < 3 or kernel_size % 2 == 0:
        raise ConfigError(f"artifact_map: kernel_size must be odd and >= 3, got {kernel_size}")
    with torch.no_grad():
        residual = (target - prediction).abs().sum(1, keepdim=True)
        reference_residual = (target - reference).abs().sum(1, keepdim=True)
        patch_weight = residual.flatten(1).var(dim=1, unbiased=True).clamp_min(0.0).pow(0.2).view(-1, 1, 1, 1)
        weight = patch_weight * local_variance(residual, kernel_size)
        return torch.where(residual < reference_residual, torch.zeros_like(weight), weight)


@CONTENT_LOSSES.register("ldl")
class ArtifactLoss(ContentLoss):
    """LDL artifact loss (`artifact_map`): mean |M·prediction − M·target| over pixels and channels.

    Needs the EMA generator's output for the same input: the trainer passes it as `reference`
    (`needs_reference`), so a recipe with this loss needs ``ema_decay > 0``.

    Args:
        weight: loss weight (Real-ESRGAN + LDL: 1).
        reduction: "mean", "sum" or "none" (per sample).
        kernel_size: window of the local variance (the paper's 7).

    Forward:
        prediction, target, reference: (N, C, H, W) float, one shape. Returns the weighted loss.

    Raises:
        ConfigError: shapes differ, or called without `reference`.
    """

    needs_reference = True

    def __init__(self, *, weight: float = 1.0, reduction: str = "mean", kernel_size: int = 7) -> None:
        super().__init__(weight=weight, reduction=reduction)
        self.kernel_size = int(kernel_size)

    def forward(  # type: ignore[override]
        self, prediction: torch.Tensor, target: torch.Tensor, reference: torch.Tensor | None = None
    ) -> torch.Tensor:
        if reference is None:
            raise ConfigError("the ldl loss needs the EMA generator's output (a trainer with ema_decay > 0)")
        weights = artifact_map(target, prediction, reference, kernel_size=self.kernel_size)
        return self.weight * reduce((weights * prediction - weights * target).abs(), self.reduction)
