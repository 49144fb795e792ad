"""Tests of the SR benchmark harness: tiny synthetic sets, the method hook, errors, and the published
bicubic baselines on Set5/Set14 (data tests)."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _data import require
from safetensors.torch import save_file

from gansuite.bench import _sr_methods
from gansuite.bench.manifest import build_manifest, file_sha256, package_versions
from gansuite.bench.sr import (
    BicubicMethod,
    SRMethod,
    parse_named_paths,
    register_method_resolver,
    resolve_method,
    run_sr_benchmark,
)
from gansuite.errors import CheckpointError, ConfigError, GansuiteError, InputImageError, NotAvailableError

PEER_FILE = "peers/realesr-animevideov3_x4_SRVGGNetCompact.safetensors"


@dataclass(frozen=True)
class NearestMethod:
    """A toy x2 method (nearest neighbour) standing in for a gansuite model."""

    scale: int = 2
    name: str = "nearest"
    source_file: Path | None = None

    def __call__(self, low_res: torch.Tensor) -> torch.Tensor:
        return low_res.repeat_interleave(self.scale, dim=2).repeat_interleave(self.scale, dim=3)


@dataclass(frozen=True)
class IdentityMethod:
    """A broken x2 method that returns its input unchanged."""

    scale: int = 2
    name: str = "identity"
    source_file: Path | None = None

    def __call__(self, low_res: torch.Tensor) -> torch.Tensor:
        return low_res


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    """Two smooth 8-bit images, odd sizes (cropped to a multiple of the scale), one of them gray."""
    folder = tmp_path / "hr"
    folder.mkdir()
    ys, xs = np.mgrid[0:41, 0:37]
    rgb = np.stack([128 + 90 * np.sin(xs / (4 + k) + ys / 6) for k in range(3)], axis=-1).astype(np.uint8)
    cv2.imwrite(str(folder / "a.png"), rgb[:, :, ::-1])
    cv2.imwrite(str(folder / "b.png"), rgb[:, :, 0])
    return folder


@pytest.fixture
def no_resolvers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sr_methods, "_RESOLVERS", [])


def test_bicubic_report_on_a_tiny_set(tiny_set: Path, tmp_path: Path) -> None:
    report = run_sr_benchmark(
        ["bicubic"], {"tiny": tiny_set}, scale=2, device="cpu", compute_lpips=False, save_images=tmp_path / "out"
    )
    (result,) = report.results
    assert (result.method, result.dataset, result.scale, result.n_images) == ("bicubic", "tiny", 2, 2)
    assert 20 < result.psnr_y < 60 and 0.5 < result.ssim_y <= 1 and result.lpips_alex is None
    saved = cv2.imread(str(tmp_path / "out" / "tiny" / "bicubic" / "a.png"))
    assert saved.shape == (40, 36, 3)  # HR cropped to a multiple of 2
    data = json.loads(report.to_json())
    assert set(data) == {"manifest", "results"}
    assert set(data["results"][0]) == {
        "method", "dataset", "scale", "n_images", "psnr_y", "ssim_y", "lpips_alex", "seconds_per_image",
        "jpeg_grid", "seconds_per_megapixel",
    }  # fmt: skip
    assert data["manifest"]["protocol"]["crop_border"] == 2 and data["manifest"]["seed"] == 0
    assert len(json.loads(report.to_json(per_image=True))["results"][0]["images"]) == 2
    markdown = report.to_markdown()
    assert "| Method | Dataset | Scale |" in markdown and "| bicubic | tiny | x2 | 2 |" in markdown


def test_gray_images_are_scored_on_gray_unless_asked(tiny_set: Path) -> None:
    kwargs = {"scale": 2, "device": "cpu", "compute_lpips": False}
    gray = run_sr_benchmark(["bicubic"], {"t": tiny_set}, **kwargs).results[0].images[1]
    on_y = run_sr_benchmark(["bicubic"], {"t": tiny_set}, gray_on_y=True, **kwargs).results[0].images[1]
    # Y of replicated gray spans 219 of 255 levels: the same errors read 20 log10(255 / 219) dB better
    assert on_y.psnr_y - gray.psnr_y == pytest.approx(20 * np.log10(255 / 219), abs=0.05)


def test_lpips_column_with_a_local_backbone(tiny_set: Path, tmp_path: Path) -> None:
    generator = torch.Generator().manual_seed(0)
    shapes = {0: (64, 3, 11, 11), 3: (192, 64, 5, 5), 6: (384, 192, 3, 3), 8: (256, 384, 3, 3), 10: (256, 256, 3, 3)}
    state = {f"{i}.weight": torch.randn(s, generator=generator) * 0.05 for i, s in shapes.items()}
    state |= {f"{i}.bias": torch.zeros(s[0]) for i, s in shapes.items()}
    save_file(state, str(tmp_path / "alexnet.safetensors"))
    report = run_sr_benchmark(
        ["bicubic"], {"tiny": tiny_set}, scale=2, device="cpu", backbones=tmp_path / "alexnet.safetensors"
    )
    assert report.results[0].lpips_alex is not None and report.results[0].lpips_alex > 0
    assert report.manifest["protocol"]["lpips"]["backbone"].endswith("alexnet.safetensors")


def test_method_objects_and_registered_resolvers(tiny_set: Path, no_resolvers: None) -> None:
    def resolver(spec: str, scale: int, device: torch.device) -> SRMethod | None:
        return NearestMethod(scale=scale, name="toy") if spec == "toy" else None

    assert register_method_resolver(resolver) is resolver
    with pytest.raises(ConfigError, match="registered twice"):
        register_method_resolver(resolver)
    assert isinstance(NearestMethod(), SRMethod)
    report = run_sr_benchmark(
        ["toy", NearestMethod(), "bicubic"], {"tiny": tiny_set}, scale=2, device="cpu", compute_lpips=False
    )
    assert [r.method for r in report.results] == ["toy", "nearest", "bicubic"]
    assert report.results[0].psnr_y == pytest.approx(report.results[1].psnr_y)
    assert report.results[2].psnr_y > report.results[1].psnr_y  # bicubic beats nearest neighbour


def test_method_errors(tiny_set: Path, tmp_path: Path, no_resolvers: None, monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    with pytest.raises(ConfigError, match="not 'bicubic'"):
        resolve_method("no-such-model", 2, cpu)
    with pytest.raises(ConfigError, match="upscales x2, but the benchmark runs --scale 4"):
        resolve_method(NearestMethod(), 4, cpu)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match=r"garbage\.pth"):
        resolve_method(str(garbage), 4, cpu)
    unknown = tmp_path / "unknown.safetensors"
    save_file({"weight": torch.zeros(3, 3)}, str(unknown))
    with pytest.raises(CheckpointError, match=r"--method .*unknown.safetensors: no architecture spandrel knows"):
        resolve_method(str(unknown), 4, cpu)
    monkeypatch.setitem(sys.modules, "spandrel", None)  # as if the optional package were missing
    with pytest.raises(NotAvailableError, match=r"--method .*unknown.safetensors: .*pip install"):
        resolve_method(str(unknown), 4, cpu)
    with pytest.raises(GansuiteError, match=r"method identity turned .* expected \(1, 3, 40, 36\)"):
        run_sr_benchmark([IdentityMethod()], {"t": tiny_set}, scale=2, device="cpu", compute_lpips=False)


def test_dataset_errors(tiny_set: Path, tmp_path: Path) -> None:
    kwargs = {"scale": 2, "device": "cpu", "compute_lpips": False}
    with pytest.raises(ConfigError, match="not datasets"):
        run_sr_benchmark(["bicubic"], {"t": tiny_set}, lr_dirs={"other": tmp_path}, **kwargs)
    with pytest.raises(InputImageError, match="no LR image for 'a'"):
        run_sr_benchmark(["bicubic"], {"t": tiny_set}, lr_dirs={"t": tmp_path}, **kwargs)
    with pytest.raises(InputImageError, match="holds no images"):
        run_sr_benchmark(["bicubic"], {"t": tmp_path}, **kwargs)
    lr_dir = tmp_path / "lr"
    lr_dir.mkdir()
    for name in ("a", "b"):
        cv2.imwrite(str(lr_dir / f"{name}x2.png"), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(InputImageError, match="wrong scale folder"):
        run_sr_benchmark(["bicubic"], {"t": tiny_set}, lr_dirs={"t": lr_dir}, **kwargs)


def test_an_image_too_small_to_score_is_named_before_any_method_runs(
    tiny_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cv2.imwrite(str(tiny_set / "thumb.png"), np.zeros((12, 40, 3), np.uint8))  # 12 - 2·4 = 4 rows scored at x4
    monkeypatch.setattr("gansuite.bench.sr.resolve_method", lambda *a, **k: pytest.fail("a method was resolved first"))
    with pytest.raises(InputImageError, match=r"--dataset t: thumb\.png is 40x12, too small to score at x4: after the "
                       r"4-pixel border crop 4 pixels a side are left, under the 11x11 SSIM window"):
        run_sr_benchmark(["bicubic"], {"t": tiny_set}, scale=4, device="cpu", compute_lpips=False)


def test_lr_folder_and_bit_depth_problems_are_named_before_any_method_runs(
    tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gansuite.bench.sr.resolve_method", lambda *a, **k: pytest.fail("a method was resolved first"))
    kwargs = {"scale": 2, "device": "cpu", "compute_lpips": False}
    lr_dir = tmp_path / "lr"
    lr_dir.mkdir()
    cv2.imwrite(str(lr_dir / "ax2.png"), np.zeros((20, 18, 3), np.uint8))  # a.png's right LR; b.png's is missing
    with pytest.raises(InputImageError, match=r"--lr-dir .*lr: no LR image for 'b'"):
        run_sr_benchmark(["bicubic"], {"t": tiny_set}, lr_dirs={"t": lr_dir}, **kwargs)
    cv2.imwrite(str(lr_dir / "bx2.png"), np.zeros((20, 17, 3), np.uint8))  # one column short
    with pytest.raises(InputImageError, match=r"LR image of b\.png is 17x20, .* is 36x40, which needs 18x20"):
        run_sr_benchmark(["bicubic"], {"t": tiny_set}, lr_dirs={"t": lr_dir}, **kwargs)
    deep = tmp_path / "deep"
    deep.mkdir()
    cv2.imwrite(str(deep / "z16.png"), np.full((40, 40, 3), 30000, np.uint16))
    with pytest.raises(InputImageError, match=r"--dataset d16: .*z16\.png is a 16-bit image; .* convert it to 8 bit"):
        run_sr_benchmark(["bicubic"], {"t": tiny_set, "d16": deep}, **kwargs)  # the first set would be scored first


def strict_json(text: str) -> dict:
    """Parse as strict JSON parsers (jq, browsers) do: NaN and Infinity are refused."""
    return json.loads(text, parse_constant=lambda constant: pytest.fail(f"{constant} in a JSON report"))


def test_an_exact_output_is_capped_and_the_report_stays_strict_json(tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    cv2.imwrite(str(flat / "grey.png"), np.full((40, 40, 3), 128, np.uint8))  # bicubic reproduces it exactly
    wave = (128 + 100 * np.sin(np.arange(40) / 2.0)).astype(np.uint8)
    cv2.imwrite(str(flat / "wave.png"), np.tile(wave[None, :, None], (40, 1, 3)))
    report = run_sr_benchmark(["bicubic"], {"flat": flat}, scale=2, device="cpu", compute_lpips=False)
    grey = next(image for image in report.results[0].images if image.image == "grey.png")
    assert grey.psnr_y == 100.0  # not inf: one exact image would make the set's mean infinite
    assert np.isfinite(report.results[0].psnr_y) and report.results[0].psnr_y < 100
    data = strict_json(report.to_json(per_image=True))
    assert "100 dB" in data["manifest"]["protocol"]["psnr_ceiling"]
    assert "capped at 100 dB" in data["manifest"]["protocol"]["summary"]


def test_report_json_writes_non_finite_numbers_as_null() -> None:
    from gansuite.bench.manifest import report_json

    assert strict_json(report_json({"a": [float("inf"), 1.5, (float("nan"),)], "b": float("-inf")})) == {
        "a": [None, 1.5, [None]], "b": None
    }


def test_parse_named_paths() -> None:
    assert parse_named_paths(["Set5=a/b", "Set14=c"], "--dataset") == {"Set5": Path("a/b"), "Set14": Path("c")}
    with pytest.raises(ConfigError, match="--dataset 'Set5': expected NAME=PATH"):
        parse_named_paths(["Set5"], "--dataset")
    with pytest.raises(ConfigError, match="given twice"):
        parse_named_paths(["a=x", "a=y"], "--lr-dir")


def test_manifest_records_versions_and_hashes(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    manifest = build_manifest(protocol={"crop_border": 4}, device=torch.device("cpu"), seed=3, model_files={"m": model})
    assert manifest["models"]["m"]["sha256"] == hashlib.sha256(b"weights").hexdigest() == file_sha256(model)
    assert manifest["seed"] == 3 and manifest["protocol"] == {"crop_border": 4}
    assert manifest["device"].startswith("cpu")
    versions = package_versions()
    assert {"torch", "torchvision", "lpips", "numpy", "opencv", "gansuite"} <= set(versions)
    assert versions["torch"] != "not installed" and versions["gansuite"] != "not installed"


def test_bicubic_method_shape() -> None:
    assert BicubicMethod(scale=3)(torch.rand(2, 3, 5, 7)).shape == (2, 3, 15, 21)


# ----------------------------------------------------------------------------- data tests


@pytest.fixture
def sr_data(data_dir: Path) -> Path:
    return require(data_dir / "sr", "the sr/ datasets folder")


@pytest.fixture
def backbones(backbones_dir: Path) -> Path:
    return backbones_dir


@pytest.mark.data
def test_reproduces_published_bicubic_x4(sr_data: Path, backbones: Path) -> None:
    report = run_sr_benchmark(
        ["bicubic"],
        {"Set5": sr_data / "Set5" / "HR", "Set14": sr_data / "Set14" / "HR"},
        scale=4,
        device="cpu",
        backbones=backbones,
    )
    set5, set14 = report.results
    assert set5.n_images == 5 and set14.n_images == 14
    assert set5.psnr_y == pytest.approx(28.42, abs=0.03)
    assert set5.ssim_y == pytest.approx(0.8104, abs=0.003)
    assert set5.lpips_alex == pytest.approx(0.340, abs=0.005)
    assert set14.psnr_y == pytest.approx(26.00, abs=0.05)
    assert set14.ssim_y == pytest.approx(0.7027, abs=0.003)


@pytest.mark.data
def test_reproduces_published_bicubic_x2_and_matlab_lr(sr_data: Path) -> None:
    datasets = {"Set5": sr_data / "Set5" / "HR", "Set14": sr_data / "Set14" / "HR"}
    ours = run_sr_benchmark(["bicubic"], datasets, scale=2, device="cpu", compute_lpips=False)
    assert ours.results[0].psnr_y == pytest.approx(33.66, abs=0.05)
    assert ours.results[1].psnr_y == pytest.approx(30.24, abs=0.05)
    # the downscaler is MATLAB's bit for bit, so MATLAB's own LR images give the same scores
    set5 = {"Set5": datasets["Set5"]}
    lr_dirs = {"Set5": sr_data / "Set5" / "LR_bicubic" / "X2"}
    matlab = run_sr_benchmark(["bicubic"], set5, scale=2, device="cpu", compute_lpips=False, lr_dirs=lr_dirs)
    assert matlab.results[0].psnr_y == pytest.approx(ours.results[0].psnr_y, abs=1e-9)
    assert matlab.results[0].ssim_y == pytest.approx(ours.results[0].ssim_y, abs=1e-9)
    assert matlab.manifest["protocol"]["low_res"]["Set5"].startswith("read from")


@pytest.mark.data
def test_peer_model_runs_through_spandrel(sr_data: Path, backbones: Path) -> None:
    pytest.importorskip("spandrel", reason="spandrel (optional 'peers' extra) is not installed")
    peer = require(backbones / PEER_FILE, "the peer model file in GANSUITE_BACKBONES")
    report = run_sr_benchmark(
        ["bicubic", str(peer)], {"Set5": sr_data / "Set5" / "HR"}, scale=4, device="cpu", backbones=backbones
    )
    bicubic, gan = report.results
    assert gan.method == "realesr-animevideov3_x4_SRVGGNetCompact"
    assert gan.n_images == 5 and gan.psnr_y == pytest.approx(28.25, abs=0.1)
    assert gan.lpips_alex is not None and bicubic.lpips_alex is not None and gan.lpips_alex < bicubic.lpips_alex - 0.05
    assert report.manifest["models"][gan.method]["sha256"].startswith("d6a1e6171b9bbf74")
    assert f"| {gan.method} | Set5 | x4 | 5 |" in report.to_markdown()
