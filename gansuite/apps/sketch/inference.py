"""Running the shipped sketch-to-photo generator on an edge map or a user's line drawing."""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import gansuite.apps.sketch.models  # noqa: F401  (registers "pix2pix-unet" for load_weights)
from gansuite.apps._weights import load_app_generator
from gansuite.apps.sketch.data import drawing_to_edges
from gansuite.errors import ConfigError

__all__ = ["SketchToPhoto"]

DEFAULT_MODEL = "sketch_pix2pix"
MAX_SIDE = 2048


class SketchToPhoto:
    """Edge map → photo with a pix2pix generator; holds the network only (calls are independent).

    Args:
        module: a generator mapping (N, 1, H, W) edges in {0, 1} to (N, 3, H, W) photos in [0, 1].
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module.eval()
        self.multiple = 2 ** int(getattr(module, "depth", 4))

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str] = DEFAULT_MODEL) -> SketchToPhoto:
        """The shipped model (by name, in `gansuite/apps/weights/`) or a gansuite weights file.

        Raises:
            CheckpointError: the file is missing, unreadable or not a generator.
        """
        return cls(load_app_generator(name_or_path, network="pix2pix-unet", what="sketch-to-photo generator"))

    @torch.no_grad()
    def from_edges(self, edges: np.ndarray) -> np.ndarray:
        """(H, W) float edge map in {0, 1} (1 = line) → (H, W, 3) float32 RGB photo in [0, 1].

        The map is zero-padded (no lines) to a multiple of 2**depth and the result cropped back.

        Raises:
            ConfigError: not 2-D, or a side over 2048 pixels.
        """
        if edges.ndim != 2 or max(edges.shape) > MAX_SIDE:
            raise ConfigError(f"an edge map must be (H, W) with sides <= {MAX_SIDE}, got shape {edges.shape}")
        height, width = edges.shape
        x = torch.from_numpy(np.ascontiguousarray(edges, dtype=np.float32))[None, None]
        x = F.pad(x, (0, -width % self.multiple, 0, -height % self.multiple))
        return self.module(x)[0, :, :height, :width].permute(1, 2, 0).numpy()

    def from_drawing(self, drawing: np.ndarray) -> np.ndarray:
        """A line drawing ((H, W) or (H, W, 3) float in [0, 1], dark on light or light on dark) → photo.

        Raises:
            ConfigError: a side over 2048 pixels (before the strokes are traced), or no strokes.
        """
        if max(drawing.shape[:2]) > MAX_SIDE:
            raise ConfigError(
                f"a drawing must have sides <= {MAX_SIDE} pixels, got {drawing.shape[1]}x{drawing.shape[0]}; "
                "downscale it"
            )
        return self.from_edges(drawing_to_edges(drawing))
