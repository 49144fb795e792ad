"""VGG perceptual (content) loss (Johnson et al. 2016; Ledig et al. 2017; Wang et al. 2018).

Distances between ImageNet VGG16 feature maps of prediction and target, at selectable layers
(torchvision's `vgg16().features`, layers named conv1_1 … relu5_3). ESRGAN compares features
before the activation with L1; that is the default here (``conv5_3``).
"""

from __future__ import annotations

import os

import torch

from gansuite.core.backbones import imagenet_normalize, load_backbone_features
from gansuite.core.losses.content import CONTENT_LOSSES, ContentLoss, reduce
from gansuite.errors import ConfigError

__all__ = ["VGG16_LAYERS", "PerceptualLoss"]


def _vgg16_layer_names() -> dict[str, int]:
    names: dict[str, int] = {}
    index = 0
    for block, convs in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, convs + 1):
            names[f"conv{block}_{i}"] = index
            names[f"relu{block}_{i}"] = index + 1
            index += 2
        names[f"pool{block}"] = index
        index += 1
    return names


VGG16_LAYERS = _vgg16_layer_names()


@CONTENT_LOSSES.register("perceptual")
class PerceptualLoss(ContentLoss):
    """Weighted L1 (or MSE) distance between VGG16 features of prediction and target.

    Args:
        weight: overall weight.
        reduction: "mean", "sum" or "none".
        layers: layer name → weight, e.g. {"conv5_3": 1.0} or {"relu2_2": 0.5, "relu3_3": 0.5}.
        distance: "l1" or "mse".
        backbones: local file or folder with the VGG16 weights; None uses GANSUITE_BACKBONES or
            torchvision.
        window: compare the features of one random window of this side (the same for prediction,
            target and the whole batch, drawn from torch's generator at each call) instead of the
            whole frame: about (window / side)² of the cost, an unbiased sample of the full loss
            away from the borders; None (default) uses the whole frame.

    Inputs are (N, 3, H, W) RGB or (N, 1, H, W) gray, float in [0, 1].
    """

    def __init__(
        self,
        *,
        weight: float = 1.0,
        reduction: str = "mean",
        layers: dict[str, float] | None = None,
        distance: str = "l1",
        backbones: str | os.PathLike[str] | None = None,
        window: int | None = None,
    ) -> None:
        super().__init__(weight=weight, reduction=reduction)
        if window is not None and window < 16:
            raise ConfigError(f"perceptual window must be >= 16 pixels or None, got {window}")
        self.window = window
        layers = dict(layers or {"conv5_3": 1.0})
        unknown = sorted(set(layers) - set(VGG16_LAYERS))
        if unknown:
            raise ConfigError(f"unknown VGG16 layers {unknown}: valid names are {list(VGG16_LAYERS)}")
        if distance not in ("l1", "mse"):
            raise ConfigError(f"distance {distance!r} is not 'l1' or 'mse'")
        self.layer_weights = {VGG16_LAYERS[name]: w for name, w in layers.items()}
        self.distance = distance
        deepest = max(self.layer_weights)
        self.features = load_backbone_features("vgg16", backbones)[: deepest + 1]

    def _features(self, images: torch.Tensor) -> dict[int, torch.Tensor]:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        x = imagenet_normalize(images)
        found: dict[int, torch.Tensor] = {}
        for index, layer in enumerate(self.features):
            # torchvision's VGG uses in-place ReLU; clone what we keep before it is overwritten
            x = layer(x)
            if index in self.layer_weights:
                found[index] = x.clone() if index + 1 < len(self.features) else x
        return found

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if prediction.shape != target.shape:
            raise ConfigError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ")
        prediction, target = self._window(prediction, target)
        pred = self._features(prediction)
        with torch.no_grad():
            true = self._features(target)
        total = prediction.new_zeros(prediction.shape[0] if self.reduction == "none" else ())
        for index, layer_weight in self.layer_weights.items():
            diff = pred[index] - true[index]
            per_element = diff.abs() if self.distance == "l1" else diff**2
            total = total + layer_weight * reduce(per_element, self.reduction)
        return self.weight * total

    def _window(self, prediction: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = prediction.shape[-2:]
        if self.window is None or (height <= self.window and width <= self.window):
            return prediction, target
        h, w = min(self.window, height), min(self.window, width)
        top = int(torch.randint(height - h + 1, ()))
        left = int(torch.randint(width - w + 1, ()))
        return prediction[..., top : top + h, left : left + w], target[..., top : top + h, left : left + w]

    def train(self, mode: bool = True) -> PerceptualLoss:
        super().train(mode)
        self.features.eval()  # the backbone is frozen and stays in eval mode
        return self
