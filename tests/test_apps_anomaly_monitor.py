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
from gansuite.io.video import write_frames, write_video

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


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _calibrated(tmp_path_factory.mktemp("calibrated"))


def _monitor(calibrated: tuple[Path, Path], source: Path, *extra: str):
    from gansuite.cli import main as gansuite_main

    model, calibration = calibrated
    return CliRunner().invoke(gansuite_main, ["monitor", str(source), "--model", str(model), "--calibration",
                                              str(calibration), "--device", "cpu", *extra])


def _refused(result, *named: str) -> None:
    """Exit 1, one error line naming `named`, and not a frame scored."""
    assert result.exit_code == 1, result.output
    assert len(result.output.strip().splitlines()) == 1 and all(name in result.output for name in named)
    assert '"frame"' not in result.output and "Traceback" not in result.output


def test_the_video_is_never_written_over_the_input(calibrated: tuple[Path, Path], tmp_path: Path) -> None:
    clip = write_video(tmp_path / "clip.mkv", moving_square(8, 24, 32), 10.0)
    before = clip.read_bytes()
    (tmp_path / "sub").mkdir()
    for spelling in (clip, tmp_path / "sub" / ".." / "clip.mkv"):
        for overwrite in ((), ("--overwrite",)):
            _refused(_monitor(calibrated, clip, "--video", str(spelling), "--max-frames", "6", *overwrite),
                     "--video", "clip.mkv", "is the input clip")
    assert clip.read_bytes() == before


def test_no_output_goes_into_the_input_frame_folder(calibrated: tuple[Path, Path], tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    write_frames(folder, moving_square(8, 24, 32))
    names = sorted(p.name for p in folder.iterdir())
    (tmp_path / "link").symlink_to(folder)  # the same folder under another name
    for flag, target in (("--report", folder), ("--report", tmp_path / "link"), ("--report", folder / "rep"),
                         ("--video", folder / "overlay.mp4"), ("--video", tmp_path / "link" / "overlay.mp4")):
        _refused(_monitor(calibrated, folder, flag, str(target)), flag, "input clip's frame folder")
    _refused(_monitor(calibrated, folder, "--report", str(folder), "--overwrite"), "--report")  # --overwrite or not
    assert sorted(p.name for p in folder.iterdir()) == names  # no report file among the frames, no folder made
    assert _monitor(calibrated, folder, "--quiet", "--report", str(tmp_path / "report")).exit_code == 0  # beside it


def test_existing_outputs_are_replaced_only_with_overwrite(calibrated: tuple[Path, Path], tmp_path: Path) -> None:
    clip = write_video(tmp_path / "clip.mkv", moving_square(10, 24, 32), 10.0)
    video, report = tmp_path / "overlay.mkv", tmp_path / "report"
    report.mkdir()  # an existing empty folder is fine
    first = _monitor(calibrated, clip, "--quiet", "--video", str(video), "--report", str(report), "--max-frames", "6")
    assert first.exit_code == 0, first.output
    kept = {path: path.read_bytes() for path in (video, *report.iterdir())}
    _refused(_monitor(calibrated, clip, "--quiet", "--video", str(video)), "--video", "overlay.mkv", "--overwrite")
    _refused(_monitor(calibrated, clip, "--quiet", "--report", str(report)), "--report", str(report), "--overwrite",
             "summary.json")
    assert {path: path.read_bytes() for path in kept} == kept
    again = _monitor(calibrated, clip, "--quiet", "--video", str(video), "--report", str(report), "--overwrite")
    assert again.exit_code == 0, again.output
    assert json.loads((report / "summary.json").read_text())["frames"] == 10 and video.read_bytes() != kept[video]
    assert sorted(p.name for p in report.iterdir()) == ["report.md", "scores.jsonl", "scores.png", "summary.json"]


def test_every_frame_line_has_the_same_keys(calibrated: tuple[Path, Path], tmp_path: Path) -> None:
    clip = write_video(tmp_path / "clip.mkv", moving_square(6, 24, 32), 10.0)
    result = _monitor(calibrated, clip, "--report", str(tmp_path / "report"))
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    saved = [json.loads(line) for line in (tmp_path / "report" / "scores.jsonl").read_text().splitlines()]
    for frames in ([line for line in printed if "event" not in line], saved):
        assert len(frames) == 6
        assert all(list(line) == ["frame", "score", "threshold", "alert", "psnr", "patch_psnr", "motion"]
                   for line in frames)
        assert [line["psnr"] is None for line in frames] == [True, True, False, False, False, False]  # k = 2
        assert all(line["patch_psnr"] is None and line["motion"] is None for line in frames[:2])
