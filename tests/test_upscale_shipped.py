"""The shipped upscale weights: cards, package size, and the card's Set5 numbers reproduced.

Each test skips when its weights file is not in this build, and the data tests skip without
`GANSUITE_DATA` / `GANSUITE_BACKBONES`; CI sets both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import gansuite.bench.gansuite_models  # noqa: F401  (lets --method name the shipped models)
from gansuite.bench.sr import run_sr_benchmark
from gansuite.core.checkpoint import read_weights_metadata
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, default_model, shipped_weights_path

_CARD_FIELDS = {
    "name",
    "task",
    "data",
    "recipe",
    "steps",
    "hardware",
    "wall_time",
    "training_command",
    "metrics",
    "metrics_command",
    "metrics_protocol",
}
_PACKAGE_WEIGHTS_LIMIT = 25 * 1000 * 1000


def _shipped(name: str) -> Path:
    path = shipped_weights_path(name)
    if not path.is_file():
        pytest.skip(f"{name} weights are not shipped in this build")
    return path


@pytest.mark.parametrize("name", sorted(SHIPPED_WEIGHTS))
def test_a_shipped_upscaler_carries_a_full_card(name: str) -> None:
    spec, card = read_weights_metadata(_shipped(name))
    assert set(card) >= _CARD_FIELDS, sorted(_CARD_FIELDS - set(card))
    assert card["name"] == name and card["task"] == "upscale"
    assert spec.kwargs["scale"] == int(name[1])
    assert set(card["metrics"]) == {"Set5", "Set14"}
    assert card["recipe"].startswith(name[:2])
    if card.get("degradation") == "realistic":  # also measured on the real-looking benchmark inputs
        assert set(card["metrics_real"]) == {"Set5", "Set14"} and "metrics_real_command" in card


def test_package_weights_stay_under_the_size_limit() -> None:
    weights = shipped_weights_path("x4").parent
    total = sum(path.stat().st_size for path in weights.glob("*.safetensors"))
    assert 0 < total <= _PACKAGE_WEIGHTS_LIMIT, total


def test_realism_pair_shares_one_architecture() -> None:
    faithful, _ = read_weights_metadata(_shipped("x4"))
    detailed, _ = read_weights_metadata(_shipped("x4-gan"))
    assert faithful == detailed


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(SHIPPED_WEIGHTS))
def test_set5_scores_match_the_card(name: str, data_dir: Path, backbones_dir: Path) -> None:
    """The benchmark reproduces the card's Set5 row, and the model beats bicubic on its own terms."""
    _, card = read_weights_metadata(_shipped(name))
    scale = int(name[1])
    real = card.get("degradation") == "realistic"
    report = run_sr_benchmark(
        ["bicubic", name], {"Set5": data_dir / "sr" / "Set5" / "HR"}, scale=scale, device="cpu",
        backbones=backbones_dir, degradation="real" if real else "bicubic",
    )
    bicubic, ours = report.results
    expected = card["metrics_real" if real else "metrics"]["Set5"]
    assert ours.psnr_y == pytest.approx(expected["psnr_y"], abs=0.02)
    assert ours.ssim_y == pytest.approx(expected["ssim_y"], abs=0.001)
    assert ours.lpips_alex == pytest.approx(expected["lpips_alex"], abs=0.002)
    if real:  # made for blurred, noisy, JPEG-compressed photos: cleaner than bicubic, no JPEG grid
        assert ours.lpips_alex < 0.8 * bicubic.lpips_alex
        assert ours.jpeg_grid < bicubic.jpeg_grid - 0.05
        if not name.endswith("-gan"):  # the L1 stage also beats bicubic's structure; the GAN trades SSIM for detail
            assert ours.ssim_y > bicubic.ssim_y
    else:
        assert ours.psnr_y > bicubic.psnr_y + 1.0
        assert ours.lpips_alex < 0.6 * bicubic.lpips_alex


def test_default_model_is_the_real_photo_model_when_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gansuite.tasks.upscale.pretrained as pretrained

    monkeypatch.setattr(pretrained, "_WEIGHTS_DIR", tmp_path)
    assert default_model(4) == "x4" and default_model(2) == "x2"
    (tmp_path / SHIPPED_WEIGHTS["x4-real"]).write_bytes(b"")
    assert default_model(4) == "x4-real"
    assert default_model(4, realism=True) == "x4"  # --realism needs both ends of a pair
    (tmp_path / SHIPPED_WEIGHTS["x4-real-gan"]).write_bytes(b"")
    assert default_model(4, realism=True) == "x4-real"
    assert default_model(2) == "x2"


def test_denoise_blends_the_realistic_model_with_its_clean_twin() -> None:
    import numpy as np
    import torch

    from gansuite.errors import ConfigError
    from gansuite.tasks.upscale.upscaler import Upscaler

    _shipped("x4-real")
    settings = {"device": "cpu", "tile": 0}
    clean, real = Upscaler.from_pretrained("x4", **settings), Upscaler.from_pretrained("x4-real", **settings)
    half = Upscaler.from_pretrained("x4-real", denoise=0.25, **settings)
    for name, value in half.model.state_dict().items():
        expected = 0.75 * clean.model.state_dict()[name] + 0.25 * real.model.state_dict()[name]
        assert torch.allclose(value, expected, atol=1e-6), name
    image = (np.random.default_rng(0).random((12, 10, 3)) * 255).astype(np.uint8)
    ends = [Upscaler.from_pretrained("x4-real", denoise=d, **settings)(image).image.color for d in (0.0, 1.0)]
    assert np.array_equal(ends[0], clean(image).image.color) and np.array_equal(ends[1], real(image).image.color)
    for bad in ({"name": "x4", "denoise": 0.5}, {"name": "x4-real", "denoise": 0.5, "realism": 0.5},
                {"name": "x4-real", "denoise": 1.5}):
        with pytest.raises(ConfigError, match="denoise"):
            Upscaler.from_pretrained(bad.pop("name"), **bad, **settings)
    with pytest.raises(ConfigError, match="clean-protocol twin"):  # a file, even the shipped one, has no twin
        Upscaler.from_pretrained(_shipped("x4-real"), denoise=0.5, **settings)
