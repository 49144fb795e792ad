"""ONNX export (`gansuite export onnx`) and the onnxruntime engine (`gansuite upscale --engine onnxruntime`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _upscale_helpers import export_tiny, random_array
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.core.checkpoint import export_weights
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.deploy.onnx import (
    OnnxUpscaleModel,
    cached_onnx_upscaler,
    export_onnx,
    load_exportable,
    onnx_upscaler,
    read_onnx_metadata,
)
from gansuite.errors import CheckpointError, ConfigError, MissingExtraError
from gansuite.tasks.upscale.upscaler import Upscaler

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

# every registered upscaler and predictor layout, tiny; the predictors cover odd-size padding
# inside the graph, space-to-depth and gray/RGB
NETWORKS = {
    "compact-x4": NetworkSpec("generator", "compact", {"scale": 4, "channels": 8, "num_convs": 2}),
    "compact-x2-lrelu": NetworkSpec("generator", "compact",
                                    {"scale": 2, "channels": 8, "num_convs": 2, "activation": "lrelu"}),
    "srresnet-x4": NetworkSpec("generator", "srresnet", {"scale": 4, "channels": 4, "num_blocks": 1}),
    "rrdbnet-x2": NetworkSpec("generator", "rrdbnet", {"scale": 2, "channels": 4, "num_blocks": 1, "growth": 2}),
    "unet-rgb": NetworkSpec("generator", "unet-predictor",
                            {"context_frames": 3, "channels": 3, "base_channels": 4, "depth": 2}),
    "unet-gray-s2d": NetworkSpec("generator", "unet-predictor",
                                 {"context_frames": 4, "channels": 1, "base_channels": 4, "depth": 3,
                                  "residual": False, "space_to_depth": 2}),
}


def _exported(tmp_path: Path, key: str) -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(1)
    module = build_network(NETWORKS[key]).eval()
    weights = export_weights(tmp_path / f"{key}.safetensors", module, card={"note": "tiny", "steps": 3})
    report = export_onnx(load_exportable(weights), tmp_path / f"{key}.onnx", verify=False)
    return module, report.path


@pytest.mark.parametrize("key", sorted(NETWORKS))
def test_onnx_output_equals_torch_on_random_odd_sizes_and_batches(tmp_path: Path, key: str) -> None:
    module, path = _exported(tmp_path, key)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    channels = 3 if hasattr(module, "scale") else module.context_frames * module.channels
    rng = np.random.default_rng(7)
    for _ in range(3):
        batch = int(rng.integers(1, 4))
        height, width = (int(v) * 2 + 1 for v in rng.integers(4, 20, size=2))  # odd, 9..39
        x = torch.rand(batch, channels, height, width)
        produced = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        with torch.no_grad():
            expected = module(x).numpy()
        assert produced.shape == expected.shape
        assert np.abs(produced - expected).max() <= 1e-4, (batch, height, width)


def test_onnx_has_dynamic_axes_opset_17_and_the_card_in_its_metadata(tmp_path: Path) -> None:
    _, path = _exported(tmp_path, "compact-x4")
    graph = onnx.load(str(path))
    assert max(entry.version for entry in graph.opset_import if entry.domain in ("", "ai.onnx")) >= 17
    dims = graph.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["batch", "", "height", "width"] and dims[1].dim_value == 3
    metadata = read_onnx_metadata(path)
    assert metadata["gansuite_kind"] == "upscale" and metadata["gansuite_scale"] == "4"
    assert json.loads(metadata["gansuite_card"]) == {"note": "tiny", "steps": 3}
    assert json.loads(metadata["gansuite_spec"])["kwargs"]["channels"] == 8
    _, predictor = _exported(tmp_path, "unet-gray-s2d")
    metadata = read_onnx_metadata(predictor)
    assert (metadata["gansuite_kind"], metadata["gansuite_context_frames"], metadata["gansuite_channels"]) == (
        "predict", "4", "1")


def test_onnxruntime_upscaler_equals_torch_with_tiles_alpha_and_16_bit(tmp_path: Path) -> None:
    weights = export_tiny(tmp_path / "tiny.safetensors", "compact", 4)
    path = export_onnx(load_exportable(weights), tmp_path / "tiny.onnx").path
    image = random_array(37, 29, channels=4, dtype=np.uint16)
    with_torch = Upscaler.from_pretrained(weights, device="cpu", tile=16)(image)
    with_onnx = Upscaler(OnnxUpscaleModel(path), tile=16)(image)
    assert with_onnx.tiles == with_torch.tiles > 1
    assert with_onnx.image.bit_depth == 16 and with_onnx.image.alpha is not None
    assert np.abs(with_onnx.image.color - with_torch.image.color).max() <= 1e-4
    assert np.abs(with_onnx.image.alpha - with_torch.image.alpha).max() <= 1e-4


def test_cli_export_then_upscale_with_onnxruntime_matches_torch(tmp_path: Path) -> None:
    weights = export_tiny(tmp_path / "tiny.safetensors", "compact", 2)
    runner = CliRunner()
    result = runner.invoke(main, ["export", "onnx", "--model", str(weights), "-o", str(tmp_path / "m.onnx")])
    assert result.exit_code == 0, result.output
    assert "max |onnxruntime - torch|" in result.output
    source = tmp_path / "in" / "photo.png"
    source.parent.mkdir()
    cv2.imwrite(str(source), random_array(21, 15, channels=3))
    for engine, model, folder in (("onnxruntime", tmp_path / "m.onnx", "ort"), ("torch", weights, "torch")):
        result = runner.invoke(main, ["upscale", str(source), "-o", str(tmp_path / folder), "--model", str(model),
                                      "--engine", engine, "--device", "cpu"])
        assert result.exit_code == 0, result.output
    onnx_out = cv2.imread(str(tmp_path / "ort" / "photo_x2.png")).astype(int)
    torch_out = cv2.imread(str(tmp_path / "torch" / "photo_x2.png")).astype(int)
    assert onnx_out.shape == (42, 30, 3)
    assert np.abs(onnx_out - torch_out).max() <= 1  # float32 agreement, then 8-bit rounding


def test_engine_onnxruntime_exports_a_weights_file_to_the_cache_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GANSUITE_CACHE", str(tmp_path / "cache"))
    weights = export_tiny(tmp_path / "tiny.safetensors", "compact", 4)
    first = cached_onnx_upscaler(weights)
    assert first.parent == tmp_path / "cache" / "onnx" and first.suffix == ".onnx"
    stamp = first.stat().st_mtime_ns
    assert cached_onnx_upscaler(weights) == first and first.stat().st_mtime_ns == stamp
    export_tiny(weights, "compact", 4, seed=5)  # new weights → a new cache entry
    assert cached_onnx_upscaler(weights) != first


def test_bad_requests_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["export", "onnx", "--model", "no-such-model", "-o", str(tmp_path / "a.onnx")])
    assert result.exit_code != 0 and "neither a shipped model" in result.output
    weights = export_tiny(tmp_path / "tiny.safetensors")
    result = runner.invoke(main, ["export", "onnx", "--model", str(weights), "-o", str(tmp_path / "a.txt")])
    assert result.exit_code != 0 and "must end in .onnx" in result.output
    result = runner.invoke(main, ["export", "onnx", "--model", str(weights), "--opset", "13"])
    assert result.exit_code == 2 and "--opset" in result.output
    with pytest.raises(ConfigError, match="--realism"):
        cached_onnx_upscaler(tmp_path / "x.onnx", realism=0.5)
    with pytest.raises(ConfigError, match=r"onnx_upscaler: unknown setting tiles \(did you mean tile\?\)"):
        onnx_upscaler(weights, tiles=64)  # before anything is exported to the cache
    _, predictor = _exported(tmp_path, "unet-rgb")
    with pytest.raises(CheckpointError, match="not an upscaler"):
        OnnxUpscaleModel(predictor)
    with pytest.raises(CheckpointError, match="already an ONNX file"):
        load_exportable(predictor)


def test_export_checks_its_output_before_loading_the_model(tmp_path: Path, monkeypatch) -> None:
    import gansuite.deploy.onnx as onnx_module

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the model was loaded before -o was checked")

    monkeypatch.setattr(onnx_module, "load_exportable", never)
    (tmp_path / "old.onnx").write_bytes(b"earlier export")
    for out, expected in ((tmp_path / "a.txt", "must end in .onnx"), (tmp_path / "old.onnx", "--overwrite"),
                          (tmp_path / "missing" / "a.onnx", "does not exist")):
        result = CliRunner().invoke(main, ["export", "onnx", "--model", "x2", "-o", str(out)])
        assert result.exit_code == 1, result.output
        (line,) = result.output.strip().splitlines()
        assert expected in line and str(out.parent if "missing" in str(out) else out) in line
    assert (tmp_path / "old.onnx").read_bytes() == b"earlier export"


def test_a_full_disk_during_export_is_one_line_without_resume_advice(tmp_path: Path, monkeypatch) -> None:
    import errno

    import gansuite.deploy.onnx as onnx_module

    def full(exportable, path, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(onnx_module, "export_onnx", full)
    weights = export_tiny(tmp_path / "tiny.safetensors")
    result = CliRunner().invoke(main, ["export", "onnx", "--model", str(weights), "-o", str(tmp_path / "t.onnx")])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: disk full: {tmp_path / 't.onnx'} could not be written")
    assert "internal error" not in line and "checkpoint" not in line


def test_missing_onnxruntime_names_the_extra(tmp_path: Path, monkeypatch) -> None:
    _, path = _exported(tmp_path, "compact-x4")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'gansuite\[onnx\]'"):
        OnnxUpscaleModel(path)


def test_shipped_x4_exports_and_upscales_like_torch(tmp_path: Path) -> None:
    from gansuite.tasks.upscale.pretrained import shipped_weights_path

    if not shipped_weights_path("x4").is_file():
        pytest.skip("the shipped x4 weights are not in this build")
    runner = CliRunner()
    result = runner.invoke(main, ["export", "onnx", "--model", "x4", "-o", str(tmp_path / "x4.onnx")])
    assert result.exit_code == 0, result.output
    assert float(result.output.split("= ")[1].split(" ")[0]) <= 1e-4
    image = random_array(19, 23, channels=3, seed=3)
    with_torch = Upscaler.from_pretrained("x4", device="cpu")(image).image.color
    with_onnx = Upscaler(OnnxUpscaleModel(tmp_path / "x4.onnx"))(image).image.color
    assert with_onnx.shape == (76, 92, 3)
    assert np.abs(with_onnx - with_torch).max() <= 1e-4


def test_the_flow_predictor_is_refused_with_its_reason_before_anything_is_written(tmp_path: Path) -> None:
    spec = NetworkSpec("generator", "flow-unet", {"context_frames": 2, "channels": 3, "base_channels": 4, "depth": 2})
    weights = export_weights(tmp_path / "flow.safetensors", build_network(spec), card={"steps": 1})
    result = CliRunner().invoke(main, ["export", "onnx", "--model", str(weights), "-o", str(tmp_path / "flow.onnx")])
    assert result.exit_code != 0 and "cannot be exported to ONNX" in result.output and "OpenCV" in result.output
    assert "internal error" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "flow.onnx").exists()


def test_an_opset_this_torch_cannot_write_is_refused_before_the_model_loads(tmp_path: Path, monkeypatch) -> None:
    import gansuite.deploy.onnx as onnx_module

    monkeypatch.setattr(onnx_module, "load_exportable", lambda *a, **k: pytest.fail("loaded before --opset"))
    result = CliRunner().invoke(main, ["export", "onnx", "--model", "x2", "-o", str(tmp_path / "a.onnx"),
                                       "--opset", "99"])  # was 'internal error: RuntimeError' after loading
    assert result.exit_code == 1, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: --opset 99: this torch (") and "exports opsets 17 to " in line
    assert not (tmp_path / "a.onnx").exists()


def test_a_predictor_or_an_onnx_file_in_the_wrong_engine_is_named_for_what_it_is(tmp_path: Path, monkeypatch) -> None:
    from gansuite.tasks.predict.pretrained import shipped_weights_path

    monkeypatch.setenv("GANSUITE_CACHE", str(tmp_path / "cache"))
    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), random_array(9, 11))
    runner = CliRunner()
    if shipped_weights_path("ped2").is_file():  # was 'internal error: FileNotFoundError: ped2'
        result = runner.invoke(main, ["upscale", str(source), "--model", "ped2", "--engine", "onnxruntime"])
        assert result.exit_code == 1 and "internal error" not in result.output, result.output
        assert "--model ped2 is a next-frame predictor, not an upscaler" in result.output
    _, predictor = _exported(tmp_path, "unet-rgb")
    with pytest.raises(CheckpointError, match="a next-frame predictor exported by gansuite, not an upscaler"):
        OnnxUpscaleModel(predictor)
    _, upscaler = _exported(tmp_path, "compact-x4")
    result = runner.invoke(main, ["upscale", str(source), "--model", str(upscaler), "--engine", "torch"])
    assert result.exit_code == 1 and "add --engine onnxruntime" in result.output, result.output


def test_a_third_party_model_file_exports_and_runs_in_onnxruntime_like_torch(tmp_path: Path, monkeypatch) -> None:
    """`upscale --engine torch` runs spandrel files; export and the onnxruntime engine refused them misleadingly."""
    pytest.importorskip("spandrel")
    from test_model_files import compact_state

    monkeypatch.setenv("GANSUITE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GANSUITE_CACHE_DIR", str(tmp_path / "probe-cache"))
    model = tmp_path / "tiny_compact_x2.pth"
    torch.save(compact_state(scale=2, seed=1), model)
    runner = CliRunner()
    result = runner.invoke(main, ["export", "onnx", "--model", str(model), "-o", str(tmp_path / "c.onnx")])
    assert result.exit_code == 0, result.output
    assert float(result.output.split("= ")[1].split(" ")[0]) <= 1e-4
    assert json.loads(read_onnx_metadata(tmp_path / "c.onnx")["gansuite_card"])["architecture"] == "RealESRGAN Compact"
    source = tmp_path / "in" / "photo.png"
    source.parent.mkdir()
    cv2.imwrite(str(source), random_array(21, 27, channels=4, dtype=np.uint16))
    for engine, tile, folder in (("onnxruntime", "16", "ort"), ("torch", "0", "torch")):
        result = runner.invoke(main, ["upscale", str(source), "-o", str(tmp_path / folder), "--model", str(model),
                                      "--engine", engine, "--tile", tile, "--device", "cpu"])
        assert result.exit_code == 0, result.output
    onnx_out = cv2.imread(str(tmp_path / "ort" / "photo_x2.png"), cv2.IMREAD_UNCHANGED)
    torch_out = cv2.imread(str(tmp_path / "torch" / "photo_x2.png"), cv2.IMREAD_UNCHANGED)
    assert onnx_out.shape == (42, 54, 4) and onnx_out.dtype == np.uint16
    assert np.abs(onnx_out.astype(int) - torch_out.astype(int)).max() <= 2


class _WidthBakedIn(torch.nn.Module):
    """x2 whose values depend on the width through a Python float: the trace fixes the traced width."""

    scale, receptive_radius = 2, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.interpolate(x, scale_factor=2.0) * (float(x.shape[-1]) / 29.0)


def test_a_graph_that_traces_unfaithfully_is_refused_and_removed(tmp_path: Path) -> None:
    from gansuite.deploy.onnx import ExportableModel

    exportable = ExportableModel(module=_WidthBakedIn(), kind="upscale", name="baked", source=None)
    with pytest.raises(CheckpointError, match=r"baked: the exported graph differs from torch by .* does not trace"):
        export_onnx(exportable, tmp_path / "baked.onnx")
    assert not (tmp_path / "baked.onnx").exists()


def test_realism_for_a_predictor_and_a_file_that_is_no_weights_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--realism blends an upscaler with its GAN twin; ped2 is a next-frame"):
        load_exportable("ped2", realism=0.5)  # was exported without a word about --realism
    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), random_array(4, 4))
    with pytest.raises(CheckpointError, match=r"photo\.png is not a readable safetensors file \(it starts with "
                                              r"b'\\x89PNG.*give gansuite \.safetensors weights"):
        load_exportable(image)  # was 'not a readable safetensors file (... header too large)'
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty\.safetensors: the file is empty \(0 bytes\), not model weights; "
                                              r"give gansuite weights or an SR model file"):
        load_exportable(empty)  # a .safetensors that is no gansuite file goes to the third-party reader


class _Unexportable(torch.nn.Module):
    """x2 with an op the ONNX exporter has no symbolic for (a third-party network may hold one)."""

    scale, receptive_radius = 2, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.interpolate(torch.special.bessel_j0(x), scale_factor=2.0)


def test_a_network_torch_cannot_export_is_one_line_naming_the_op(tmp_path: Path) -> None:
    from gansuite.deploy.onnx import ExportableModel
    from gansuite.errors import NotAvailableError

    exportable = ExportableModel(module=_Unexportable(), kind="upscale", name="odd", source=None)
    with pytest.raises(NotAvailableError, match=r"odd: torch cannot export this network to ONNX at opset 17 "
                                                r"\(.*bessel_j0.*\); run it with PyTorch") as caught:
        export_onnx(exportable, tmp_path / "odd.onnx")  # was 'internal error: UnsupportedOperatorError'
    assert "\n" not in str(caught.value) and not (tmp_path / "odd.onnx").exists()
