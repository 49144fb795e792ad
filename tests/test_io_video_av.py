"""PyAV video I/O: timestamps, audio copy, rotation, odd sizes, 10-bit, colour tags, truncated files."""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from _video_helpers import frame_times, make_clip, pattern, stream_summary, video_packets

from gansuite.errors import ConfigError, InputVideoError
from gansuite.io.video import (
    VideoWarning,
    VideoWriter,
    iter_timed_frames,
    probe_video,
    read_video,
    write_video,
)

VFR_PTS = [0, 40, 80, 200, 240, 400, 433, 466]  # ms: gaps and bursts, as phones record


def rewrite(source: Path, target: Path, **options: object) -> Path:
    """Decode `source` and encode it again with its timestamps and streams (what the upscaler does)."""
    info = probe_video(source)
    with VideoWriter(target, rate=info.rate, time_base=info.time_base, color=info.color, copy_from=source,
                     **options) as writer:  # type: ignore[arg-type]
        for frame in iter_timed_frames(source):
            writer.write(frame.image, pts=frame.pts, duration=frame.duration)
    return target


def test_variable_frame_rate_and_audio_survive_a_rewrite(tmp_path: Path) -> None:
    source = tmp_path / "vfr.mp4"
    make_clip(source, pts=VFR_PTS)
    output = rewrite(source, tmp_path / "out.mp4")
    assert frame_times(output) == pytest.approx([p / 1000 for p in VFR_PTS], abs=1e-4)
    assert video_packets(output, "audio") == video_packets(source, "audio")  # copied unchanged, same timestamps
    before, after = stream_summary(source), stream_summary(output)
    assert after["streams"] == [("video", "h264"), ("audio", "aac")]
    assert after["frames"] == len(VFR_PTS) and after["pix_fmt"] == "yuv420p"
    assert after["duration"] == pytest.approx(before["duration"], abs=0.034)
    assert probe_video(source).color[:2] == (0, 2)  # untagged: decoded as FFmpeg does, BT.601 tv range
    assert probe_video(output).color[:2] == (1, 6)  # ... and tagged so, so players do not guess by frame size
    assert np.abs(read_video(output).frames - read_video(source).frames).mean() < 0.01


def test_subtitles_and_audio_are_copied_and_containers_checked(tmp_path: Path) -> None:
    source = tmp_path / "subs.mkv"
    make_clip(source, subtitles=True)
    output = rewrite(source, tmp_path / "out.mkv", codec="h264")
    assert stream_summary(output)["streams"] == [("video", "h264"), ("audio", "aac"), ("subtitle", "srt")]
    assert video_packets(output, "subtitle") == video_packets(source, "subtitle") == [(0, b"Hello"), (120, b"World")]
    assert video_packets(output, "audio") == video_packets(source, "audio")
    with pytest.raises(ConfigError, match=r"out\.mp4: a \.mp4 file cannot hold #2 subtitle \(srt\) .*write \.mkv"):
        rewrite(source, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_ntsc_rate_keeps_exact_timestamps(tmp_path: Path) -> None:
    frames = np.random.default_rng(0).random((12, 32, 48, 3), dtype=np.float32)
    path = write_video(tmp_path / "ntsc.mp4", frames, 23.976)
    with av.open(str(path)) as container:
        assert container.streams.video[0].average_rate == Fraction(24000, 1001)
    assert frame_times(path) == pytest.approx([i * 1001 / 24000 for i in range(12)], abs=1e-4)
    info = probe_video(path)
    assert info.rate == Fraction(24000, 1001) and info.frame_count == 12
    assert info.duration == pytest.approx(12 * 1001 / 24000, abs=1e-3)


def test_rotated_clip_is_read_upright(tmp_path: Path) -> None:
    source = tmp_path / "phone.mp4"
    stored = make_clip(source, width=64, height=32, rotation=90, audio=False)
    info = probe_video(source)
    assert (info.width, info.height, info.rotation) == (32, 64, 90)
    first = next(iter_timed_frames(source)).image
    upright = np.rot90(stored[0], k=1).astype(np.float32) / 255  # 90° counter-clockwise, as players show it
    assert first.shape == (64, 32, 3)
    assert np.abs(first - upright).mean() < 0.03
    output = rewrite(source, tmp_path / "upright.mp4")
    summary = stream_summary(output)
    assert summary["size"] == (32, 64) and not summary["rotation"]  # upright pixels, no rotation tag


@pytest.mark.parametrize("extension", [".mp4", ".mkv"])
def test_odd_size_is_kept(tmp_path: Path, extension: str) -> None:
    frames = np.random.default_rng(1).random((3, 21, 33, 3), dtype=np.float32) * 0.5 + 0.25
    path = write_video(tmp_path / f"odd{extension}", frames, 25, codec="h264")
    clip = read_video(path)
    assert clip.frames.shape == (3, 21, 33, 3)
    assert stream_summary(path)["pix_fmt"] == "yuv444p"  # 4:2:0 cannot hold an odd size
    assert np.abs(clip.frames - frames).mean() < 0.05


def test_ten_bit_and_other_codecs(tmp_path: Path) -> None:
    ramp = np.linspace(0, 1, 64, dtype=np.float32)
    frames = np.broadcast_to(ramp[None, None, :, None], (4, 32, 64, 3)).copy()
    deep = write_video(tmp_path / "deep.mp4", frames, 25, pix_fmt="yuv420p10le", crf=10)
    assert stream_summary(deep)["pix_fmt"] == "yuv420p10le"
    assert probe_video(deep).bit_depth == 16
    decoded = read_video(deep).frames
    assert len(np.unique(np.round(decoded[0, 16, :, 1] * 1023))) > 60  # a ramp with more than 8-bit steps kept
    for codec, name in (("h265", "hevc"), ("vp9", "vp9")):
        path = write_video(tmp_path / f"c_{codec}.mkv", frames, 25, codec=codec)
        assert stream_summary(path)["streams"] == [("video", name)]
        assert np.abs(read_video(path).frames - frames).mean() < 0.03


def test_colour_tags_are_written_and_used(tmp_path: Path) -> None:
    frames = np.stack([pattern(i, 32, 48) for i in range(2)]).astype(np.float32) / 255  # smooth: survives 4:2:0
    path = write_video(tmp_path / "tags.mp4", frames, 25)
    info = probe_video(path)
    assert info.color == (1, 1, 1, 1)  # tv range, BT.709 matrix, primaries, transfer
    assert np.abs(read_video(path).frames - frames).mean() < 0.01  # same matrix both ways: no colour shift
    full = tmp_path / "full.mp4"
    with VideoWriter(full, rate=Fraction(25), color=(2, 6, 6, 6)) as writer:  # full range, BT.601 (smpte170m)
        for frame in frames:
            writer.write(frame)
    assert probe_video(full).color == (2, 6, 6, 6)
    assert np.abs(read_video(full).frames - frames).mean() < 0.01


def test_truncated_container_gives_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "tail.mp4"
    make_clip(path, frames=30, audio=False, faststart=True)
    with av.open(str(path)) as container:
        cut = [packet.pos for packet in container.demux(video=0) if packet.size][15]
    data = bytearray(path.read_bytes())
    data[cut:] = bytes(len(data) - cut)  # zero the media data from the 16th frame on; the index still says 30
    path.write_bytes(bytes(data))
    lines: list[str] = []
    frames = list(iter_timed_frames(path, on_warning=lines.append))
    assert 0 < len(frames) < 30
    assert len(lines) == 1 and f"read {len(frames)} of the 30 frames the container promises" in lines[0]
    with pytest.warns(VideoWarning, match=r"tail\.mp4: read \d+ of the 30 frames"):
        read_video(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_video(path, max_frames=3).num_frames == 3  # a read that stops early does not warn


def test_writer_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with pytest.raises(InputVideoError, match="frame 2 is 8x8, earlier frames 32x32"), \
            VideoWriter(target, rate=Fraction(25)) as writer:
        for frame in (np.zeros((32, 32, 3), np.float32),) * 2 + (np.zeros((8, 8, 3), np.float32),):
            writer.write(frame)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("rate", [0, -25, float("nan"), Fraction(0), 5000])
def test_writer_refuses_a_bad_rate_before_writing(tmp_path: Path, rate: object) -> None:
    with pytest.raises(ConfigError, match=r"out\.mp4: fps must be a number in \(0, 1000\]"):
        VideoWriter(tmp_path / "out.mp4", rate=rate)
    assert list(tmp_path.iterdir()) == []


def test_writer_names_a_missing_or_unreadable_copy_source(tmp_path: Path) -> None:
    with pytest.raises(InputVideoError, match=r"missing\.mp4: the video to copy audio .* does not exist"):
        VideoWriter(tmp_path / "out.mkv", rate=Fraction(25), copy_from=tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(InputVideoError, match=r"junk\.mp4: cannot read its streams"):
        VideoWriter(tmp_path / "out.mkv", rate=Fraction(25), copy_from=junk)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mp4"]
