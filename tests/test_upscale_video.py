"""Video upscaling: `Upscaler.upscale_frames`, the pipelined `upscale_video` and `gansuite upscale clip.mp4`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _upscale_helpers import export_tiny, tiny_generator
from _video_helpers import frame_times, make_clip, stream_summary, video_packets
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.errors import ConfigError, InputVideoError
from gansuite.io.video import iter_timed_frames, probe_video, read_video
from gansuite.tasks.upscale.upscaler import Upscaler
from gansuite.tasks.upscale.video import upscale_video, video_output_path

VFR_PTS = [0, 40, 80, 200, 240, 400, 433]


@pytest.fixture
def upscaler() -> Upscaler:
    return Upscaler(tiny_generator("compact", 2, seed=3), device="cpu", tile=0)


def test_upscale_frames_matches_one_by_one_and_batches(upscaler: Upscaler) -> None:
    frames = [np.random.default_rng(i).random((12, 10, 3), dtype=np.float32) for i in range(5)]
    single = [upscaler(torch.from_numpy(f).permute(2, 0, 1)).image.color for f in frames]
    for batch_size in (1, 2, 4):
        out = list(upscaler.upscale_frames(iter(frames), batch_size=batch_size))
        assert len(out) == 5 and out[0].shape == (24, 20, 3) and out[0].dtype == np.float32
        for got, want in zip(out, single, strict=True):
            np.testing.assert_allclose(got, want, atol=1e-5)
    with pytest.raises(ConfigError, match=r"frame 1 is .*earlier frames"):
        list(upscaler.upscale_frames([frames[0], frames[0][:6]], batch_size=4))
    with pytest.raises(ConfigError, match="`batch_size` must be a positive integer"):
        list(upscaler.upscale_frames(frames, batch_size=0))


def test_upscale_video_keeps_timestamps_audio_and_equals_per_frame(tmp_path: Path, upscaler: Upscaler) -> None:
    source = tmp_path / "vfr.mp4"
    make_clip(source, pts=VFR_PTS, width=40, height=30)
    seen: list[int] = []
    report = upscale_video(upscaler, source, tmp_path / "vfr_x2.mp4", batch_size=3, on_frame=seen.append)
    assert report.frames == len(VFR_PTS) and seen == list(range(1, len(VFR_PTS) + 1))
    assert report.output_size == (80, 60) and report.copied_streams == ("#1 audio (aac)",)
    output = report.output
    assert frame_times(output) == pytest.approx([p / 1000 for p in VFR_PTS], abs=1e-4)
    assert video_packets(output, "audio") == video_packets(source, "audio")
    summary = stream_summary(output)
    assert summary["streams"] == [("video", "h264"), ("audio", "aac")] and summary["pix_fmt"] == "yuv420p"
    assert summary["duration"] == pytest.approx(stream_summary(source)["duration"], abs=0.034)
    expected = np.stack([next(upscaler.upscale_frames([f.image])) for f in iter_timed_frames(source)])
    got = read_video(output).frames
    assert got.shape == expected.shape
    assert np.abs(got - expected).mean() < 0.04  # H.264 error on the noisy output of a random tiny model
    lossless = upscale_video(upscaler, source, tmp_path / "vfr_x2.mkv", codec="ffv1", batch_size=2).output
    np.testing.assert_allclose(read_video(lossless).frames, expected, atol=0.5 / 255 + 1e-6)  # in order, exact
    times = frame_times(lossless)  # Matroska cannot start below 0: the AAC priming (-64 ms) shifts every stream
    assert np.diff(times) == pytest.approx(np.diff(VFR_PTS) / 1000, abs=1e-3)


def test_rotated_clip_comes_out_upright(tmp_path: Path, upscaler: Upscaler) -> None:
    source = tmp_path / "phone.mp4"
    make_clip(source, width=48, height=32, rotation=270, audio=False)
    report = upscale_video(upscaler, source, tmp_path / "phone_x2.mp4")
    assert report.input_size == (32, 48)
    summary = stream_summary(report.output)
    assert summary["size"] == (64, 96) and not summary["rotation"]
    assert summary["streams"] == [("video", "h264")]


def test_odd_width_frame_folder_and_codec_options(tmp_path: Path) -> None:
    identity = Upscaler(tiny_generator("compact", 2, seed=3), device="cpu", tile=0, outscale=1)
    source = tmp_path / "odd.mkv"
    make_clip(source, width=33, height=20, audio=False, codec="ffv1", pix_fmt="yuv444p")
    report = upscale_video(identity, source, tmp_path / "odd_x1.mp4", crf=12)
    assert report.output_size == (33, 20) and report.pix_fmt == "yuv444p"
    assert read_video(report.output).frames.shape == (8, 20, 33, 3)
    folder = tmp_path / "frames"
    folder.mkdir()
    from gansuite.io.video import write_frames

    write_frames(folder, read_video(source).frames[:3])
    out = upscale_video(identity, folder, tmp_path / "frames_x1.mkv", codec="ffv1")
    assert out.frames == 3 and probe_video(out.output).rate == 25


def test_ten_bit_source_stays_ten_bit(tmp_path: Path, upscaler: Upscaler) -> None:
    source = tmp_path / "deep.mkv"
    make_clip(source, frames=3, audio=False, pix_fmt="yuv420p10le")
    report = upscale_video(upscaler, source, tmp_path / "deep_x2.mkv")
    assert report.pix_fmt == "yuv420p10le" and stream_summary(report.output)["pix_fmt"] == "yuv420p10le"
    lines: list[str] = []
    assert upscale_video(upscaler, source, tmp_path / "deep_8.mkv", pix_fmt="yuv420p",
                         on_warning=lines.append).pix_fmt == "yuv420p"
    assert lines == []  # 8 bits asked for
    report = upscale_video(upscaler, source, tmp_path / "deep.avi", codec="mjpeg", on_warning=lines.append)
    assert report.pix_fmt == "yuvj420p"  # Motion JPEG has no 10-bit format: said, not silently cut
    assert lines == [f"{source}: the video has more than 8 bits per component, but --codec mjpeg writes 8 here; "
                     "pass --codec h264, h265 or ffv1 to keep its depth"]


def test_interrupted_run_leaves_no_file_and_rerun_restarts(tmp_path: Path, upscaler: Upscaler) -> None:
    source = tmp_path / "clip.mp4"
    make_clip(source, frames=12)
    target = tmp_path / "clip_x2.mp4"
    calls = {"n": 0}
    model = upscaler.model

    def interrupted(tile: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return model(tile)

    breaking = Upscaler(tiny_generator("compact", 2, seed=3), device="cpu", tile=0)
    breaking.model = interrupted  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        upscale_video(breaking, source, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]  # no output, no temporary file
    assert upscale_video(upscaler, source, target).frames == 12  # the rerun starts again from frame 0


def test_errors_before_any_compute(tmp_path: Path, upscaler: Upscaler) -> None:
    source = tmp_path / "clip.mp4"
    make_clip(source, frames=3, audio=False)
    with pytest.raises(ConfigError, match="`codec` 'xvid' is not one of"):
        upscale_video(upscaler, source, tmp_path / "a.mp4", codec="xvid")
    with pytest.raises(ConfigError, match="is the input video, which is never overwritten"):
        upscale_video(upscaler, source, source, overwrite=True)
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(InputVideoError, match=r"broken\.mp4: FFmpeg cannot open this as a video"):
        upscale_video(upscaler, tmp_path / "broken.mp4", tmp_path / "b.mp4")
    assert video_output_path(Path("a/clip.webm"), None, "_x2") == Path("a/clip_x2.mkv")
    assert video_output_path(Path("a/clip.MP4"), Path("o"), "_x4") == Path("o/clip_x4.mp4")


def test_cli_upscales_a_video_with_its_sound(tmp_path: Path) -> None:
    model = export_tiny(tmp_path / "tiny_x2.safetensors", "compact", 2)
    source = tmp_path / "clip.mp4"
    make_clip(source, frames=6, width=32, height=24)
    runner = CliRunner()
    result = runner.invoke(main, ["upscale", str(source), "--model", str(model), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    output = tmp_path / "clip_x2.mp4"
    assert f"wrote {output}: 6 frames 32x24 → 64x48, h264 yuv420p, copied #1 audio (aac)" in result.output
    assert stream_summary(output)["streams"] == [("video", "h264"), ("audio", "aac")]
    again = runner.invoke(main, ["upscale", str(source), "--model", str(model), "--device", "cpu"])
    assert again.exit_code == 0 and "exists (--overwrite to replace)" in again.output
    bad = runner.invoke(main, ["upscale", str(source), "--model", str(model), "--device", "cpu", "--overwrite",
                               "--codec", "h265", "--pix-fmt", "rgb24"])
    assert bad.exit_code == 1 and "--pix-fmt 'rgb24' is not taken by libx265" in bad.output


def test_cli_counts_videos_in_the_summary_and_leaves_no_empty_output_folder(tmp_path: Path) -> None:
    from _video_helpers import make_audio_only

    from gansuite.io import write_image

    model = export_tiny(tmp_path / "tiny_x2.safetensors", "compact", 2)
    make_clip(tmp_path / "clip.mp4", frames=3, width=32, height=24, audio=False)
    make_audio_only(tmp_path / "speech.mp4")
    write_image(tmp_path / "still.png", np.full((12, 16, 3), 0.5, np.float32))
    runner = CliRunner()
    args = ["--model", str(model), "--device", "cpu", "-o"]
    result = runner.invoke(main, ["upscale", str(tmp_path / "clip.mp4"), str(tmp_path / "speech.mp4"),
                                  str(tmp_path / "still.png"), *args, str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "2 written, 0 skipped (exist; --overwrite to replace), 1 failed" in result.stdout  # videos count too
    (tmp_path / "broken.png").write_bytes(b"not an image")
    for inputs in (["speech.mp4"], ["speech.mp4", "broken.png"]):  # every input fails: no empty folder stays
        result = runner.invoke(main, ["upscale", *(str(tmp_path / name) for name in inputs), *args,
                                      str(tmp_path / "none" / "deeper")])
        assert result.exit_code == 1 and "speech.mp4: the file has no video stream" in result.output, result.output
        assert not (tmp_path / "none").exists()


def test_videos_that_would_share_an_output_each_get_their_own(tmp_path: Path) -> None:
    model = export_tiny(tmp_path / "tiny_x2.safetensors", "compact", 2)
    make_clip(tmp_path / "clip.avi", frames=2, width=16, height=16, audio=False, codec="mjpeg", pix_fmt="yuvj420p")
    make_clip(tmp_path / "clip.webm", frames=3, width=16, height=16, audio=False, codec="libvpx-vp9")
    runner = CliRunner()
    for extra in ((), ("--overwrite",)):  # was: the second skipped as existing, or with --overwrite replacing the first
        result = runner.invoke(main, ["upscale", str(tmp_path / "clip.avi"), str(tmp_path / "clip.webm"), "--model",
                                      str(model), "--device", "cpu", "-o", str(tmp_path / "out"), *extra])
        assert result.exit_code == 0, result.output
        assert "note: clip.avi, clip.webm would both write clip_x2.mkv; writing clip.avi → clip_avi_x2.mkv; " \
            "clip.webm → clip_webm_x2.mkv" in result.output
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip_avi_x2.mkv", "clip_webm_x2.mkv"]
        for name, frames in (("clip_avi_x2.mkv", 2), ("clip_webm_x2.mkv", 3)):  # each video's own frames
            assert read_video(tmp_path / "out" / name).num_frames == frames


def test_a_pattern_rerun_does_not_upscale_its_own_video_outputs(tmp_path: Path) -> None:
    model = export_tiny(tmp_path / "tiny_x2.safetensors", "compact", 2)
    clips = tmp_path / "clips"
    clips.mkdir()
    make_clip(clips / "clip.mp4", frames=2, width=16, height=16, audio=False)
    runner = CliRunner()
    args = ["--model", str(model), "--device", "cpu"]
    for _ in range(2):
        result = runner.invoke(main, ["upscale", str(clips / "*.mp4"), *args])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in clips.iterdir()) == ["clip.mp4", "clip_x2.mp4"]  # no clip_x2_x2.mp4
    assert "skipped" in result.output and "clip_x2_x2" not in result.output
    result = runner.invoke(main, ["upscale", str(clips / "*_x2.mp4"), *args])  # a pattern naming only outputs is meant
    assert result.exit_code == 0 and (clips / "clip_x2_x2.mp4").is_file(), result.output


@pytest.mark.data
def test_shared_clip_keeps_audio_frames_rate_and_duration(data_dir: Path, tmp_path: Path, upscaler: Upscaler) -> None:
    source = data_dir / "video" / "clips" / "realshort.mp4"  # 36 frames at 45000/1499 fps with an AAC track
    if not source.is_file():
        pytest.skip(f"{source} not found")
    report = upscale_video(upscaler, source, tmp_path / "realshort_x2.mp4")
    before, after = stream_summary(source), stream_summary(report.output)
    assert after["streams"] == [("video", "h264"), ("audio", "aac")]
    assert after["frames"] == before["frames"] == 36 and after["rate"] == before["rate"]
    assert after["duration"] == pytest.approx(before["duration"], abs=1 / 30)
    assert after["size"] == (640, 480)
    assert frame_times(report.output) == pytest.approx(frame_times(source), abs=1e-4)
    assert video_packets(report.output, "audio") == video_packets(source, "audio")

