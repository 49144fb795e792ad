"""The command line: commands listed, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.errors import ConfigError


def test_help_lists_the_six_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("upscale", "predict-frames", "train", "benchmark", "demo", "info"):
        assert f"  {command} " in result.output


def test_info_runs_and_reports_devices_and_sources() -> None:
    result = CliRunner().invoke(main, ["info", "--json"])
    assert result.exit_code == 0
    details = json.loads(result.output)
    assert details["versions"]["torch"] and "cuda_available" in details["device"]
    assert set(details["backbones"]) >= {"vgg16", "alexnet"}


def test_predict_frames_errors_are_one_line(tmp_path) -> None:
    # without shipped weights: "not included in this build"; with them: the clip does not exist
    result = CliRunner().invoke(main, ["predict-frames", str(tmp_path / "clip.mp4")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "clip_predicted.mp4").exists()


def test_demo_toy_json(tmp_path) -> None:
    plot = tmp_path / "toy.png"
    result = CliRunner().invoke(main, ["demo", "toy", "--json", "--steps", "60", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)
    assert set(values) == {"data_spread", "mse_spread", "gan_spread"}
    assert plot.is_file()


def test_bad_option_names_the_flag() -> None:
    result = CliRunner().invoke(main, ["demo", "toy", "--steps", "3"])
    assert result.exit_code == 2
    assert "--steps" in result.output


def test_help_texts_list_exactly_the_shipped_upscalers() -> None:
    from gansuite.cli._base import SHIPPED_UPSCALERS
    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

    present = {name for name in SHIPPED_WEIGHTS if shipped_weights_path(name).exists()}
    assert set(SHIPPED_UPSCALERS.split(", ")) == present
    result = CliRunner().invoke(main, ["upscale", "--help"])
    assert "x4-real" in result.output


def test_a_closed_output_pipe_ends_quietly() -> None:
    """`gansuite monitor ... | head`: the reader leaving is not an internal error."""
    from gansuite.cli._base import Group

    group = Group("g")

    @group.command("flood")
    def flood() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    result = CliRunner().invoke(group, ["flood"])
    assert result.exit_code == 141 and "internal error" not in result.output, result.output


def test_a_closed_pipe_in_a_real_process(tmp_path) -> None:
    import subprocess
    import sys

    code = ("from gansuite.cli._base import Group\ng = Group('g')\n@g.command('flood')\ndef flood():\n"
            "    for _ in range(100000):\n        print('x' * 100)\ng(['flood'])\n")
    shell = f"{sys.executable} -c \"{code}\" | head -c 10"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, timeout=60)
    assert done.stdout == "x" * 10 and "Error" not in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("command", [
    ["benchmark", "sr", "--method", "bicubic", "--dataset", "set=HR", "--no-lpips"],
    ["benchmark", "predict", "--mnist", "."],
    ["benchmark", "speed", "--arch", "compact"],
    ["benchmark", "video-sr", "--method", "bicubic", "--clip", ".", "--no-lpips"],
])
def test_benchmark_report_paths_are_checked_before_the_benchmark_runs(
    tmp_path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    for module, name in [("sr", "run_sr_benchmark"), ("predict", "run_predict_benchmark"),
                         ("speed", "run_speed_benchmark"), ("video_sr", "run_video_sr_benchmark")]:
        monkeypatch.setattr(f"gansuite.bench.{module}.{name}", lambda *a, **k: pytest.fail("benchmark ran first"))
    missing = tmp_path / "no-such-folder" / "report.json"
    result = CliRunner().invoke(main, [*command, "--json", str(missing)])
    assert result.exit_code == 1 and "internal error" not in result.output
    assert f"--json {missing}: output folder {missing.parent} does not exist" in result.output
    same = tmp_path / "report.md"
    result = CliRunner().invoke(main, [*command, "--json", str(same), "--markdown", str(same)])
    assert result.exit_code == 1
    assert "--json and --markdown both name" in result.output
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"not a report")
    result = CliRunner().invoke(main, [*command, "--json", str(photo)])
    assert result.exit_code == 1 and photo.read_bytes() == b"not a report"  # was replaced by the JSON report
    assert f"--json {photo} already exists and is not a .json report" in result.output
    earlier = tmp_path / "earlier.md"
    earlier.write_text("| old |")
    for module, name in [("sr", "run_sr_benchmark"), ("predict", "run_predict_benchmark"),
                         ("speed", "run_speed_benchmark"), ("video_sr", "run_video_sr_benchmark")]:
        monkeypatch.setattr(f"gansuite.bench.{module}.{name}", _reached)
    result = CliRunner().invoke(main, [*command, "--markdown", str(earlier)])
    assert "benchmark reached" in result.output  # a rerun replaces its own report: no refusal before the run


def _reached(*args: object, **kwargs: object) -> None:
    raise ConfigError("benchmark reached")


def test_benchmark_anomaly_calibration_out_is_checked_before_the_benchmark_runs(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gansuite.bench.anomaly_causal.run_causal_anomaly_benchmark",
                        lambda *a, **k: pytest.fail("benchmark ran first"))
    labels = tmp_path / "labels.npy"
    labels.write_bytes(b"")
    missing = tmp_path / "no-such-folder" / "cam.json"
    result = CliRunner().invoke(main, [
        "benchmark", "anomaly", "--frames", str(tmp_path), "--labels", str(labels),
        "--calibration-frames", str(tmp_path), "--calibration-out", str(missing),
    ])
    assert result.exit_code == 1
    assert f"--calibration-out {missing}: output folder {missing.parent} does not exist" in result.output


@pytest.mark.parametrize("args", [
    ["demo", "toy", "--steps", "50", "--seed", "-1"],
    ["demo", "generate", "--n", "1", "--seed", "99999999999999999999"],
    ["demo", "crypto", "--seeds", "1", "--steps", "100", "--first-seed", "99999999999999999999"],
    ["benchmark", "sr", "--seed", "-5"],
    ["train", "teacher-pairs", "--seed", "4294967296"],
])
def test_a_seed_out_of_range_is_a_usage_error_before_any_work(args: list[str], tmp_path, monkeypatch) -> None:
    """Was 'internal error: ValueError: Overflow when unpacking long long' (or 'expected non-negative integer')."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    flag = "--first-seed" if "--first-seed" in args else "--seed"
    assert f"Invalid value for '{flag}'" in result.output and "0<=x<=4294967295" in result.output
    assert "internal error" not in result.output and list(tmp_path.iterdir()) == []
