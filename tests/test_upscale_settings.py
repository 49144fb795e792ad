"""`auto_tile_size`: the memory budget, the overlap counted in it, and the cap on overlap overhead."""

from __future__ import annotations

import math

import pytest
import torch

from gansuite.tasks.upscale import settings
from gansuite.tasks.upscale.settings import auto_tile_size


class _Wide:
    """A model whose activations take 16 KiB per input pixel (like RRDB), x4."""

    activation_bytes_per_pixel = 16384


CPU = torch.device("cpu")


def test_small_images_are_not_tiled_and_the_band_is_paid_for() -> None:
    assert auto_tile_size(_Wide(), CPU, 4, 8, 100, 100) == 0
    narrow, wide = auto_tile_size(_Wide(), CPU, 4, 8, 3000, 3000), auto_tile_size(_Wide(), CPU, 4, 40, 3000, 3000)
    assert narrow - wide == 32  # the same source tile, of which the band takes more
    per_pixel = 16384 + 3 * 4 * 16 * 2
    assert (narrow + 8) ** 2 * per_pixel <= 512 * 2**20 < (narrow + 9) ** 2 * per_pixel


def test_a_wide_overlap_grows_the_tile_until_it_at_most_doubles_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    band = 102  # x4plus: probed overlap 47 + 4-px band, on both sides
    monkeypatch.setattr(settings, "available_memory", lambda: 16 * 2**30)
    core = auto_tile_size(_Wide(), CPU, 4, band, 1500, 2000)
    assert (core + band) ** 2 <= 2 * core**2 * 1.01  # at most about twice the pixels computed
    assert core == math.ceil(band / (math.sqrt(2) - 1))
    monkeypatch.setattr(settings, "available_memory", lambda: 2 * 2**30)  # a quarter of it: 512 MiB, the base budget
    small = auto_tile_size(_Wide(), CPU, 4, band, 1500, 2000)
    assert small < core and (small + band) ** 2 * (16384 + 384) <= 512 * 2**20 * 1.01
    monkeypatch.setattr(settings, "available_memory", lambda: None)  # unknown: the base budget only
    assert auto_tile_size(_Wide(), CPU, 4, band, 1500, 2000) == small
