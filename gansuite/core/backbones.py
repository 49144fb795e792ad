"""ImageNet backbones (VGG16 and AlexNet feature stacks) from a local file or torchvision.

The backbone comes from a local safetensors file holding torchvision's `features` state dict
when one is given (a file, or a directory with the standard file name; the directory may also
be given by the ``GANSUITE_BACKBONES`` environment variable), otherwise from torchvision's own
weights API. When a local source is named, no download is ever attempted.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from gansuite.errors import BackboneNotFoundError

__all__ = ["BACKBONE_ENV", "BACKBONE_FILES", "load_backbone_features", "resolve_backbone_file"]

BACKBONE_ENV = "GANSUITE_BACKBONES"
BACKBONE_FILES = {
    "vgg16": "vgg16_features_imagenet_fp16.safetensors",
    "alexnet": "alexnet_features_imagenet.safetensors",
}


def _how_to(name: str) -> str:
    return (
        f"give a local file or folder holding {BACKBONE_FILES[name]} (the {BACKBONE_ENV} environment variable, "
        "or --backbones DIR where a command takes it), or let torchvision fetch its ImageNet weights once "
        "on a machine with internet access"
    )


def resolve_backbone_file(name: str, source: str | os.PathLike[str] | None = None) -> Path | None:
    """Find the local safetensors file of backbone `name`, or None when no local source is named.

    Args:
        name: "vgg16" or "alexnet".
        source: a file or a directory; None falls back to the ``GANSUITE_BACKBONES`` variable.

    Raises:
        BackboneNotFoundError: a local source is named but holds no such file.
    """
    if name not in BACKBONE_FILES:
        raise BackboneNotFoundError(f"unknown backbone {name!r}: use one of {sorted(BACKBONE_FILES)}")
    origin = "--backbones"
    if source is None:
        env = os.environ.get(BACKBONE_ENV)
        if not env:
            return None
        source, origin = env, BACKBONE_ENV
    path = Path(source)
    if path.is_dir():
        path = path / BACKBONE_FILES[name]
    if not path.is_file():
        raise BackboneNotFoundError(f"{origin} names {path}, which does not exist: {_how_to(name)}")
    return path


def _torchvision_features(name: str) -> nn.Sequential:
    from gansuite._extras import require_extra

    models = require_extra("train", "torchvision.models", feature="the VGG16/AlexNet backbones")

    try:
        if name == "vgg16":
            return models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1).features
        return models.alexnet(weights=models.AlexNet_Weights.IMAGENET1K_V1).features
    except Exception as exc:  # download or cache failures come in many types
        raise BackboneNotFoundError(f"torchvision could not provide {name} weights ({exc}); {_how_to(name)}") from exc


def load_backbone_features(name: str, source: str | os.PathLike[str] | None = None) -> nn.Sequential:
    """torchvision's `features` stack of `name` with ImageNet weights, float32, in eval mode, frozen.

    Args:
        name: "vgg16" or "alexnet".
        source: local file or directory; None uses ``GANSUITE_BACKBONES`` or else torchvision.

    Raises:
        BackboneNotFoundError: with both ways of providing the weights.
    """
    from gansuite._extras import require_extra

    models = require_extra("train", "torchvision.models", feature="the VGG16/AlexNet backbones")
    path = resolve_backbone_file(name, source)
    if path is None:
        from gansuite.core._backbone_offline import backbone_unreachable

        unreachable = backbone_unreachable(name, source)  # offline: say so now, not after a failed download
        if unreachable:
            raise BackboneNotFoundError(unreachable)
        features = _torchvision_features(name)
    else:
        features = (models.vgg16() if name == "vgg16" else models.alexnet()).features
        try:
            # keys may carry the "features." prefix of the full torchvision model
            state = {k.removeprefix("features."): v.float() for k, v in load_file(str(path)).items()}
            features.load_state_dict(state)
        except Exception as exc:
            raise BackboneNotFoundError(f"{path} is not a {name} features file ({exc}); {_how_to(name)}") from exc
    features = features.float().eval()
    for p in features.parameters():
        p.requires_grad_(False)
    return features


def imagenet_normalize(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1] → normalised with the ImageNet mean and std."""
    mean = images.new_tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = images.new_tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (images - mean) / std
