"""`predict-frames` outputs and checks: frames-dir safety, evaluation without a video, truncated clips,
--future bound, model-card sizes, LPIPS offline note, H.264 output, odd sizes kept."""

from __future__ import annotations

import json
import re
import socket
import warnings
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from _predict_helpers import (
    export_tiny,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
    write_clip_folder,
    write_clip_video,
)
from _video_helpers import make_clip, stream_summary
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.cli._base import lpips_or_note
from gansuite.errors import ConfigError, InputVideoError
from gansuite.io.video import read_video
from gansuite.tasks.predict.clip_prediction import predict_clip_file
from gansuite.tasks.predict.evaluation import HorizonAccumulator
from gansuite.tasks.predict.predictor import FramePredictor


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_tiny(tmp_path_factory.mktemp("model") / "tiny.safetensors", context=2, channels=3)


def _run(*args: str) -> object:
    return CliRunner().invoke(main, ["predict-frames", *args])


def test_frames_dir_never_the_input_folder(tmp_path: Path, model: Path) -> None:
    folder = write_clip_folder(tmp_path / "clip", frames=6)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = _run(str(folder), "--model", str(model), "--frames-dir", str(folder), "--overwrite", "-o",
                  str(tmp_path / "o.mp4"))
    assert result.exit_code == 1
    assert "--frames-dir" in result.output and "is the input clip's frame folder" in result.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert not (tmp_path / "o.mp4").exists()


def test_outputs_inside_the_input_frame_folder_are_refused(tmp_path: Path, model: Path) -> None:
    """A frame folder holds only its frames (as monitor and calibrate): -o and --frames-dir go outside it."""
    folder = write_clip_folder(tmp_path / "clip", frames=6)
    before = sorted(p.name for p in folder.iterdir())
    for args, flag in ((["-o", str(folder / "o.mp4")], "-o"), (["--frames-dir", str(folder / "pngs")], "--frames-dir")):
        result = _run(str(folder), "--model", str(model), *args)
        assert result.exit_code == 1, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith(f"Error: {flag} {folder}") and f"inside the input clip's frame folder {folder}" in line
    assert sorted(p.name for p in folder.iterdir()) == before


def test_frames_dir_obeys_overwrite_and_keeps_no_stale_frames(tmp_path: Path, model: Path) -> None:
    clip = write_clip_video(tmp_path / "clip.mkv", frames=8)
    frames = tmp_path / "pngs"
    first = _run(str(clip), "--model", str(model), "--future", "4", "--frames-dir", str(frames))
    assert first.exit_code == 0, first.output
    assert len(list(frames.iterdir())) == 4
    again = _run(str(clip), "--model", str(model), "--future", "2", "--frames-dir", str(frames), "-o",
                 str(tmp_path / "b.mp4"))
    assert again.exit_code == 1 and "already holds 4 frames" in again.output and "--overwrite" in again.output
    replaced = _run(str(clip), "--model", str(model), "--future", "2", "--frames-dir", str(frames), "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert sorted(p.name for p in frames.iterdir()) == ["000000.png", "000001.png"]  # no stale 000002/000003


def test_evaluate_without_output_writes_no_video(tmp_path: Path, model: Path) -> None:
    clip = write_clip_video(tmp_path / "clip.mkv", frames=8)
    for _ in range(2):  # a rerun neither fails nor litters
        result = _run(str(clip), "--model", str(model), "--future", "2", "--evaluate", "--json", "--backbones",
                      str(tmp_path / "none"))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["output"] is None
        assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mkv"]


def _truncated_clip(clip: Path) -> Path:
    """A 30-frame MP4 whose container promises 30 frames but whose data after the 16th packet is zeroed."""
    make_clip(clip, frames=30, audio=False, faststart=True)
    with av.open(str(clip)) as container:
        cut = [p.pos for p in container.demux(video=0) if p.size][15]
    data = bytearray(clip.read_bytes())
    data[cut:] = bytes(len(data) - cut)
    clip.write_bytes(bytes(data))
    return clip


def test_truncated_clip_gives_one_warning_line(tmp_path: Path, model: Path) -> None:
    clip = _truncated_clip(tmp_path / "tail.mp4")
    result = _run(str(clip), "--model", str(model), "--future", "1", "-o", str(tmp_path / "p.mp4"))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "of the 30 frames the container promises" in warnings[0]


def test_a_truncated_clip_too_short_for_start_is_one_error_line_that_says_so(tmp_path: Path, model: Path) -> None:
    clip = _truncated_clip(tmp_path / "tail.mp4")
    result = _run(str(clip), "--model", str(model), "--future", "1", "--start", "25", "-o", str(tmp_path / "p.mp4"))
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()  # the reader's warning is in the error, not a line before it
    assert re.fullmatch(
        rf"Error: {re.escape(str(clip))}: --start 25 is past the end of the clip: the clip has (\d+) frames "
        r"\(0\.\.\d+\); --start can be at most \d+ \(reading it: read \1 of the 30 frames the container promises.*\)",
        line,
    ), line
    assert not (tmp_path / "p.mp4").exists()


def test_options_are_refused_by_flag_with_the_value(tmp_path: Path, model: Path) -> None:
    clip = write_clip_video(tmp_path / "clip.mkv", frames=6)
    predictor = FramePredictor.from_pretrained(model, device="cpu")
    cases = [
        ({"start": -1}, "--start -1: expected the first context frame: 0 or more"),
        ({"future": 0}, "--future 0: expected frames to predict: a positive integer"),
        ({"future": 1.5}, "--future 1.5: expected frames to predict"),
        ({"stride": True, "evaluate": True}, "--stride True: expected frames between evaluated windows"),
    ]
    for options, message in cases:
        with pytest.raises(ConfigError, match=re.escape(message)):
            predict_clip_file(predictor, clip, output=tmp_path / "p.mp4", **options)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mkv"]


def test_library_warnings_come_only_once_the_clip_is_usable(tmp_path: Path) -> None:
    gray = FramePredictor.from_pretrained(
        export_tiny(tmp_path / "digits.safetensors", 2, 1, card={"task": "predict", "recipe": "mmnist"}), device="cpu"
    )
    clip = write_clip_video(tmp_path / "clip.mkv", frames=4)  # colour at 32x24: the gray 64x64 model warns
    lines: list[str] = []
    with pytest.raises(InputVideoError, match="--start 3 leaves 1 frame of the 2 context frames"):
        predict_clip_file(gray, clip, start=3, output=tmp_path / "p.mp4", on_warning=lines.append)
    assert lines == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would fail the call before its error
        with pytest.raises(InputVideoError, match="--evaluate needs windows of 6 frames"):
            predict_clip_file(gray, clip, future=4, evaluate=True, write_output=False)
    predict_clip_file(gray, clip, output=tmp_path / "p.mp4", on_warning=lines.append)
    assert len(lines) == 1 and lines[0].startswith("model digits was trained on 64x64 gray frames")


def test_future_bounded_by_memory(tmp_path: Path, model: Path) -> None:
    clip = write_clip_video(tmp_path / "clip.mkv", frames=6)
    result = _run(str(clip), "--model", str(model), "--future", str(10**12))
    assert result.exit_code == 1
    assert f"--future {10**12}: the predicted 32x24 frames would need" in result.output
    assert "use --future" in result.output and len(result.output.strip().splitlines()) == 1


def test_card_frame_size_bomb_refused(tmp_path: Path) -> None:
    bomb = export_tiny(tmp_path / "bomb.safetensors", card={"task": "predict", "frame_size": [20000, 20000]})
    clip = write_clip_video(tmp_path / "clip.mkv", frames=6)
    result = _run(str(clip), "--model", str(bomb))
    assert result.exit_code == 1
    assert "bomb.safetensors: its model card asks for frame_size [20000, 20000]" in result.output


def test_card_with_both_working_sizes_is_a_corrupt_card_not_a_user_error(tmp_path: Path) -> None:
    card = {"task": "predict", "frame_size": [24, 32], "max_short_side": 64}
    both = export_tiny(tmp_path / "both.safetensors", card=card)
    clip = write_clip_video(tmp_path / "clip.mkv", frames=6)
    result = _run(str(clip), "--model", str(both))
    assert result.exit_code == 1
    assert "both.safetensors: its model card gives both frame_size [24, 32] and max_short_side 64" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_lpips_note_at_once_when_offline(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("GANSUITE_BACKBONES", raising=False)
    monkeypatch.setenv("TORCH_HOME", "/nonexistent-torch-home")

    def offline(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(-2, "Name or service not known")

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("LPIPSMetric was built: a download would have been tried")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    monkeypatch.setattr("gansuite.metrics.LPIPSMetric", no_download)
    assert lpips_or_note(None, "cpu") is None
    assert "cannot reach download.pytorch.org" in capsys.readouterr().err


def test_h264_output_keeps_odd_sizes_and_side_by_side(tmp_path: Path, model: Path) -> None:
    clip = write_clip_video(tmp_path / "odd.mkv", frames=6, height=21, width=31)
    out = tmp_path / "odd.mp4"
    result = _run(str(clip), "--model", str(model), "--future", "2", "--side-by-side", "-o", str(out))
    assert result.exit_code == 0, result.output
    summary = stream_summary(out)
    assert summary["streams"] == [("video", "h264")] and summary["size"] == (93, 21)
    assert read_video(out).frames.shape == (2, 21, 93, 3)


@pytest.mark.parametrize(("start", "stride"), [(None, 1), (None, 2), (3, 1)])
def test_evaluation_scores_the_clips_own_frames_at_the_reported_windows(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch, start: int | None, stride: int
) -> None:
    clip = write_clip_video(tmp_path / "clip.mkv", frames=9)
    frames = read_video(clip).frames  # (9, H, W, 3): the frames the evaluation reads
    targets: list[np.ndarray] = []
    add = HorizonAccumulator.add

    def spy(self: HorizonAccumulator, method: str, predictions: torch.Tensor, truth: torch.Tensor) -> None:
        if method == "model":
            targets.extend(truth.permute(0, 1, 3, 4, 2).numpy())  # (future, H, W, 3) per window
        add(self, method, predictions, truth)

    monkeypatch.setattr(HorizonAccumulator, "add", spy)
    predictor = FramePredictor.from_pretrained(model, device="cpu", batch_size=2)  # windows in batches of 2
    report = predict_clip_file(predictor, clip, future=3, start=start, stride=stride, evaluate=True,
                               write_output=False)
    expected = {(None, 1): (0, 1, 2, 3, 4), (None, 2): (0, 2, 4), (3, 1): (3,)}[(start, stride)]
    assert report.window_starts == expected and report.windows == len(expected) == len(targets)
    assert report.start is None and report.output is None  # nothing predicted past the evaluation
    for first, scored in zip(report.window_starts, targets, strict=True):
        context, (a, b) = report.window_frames(first)
        assert context == (first, first + 1) and b - a == 2 and b <= report.clip_frames - 1
        np.testing.assert_array_equal(scored, frames[a : b + 1])  # the true frames there, no padding


def test_counts_of_one_are_singular(tmp_path: Path) -> None:
    clip = write_clip_video(tmp_path / "clip.mkv", frames=6)
    one = export_tiny(tmp_path / "one.safetensors", context=1, channels=3)
    frames = tmp_path / "pngs"
    first = _run(str(clip), "--model", str(one), "--future", "1", "--frames-dir", str(frames), "-o",
                 str(tmp_path / "a.mp4"))
    assert first.exit_code == 0, first.output
    assert first.output.strip() == f"wrote {tmp_path / 'a.mp4'}, {frames}: 1 predicted frame after frame 5 of 6, " \
                                   "32x24 at 10 fps"
    again = _run(str(clip), "--model", str(one), "--frames-dir", str(frames), "-o", str(tmp_path / "b.mp4"))
    assert again.exit_code == 1 and f"--frames-dir {frames} already holds 1 frame (000000.png) of an earlier" in \
        again.output
    context = _run(str(clip), "--model", str(one), "--context", "2")
    assert context.exit_code == 1 and "model one takes 1 context frame; omit --context or pass 1" in context.output
    start = _run(str(clip), "--model", str(one), "--start", "6")
    assert start.exit_code == 1 and "--start 6 is past the end of the clip: the clip has 6 frames (0..5); --start " \
        "can be at most 5" in start.output
