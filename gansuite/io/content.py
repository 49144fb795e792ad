"""What an image's pixels hold, beyond their values: gray content stored as RGB, and the colour under transparency.

- A black-and-white photo is often stored with three equal channels. A colour network turns it
  slightly coloured (a tint, chroma noise); `has_equal_channels` finds such images so the
  upscaler can give back equal channels.
- Editors store fully transparent pixels with an arbitrary colour, usually black. An upscaler
  mixes neighbouring pixels, so that hidden black bleeds into the visible edge as a dark fringe.
  `bleed_transparent_colour` replaces the colour of every fully transparent pixel with that of
  its nearest visible pixel (the "alpha bleeding" game engines and texture tools apply before
  filtering), which changes nothing visible and removes the fringe.
- A drawing exported with a transparent background is all one colour where it is transparent
  (often black, the same as its strokes): `composite_over` shows it as it looks in an editor, on
  a background of the caller's choice.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["bleed_transparent_colour", "composite_over", "has_equal_channels"]


def has_equal_channels(color: np.ndarray) -> bool:
    """Whether an `(H, W, 3)` image has R = G = B at every pixel (gray content stored as colour).

    Args:
        color: `(H, W, 3)` array of any dtype, or `(H, W)` / `(H, W, 1)` (one channel: True).
    """
    if color.ndim == 2 or color.shape[-1] == 1:
        return True
    return bool(np.array_equal(color[..., 0], color[..., 1]) and np.array_equal(color[..., 0], color[..., 2]))


def bleed_transparent_colour(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The colour with every fully transparent pixel set to its nearest visible pixel's colour.

    Nearest by Euclidean distance (OpenCV's exact distance transform with pixel labels). Pixels
    with any opacity keep their colour, so the composited image is unchanged.

    Args:
        color: `(H, W, 3) float32 in [0, 1], RGB` (any dtype and channel count works).
        alpha: `(H, W)` in [0, 1]; 0 is fully transparent.

    Returns:
        A new array like `color`; `color` itself when no pixel, or every pixel, is transparent.
    """
    transparent = np.asarray(alpha) <= 0
    if not transparent.any() or transparent.all():
        return color
    # distanceTransform measures to the nearest zero pixel: the visible ones are the zeros here
    _, labels = cv2.distanceTransformWithLabels(
        transparent.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE, labelType=cv2.DIST_LABEL_PIXEL
    )
    rows, cols = np.nonzero(~transparent)  # row-major, the order in which the labels number them
    nearest = labels[transparent] - 1
    out = color.copy()
    out[transparent] = color[rows[nearest], cols[nearest]]
    return out


def composite_over(color: np.ndarray, alpha: np.ndarray | None, background: float = 1.0) -> np.ndarray:
    """The image as it looks over a plain background: color·alpha + background·(1 − alpha).

    Args:
        color: `(H, W, 3)` or `(H, W)` float32 in [0, 1].
        alpha: `(H, W)` float in [0, 1] (0 fully transparent), or None (returns `color`).
        background: the background's value in [0, 1] (1.0 white, 0.0 black).

    Returns:
        float32 in [0, 1], shaped like `color`.
    """
    if alpha is None:
        return color
    weight = np.asarray(alpha, dtype=np.float32)
    if color.ndim == 3:
        weight = weight[..., None]
    return (color * weight + np.float32(background) * (1.0 - weight)).astype(np.float32)
