"""Adversarial, content and perceptual losses, and the R1 penalty."""

from gansuite.core.losses.adversarial import ADVERSARIAL_LOSSES, AdversarialLoss, get_adversarial_loss
from gansuite.core.losses.artifact import ArtifactLoss, artifact_map
from gansuite.core.losses.content import (
    CONTENT_LOSSES,
    CharbonnierLoss,
    ContentLoss,
    GradientDifferenceLoss,
    L1Loss,
    LowPassL1Loss,
    MSELoss,
)
from gansuite.core.losses.penalty import r1_penalty
from gansuite.core.losses.perceptual import PerceptualLoss

__all__ = [
    "ADVERSARIAL_LOSSES",
    "CONTENT_LOSSES",
    "AdversarialLoss",
    "ArtifactLoss",
    "CharbonnierLoss",
    "ContentLoss",
    "GradientDifferenceLoss",
    "L1Loss",
    "LowPassL1Loss",
    "MSELoss",
    "PerceptualLoss",
    "artifact_map",
    "get_adversarial_loss",
    "r1_penalty",
]
