"""Video I/O: write and read back synthetic clips, frame folders, GIFs, error paths, shared clips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _data import require

from gansuite.errors import ConfigError, InputVideoError, OutputError
from gansuite.io import (
    DEFAULT_FPS,
    OutputExistsError,
    VideoClip,
    iter_video_frames,
    probe_video,
    read_image,
    read_video,
    require_frames,
    write_frames,
    write_image,
    write_video,
)


def moving_square(frames: int = 10, height: int = 48, width: int = 64) -> np.ndarray:
    """(T, H, W, 3) float32 RGB: an orange 16x16 square moving right by 4 pixels a frame."""
    clip = np.full((frames, height, width, 3), 0.1, np.float32)
    for index in range(frames):
        clip[index, 10:26, 4 + 4 * index : 20 + 4 * index] = (1.0, 0.5, 0.0)
    return clip


def quantised(values: np.ndarray) -> np.ndarray:
    return np.rint(values * 255) / np.float32(255)


def shared_clip(data_dir: Path, name: str) -> Path:
    return require(data_dir / "video" / "clips" / name, f"the shared clip {name}")


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(("extension", "tolerance"), [(".mp4", 0.03), (".avi", 0.03), (".mkv", 1e-6)])
def test_write_and_read_back(tmp_path: Path, extension: str, tolerance: float) -> None:
    frames = moving_square()
    path = write_video(tmp_path / f"clip{extension}", frames, 25.0)
    clip = read_video(path)
    assert isinstance(clip, VideoClip) and clip.path == path
    assert clip.frames.shape == (10, 48, 64, 3) and clip.frames.dtype == np.float32
    assert (clip.num_frames, clip.height, clip.width) == (10, 48, 64)
    assert clip.fps == pytest.approx(25.0)
    assert np.abs(clip.frames - quantised(frames)).mean() < tolerance  # lossy codecs; FFV1 is lossless
    centres = clip.frames[np.arange(10), 18, 12 + 4 * np.arange(10)]  # the square's centre in each frame
    assert np.abs(centres - (1.0, 0.5, 0.0)).max() < 0.15
    assert [file.name for file in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_gray_frames_and_grayscale_reading(tmp_path: Path) -> None:
    gray = moving_square(6)[..., :1] * 0.8  # (T, H, W, 1)
    path = write_video(tmp_path / "gray.mkv", gray, 10)
    clip = read_video(path, grayscale=True)
    assert clip.frames.shape == (6, 48, 64, 1)
    np.testing.assert_allclose(clip.frames, quantised(gray), atol=1e-6)
    color = read_video(path)
    np.testing.assert_array_equal(color.frames[..., 0], color.frames[..., 2])


def test_streaming_and_max_frames(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mkv", moving_square(), 30)
    frames = iter_video_frames(path, max_frames=4)
    first = next(frames)
    assert first.shape == (48, 64, 3) and first.dtype == np.float32
    assert len(list(frames)) == 3
    assert read_video(path, max_frames=3).num_frames == 3
    assert read_video(path, max_frames=100).num_frames == 10
    info = probe_video(path)
    assert (info.fps, info.frame_count, info.height, info.width) == (30.0, 10, 48, 64)
    assert read_video(path, fps=12.5).fps == 12.5


def test_write_accepts_an_iterable_of_frames(tmp_path: Path) -> None:
    frames = moving_square(5)
    path = write_video(tmp_path / "clip.mkv", (frame for frame in frames), 25)
    np.testing.assert_allclose(read_video(path).frames, quantised(frames), atol=1e-6)


def test_frame_folder(tmp_path: Path) -> None:
    frames = moving_square(5)
    files = write_frames(tmp_path / "frames", frames)
    assert [file.name for file in files] == [f"00000{index}.png" for index in range(5)]
    clip = read_video(tmp_path / "frames")
    assert clip.fps == DEFAULT_FPS
    np.testing.assert_array_equal(clip.frames, quantised(frames))
    assert read_video(tmp_path / "frames", fps=7.5, grayscale=True).frames.shape == (5, 48, 64, 1)
    assert probe_video(tmp_path / "frames").frame_count == 5


def test_frame_folder_natural_order_skips_other_files(tmp_path: Path) -> None:
    for index in (1, 2, 10):
        write_image(tmp_path / f"{index}.jpg", np.full((8, 8, 3), index / 10, np.float32), quality=100)
    (tmp_path / ".hidden.png").write_bytes(b"not read")
    (tmp_path / "notes.txt").write_text("not a frame")
    clip = read_video(tmp_path)
    assert clip.frames[:, 0, 0, 0] == pytest.approx([0.1, 0.2, 1.0], abs=0.01)


def test_sixteen_bit_frames(tmp_path: Path) -> None:
    frames = np.random.default_rng(0).random((3, 6, 8, 1), dtype=np.float32)
    write_frames(tmp_path, frames, ext="png", bit_depth=16)
    assert read_image(tmp_path / "000000.png").bit_depth == 16
    clip = read_video(tmp_path, grayscale=True)
    np.testing.assert_allclose(clip.frames, frames, atol=1 / 65535)


def test_animated_gif(tmp_path: Path) -> None:
    image_lib = pytest.importorskip("PIL.Image")
    frames = (moving_square(6) * 255).astype(np.uint8)  # three colours: exact in a GIF palette
    path = tmp_path / "anim.gif"
    pictures = [image_lib.fromarray(frame) for frame in frames]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=40, loop=0)
    clip = read_video(path)
    assert clip.fps == pytest.approx(25.0)
    np.testing.assert_array_equal(np.rint(clip.frames * 255).astype(np.uint8), frames)


# ---------------------------------------------------------------------------- errors


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputVideoError, match=r"nope\.mp4: video file or frame folder does not exist"):
        read_video(tmp_path / "nope.mp4")


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(InputVideoError, match=r"empty\.mp4: video file is empty \(0 bytes\)"):
        read_video(tmp_path / "empty.mp4")


def test_text_file_named_mp4(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("hello, I am not a video\n" * 10)
    with pytest.raises(InputVideoError, match=r"notes\.mp4: FFmpeg cannot open this as a video"):
        read_video(tmp_path / "notes.mp4")


@pytest.mark.parametrize("extension", [".mp4", ".avi"])
def test_truncated_file(tmp_path: Path, extension: str) -> None:
    data = write_video(tmp_path / f"full{extension}", moving_square(), 25).read_bytes()
    (tmp_path / f"cut{extension}").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputVideoError, match=r"cut\.(mp4|avi): .*(cannot open|no frames)"):
        read_video(tmp_path / f"cut{extension}")


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(InputVideoError, match=r"folder holds no frame images; accepted extensions: \.png"):
        read_video(tmp_path)
    write_image(tmp_path / "1.png", np.zeros((8, 8, 3), np.float32))
    write_image(tmp_path / "2.png", np.zeros((8, 6, 3), np.float32))
    with pytest.raises(InputVideoError, match=r"frame 1 \(2\.png\) is 6x8, earlier frames 8x8; all frames of a clip "
                       "must have one size: resize it to 8x8 or move it out of the folder"):
        read_video(tmp_path)  # the file is named: a frame folder's index is no file name
    write_image(tmp_path / "1.jpg", np.zeros((8, 8, 3), np.float32))  # 1.jpg, 1.png, 2.png: frame 1 twice
    for read in (read_video, probe_video):
        with pytest.raises(InputVideoError, match=r"frames 1\.jpg and 1\.png have one name in two formats"):
            read(tmp_path)
    (tmp_path / "1.jpg").unlink()
    (tmp_path / "2.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(InputVideoError, match=r"frame 1 of folder .*2\.png: PNG file is corrupt or truncated"):
        read_video(tmp_path)


def test_require_frames() -> None:
    clip = VideoClip(np.zeros((3, 4, 4, 3), np.float32), 25.0, Path("short.mp4"))
    assert require_frames(clip, 3) is clip
    with pytest.raises(
        InputVideoError, match=r"short\.mp4: clip has only 3 frames, need at least 5 \(4 context \+ 1\)"
    ):
        require_frames(clip, 5, why="4 context + 1")


def test_bad_arguments(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mkv", moving_square(2), 25)
    with pytest.raises(ConfigError, match="max_frames must be a positive integer or None, got 0"):
        read_video(path, max_frames=0)
    with pytest.raises(ConfigError, match=r"x\.mkv: fps must be a number in \(0, 1000\], got 0"):
        write_video(tmp_path / "x.mkv", moving_square(2), 0)
    with pytest.raises(ConfigError, match=r"cannot write video format '\.flv'; accepted: \.mp4, \.mov"):
        write_video(tmp_path / "x.flv", moving_square(2), 25)
    with pytest.raises(ConfigError, match=r"frames are 63x47; `pix_fmt` 'yuv420p' needs an even width; use a 4:4:4"):
        write_video(tmp_path / "x.mp4", moving_square(2, 47, 63), 25, pix_fmt="yuv420p")
    with pytest.raises(ConfigError, match=r"`codec` 'h266' is not one of h264, h265"):
        write_video(tmp_path / "x.mp4", moving_square(2), 25, codec="h266")
    with pytest.raises(ConfigError, match=r"`pix_fmt` 'rgb24' is not taken by libx264; accepted: yuv420p"):
        write_video(tmp_path / "x.mp4", moving_square(2), 25, pix_fmt="rgb24")
    with pytest.raises(ConfigError, match=r"`crf` must be an integer from 0 to 51 for h264, got 99"):
        write_video(tmp_path / "x.mp4", moving_square(2), 25, crf=99)
    with pytest.raises(InputVideoError, match="no frames to write"):
        write_video(tmp_path / "x.mp4", np.zeros((0, 8, 8, 3), np.float32), 25)
    with pytest.raises(InputVideoError, match="frame 1 is 8x8, earlier frames 64x48"):
        write_video(tmp_path / "x.mp4", [moving_square(1)[0], np.zeros((8, 8, 3), np.float32)], 25)
    broken = np.zeros((1, 8, 8, 3), np.float32)
    broken[0, 0, 0, 0] = np.nan
    with pytest.raises(InputVideoError, match=r"x\.mp4 frame 0: color has 1 non-finite values"):
        write_video(tmp_path / "x.mp4", broken, 25)
    with pytest.raises(ConfigError, match="cannot write frame format 'gif'"):
        write_frames(tmp_path / "frames", moving_square(2), ext="gif")
    with pytest.raises(OutputExistsError):
        write_video(path, moving_square(2), 25, overwrite=False)
    assert sorted(file.name for file in tmp_path.iterdir()) == ["clip.mkv"]


def test_failed_write_keeps_the_old_video(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", moving_square(4), 25)
    before = path.read_bytes()

    def frames_then_failure() -> Iterator[np.ndarray]:
        yield from moving_square(3)
        raise RuntimeError("upscaler crashed")

    with pytest.raises(RuntimeError, match="upscaler crashed"):
        write_video(path, frames_then_failure(), 25)
    assert path.read_bytes() == before
    assert [file.name for file in tmp_path.iterdir()] == ["clip.mp4"]


# ---------------------------------------------------------------------------- shared clips


@pytest.mark.data
def test_shared_realshort_mp4(data_dir: Path) -> None:
    clip = read_video(shared_clip(data_dir, "realshort.mp4"))
    assert clip.frames.shape == (36, 240, 320, 3)
    assert clip.fps == pytest.approx(30.0, abs=0.1)
    assert 0.05 < clip.frames.mean() < 0.95


@pytest.mark.data
def test_shared_cockatoo_yuv444_with_audio(data_dir: Path) -> None:
    path = shared_clip(data_dir, "cockatoo.mp4")
    info = probe_video(path)
    assert (info.width, info.height, info.fps) == (1280, 720, 20.0)
    assert info.frame_count is not None and info.frame_count > 250
    clip = read_video(path, max_frames=3, grayscale=True)
    assert clip.frames.shape == (3, 720, 1280, 1)
    assert clip.frames.std() > 0.01  # real picture content, not a blank decode


@pytest.mark.data
def test_shared_newtonscradle_gif(data_dir: Path) -> None:
    clip = read_video(shared_clip(data_dir, "newtonscradle.gif"))
    assert clip.frames.shape == (36, 150, 200, 3)
    assert 0 < clip.fps <= 100


def test_a_path_of_another_type_is_refused_naming_the_function() -> None:
    for read in (read_video, probe_video, lambda path: next(iter_video_frames(path))):
        with pytest.raises(InputVideoError, match=r"path must be a file path .*got NoneType; give the path of a video"):
            read(None)  # was a TypeError from pathlib
    with pytest.raises(OutputError, match=r"VideoWriter: path must be a file path .*got int"):
        write_video(3, np.zeros((2, 4, 4, 3), np.float32), fps=25)  # type: ignore[arg-type]
