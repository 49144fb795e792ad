"""Tiled inference: tiled == untiled when the overlap covers the receptive field, no seams, plan coverage."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from gansuite.errors import ConfigError
from gansuite.io import plan_tiles, tiled_apply

RECEPTIVE_RADIUS = 3  # three 3x3 convolutions, in input pixels


def tiny_upscaler(out_channels: int = 3, seed: int = 0) -> nn.Module:
    """Three zero-padded 3x3 convolutions and a x2 pixel shuffle: receptive-field radius 3."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(8, out_channels * 4, 3, padding=1),
        nn.PixelShuffle(2),
    ).eval()


NETWORKS = {channels: tiny_upscaler(channels) for channels in (1, 3)}


def random_image(batch: int, height: int, width: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(batch, 3, height, width, generator=torch.Generator().manual_seed(seed))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    tile=st.integers(3, 48),
    overlap=st.integers(RECEPTIVE_RADIUS, 8),
    feather=st.one_of(st.none(), st.integers(0, 6)),
    batch=st.integers(1, 2),
    out_channels=st.sampled_from([1, 3]),
)
def test_tiled_equals_untiled_when_overlap_covers_receptive_field(
    height: int, width: int, tile: int, overlap: int, feather: int | None, batch: int, out_channels: int
) -> None:
    network = NETWORKS[out_channels]
    image = random_image(batch, height, width)
    with torch.no_grad():
        expected = network(image)
    tiled = tiled_apply(network, image, scale=2, tile=tile, overlap=overlap, feather=feather)
    assert tiled.shape == (batch, out_channels, 2 * height, 2 * width) and tiled.dtype == torch.float32
    torch.testing.assert_close(tiled, expected, atol=1e-5, rtol=0)  # far inside the 1/255 promise


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    tile=st.integers(0, 40),
    overlap=st.integers(0, 8),
    feather=st.one_of(st.none(), st.integers(0, 8)),
)
def test_plan_partitions_the_image_and_blend_weights_sum_to_one(
    height: int, width: int, tile: int, overlap: int, feather: int | None
) -> None:
    plan = plan_tiles(height, width, tile, overlap, feather)
    coverage = torch.zeros(height, width, dtype=torch.int64)
    band = overlap // 2 if feather is None else feather
    for box in plan:
        core, keep, source = box.core, box.keep, box.source
        coverage[core.top : core.bottom, core.left : core.right] += 1
        assert 0 <= source.top <= keep.top <= core.top < core.bottom <= keep.bottom <= source.bottom <= height
        assert 0 <= source.left <= keep.left <= core.left < core.right <= keep.right <= source.right <= width
        if tile:
            assert core.height <= tile and core.width <= tile
            assert source.height <= tile + 2 * (band + overlap) and source.width <= tile + 2 * (band + overlap)
        # every kept pixel has `overlap` pixels of context, or the image border
        assert keep.top - source.top == min(overlap, keep.top) and keep.left - source.left == min(overlap, keep.left)
        assert source.bottom - keep.bottom == min(overlap, height - keep.bottom)
        assert source.right - keep.right == min(overlap, width - keep.right)
    assert torch.equal(coverage, torch.ones_like(coverage))
    ones = tiled_apply(
        lambda x: torch.ones(x.shape[0], 1, 3 * x.shape[2], 3 * x.shape[3]),
        torch.zeros(1, 1, height, width),
        scale=3,
        tile=tile,
        overlap=overlap,
        feather=feather,
    )
    torch.testing.assert_close(ones, torch.ones_like(ones), atol=1e-6, rtol=0)


@pytest.mark.parametrize("tile", [0, 40, 41, 1000])
def test_one_tile_is_exactly_untiled(tile: int) -> None:
    network = NETWORKS[3]
    image = random_image(2, 33, 40)
    with torch.no_grad():
        expected = network(image)
    assert len(plan_tiles(33, 40, tile, 4)) == 1
    assert torch.equal(tiled_apply(network, image, scale=2, tile=tile, overlap=4), expected)


def test_small_overlap_gives_a_bounded_error() -> None:
    network = NETWORKS[3]
    image = random_image(1, 48, 48)
    with torch.no_grad():
        expected = network(image)
    for overlap in (0, 1, 2):
        error = (tiled_apply(network, image, scale=2, tile=12, overlap=overlap) - expected).abs().max().item()
        assert 1e-4 < error < 0.5 * (expected.max() - expected.min()).item()  # wrong near the cuts, but bounded
    exact = tiled_apply(network, image, scale=2, tile=12, overlap=RECEPTIVE_RADIUS)
    assert (exact - expected).abs().max().item() < 1e-5


def test_feathering_spreads_a_tile_disagreement_over_a_ramp() -> None:
    """A network that outputs its tile's mean disagrees across tiles; the blend must not step."""

    def tile_mean(x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3), keepdim=True).expand(-1, -1, 2 * x.shape[2], 2 * x.shape[3])

    image = torch.linspace(0, 1, 64).expand(1, 1, 8, 64).contiguous()  # one row of tiles
    hard = tiled_apply(tile_mean, image, scale=2, tile=16, overlap=2, feather=0)
    soft = tiled_apply(tile_mean, image, scale=2, tile=16, overlap=2, feather=4)
    hard_steps = hard[0, 0, 0].diff().abs()
    soft_steps = soft[0, 0, 0].diff().abs()
    jump = hard_steps.max().item()
    assert jump > 0.1  # a visible seam without feathering
    assert soft_steps.max().item() <= jump / (2 * 4 * 2) * 1.5 + 1e-6  # ramp over 2 * feather * scale pixels
    assert (soft[0, 0, 0].diff() >= -1e-7).all()  # tile means rise left to right: a monotone ramp, no overshoot


def test_tiles_are_bounded_and_reported() -> None:
    seen: list[tuple[int, ...]] = []
    progress: list[tuple[int, int]] = []

    def record(x: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(x.shape))
        assert x.device.type == "cpu"
        return NETWORKS[3](x)

    image = random_image(1, 50, 30)
    tiled_apply(
        record, image, scale=2, tile=16, overlap=4, feather=2, device="cpu", on_tile=lambda *a: progress.append(a)
    )
    total = len(plan_tiles(50, 30, 16, 4, 2))
    assert progress == [(done, total) for done in range(1, total + 1)]
    assert len(seen) == total
    assert all(h <= 16 + 2 * (2 + 4) and w <= 16 + 2 * (2 + 4) for _, _, h, w in seen)


def test_non_finite_outputs_stay_local() -> None:
    calls: list[int] = []

    def first_tile_fails(x: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        out = torch.repeat_interleave(torch.repeat_interleave(x, 2, dim=2), 2, dim=3)
        return torch.full_like(out, float("nan")) if len(calls) == 1 else out  # the top-left tile

    result = tiled_apply(first_tile_fails, random_image(1, 40, 40), scale=2, tile=10, overlap=2)
    assert torch.isnan(result[..., :2, :2]).all()
    assert torch.isfinite(result[..., 40:, 40:]).all()


def test_output_dtype_follows_fn() -> None:
    image = random_image(1, 20, 20).double()
    result = tiled_apply(lambda x: x * 2, image, scale=1, tile=8, overlap=1)
    assert result.dtype == torch.float64
    torch.testing.assert_close(result, image * 2)


def test_bad_arguments() -> None:
    image = random_image(1, 20, 20)
    with pytest.raises(
        ConfigError, match=r"image must be an \(N, C, H, W\) tensor with H, W >= 1, got shape \(3, 20, 20\)"
    ):
        tiled_apply(NETWORKS[3], image[0], scale=2, tile=8, overlap=3)
    with pytest.raises(ConfigError, match="scale must be an integer >= 1, got 0"):
        tiled_apply(NETWORKS[3], image, scale=0, tile=8, overlap=3)
    with pytest.raises(ConfigError, match="overlap must be an integer >= 0, got -1"):
        tiled_apply(NETWORKS[3], image, scale=2, tile=8, overlap=-1)
    with pytest.raises(ConfigError, match=r"fn returned \(1, 3, \d+, \d+\) .* is scale=3 right\?"):
        tiled_apply(NETWORKS[3], image, scale=3, tile=8, overlap=3)
    with pytest.raises(ConfigError, match="expected floating point"):
        tiled_apply(lambda x: (x > 0.5).long(), image, scale=1, tile=8, overlap=3)
