"""`gansuite predict-frames` on a synthetic clip with a tiny exported model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _predict_helpers import (
    export_tiny,
    moving_square,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
    write_clip_folder,
    write_clip_video,
)
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.io.video import probe_video, read_video, write_video


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_tiny(tmp_path_factory.mktemp("model") / "tiny.safetensors", context=2, channels=3)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip_video(tmp_path / "clip.mkv", frames=10, height=24, width=32, fps=12.0)


def _run(*args: str) -> object:
    return CliRunner().invoke(main, ["predict-frames", *args])


def test_writes_the_predicted_frames_as_a_video_beside_the_clip(clip: Path, model: Path) -> None:
    result = _run(str(clip), "--model", str(model), "--future", "3")
    assert result.exit_code == 0, result.output
    output = clip.parent / "clip_predicted.mp4"
    info = probe_video(output)
    assert (info.frame_count, info.width, info.height) == (3, 32, 24)
    assert abs(info.fps - 12.0) < 0.01
    assert "after frames 8..9 of 10" in result.output  # the clip's last two frames are the context


def test_side_by_side_frames_dir_and_start(clip: Path, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "sbs.avi"
    frames = tmp_path / "pngs"
    result = _run(str(clip), "--model", str(model), "--future", "2", "--start", "1", "--side-by-side",
                  "--frames-dir", str(frames), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["start"] == 1
    video = read_video(out)
    assert video.frames.shape == (2, 24, 3 * 32, 3)
    assert sorted(p.name for p in frames.iterdir()) == ["000000.png", "000001.png"]


def test_frame_folder_input(tmp_path: Path, model: Path) -> None:
    folder = write_clip_folder(tmp_path / "frames", frames=6)
    result = _run(str(folder), "--model", str(model), "--future", "1")
    assert result.exit_code == 0, result.output
    assert probe_video(tmp_path / "frames_predicted.mp4").frame_count == 1


def test_evaluate_json_reports_per_horizon_scores_and_the_baseline(clip: Path, model: Path, tmp_path: Path) -> None:
    result = _run(str(clip), "--model", str(model), "--future", "2", "--evaluate", "--json", "--stride", "3",
                  "--backbones", str(tmp_path / "no-backbones"), "-o", str(tmp_path / "e.mp4"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["windows"] == 3  # starts 0, 3, 6 of windows of 4 frames in 10
    rows = report["per_horizon"]
    assert [row["step"] for row in rows] == [1, 2]
    keys = {"step", "psnr", "ssim", "lpips", "baseline_psnr", "baseline_ssim", "baseline_lpips",
            "flow_psnr", "flow_ssim", "flow_lpips"}
    assert set(rows[0]) == keys
    assert rows[0]["lpips"] is None and rows[0]["baseline_psnr"] > 20 and rows[0]["flow_psnr"] > 20
    assert "lpips reported as null" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_clip_that_cannot_be_read_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    from _video_helpers import make_audio_only

    missing = tmp_path / "never-loaded.safetensors"  # loading it would fail with another message
    (tmp_path / "empty").mkdir()
    for clip, message in ((make_audio_only(tmp_path / "speech.mp4"), "speech.mp4: the file has no video stream"),
                          (tmp_path / "nowhere.mp4", "nowhere.mp4: video file or frame folder does not exist"),
                          (tmp_path / "empty", "empty: folder holds no frame images")):
        result = _run(str(clip), "--model", str(missing))
        assert result.exit_code == 1 and message in result.output and "never-loaded" not in result.output, \
            result.output


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unreadable", "cannot open this as a video"),
        ("short", "clip has only 2 frames, need at least 3"),
        ("model", "neither a shipped name"),
        ("input", "is the input clip"),
    ],
)
def test_errors_are_one_line_and_leave_no_output(tmp_path: Path, model: Path, case: str, message: str) -> None:
    clip = tmp_path / "c.mkv"
    args = ["--model", str(model)]
    if case == "unreadable":
        clip.write_bytes(b"this is not a video")
    else:
        write_clip_video(clip, frames=2 if case == "short" else 6)
    if case == "model":
        args = ["--model", "no-such-model"]
    if case == "input":
        args += ["-o", str(clip)]
    result = _run(str(clip), *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mkv"]


def test_evaluate_with_the_alexnet_backbone(model: Path, tmp_path: Path, backbones_dir: Path) -> None:
    clip = write_clip_video(tmp_path / "large.mkv", frames=4, height=48, width=64)
    result = _run(str(clip), "--model", str(model), "--future", "1", "--start", "0", "--evaluate", "--json",
                  "--backbones", str(backbones_dir), "-o", str(tmp_path / "e.mp4"))
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["per_horizon"][0]
    assert 0.0 <= row["baseline_lpips"] < row["lpips"]


def test_an_existing_output_names_the_overwrite_flag_not_a_parameter(clip: Path, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken.mp4"
    out.write_bytes(b"old")
    result = _run(str(clip), "--model", str(model), "--future", "1", "-o", str(out))
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert f"-o {out} already exists: pass --overwrite" in result.output
    assert "overwrite=False" not in result.output and "allow overwriting" not in result.output
    assert out.read_bytes() == b"old"
    assert _run(str(clip), "--model", str(model), "--future", "1", "-o", str(out), "--overwrite").exit_code == 0


@pytest.mark.parametrize(
    ("future", "stride", "starts", "last_window"),
    [
        (2, 1, 7, ([6, 7], [8, 9])),  # windows of 2 + 2 frames start at 0..6: the last predicts the clip's end
        (4, 3, 2, ([3, 4], [5, 8])),  # 2 + 4 frames, starts 0 and 3 (6 would run past frame 9)
        (8, 1, 1, ([0, 1], [2, 9])),  # 2 + 8 frames: the only window starts at 0
    ],
)
def test_evaluate_reports_the_windows_it_scored_not_the_prediction_point(
    clip: Path, model: Path, tmp_path: Path, future: int, stride: int, starts: int, last_window: tuple
) -> None:
    args = [str(clip), "--model", str(model), "--future", str(future), "--stride", str(stride), "--evaluate",
            "--backbones", str(tmp_path / "no-backbones")]
    report = json.loads(_run(*args, "--json").stdout)
    assert report["start"] is None  # nothing was predicted past the clip: no -o, no --frames-dir
    assert report["windows"] == starts and report["window_stride"] == (stride if starts > 1 else None)
    assert report["first_window"] == {"context": [0, 1], "target": [2, 1 + future]}
    assert report["last_window"] == {"context": last_window[0], "target": last_window[1]}
    assert report["last_window"]["target"][1] <= report["clip_frames"] - 1 == 9  # every scored frame exists
    result = _run(*args)
    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[0]
    assert line.startswith(f"evaluated {starts} window{'s' if starts > 1 else ''} of the 10-frame clip")
    (a, b), (c, d) = last_window
    assert f"frames {a}..{b} predicting {c}..{d}, 32x24 at 12 fps (no video: -o not given)" in line
    assert "after frames 8..9" not in result.stdout  # the prediction point of a video that was not written


def test_evaluate_with_a_video_reports_both_the_video_and_the_windows(clip: Path, model: Path, tmp_path: Path) -> None:
    result = _run(str(clip), "--model", str(model), "--future", "2", "--evaluate", "--backbones",
                  str(tmp_path / "no-backbones"), "-o", str(tmp_path / "e.mp4"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"wrote {tmp_path / 'e.mp4'}: 2 predicted frames after frames 8..9 of 10, 32x24 at 12 fps"
    assert lines[1] == ("evaluated 7 windows of the 10-frame clip, one starting every frame: frames 0..1 predicting "
                        "2..3, through frames 6..7 predicting 8..9")


def test_a_gray_fixed_size_model_on_colour_footage_warns_once_and_runs(clip: Path, tmp_path: Path) -> None:
    # trained like the shipped mmnist: gray, on Moving MNIST's 64x64 canvas (its card records only the recipe)
    gray = export_tiny(tmp_path / "digits.safetensors", context=2, channels=1, card={"task": "predict",
                                                                                      "recipe": "mmnist"})
    result = _run(str(clip), "--model", str(gray), "--future", "2", "-o", str(tmp_path / "p.mp4"))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: model digits was trained on 64x64 gray frames, these are 32x24 colour: it runs at 32x24 and it "
        "sees only their luma and predicts gray frames; expect a poor prediction (the shipped natural model is "
        "trained on ordinary colour footage)"
    ]
    assert probe_video(tmp_path / "p.mp4").frame_count == 2  # it still ran
    # the same footage in gray at the trained size, and a colour model on colour footage: no warning
    square = tmp_path / "square.mkv"
    write_video(square, moving_square(6, 64, 64, channels=1), 10.0)
    quiet = _run(str(square), "--model", str(gray), "--future", "1", "-o", str(tmp_path / "q.mp4"))
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr, quiet.output
    # the size alone (a contrived colour model with the mmnist recipe in its card)
    colour = export_tiny(tmp_path / "colour.safetensors", context=2, channels=3, card={"task": "predict",
                                                                                        "recipe": "mmnist"})
    sized = _run(str(clip), "--model", str(colour), "--future", "1", "-o", str(tmp_path / "c.mp4"))
    assert sized.exit_code == 0 and "warning: model colour was trained on 64x64 frames, these are 32x24: it runs " \
        "at 32x24; expect a poor prediction" in sized.stderr


@pytest.fixture(scope="module")
def gray_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gray, with the Moving MNIST recipe in its card: it warns on the colour clip, once the clip is usable."""
    return export_tiny(tmp_path_factory.mktemp("gray") / "digits.safetensors", context=2, channels=1,
                       card={"task": "predict", "recipe": "mmnist"})


@pytest.mark.parametrize(
    ("frames", "args", "message"),
    [
        (2, ["--evaluate"], "clip has only 2 frames, need at least 3 (2 context + 1)"),
        (1, [], "clip has only 1 frame, need at least 3 (2 context + 1)"),
        (10, ["--start", "20"],
         "--start 20 is past the end of the clip: the clip has 10 frames (0..9); --start can be at most 8"),
        (10, ["--start", "9"],
         "--start 9 leaves 1 frame of the 2 context frames the model needs: the clip has 10 frames (0..9); "
         "--start can be at most 8"),
        (10, ["--evaluate", "--start", "5", "--future", "4"],
         "--evaluate from --start 5 needs frames 5..10 (2 context + --future 4), but the clip has 10 frames (0..9): "
         "use --start 4 or less or --future 3 or less"),
        (10, ["--evaluate", "--start", "7", "--future", "9"],
         "--evaluate from --start 7 needs frames 7..17 (2 context + --future 9), but the clip has 10 frames (0..9): "
         "use --future 1 or less"),
        (10, ["--evaluate", "--future", "9"],
         "--evaluate needs windows of 11 frames (2 context + --future 9), but the clip has 10 frames (0..9): use "
         "--future 8 or less"),
    ],
)
def test_a_bad_clip_is_one_error_line_naming_the_flag_and_the_clip_length(
    tmp_path: Path, gray_model: Path, frames: int, args: list[str], message: str
) -> None:
    clip = write_clip_video(tmp_path / "c.mkv", frames=frames)  # colour: the gray model would warn
    result = _run(str(clip), "--model", str(gray_model), "--backbones", str(tmp_path / "no-backbones"), *args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {clip}: {message}"]  # no warning, no LPIPS note
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mkv"]


def test_a_negative_start_names_the_flag(clip: Path, model: Path) -> None:
    result = _run(str(clip), "--model", str(model), "--start", "-1")
    assert result.exit_code == 2 and "Invalid value for '--start': -1 is not in the range x>=0" in result.output


def test_notes_and_warnings_follow_the_checks_and_notes_follow_the_result(
    tmp_path: Path, gray_model: Path
) -> None:
    clip = write_clip_video(tmp_path / "c.mkv", frames=10)
    result = _run(str(clip), "--model", str(gray_model), "--future", "1", "--evaluate", "--backbones",
                  str(tmp_path / "no-backbones"), "-o", str(tmp_path / "p.mp4"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("warning: model digits was trained on 64x64 gray frames")
    assert lines[1] == f"wrote {tmp_path / 'p.mp4'}: 1 predicted frame after frames 8..9 of 10, 32x24 at 10 fps"
    assert lines[2] == ("evaluated 8 windows of the 10-frame clip, one starting every frame: frames 0..1 predicting 2, "
                        "through frames 7..8 predicting 9")
    assert lines[3].startswith("  t+1: PSNR")
    assert lines[4].startswith("note: lpips reported as null") and len(lines) == 5
