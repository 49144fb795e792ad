"""Tests of the speed benchmark: MAC counting, spec parsing, report shape, the CLI, errors.

Timings are never asserted beyond being positive: speed is measured by benchmarks, not tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from gansuite.bench import _speed_models
from gansuite.bench.manifest import file_sha256
from gansuite.bench.speed import (
    SpeedModel,
    count_macs,
    macs_per_output_pixel,
    measure_training,
    parse_arch,
    parse_precisions,
    resolve_speed_models,
    run_speed_benchmark,
)
from gansuite.cli import main
from gansuite.core.checkpoint import export_weights
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.errors import CheckpointError, ConfigError, UnknownNameError

TINY = "compact:scale=2,channels=4,num_convs=1"


def test_count_macs_matches_a_hand_computed_stack() -> None:
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),  # out (2, 8, 10, 10) = 1600 × 3 × 9 = 43200
        nn.ReLU(),
        nn.Conv2d(8, 6, 1),  # out (2, 6, 10, 10) = 1200 × 8 × 1 = 9600
        nn.Conv2d(6, 4, 3, stride=2, padding=1, groups=2),  # out (2, 4, 5, 5) = 200 × 3 × 9 = 5400
        nn.Flatten(),
        nn.Linear(100, 10),  # out (2, 10) = 20 × 100 = 2000
    )
    assert count_macs(net, torch.rand(2, 3, 10, 10)) == 43200 + 9600 + 5400 + 2000
    assert count_macs(net.to("meta"), torch.empty(2, 3, 10, 10, device="meta")) == 60200
    assert not any(module._forward_hooks for module in net.modules())  # hooks are removed


def test_macs_per_output_pixel_of_a_compact_generator() -> None:
    model = build_network(parse_arch(TINY))
    # per LR pixel: 3→4 (108) + 4→4 (144) + 4→12 (432) = 684, over 2x2 output pixels
    assert macs_per_output_pixel(model, 16, 12) == 684 / 4
    assert next(model.parameters()).device.type == "cpu"  # counted on a meta copy


def test_parse_arch_and_precisions() -> None:
    spec = parse_arch("compact:scale=4, channels=48,num_convs=16,activation=lrelu")
    assert spec == NetworkSpec("generator", "compact", {"scale": 4, "channels": 48, "num_convs": 16,
                                                        "activation": "lrelu"})
    assert parse_arch("srresnet").kwargs == {}
    assert parse_precisions("fp32, bf16,fp32") == ("fp32", "bf16")
    with pytest.raises(ConfigError, match=r"--precision 'fp32,fp8'.*fp32, fp16, bf16"):
        parse_precisions("fp32,fp8")
    with pytest.raises(ConfigError, match="not key=value"):
        parse_arch("compact:scale")
    with pytest.raises(ConfigError, match="given twice"):
        parse_arch("compact:scale=2,scale=4")


def test_unknown_arch_and_bad_arguments_name_the_flag() -> None:
    with pytest.raises(UnknownNameError, match=r"--arch 'compcat:scale=2'.*did you mean 'compact'"):
        resolve_speed_models(archs=["compcat:scale=2"])
    with pytest.raises(ConfigError, match=r"--arch 'compact:scale=5'.*scale 5"):
        resolve_speed_models(archs=["compact:scale=5"])
    with pytest.raises(CheckpointError, match=r"--model 'missing\.safetensors'"):
        resolve_speed_models(models=["missing.safetensors"])


def test_a_third_party_model_file_is_refused_naming_the_flag_and_where_its_speed_is(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    peer = tmp_path / "RealESRGAN_x4plus.safetensors"
    save_file({"conv_first.weight": torch.zeros(4, 3, 3, 3)}, str(peer))  # basicsr key names, no gansuite spec
    with pytest.raises(CheckpointError, match=r"--model: .*RealESRGAN_x4plus\.safetensors .*not exported by "
                       r"gansuite; .* s/MP column of `gansuite benchmark sr --method "):
        resolve_speed_models(models=[str(peer)])


def test_no_shipped_weights_and_no_models_says_what_to_give(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_speed_models, "shipped_weights_path", lambda name: tmp_path / f"{name}.safetensors")
    with pytest.raises(ConfigError, match="--arch"):
        resolve_speed_models()


def test_report_shape_json_and_markdown(tmp_path: Path) -> None:
    weights = export_weights(tmp_path / "tiny_x2.safetensors", build_network(parse_arch(TINY)))
    report = run_speed_benchmark(
        [str(weights)], [TINY], device="cpu", size=16, repeats=1, warmup=0, training=False, isolate_memory=False
    )
    data = json.loads(report.to_json())
    assert set(data) == {"manifest", "inference", "training"}
    assert data["training"] == []
    protocol = data["manifest"]["protocol"]
    assert protocol["input_size"] == [16, 16] and protocol["statistic"] == "median" and protocol["repeats"] == 1
    assert {"threads", "warmup", "channels_last"} <= set(protocol)
    assert data["manifest"]["models"]["tiny_x2"]["sha256"] == file_sha256(weights)
    assert [row["model"] for row in data["inference"]] == ["tiny_x2", TINY]
    row = data["inference"][0]
    assert {"output_megapixels_per_s", "peak_memory_mib", "macs_per_pixel", "conv_peak_gmacs", "achieved_gmacs",
            "peak_fraction"} <= set(row)
    assert row["output_megapixels_per_s"] > 0 and row["peak_fraction"] > 0 and row["macs_per_pixel"] == 171
    assert row["peak_memory_mib"] is None  # only measured in a fresh process
    assert report.to_markdown().splitlines()[2].startswith("| Model | Device | Precision | Output MP/s |")


def test_cli_end_to_end_on_the_cpu(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    args = ["benchmark", "speed", "--arch", TINY, "--size", "32", "--repeats", "1", "--warmup", "0",
            "--no-training", "--device", "cpu", "--json", str(out), "--markdown", str(tmp_path / "speed.md")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    (row,) = data["inference"]
    assert row["device"] == "cpu" and row["precision"] == "fp32" and row["output_megapixels_per_s"] > 0
    assert row["peak_memory_mib"] >= row["baseline_memory_mib"] > 0  # from the spawned child
    assert "| Model | Device |" in (tmp_path / "speed.md").read_text()


def test_training_step_rate_is_positive_and_amp_is_cuda_only() -> None:
    model = SpeedModel(TINY, parse_arch(TINY))
    row = measure_training(model, device=torch.device("cpu"), batch_size=1, patch_size=16, warmup=0, steps=1)
    assert row.iterations_per_s > 0 and row.images_per_s > 0 and row.content_losses == "l1"
    with pytest.raises(ConfigError, match="--train-patch 12"):
        measure_training(model, device=torch.device("cpu"), patch_size=12, steps=1)
    with pytest.raises(ConfigError, match="needs CUDA"):
        measure_training(model, device=torch.device("cpu"), precision="bf16", patch_size=16, steps=1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--precision", "fp8"], "--precision 'fp8'"),
        (["--precision", "fp16", "--device", "cpu"], "nothing runs on cpu"),
        (["--arch", "nosuchnet"], "unknown generator 'nosuchnet'"),
    ],
)
def test_cli_errors_are_one_line(extra: list[str], message: str) -> None:
    args = ["benchmark", "speed", "--arch", TINY, "--no-training", "--size", "16", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
