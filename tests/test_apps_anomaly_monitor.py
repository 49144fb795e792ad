"""gansuite/apps/anomaly_monitor.py (`gansuite monitor` as a script): JSON lines per frame, an alert at a change."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from _predict_helpers import (
    copy_last_model,
    moving_square,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
)
from click.testing import CliRunner

from gansuite.core.checkpoint import export_weights
from gansuite.io.video import write_video

_APP = Path(__file__).resolve().parents[1] / "gansuite" / "apps" / "anomaly_monitor.py"


@pytest.fixture(scope="module")
def monitor():
    spec = importlib.util.spec_from_file_location("anomaly_monitor", _APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calibrated(tmp_path: Path) -> tuple[Path, Path]:
    """A copy-last model and its calibration on three normal moving-square videos."""
    from gansuite.cli import main as gansuite_main

    model = export_weights(tmp_path / "copy.safetensors", copy_last_model(context=2), card={"task": "predict"})
    normal = tmp_path / "normal"
    normal.mkdir()
    for i in range(3):
        write_video(normal / f"{i}.mkv", moving_square(16 + 4 * i, 24, 32), 10.0)
    result = CliRunner().invoke(gansuite_main, ["calibrate", str(normal), "--out", str(tmp_path / "cal.json"),
                                                "--model", str(model), "--patch-size", "8", "--smoothing", "1",
                                                "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return model, tmp_path / "cal.json"


def test_scores_every_frame_and_alerts_at_a_cut(monitor, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, calibration = _calibrated(tmp_path)
    clip = moving_square(16, 24, 32)
    clip[10] = 1.0 - clip[10]  # one inverted frame: copy-last mispredicts it and the frame after
    video = write_video(tmp_path / "clip.mkv", clip, 10.0)
    code = monitor.main([str(video), "--model", str(model), "--calibration", str(calibration), "--device", "cpu"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    frames = [line for line in lines if "event" not in line]
    assert [line["frame"] for line in frames] == list(range(16))
    scores = {line["frame"]: line["score"] for line in frames if line["score"] is not None}
    assert sorted(scores) == list(range(2, 16)) and max(scores, key=scores.get) in (10, 11)
    assert {line["frame"] for line in frames if line["alert"]} <= {10, 11} and frames[10]["alert"]
    assert [line["event"] for line in lines if "event" in line][:2] == ["alert_start", "alert_end"]
    assert np.isfinite([line["psnr"] for line in frames if line["score"] is not None]).all()


def test_a_source_that_cannot_be_opened_is_one_error_line(
    monitor, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, calibration = _calibrated(tmp_path)
    code = monitor.main([str(tmp_path / "missing.mp4"), "--model", str(model), "--calibration", str(calibration),
                         "--device", "cpu"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "missing.mp4" in err[0]


def test_outputs_that_cannot_be_written_fail_before_any_frame_is_scored(tmp_path: Path) -> None:
    from gansuite.cli import main as gansuite_main

    model, calibration = _calibrated(tmp_path)
    video = write_video(tmp_path / "clip.mkv", moving_square(8, 24, 32), 10.0)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder would go")
    common = [str(video), "--model", str(model), "--calibration", str(calibration), "--device", "cpu"]
    for extra, named in (
        (["--report", str(blocker / "report")], "--report"),
        (["--video", str(tmp_path / "missing" / "overlay.mp4")], "overlay.mp4"),
    ):
        result = CliRunner().invoke(gansuite_main, ["monitor", *common, *extra])
        assert result.exit_code == 1 and named in result.output
        assert '"frame"' not in result.output  # no frame was scored
    result = CliRunner().invoke(gansuite_main, ["calibrate", str(tmp_path / "clip.mkv"), "--out",
                                                str(tmp_path / "missing" / "cal.json"), "--model", str(model)])
    assert result.exit_code == 1 and "cal.json" in result.output and "normal frames" not in result.output


def test_the_report_files_are_complete(tmp_path: Path) -> None:
    from gansuite.cli import main as gansuite_main

    model, calibration = _calibrated(tmp_path)
    video = write_video(tmp_path / "clip.mkv", moving_square(12, 24, 32), 10.0)
    result = CliRunner().invoke(gansuite_main, ["monitor", str(video), "--model", str(model), "--calibration",
                                                str(calibration), "--device", "cpu", "--quiet", "--report",
                                                str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert names == ["report.md", "scores.jsonl", "scores.png", "summary.json"]  # no temporary file left behind
    assert json.loads((tmp_path / "report" / "summary.json").read_text())["frames"] == 12
    assert len((tmp_path / "report" / "scores.jsonl").read_text().splitlines()) == 12
