"""Tiled inference without seams, for images larger than the accelerator's memory allows.

The image is cut into a grid of non-overlapping *cores* of at most `tile` pixels a side. Each
core is grown by a `feather` band into its *keep* region, and the keep region by `overlap`
pixels of context into the *source* region that is sent to the network (regions stop at the
image border). Of each tile's output only the keep region is used; where the keep regions of
neighbouring tiles meet, a linear ramp over the `2 * feather` band blends them, and the ramps
of the two sides add up to exactly one.

Why tiled equals untiled: every kept output pixel has at least `overlap` input pixels of its
tile on each side, or the image border, which the tile shares with the whole image (so zero
or reflect padding there is the same). If the network's receptive-field radius (in input
pixels) is at most `overlap`, every kept pixel therefore equals the untiled output, and a
convex blend of equal values changes nothing. With a smaller overlap the tiles disagree a
little; the ramp then spreads the disagreement over `2 * feather * scale` output pixels
instead of leaving a visible seam. This is the tile-and-pad scheme of Real-ESRGAN (Wang et
al., ICCVW 2021) with the pad kept strictly outside the blended band.

It assumes a translation-equivariant network (convolutions, pixel shuffle); networks with
global statistics (instance norm, attention over the whole image) or strided down-sampling at
offsets other than multiples of the stride are not tiled exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gansuite.errors import ConfigError

__all__ = ["Box", "TileBox", "plan_tiles", "tiled_apply"]


@dataclass(frozen=True)
class Box:
    """A half-open pixel rectangle `[top, bottom) x [left, right)`."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def height(self) -> int:
        """Rows in the box."""
        return self.bottom - self.top

    @property
    def width(self) -> int:
        """Columns in the box."""
        return self.right - self.left


@dataclass(frozen=True)
class TileBox:
    """One tile of a plan, in input pixel coordinates.

    Attributes:
        core: The pixels this tile is responsible for; the cores of a plan partition the image.
        keep: `core` grown by the feather band (clipped to the image): the output taken from it.
        source: `keep` grown by `overlap` (clipped to the image): the input sent to the network.
    """

    core: Box
    keep: Box
    source: Box


def _split(length: int, tile: int, overlap: int, feather: int) -> tuple[list[tuple[int, ...]], int]:
    """Plans one axis: [(core_start, core_stop, keep_start, keep_stop, source_start, source_stop)], band."""
    count = 1 if tile == 0 or tile >= length else -(-length // tile)
    bounds = [index * length // count for index in range(count + 1)]  # balanced, every core <= tile
    # Cores are at least length // count wide; a band no wider than half of that keeps the two
    # ramps of one core apart, so at most two tiles overlap along an axis.
    band = min(feather, (length // count) // 2) if count > 1 else 0
    spans = []
    for start, stop in itertools.pairwise(bounds):
        keep_start, keep_stop = max(0, start - band), min(length, stop + band)
        spans.append(
            (start, stop, keep_start, keep_stop, max(0, keep_start - overlap), min(length, keep_stop + overlap))
        )
    return spans, band


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"tiling: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def plan_tiles(height: int, width: int, tile: int, overlap: int, feather: int | None = None) -> list[TileBox]:
    """Plans the tiles for an image, row by row.

    Args:
        height: Image height in pixels, >= 1.
        width: Image width in pixels, >= 1.
        tile: Largest core side in pixels; 0 means one tile for the whole image.
        overlap: Context pixels around each keep region, >= 0.
        feather: Half-width of the blending band, >= 0; None means `overlap // 2`. It is
            reduced to half the smallest core so that ramps do not cross.

    Returns:
        The tiles; the source region of each is at most `tile + 2 * (feather + overlap)` a side.

    Raises:
        ConfigError: A size is not an integer in range.
    """
    _check_int("height", height, 1)
    _check_int("width", width, 1)
    _check_int("tile", tile, 0)
    _check_int("overlap", overlap, 0)
    feather = overlap // 2 if feather is None else _check_int("feather", feather, 0)
    rows, _ = _split(height, tile, overlap, feather)
    columns, _ = _split(width, tile, overlap, feather)
    return [
        TileBox(Box(r[0], r[1], c[0], c[1]), Box(r[2], r[3], c[2], c[3]), Box(r[4], r[5], c[4], c[5]))
        for r in rows
        for c in columns
    ]


def _ramp(core_start: int, core_stop: int, keep_start: int, keep_stop: int, scale: int) -> torch.Tensor:
    """Blend weights along one axis of a tile's kept output, `(keep * scale,) float64` in (0, 1]."""
    centres = torch.arange(keep_start * scale, keep_stop * scale, dtype=torch.float64) + 0.5
    weights = torch.ones_like(centres)
    rising = core_start - keep_start  # band width on the near side, 0 at the image border
    if rising:
        weights = torch.minimum(weights, (centres - keep_start * scale) / (2 * rising * scale))
    falling = keep_stop - core_stop
    if falling:
        weights = torch.minimum(weights, (keep_stop * scale - centres) / (2 * falling * scale))
    return weights


@torch.no_grad()
def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    *,
    scale: int,
    tile: int,
    overlap: int,
    feather: int | None = None,
    device: torch.device | str | None = None,
    on_tile: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Applies an image-to-image network tile by tile and blends the tiles without seams.

    Only one tile is on `device` at a time; the image and the result stay where `image` is
    (normally host memory). Runs under `torch.no_grad()`. Non-finite values returned by `fn`
    are carried into the result unchanged, near their tile; handling them is the caller's job.

    Args:
        fn: Maps `(N, C, h, w)` to `(N, C_out, h * scale, w * scale)` floating point; `C_out`
            may differ from `C`. Called with tiles on `device`.
        image: `(N, C, H, W)`, any dtype `fn` accepts, layout and range as `fn` expects.
        scale: Output size over input size, >= 1.
        tile: Largest core side in input pixels; 0 means no tiling (one call on the whole image).
        overlap: Context pixels on each side of a kept region. When it is at least the network's
            receptive-field radius in input pixels, the result equals `fn(image)` up to
            floating-point rounding.
        feather: Half-width of the blending band in input pixels; None means `overlap // 2`,
            0 means hard cuts. Each tile sent to `fn` is at most `tile + 2 * (feather + overlap)`.
        device: Where `fn` runs; None means `image.device`.
        on_tile: Called as `on_tile(done, total)` after each tile, e.g. for a progress bar.

    Returns:
        `(N, C_out, H * scale, W * scale)` in `fn`'s output dtype, on `image.device`.

    Raises:
        ConfigError: `image` is not a 4-D tensor, a size is out of range, or `fn` returned a
            tensor of the wrong shape or a non-floating dtype.
    """
    if not isinstance(image, torch.Tensor) or image.ndim != 4 or image.shape[-1] == 0 or image.shape[-2] == 0:
        shape = tuple(getattr(image, "shape", ()))
        raise ConfigError(f"tiling: image must be an (N, C, H, W) tensor with H, W >= 1, got shape {shape}")
    _check_int("scale", scale, 1)
    batch, _, height, width = image.shape
    plan = plan_tiles(height, width, tile, overlap, feather)
    device = image.device if device is None else torch.device(device)
    result: torch.Tensor | None = None
    output_dtype = image.dtype
    for done, box in enumerate(plan, start=1):
        source, keep = box.source, box.keep
        tile_input = image[:, :, source.top : source.bottom, source.left : source.right].to(device)
        tile_output = fn(tile_input)
        expected = (batch, source.height * scale, source.width * scale)
        if (
            not isinstance(tile_output, torch.Tensor)
            or tile_output.ndim != 4
            or (tile_output.shape[0], *tile_output.shape[2:]) != expected
            or not tile_output.is_floating_point()
        ):
            got = tuple(tile_output.shape) if isinstance(tile_output, torch.Tensor) else type(tile_output).__name__
            raise ConfigError(
                f"tiling: fn returned {got} {getattr(tile_output, 'dtype', '')} for a {source.height}x{source.width}"
                f" tile; expected floating point (N={batch}, C_out, {expected[1]}, {expected[2]});"
                f" is scale={scale} right?"
            )
        if result is None:
            output_dtype = tile_output.dtype
            accumulate = torch.promote_types(output_dtype, torch.float32)
            result = torch.zeros(
                (batch, tile_output.shape[1], height * scale, width * scale), dtype=accumulate, device=image.device
            )
        elif tile_output.shape[1] != result.shape[1]:
            raise ConfigError(f"tiling: fn returned {tile_output.shape[1]} channels, earlier tiles {result.shape[1]}")
        top, left = (keep.top - source.top) * scale, (keep.left - source.left) * scale
        kept = tile_output[:, :, top : top + keep.height * scale, left : left + keep.width * scale]
        kept = kept.to(image.device, result.dtype)
        del tile_input, tile_output  # free the device before the next tile
        weight = torch.outer(
            _ramp(box.core.top, box.core.bottom, keep.top, keep.bottom, scale),
            _ramp(box.core.left, box.core.right, keep.left, keep.right, scale),
        ).to(image.device, result.dtype)
        target = result[:, :, keep.top * scale : keep.bottom * scale, keep.left * scale : keep.right * scale]
        target.add_(kept * weight)
        if on_tile is not None:
            on_tile(done, len(plan))
    assert result is not None  # a plan has at least one tile
    return result.to(output_dtype)
