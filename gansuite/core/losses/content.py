"""Pixel-space content losses, each with a `weight` and a `reduction`.

- L1, MSE, and Charbonnier (a differentiable L1, Charbonnier et al. 1994; Lai et al. 2017).
- Gradient difference loss (Mathieu, Couprie & LeCun 2016, eq. 5): penalises differences between
  the image gradients of prediction and target, which keeps predicted frames sharp.
- Low-pass L1 (the frequency separation of Fritsche, Gu & Timofte, ICCVW 2019): L1 between Gaussian
  blurred prediction and target, so the pixel loss pins down the coarse content and leaves the fine
  detail to the perceptual and adversarial losses instead of rewarding a blurred average of it.

All take `prediction` and `target` of the same shape (N, C, H, W), float, and return a scalar
(reduction "mean" or "sum") or a per-sample vector (reduction "none").
"""

from __future__ import annotations

import torch
from torch import nn

from gansuite.core.filters import gaussian_blur
from gansuite.core.registry import Registry
from gansuite.errors import ConfigError

__all__ = [
    "CONTENT_LOSSES",
    "CharbonnierLoss",
    "ContentLoss",
    "GradientDifferenceLoss",
    "L1Loss",
    "LowPassL1Loss",
    "MSELoss",
    "reduce",
]

CONTENT_LOSSES: Registry[type[nn.Module]] = Registry("content loss")
_REDUCTIONS = ("mean", "sum", "none")


def reduce(per_element: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce a (N, ...) tensor: "mean" and "sum" over everything, "none" to a mean per sample."""
    if reduction == "mean":
        return per_element.mean()
    if reduction == "sum":
        return per_element.sum()
    return per_element.flatten(1).mean(1)


class ContentLoss(nn.Module):
    """Base of content losses: holds `weight` and `reduction`, and checks shapes.

    Subclasses implement `elementwise(prediction, target)`; `forward` reduces and weights it.
    """

    def __init__(self, *, weight: float = 1.0, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ConfigError(f"reduction {reduction!r} is not one of {_REDUCTIONS}")
        if weight < 0:
            raise ConfigError(f"loss weight must be >= 0, got {weight}")
        self.weight = float(weight)
        self.reduction = reduction

    def elementwise(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if prediction.shape != target.shape:
            raise ConfigError(
                f"{type(self).__name__}: prediction {tuple(prediction.shape)} and target "
                f"{tuple(target.shape)} differ in shape"
            )
        return self.weight * reduce(self.elementwise(prediction, target), self.reduction)


@CONTENT_LOSSES.register("l1")
class L1Loss(ContentLoss):
    """Mean absolute error."""

    def elementwise(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (prediction - target).abs()


@CONTENT_LOSSES.register("lowpass_l1")
class LowPassL1Loss(ContentLoss):
    """L1 between Gaussian-blurred prediction and target (frequency separation, Fritsche et al. 2019).

    A detail misplaced by a pixel or two costs little once both images are blurred, so under an
    uncertain target this loss does not pull the prediction towards a blurred average of the
    possible details the way plain L1 / MSE do; the detail is left to other losses.

    Args:
        sigma: standard deviation of the Gaussian in pixels, > 0.

    Raises:
        ConfigError: `sigma` <= 0.
    """

    def __init__(self, *, weight: float = 1.0, reduction: str = "mean", sigma: float = 2.0) -> None:
        super().__init__(weight=weight, reduction=reduction)
        if sigma <= 0:
            raise ConfigError(f"lowpass_l1 needs sigma > 0 pixels, got {sigma}")
        self.sigma = float(sigma)

    def elementwise(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # the blur is linear (replicate padding included): blurring the difference is one pass, not two
        return gaussian_blur(prediction - target, self.sigma).abs()


@CONTENT_LOSSES.register("mse")
class MSELoss(ContentLoss):
    """Mean squared error."""

    def elementwise(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (prediction - target) ** 2


@CONTENT_LOSSES.register("charbonnier")
class CharbonnierLoss(ContentLoss):
    """sqrt((x - y)² + eps²), a smooth L1.

    Args:
        eps: smoothing constant.
    """

    def __init__(self, *, weight: float = 1.0, reduction: str = "mean", eps: float = 1e-3) -> None:
        super().__init__(weight=weight, reduction=reduction)
        self.eps = eps

    def elementwise(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((prediction - target) ** 2 + self.eps**2)


@CONTENT_LOSSES.register("gdl")
class GradientDifferenceLoss(ContentLoss):
    """Gradient difference loss: | |∂y| - |∂ŷ| |^alpha summed over both image axes.

    Args:
        alpha: exponent (Mathieu et al. use 1 or 2).
    """

    def __init__(self, *, weight: float = 1.0, reduction: str = "mean", alpha: float = 1.0) -> None:
        super().__init__(weight=weight, reduction=reduction)
        self.alpha = alpha

    def elementwise(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        def grads(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return (x[..., 1:, :] - x[..., :-1, :]).abs(), (x[..., :, 1:] - x[..., :, :-1]).abs()

        pred_h, pred_w = grads(prediction)
        true_h, true_w = grads(target)
        diff_h = (true_h - pred_h).abs() ** self.alpha  # (N, C, H-1, W)
        diff_w = (true_w - pred_w).abs() ** self.alpha  # (N, C, H, W-1)
        # both maps cropped to (H-1, W-1) so they can be added per pixel
        return diff_h[..., :, :-1] + diff_w[..., :-1, :]
