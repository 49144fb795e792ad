"""LPIPS perceptual distance (Zhang et al., "The Unreasonable Effectiveness of Deep Features as
a Perceptual Metric", CVPR 2018), through the ``lpips`` package, version 0.1 of the metric.

The learned linear layers ship inside the ``lpips`` package. The ImageNet backbone (AlexNet by
default, as the SR literature reports "LPIPS (alex)"; VGG16 as an option) comes from a local
safetensors file of torchvision's ``features`` when one is given (argument or the
``GANSUITE_BACKBONES`` folder), copied into lpips's network; otherwise from torchvision's own
weights API. With a local file no download is ever attempted.
"""

from __future__ import annotations

import os
import warnings
from typing import Literal

import torch

from gansuite.core.arguments import check_integer
from gansuite.core.backbones import load_backbone_features, resolve_backbone_file
from gansuite.errors import ConfigError
from gansuite.metrics._color import check_pair

__all__ = ["MIN_SIDE", "LPIPSMetric", "LPIPSNet", "resolve_device"]

LPIPSNet = Literal["alex", "vgg"]
_BACKBONE_NAMES = {"alex": "alexnet", "vgg": "vgg16"}
MIN_SIDE: dict[str, int] = {"alex": 31, "vgg": 16}
"""The smallest image side each network scores: below it AlexNet's stride-4 stem and three
max-pools (VGG16's four max-pools) leave its last feature map with no pixels."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve a device name: "auto" is CUDA when present, else the CPU; others as torch reads them.

    Raises:
        ConfigError: a device string torch does not understand, or CUDA asked for but absent.
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"device {device!r} is not a torch device: use auto, cpu, cuda or cuda:N") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for CUDA, which this machine lacks: use auto or cpu")
    return resolved


def _build_lpips(net: LPIPSNet, backbones: str | os.PathLike[str] | None) -> torch.nn.Module:
    from gansuite._extras import require_extra

    lpips = require_extra("bench", "lpips", feature="LPIPS")
    state = load_backbone_features(_BACKBONE_NAMES[net], backbones).state_dict()
    with warnings.catch_warnings():  # lpips passes torchvision's deprecated `pretrained=False`
        warnings.simplefilter("ignore")
        model = lpips.LPIPS(net=net, pnet_rand=True, verbose=False)
    # lpips splits torchvision's `features` into slice1..slice5 keeping the layer indices as names.
    for block in model.net.children():
        for index, layer in block.named_children():
            layer.load_state_dict({k.split(".", 1)[1]: v for k, v in state.items() if k.split(".", 1)[0] == index})
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class LPIPSMetric:
    """LPIPS v0.1 distance per image pair, batched, on one device.

    Holds the network and settings only; calls are independent.

    Args:
        net: "alex" (the SR literature's choice) or "vgg".
        backbones: local safetensors file or folder with torchvision's ``features`` weights;
            None uses ``GANSUITE_BACKBONES`` or else torchvision's weights API.
        device: where the network runs: "auto" (CUDA when present), "cpu", "cuda", ... .
        batch_size: pairs per forward pass (an int >= 1), to bound memory on large images.

    Raises:
        ConfigError: an unknown `net` or device, or a `batch_size` that is not an int >= 1.
        BackboneNotFoundError: the backbone is neither in the local source nor obtainable from
            torchvision; the message says both ways to provide it.
    """

    def __init__(
        self,
        *,
        net: LPIPSNet = "alex",
        backbones: str | os.PathLike[str] | None = None,
        device: str | torch.device = "auto",
        batch_size: int = 8,
    ) -> None:
        if net not in _BACKBONE_NAMES:
            raise ConfigError(f"LPIPS net must be one of {sorted(_BACKBONE_NAMES)}; got {net!r}")
        batch_size = check_integer(batch_size, "LPIPS batch_size", minimum=1, unit="pairs per forward pass")
        self.net = net
        self.batch_size = batch_size
        self.device = resolve_device(device)
        local = resolve_backbone_file(_BACKBONE_NAMES[net], backbones)
        self.backbone_source = str(local) if local is not None else "torchvision"
        self._model = _build_lpips(net, backbones).to(self.device)

    @torch.no_grad()
    def __call__(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """LPIPS distance of each pair.

        Args:
            prediction: (N, 3, H, W) RGB or (N, 1, H, W) gray (repeated to 3 channels), float
                in [0, 1], on any device; H and W at least `MIN_SIDE[net]` (31 for "alex", 16
                for "vgg").
            target: same shape and layout as `prediction`.

        Returns:
            (N,) float32 on the inputs' device; 0 for identical images, larger is more different;
            empty for N = 0.

        Raises:
            ConfigError: inputs of the wrong layout or different shapes, images smaller than
                `MIN_SIDE[net]`, or values outside [0, 1] by more than 0.5/255 (0..255 images must
                be divided by 255).
        """
        check_pair(prediction, target, "lpips")
        side = MIN_SIDE[self.net]
        if min(prediction.shape[-2:]) < side:
            height, width = prediction.shape[-2:]
            raise ConfigError(
                f"lpips: images of {width}x{height} pixels are too small for the {self.net} network, which needs "
                f"at least {side}x{side}; score larger images or crops, or use net='vgg' (>= {MIN_SIDE['vgg']} pixels)"
                if self.net != "vgg" else
                f"lpips: images of {width}x{height} pixels are too small for the vgg network, which needs at least "
                f"{side}x{side}; score larger images or crops"
            )
        if prediction.shape[0] == 0:
            return torch.zeros(0, dtype=torch.float32, device=prediction.device)
        distances = []
        for start in range(0, prediction.shape[0], self.batch_size):
            x, y = (
                t[start : start + self.batch_size].to(self.device, torch.float32).expand(-1, 3, -1, -1)
                for t in (prediction, target)
            )
            # lpips expects [-1, 1]
            distances.append(self._model(x * 2 - 1, y * 2 - 1).flatten())
        return torch.cat(distances).to(prediction.device)
