"""The tile engine under `Upscaler`: one tile through the model, and the tiled pass with its out-of-memory retry."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gansuite.io.tiling import tiled_apply

__all__ = ["run_model_tile", "tiled_with_retry"]

_SMALLEST_TILE = 32


def run_model_tile(model: nn.Module, tile: torch.Tensor, device: torch.device, dtype: torch.dtype,
                   stats: dict[str, int]) -> torch.Tensor:
    """One (N, 3, h, w) float32 tile through `model` on `device`; (N, 3, s·h, s·w) float32 in [0, 1].

    In half precision (`dtype` float16 / bfloat16, autocast) a tile that comes out non-finite is
    recomputed in float32 (``stats["fallback"]`` counts them); ``stats["tiles"]`` counts tiles.
    On the CPU the tile is channels_last.
    """
    stats["tiles"] += 1
    tile = tile.to(device)
    if device.type == "cpu":
        tile = tile.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        if dtype != torch.float32:
            with torch.autocast(device.type, dtype=dtype):
                out = model(tile).float()
            if torch.isfinite(out).all():
                return out.clamp_(0, 1)
            stats["fallback"] += 1
        return model(tile.float()).float().clamp_(0, 1)


def tiled_with_retry(
    run: Callable[[torch.Tensor], torch.Tensor], image: torch.Tensor, *, scale: int, tile: int, retry: bool,
    overlap: int, feather: int, device: torch.device, on_tile: Callable[[int, int], None] | None,
) -> tuple[torch.Tensor, int]:
    """`tiled_apply` with `run`; on out-of-memory, if `retry`, halve the tile (down to 32 px) and try again.

    Returns the (N, 3, s·H, s·W) output and the tile side that worked (0: one pass).

    Raises:
        torch.OutOfMemoryError: out of memory with `retry` False or at the smallest tile.
    """
    height, width = image.shape[-2:]
    while True:
        try:
            out = tiled_apply(run, image, scale=scale, tile=tile, overlap=overlap, feather=feather, device=device,
                              on_tile=on_tile)
            return out, tile
        except torch.OutOfMemoryError:
            if not retry or tile == _SMALLEST_TILE:
                raise
            tile = max(_SMALLEST_TILE, (tile or max(height, width)) // 2)
            if device.type == "cuda":
                torch.cuda.empty_cache()
