"""Clip windows from video files and frame folders, and Moving MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _predict_helpers import (
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
    write_clip_folder,
    write_clip_video,
    write_mnist,
)

from gansuite.core.sampling import SeededIndex
from gansuite.errors import ConfigError
from gansuite.tasks.predict.data import ClipWindows, find_clips, target_shape
from gansuite.tasks.predict.moving_mnist import TEST_DIGITS, TRAIN_DIGITS, MovingMNIST, read_idx


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of clips: two frame folders (12 and 9 frames) and a video file (12 frames)."""
    root = tmp_path_factory.mktemp("clips")
    write_clip_folder(root / "01", frames=12)
    write_clip_folder(root / "02", frames=9)
    write_clip_video(root / "c.mkv", frames=12)
    return root


@pytest.fixture(scope="module")
def mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mnist(tmp_path_factory.mktemp("mnist"))


def test_find_clips_takes_frame_folders_and_videos_in_natural_order(clips: Path) -> None:
    assert [p.name for p in find_clips([clips])] == ["01", "02", "c.mkv"]
    assert find_clips([clips / "01", clips / "c.mkv"]) == [clips / "01", clips / "c.mkv"]
    with pytest.raises(ConfigError, match="does not exist"):
        find_clips([clips / "missing"])


def test_window_count_and_shapes(clips: Path) -> None:
    data = ClipWindows([clips], context_frames=4, future_frames=2)
    # 12, 9 and 12 frames; windows of 6 → 7 + 4 + 7
    assert len(data) == 18
    item = data[0]
    assert item.shape == (6, 3, 24, 32) and item.dtype == torch.float32
    assert float(item.min()) >= 0.0 and float(item.max()) <= 1.0
    assert data.clips[0].dtype == np.uint8  # kept in memory as uint8
    strided = ClipWindows([clips], context_frames=4, future_frames=2, window_stride=3)
    assert len(strided) == 3 + 2 + 3


def test_gray_resize_and_crop(clips: Path) -> None:
    gray = ClipWindows([clips / "c.mkv"], context_frames=2, frame_size=(16, 20), grayscale=True)
    assert gray.channels == 1 and gray[0].shape == (3, 1, 16, 20)
    cropped = ClipWindows([clips / "01"], context_frames=2, crop_size=16)
    assert cropped[SeededIndex(0, 1)].shape == (3, 3, 16, 16)
    assert target_shape(480, 640, max_short_side=240) == (240, 320)
    assert target_shape(100, 200, max_short_side=240) == (100, 200)  # never upscaled


def test_items_are_determined_by_the_seeded_index(clips: Path) -> None:
    data = ClipWindows([clips], context_frames=2, crop_size=12, flip=True)
    assert torch.equal(data[SeededIndex(3, 42)], data[SeededIndex(3, 42)])
    different = [not torch.equal(data[SeededIndex(3, 42)], data[SeededIndex(3, s)]) for s in range(8)]
    assert any(different)


def test_clips_too_short_for_a_window_are_reported(clips: Path) -> None:
    with pytest.raises(ConfigError, match=r"no clip in .*01 has 20 frames.*skipped: 01 .*; give longer clips"):
        ClipWindows([clips / "01"], context_frames=10, future_frames=10)


def test_moving_mnist_shapes_and_range(mnist: Path) -> None:
    train = MovingMNIST(mnist, split="train", sequences=5)
    item = train[SeededIndex(0, 7)]
    assert item.shape == (20, 1, 64, 64) and item.dtype == torch.float32
    assert float(item.min()) >= 0.0 and float(item.max()) == 1.0
    assert len(train) == 5
    assert MovingMNIST(mnist, split="train", num_frames=13)[0].shape == (13, 1, 64, 64)


def test_train_and_test_use_disjoint_digits(mnist: Path) -> None:
    train, test = MovingMNIST(mnist, split="train"), MovingMNIST(mnist, split="test")
    for i in range(20):
        assert all(d in TRAIN_DIGITS for d in train.sequence_digits(SeededIndex(i, i * 31)))
        assert all(d in TEST_DIGITS for d in test.sequence_digits(i))
    assert len(test) == 2000


def test_the_fixed_test_set_is_identical_across_constructions(mnist: Path) -> None:
    first = MovingMNIST(mnist, split="test")
    second = MovingMNIST(mnist, split="test", sequences=3)
    for i in range(3):
        assert torch.equal(first[i], second[i])
        assert torch.equal(first[SeededIndex(i, 99)], first[i])  # the sampler's seed is ignored
    assert not torch.equal(first[0], first[1])


def test_moving_mnist_errors(mnist: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sequences must be in 1\.\.2000"):
        MovingMNIST(mnist, split="test", sequences=2001)
    with pytest.raises(ConfigError, match="holds no t10k-images"):
        MovingMNIST(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"junk")
    with pytest.raises(ConfigError, match="gzip"):
        read_idx(tmp_path / "t10k-images-idx3-ubyte.gz")
    small = write_mnist(tmp_path / "small", count=100)
    with pytest.raises(ConfigError, match="at least 10000"):
        MovingMNIST(small)


@pytest.mark.data
def test_real_mnist_and_ped2_training_clips(data_dir: Path) -> None:
    video = data_dir / "video"
    test = MovingMNIST(video / "mnist", split="test", sequences=2)
    assert test.digits.shape == (10_000, 28, 28) and test.labels is not None and test.labels.shape == (10_000,)
    assert test[0].shape == (20, 1, 64, 64)
    ped2 = ClipWindows([video / "ped2" / "training" / "01"], context_frames=4, grayscale=True, frame_size=(256, 256))
    assert ped2.clips[0].shape == (120, 256, 256, 1) and len(ped2) == 120 - 4
    assert [p.name for p in find_clips([video / "ped2" / "testing"])] == [f"{i:02d}" for i in range(1, 13)]
