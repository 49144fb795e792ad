"""Any SR model file spandrel recognises runs through gansuite's engine; the effective receptive
field probe and its cache. The models are tiny random Real-ESRGAN architectures built here, with
basicsr key names (RRDBNet, SRVGGNetCompact), so nothing is downloaded."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save_file
from torch import nn

pytest.importorskip("spandrel", reason="third-party model files need the optional spandrel package")

from gansuite import Upscaler
from gansuite.cli import main
from gansuite.errors import CheckpointError
from gansuite.tasks.upscale import receptive_field
from gansuite.tasks.upscale.model_files import SpandrelNetwork, load_model_file, read_state_dict
from gansuite.tasks.upscale.receptive_field import probe_receptive_radius


def _conv(state: dict, name: str, out_channels: int, in_channels: int, generator: torch.Generator, gain=1.0) -> None:
    std = gain * (2.0 / (in_channels * 9)) ** 0.5
    state[f"{name}.weight"] = torch.randn(out_channels, in_channels, 3, 3, generator=generator) * std
    state[f"{name}.bias"] = torch.zeros(out_channels)


def rrdbnet_state(scale: int = 4, features: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """basicsr RRDBNet(num_feat=features, num_block=1, num_grow_ch=32) with random weights."""
    generator, state, growth = torch.Generator().manual_seed(seed), {}, 32
    _conv(state, "conv_first", features, 3, generator)
    for rdb in (1, 2, 3):
        for index in range(1, 6):
            channels = features + (index - 1) * growth
            _conv(state, f"body.0.rdb{rdb}.conv{index}", growth if index < 5 else features, channels, generator, 0.1)
    for name in ("conv_body", "conv_up1", *(("conv_up2",) if scale == 4 else ()), "conv_hr"):
        _conv(state, name, features, features, generator)
    _conv(state, "conv_last", 3, features, generator)
    return state


def compact_state(scale: int = 4, features: int = 8, convs: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    """basicsr SRVGGNetCompact(num_feat=features, num_conv=convs, act_type="prelu") with random weights."""
    generator, state, index = torch.Generator().manual_seed(seed), {}, 0
    for in_channels in (3, *(features,) * convs):
        _conv(state, f"body.{index}", features, in_channels, generator)
        state[f"body.{index + 1}.weight"] = torch.full((features,), 0.25)  # PReLU
        index += 2
    _conv(state, f"body.{index}", 3 * scale * scale, features, generator)
    return state


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANSUITE_CACHE", str(cache))
    monkeypatch.setattr(receptive_field, "_MEMORY", {})
    return cache


@pytest.fixture()
def rrdb_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_RRDBNet_x4.safetensors"
    save_file(rrdbnet_state(), str(path))
    return path


@pytest.fixture()
def compact_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_compact_x4.pth"
    torch.save(compact_state(seed=1), path)
    return path


# ---------------------------------------------------------------------------- the probe


class _Stack(nn.Module):
    """k 3x3 box filters at scale 1 (receptive radius exactly k), plus an optional faint far tap."""

    def __init__(self, k: int, far: float = 0.0) -> None:
        super().__init__()
        self.k, self.far, self.scale = k, far, 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        box = torch.full((3, 1, 3, 3), 1.0 / 9)
        for _ in range(self.k):
            x = nn.functional.conv2d(nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), box, groups=3)
        if self.far:  # a tap 12 pixels away
            x = x + self.far * torch.roll(x, shifts=12, dims=-1)
        return x


def test_the_probe_finds_the_exact_radius_of_a_known_network() -> None:
    for k in (1, 3, 5):
        result = probe_receptive_radius(_Stack(k), scale=1, tolerance=1e-6)
        assert result.response_radius == k and not result.reached_border
        assert result.radius == k + 4


def test_the_probe_ignores_influence_below_the_tolerance_and_grows_for_wide_fields() -> None:
    assert probe_receptive_radius(_Stack(2, far=1e-6), scale=1).response_radius == 2  # effective, not theoretical
    assert probe_receptive_radius(_Stack(2, far=0.1), scale=1).response_radius >= 12  # a visible far tap
    def box(x: torch.Tensor, radius: int = 30) -> torch.Tensor:  # a (61 x 61) mean: radius exactly 30
        padded = nn.functional.pad(x, (radius,) * 4, mode="replicate")
        return nn.functional.avg_pool2d(padded, 2 * radius + 1, stride=1)

    wide = probe_receptive_radius(box, scale=1, tolerance=1e-6, start_radius=8, max_radius=64)
    assert wide.probe_radius == 32 and wide.response_radius == 30 and not wide.reached_border
    capped = probe_receptive_radius(box, scale=1, tolerance=1e-6, start_radius=8, max_radius=16)
    assert capped.reached_border and capped.radius == 16


# ---------------------------------------------------------------------------- loading any file


def test_spandrel_files_run_through_the_engine_and_tile_without_seams(rrdb_file: Path, compact_file: Path) -> None:
    image = torch.rand(1, 3, 30, 34, generator=torch.Generator().manual_seed(0))
    for path, architecture in ((rrdb_file, "ESRGAN"), (compact_file, "RealESRGAN Compact")):
        model = load_model_file(path)
        assert isinstance(model, SpandrelNetwork) and model.architecture == architecture and model.scale == 4
        with torch.no_grad():
            reference = model(image).clamp(0, 1)  # spandrel's own call, untiled
        untiled = Upscaler.from_file(path, device="cpu", tile=0).upscale_tensor(image)
        torch.testing.assert_close(untiled, reference, atol=1e-5, rtol=0)
        tiled = Upscaler.from_file(path, device="cpu", tile=10)
        assert tiled.tile_overlap == model.receptive_radius > 0
        difference = (tiled.upscale_tensor(image) - reference).abs().max().item()
        assert difference < 0.5 / 255  # below half an 8-bit level: identical once saved
        hard_cut = Upscaler.from_file(path, device="cpu", tile=10, tile_overlap=0).upscale_tensor(image)
        assert (hard_cut - reference).abs().max().item() > difference  # the probed overlap is what removes seams


def test_from_pretrained_and_the_cli_take_a_spandrel_file_with_alpha_and_16_bit(
    rrdb_file: Path, tmp_path: Path
) -> None:
    assert isinstance(Upscaler.from_pretrained(rrdb_file, device="cpu").model, SpandrelNetwork)
    rng = np.random.default_rng(0)
    array = rng.integers(0, 65536, size=(36, 40, 4), dtype=np.uint16)  # 16-bit BGRA
    source = tmp_path / "in" / "photo.png"
    source.parent.mkdir()
    assert cv2.imwrite(str(source), array)
    result = CliRunner().invoke(main, ["upscale", str(source), "--model", str(rrdb_file), "--tile", "16", "-o",
                                       str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = cv2.imread(str(tmp_path / "out" / "photo_x4.png"), cv2.IMREAD_UNCHANGED)
    assert written.shape == (144, 160, 4) and written.dtype == np.uint16
    gray = Upscaler.from_file(rrdb_file, device="cpu")(rng.integers(0, 256, size=(9, 7), dtype=np.uint8))
    assert gray.image.grayscale and gray.image.color.shape == (36, 28, 3)


def test_the_probe_runs_once_per_file_and_is_cached_by_content(
    rrdb_file: Path, _private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_model_file(rrdb_file).receptive_radius
    entries = json.loads((_private_cache / "receptive_fields.json").read_text())
    assert [entry["radius"] for entry in entries.values()] == [first]
    assert next(iter(entries)).split(":")[0] == receptive_field._file_digest(rrdb_file)

    def no_probe(*args, **kwargs):
        raise AssertionError("probed again")

    monkeypatch.setattr(receptive_field, "probe_receptive_radius", no_probe)
    assert load_model_file(rrdb_file).receptive_radius == first  # in memory
    monkeypatch.setattr(receptive_field, "_MEMORY", {})
    assert load_model_file(rrdb_file).receptive_radius == first  # from the JSON file
    copy = rrdb_file.with_name("renamed.safetensors")
    copy.write_bytes(rrdb_file.read_bytes())
    assert load_model_file(copy).receptive_radius == first  # same content, same key
    assert load_model_file(rrdb_file, receptive_radius=3).receptive_radius == 3


def test_auto_tile_pays_for_the_overlap_in_its_memory_budget(compact_file: Path) -> None:
    narrow = Upscaler.from_file(compact_file, device="cpu", tile_overlap=2)
    wide = Upscaler.from_file(compact_file, device="cpu", tile_overlap=40)
    side_narrow, side_wide = narrow._auto_tile(4000, 3000), wide._auto_tile(4000, 3000)
    assert 0 < side_wide < side_narrow
    assert side_narrow - side_wide == 2 * (40 + 20) - 2 * (2 + 1)  # the same budget for core + context + band
    probed = Upscaler.from_file(compact_file, device="cpu")  # its own radius: a 4-pixel band is enough
    assert probed.tile_feather == min(4, probed.tile_overlap // 2) and narrow.tile_feather == 1
    assert narrow._auto_tile(16, 16) == 0  # a small image runs in one pass


# ---------------------------------------------------------------------------- refusing files


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickled_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    torch.save({"conv_first.weight": torch.zeros(1), "payload": _Payload(str(marker))}, evil)
    with pytest.raises(CheckpointError, match="never executes pickled code"):
        load_model_file(evil)
    assert not marker.exists()
    scripted = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(nn.Conv2d(3, 3, 3)), str(scripted))
    with pytest.raises(CheckpointError, match="cannot be read as plain weights"):
        read_state_dict(scripted)


def test_unknown_files_are_one_line_errors_naming_the_file(tmp_path: Path) -> None:
    unknown = tmp_path / "mystery.safetensors"
    save_file({"encoder.weight": torch.zeros(4, 4)}, str(unknown))
    with pytest.raises(CheckpointError, match=r"mystery\.safetensors: no architecture spandrel knows"):
        Upscaler.from_file(unknown, device="cpu")
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"\x08\x07")
    with pytest.raises(CheckpointError, match=r"unsupported model file type '\.onnx'"):
        read_state_dict(onnx)
    image = tmp_path / "photo.png"
    assert cv2.imwrite(str(image), np.zeros((4, 4, 3), np.uint8))
    result = CliRunner().invoke(main, ["upscale", str(image), "--model", str(unknown)])
    assert result.exit_code != 0 and "mystery.safetensors" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_error_without_text_shows_its_type_alone(tmp_path: Path) -> None:
    unknown = tmp_path / "mystery.safetensors"
    save_file({"encoder.weight": torch.zeros(4, 4)}, str(unknown))
    with pytest.raises(CheckpointError, match=r"no architecture spandrel knows fits this file \(\w+\);") as caught:
        Upscaler.from_file(unknown, device="cpu")
    assert ": )" not in str(caught.value) and "()" not in str(caught.value)


def test_an_explicit_scale_is_checked_against_a_loaded_file(compact_file: Path, tmp_path: Path) -> None:
    image = tmp_path / "photo.png"
    assert cv2.imwrite(str(image), np.zeros((4, 4, 3), np.uint8))
    result = CliRunner().invoke(main, ["upscale", str(image), "--model", str(compact_file), "--scale", "2"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: --model {compact_file}: the model upscales x4, but --scale 2 was given; drop --scale, give a x2 "
        "model (or no --model), or add --outscale 2 to resize this model's output"
    ]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["photo.png"]


def test_one_variable_places_both_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gansuite.deploy.onnx import cache_dir as onnx_cache

    monkeypatch.setenv("GANSUITE_CACHE", str(tmp_path / "mine"))
    assert receptive_field.cache_dir() == tmp_path / "mine"  # the probe cache used to read only GANSUITE_CACHE_DIR
    assert onnx_cache() == tmp_path / "mine" / "onnx"
    monkeypatch.delenv("GANSUITE_CACHE")
    monkeypatch.setenv("GANSUITE_CACHE_DIR", str(tmp_path / "older"))  # the probe cache's earlier name
    assert receptive_field.cache_dir() == tmp_path / "older" and onnx_cache() == tmp_path / "older" / "onnx"
    monkeypatch.delenv("GANSUITE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert onnx_cache() == tmp_path / "xdg" / "gansuite" / "onnx"
