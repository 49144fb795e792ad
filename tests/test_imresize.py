"""Tests of the MATLAB-compatible bicubic imresize: closed forms, torch == numpy, MATLAB's LR images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _data import require

from gansuite.errors import ConfigError, InputImageError
from gansuite.io.imresize import imresize, imresize_array, resize_weights


@pytest.fixture
def sr_data(data_dir: Path) -> Path:
    return require(data_dir / "sr", "the sr/ datasets folder")


@pytest.mark.parametrize("scale", [0.25, 0.5, 2.0, 3.0])
def test_constant_image_stays_constant(scale: float) -> None:
    image = torch.full((2, 3, 20, 24), 0.3, dtype=torch.float64)
    assert torch.allclose(imresize(image, scale=scale), torch.full_like(imresize(image, scale=scale), 0.3))
    gray = np.full((20, 24), 77, np.uint8)
    assert (imresize_array(gray, scale=scale) == 77).all()


def test_output_shapes_follow_matlab() -> None:
    x = torch.rand(2, 3, 33, 47)
    assert imresize(x, scale=0.25).shape == (2, 3, 9, 12)  # ceil(33 / 4), ceil(47 / 4)
    assert imresize(x, scale=2).shape == (2, 3, 66, 94)
    assert imresize(x, size=(10, 20)).shape == (2, 3, 10, 20)
    assert imresize(x, scale=(0.5, 2.0)).shape == (2, 3, 17, 94)
    assert imresize_array(np.zeros((33, 47, 3), np.uint8), scale=0.5).shape == (17, 24, 3)


@pytest.mark.parametrize(("factor", "offset"), [(2, 0.5), (4, 1.5)])
def test_downscaled_linear_ramp_samples_the_pixel_centres(factor: int, offset: float) -> None:
    # The antialiased kernel is symmetric about each output centre, so away from the borders a
    # linear ramp j -> j comes out as the input coordinate of output centre i: factor * i + offset.
    ramp = torch.arange(64, dtype=torch.float64).expand(1, 1, 8, 64)
    out = imresize(ramp, scale=1 / factor)[0, 0, 0]
    interior = torch.arange(3, out.numel() - 3)
    assert torch.allclose(out[interior], factor * interior.double() + offset)


def test_weights_rows_sum_to_one_and_clamp_at_the_border() -> None:
    matrix = resize_weights(16, 4, 0.25)
    assert matrix.shape == (4, 16)
    assert np.allclose(matrix.sum(axis=1), 1.0)
    # the first output's taps left of the image are folded onto the first sample (replication)
    assert matrix[0, 0] > matrix[0, 1]


@pytest.mark.parametrize("scale", [0.25, 0.5, 1 / 3, 2.0, 4.0])
def test_torch_equals_numpy_and_batching(scale: float) -> None:
    rng = np.random.default_rng(0)
    images = rng.random((3, 25, 31, 3))
    batch = torch.from_numpy(images.transpose(0, 3, 1, 2).copy()).float()
    got = imresize(batch, scale=scale)
    for i in range(3):
        expected = imresize_array(images[i], scale=scale)
        assert np.allclose(got[i].permute(1, 2, 0).numpy(), expected, atol=1e-5)
        assert torch.allclose(imresize(batch[i : i + 1], scale=scale)[0], got[i], atol=1e-6)


def test_uint8_in_uint8_out() -> None:
    image = np.random.default_rng(1).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    out = imresize_array(image, scale=0.5)
    assert out.dtype == np.uint8
    assert np.abs(out.astype(float) - imresize_array(image.astype(np.float64), scale=0.5)).max() <= 1.5


def test_errors_say_what_is_accepted() -> None:
    with pytest.raises(ConfigError, match="floating"):
        imresize(torch.zeros(1, 1, 4, 4, dtype=torch.uint8), scale=2)
    with pytest.raises(ConfigError, match="scale factor or an output size"):
        imresize(torch.zeros(1, 1, 4, 4))
    with pytest.raises(ConfigError, match="positive"):
        imresize(torch.zeros(1, 1, 4, 4), scale=-1)
    with pytest.raises(InputImageError, match="uint8 or float"):
        imresize_array(np.zeros((4, 4), np.uint16), scale=2)


@pytest.mark.data
@pytest.mark.parametrize("dataset", ["Set5", "Set14"])
@pytest.mark.parametrize("scale", [2, 4])
def test_matches_matlab_lr_images(sr_data: Path, dataset: str, scale: int) -> None:
    within_one = exact = total = 0
    for hr_path in sorted((sr_data / dataset / "HR").glob("*.png")):
        hr = cv2.imread(str(hr_path), cv2.IMREAD_UNCHANGED)
        hr = hr[: hr.shape[0] - hr.shape[0] % scale, : hr.shape[1] - hr.shape[1] % scale]
        lr = cv2.imread(str(sr_data / dataset / "LR_bicubic" / f"X{scale}" / f"{hr_path.stem}x{scale}.png"), -1)
        ours = imresize_array(hr, scale=1 / scale)
        assert ours.shape == lr.shape, hr_path.name
        diff = np.abs(ours.astype(int) - lr.astype(int))
        within_one += int((diff <= 1).sum())
        exact += int((diff == 0).sum())
        total += diff.size
    assert total > 0
    assert within_one / total >= 0.999
    assert exact / total >= 0.99  # bit-exact here; mirrored borders would give ~98.9 %
