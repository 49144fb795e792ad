"""The tile engine under `Upscaler`: the out-of-memory retry and the half-precision fallback."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gansuite.tasks.upscale._engine import run_model_tile, tiled_with_retry


def _nearest_x2(tile: torch.Tensor) -> torch.Tensor:
    return F.interpolate(tile, scale_factor=2, mode="nearest")


def test_out_of_memory_halves_the_tile_until_it_fits() -> None:
    image = torch.rand(1, 3, 200, 150)
    seen = []

    def run(tile: torch.Tensor) -> torch.Tensor:
        seen.append(max(tile.shape[-2:]))
        if max(tile.shape[-2:]) > 80:  # a device that holds at most 80 px tiles
            raise torch.OutOfMemoryError("out of memory")
        return _nearest_x2(tile)

    out, tile = tiled_with_retry(run, image, scale=2, tile=0, retry=True, overlap=4, feather=0,
                                 device=torch.device("cpu"), on_tile=None)
    assert tile == 50  # 200 → 100 → 50: the first side whose tiles (with the overlap band) fit
    assert torch.equal(out, _nearest_x2(image))
    assert max(seen) == 200 and seen[-1] <= 80
    with pytest.raises(torch.OutOfMemoryError):
        tiled_with_retry(run, image, scale=2, tile=0, retry=False, overlap=4, feather=0,
                         device=torch.device("cpu"), on_tile=None)


class _OverflowsUnderAutocast(nn.Module):
    """inf under autocast (half precision), the right answer in float32: the "black image" failure."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = _nearest_x2(x)
        return torch.full_like(out, float("inf")) if torch.is_autocast_enabled("cpu") else out


def test_a_non_finite_half_precision_tile_is_recomputed_in_float32() -> None:
    tile = torch.rand(1, 3, 8, 8)
    stats = {"tiles": 0, "fallback": 0}
    out = run_model_tile(_OverflowsUnderAutocast(), tile, torch.device("cpu"), torch.bfloat16, stats)
    assert torch.equal(out, _nearest_x2(tile)) and stats == {"tiles": 1, "fallback": 1}
    out = run_model_tile(_OverflowsUnderAutocast(), tile, torch.device("cpu"), torch.float32, stats)
    assert torch.equal(out, _nearest_x2(tile)) and stats == {"tiles": 2, "fallback": 1}
