"""Tests of gansuite.metrics: PSNR/SSIM against scikit-image, LPIPS properties, AUC/EER, video scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gansuite.errors import BackboneNotFoundError, ConfigError, InputImageError
from gansuite.metrics import (
    LPIPSMetric,
    equal_error_rate,
    frame_auc,
    gradient_energy,
    per_horizon_scores,
    psnr,
    psnr_array,
    quantize_8bit,
    rgb_to_y,
    ssim,
    ssim_array,
)
from gansuite.metrics.video import PSNR_CEILING

# AlexNet `features` conv layers: index → weight shape (torchvision's layout).
ALEXNET_CONVS = {0: (64, 3, 11, 11), 3: (192, 64, 5, 5), 6: (384, 192, 3, 3), 8: (256, 384, 3, 3), 10: (256, 256, 3, 3)}


def _skimage_ssim(a: np.ndarray, b: np.ndarray, channel_axis: int | None = None) -> float:
    return float(
        structural_similarity(
            a,
            b,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
            channel_axis=channel_axis,
        )
    )


def _y_plane(image: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr luma of an (H, W, 3) uint8 RGB image, float64 on the 8-bit scale."""
    return 16.0 + (image.astype(np.float64) / 255.0) @ np.array([65.481, 128.553, 24.966])


@pytest.fixture(scope="module")
def image_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Three (H, W, 3) uint8 RGB pairs: smooth images and noisy copies of them."""
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:48, 0:56]
    base = np.stack([128 + 100 * np.sin(xs / (5 + k) + ys / (7 + 2 * k)) for k in range(3)], axis=-1)
    clean = np.stack([np.clip(base + 20 * k, 0, 255) for k in range(3)]).astype(np.uint8)
    noisy = np.clip(clean + rng.normal(0, 8 + 4 * np.arange(3)[:, None, None, None], clean.shape), 0, 255)
    return clean, noisy.round().astype(np.uint8)


def _batch(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)


def test_y_conversion_spans_16_to_235() -> None:
    black_white = torch.tensor([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]]).T.reshape(1, 3, 1, 2)
    assert rgb_to_y(black_white).flatten().tolist() == pytest.approx([16.0, 235.0])


def test_quantize_rounds_half_away_from_zero_and_clips() -> None:
    values = torch.tensor([0.5 / 255, 1.49 / 255, -0.2, 1.3])
    assert quantize_8bit(values).tolist() == [1.0, 1.0, 0.0, 255.0]


@pytest.mark.parametrize("crop", [0, 4])
def test_psnr_ssim_match_skimage_on_y(image_pairs: tuple[np.ndarray, np.ndarray], crop: int) -> None:
    clean, noisy = image_pairs
    got_psnr = psnr(_batch(noisy), _batch(clean), channel="y", crop_border=crop)
    got_ssim = ssim(_batch(noisy), _batch(clean), channel="y", crop_border=crop)
    for i in range(len(clean)):
        ya, yb = _y_plane(noisy[i]), _y_plane(clean[i])
        if crop:
            ya, yb = ya[crop:-crop, crop:-crop], yb[crop:-crop, crop:-crop]
        assert float(got_psnr[i]) == pytest.approx(peak_signal_noise_ratio(yb, ya, data_range=255), abs=1e-6)
        assert float(got_ssim[i]) == pytest.approx(_skimage_ssim(ya, yb), abs=1e-6)


def test_psnr_ssim_match_skimage_on_rgb(image_pairs: tuple[np.ndarray, np.ndarray]) -> None:
    clean, noisy = image_pairs
    for i in range(len(clean)):
        assert psnr_array(noisy[i], clean[i], channel="rgb") == pytest.approx(
            peak_signal_noise_ratio(clean[i], noisy[i], data_range=255), abs=1e-6
        )
        expected = _skimage_ssim(noisy[i].astype(np.float64), clean[i].astype(np.float64), channel_axis=2)
        assert ssim_array(noisy[i], clean[i], channel="rgb") == pytest.approx(expected, abs=1e-6)


def test_gray_images_score_their_single_channel(image_pairs: tuple[np.ndarray, np.ndarray]) -> None:
    clean, noisy = (pair[0, :, :, 1] for pair in image_pairs)
    assert psnr_array(noisy, clean, channel="rgb") == pytest.approx(
        peak_signal_noise_ratio(clean, noisy, data_range=255), abs=1e-6
    )
    assert ssim_array(noisy, clean, channel="rgb") == pytest.approx(
        _skimage_ssim(noisy.astype(np.float64), clean.astype(np.float64)), abs=1e-6
    )


def test_quantize_option_rounds_floats_to_8_bit(image_pairs: tuple[np.ndarray, np.ndarray]) -> None:
    clean, noisy = image_pairs
    jitter = torch.rand(_batch(noisy).shape, generator=torch.Generator().manual_seed(1)) * 0.9 / 255 - 0.45 / 255
    blurred = _batch(noisy) + jitter  # still rounds to the same 8-bit values
    assert torch.equal(psnr(blurred, _batch(clean)), psnr(_batch(noisy), _batch(clean)))
    assert not torch.equal(psnr(blurred, _batch(clean), quantize=False), psnr(_batch(noisy), _batch(clean)))


def test_identical_images_give_inf_psnr_and_unit_ssim(image_pairs: tuple[np.ndarray, np.ndarray]) -> None:
    clean = _batch(image_pairs[0])
    assert torch.isinf(psnr(clean, clean)).all()
    assert torch.allclose(ssim(clean, clean), torch.ones(3, dtype=torch.float64))


def test_metric_errors_name_what_was_wrong() -> None:
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(ConfigError, match="differ in shape"):
        psnr(x, torch.rand(1, 3, 32, 30))
    with pytest.raises(ConfigError, match="channel='y' needs RGB"):
        psnr(x[:, :1], x[:, :1], channel="y")
    with pytest.raises(ConfigError, match="channel must be 'y' or 'rgb'"):
        ssim(x, x, channel="luma")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="smaller than the 11x11 window"):
        ssim(x, x, crop_border=11)
    with pytest.raises(ConfigError, match=r"float \(N, 1 or 3, H, W\)"):
        psnr(x[0], x[0])
    with pytest.raises(InputImageError, match="uint8 or float"):
        psnr_array(np.zeros((8, 8, 3), np.uint16), np.zeros((8, 8, 3), np.uint16))


@pytest.mark.parametrize("crop_border", [1.5, "4", True, None])
def test_crop_border_of_another_type_is_a_config_error(crop_border: object) -> None:
    x = torch.rand(1, 3, 16, 16)
    for metric in (psnr, ssim):
        expected = rf"{metric.__name__}: crop_border must be an integer >= 0.*got {crop_border!r}"
        with pytest.raises(ConfigError, match=expected):
            metric(x, x, crop_border=crop_border)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"psnr_array: crop_border must be an integer"):
        psnr_array(np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16, 3), np.uint8), crop_border=crop_border)


def test_empty_images_are_refused_as_empty() -> None:
    with pytest.raises(ConfigError, match=r"psnr: prediction of shape \(1, 3, 0, 16\) has no pixels"):
        psnr(torch.rand(1, 3, 0, 16), torch.rand(1, 3, 0, 16))


def test_array_metric_errors_name_the_array_function_and_shapes() -> None:
    gray, colour = np.zeros((16, 16), np.uint8), np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(ConfigError, match=r"^psnr_array: prediction \(16, 16, 3\) and target \(16, 17, 3\) differ"):
        psnr_array(colour, np.zeros((16, 17, 3), np.uint8))
    with pytest.raises(ConfigError, match=r"^ssim_array: channel='y' needs RGB \(H, W, 3\) images.*\(16, 16\)"):
        ssim_array(gray, gray)
    with pytest.raises(ConfigError, match=r"^ssim_array: crop_border=8 leaves nothing"):
        ssim_array(colour, colour, crop_border=8)
    with pytest.raises(InputImageError, match=r"psnr_array: prediction must be a numpy array.*Tensor; .*use psnr"):
        psnr_array(torch.zeros(16, 16, 3), colour)  # type: ignore[arg-type]
    with pytest.raises(InputImageError, match=r"ssim_array: target must be a numpy array.*got list"):
        ssim_array(colour, colour.tolist())  # type: ignore[arg-type]
    with pytest.raises(InputImageError, match=r"got prediction of dtype bool: convert it to uint8"):
        psnr_array(colour.astype(bool), colour)


def test_float_images_outside_0_1_are_refused_a_hair_outside_pass(image_pairs: tuple[np.ndarray, np.ndarray]) -> None:
    clean, noisy = _batch(image_pairs[0]), _batch(image_pairs[1])
    for metric in (psnr, ssim):
        expected = r"prediction has float values in \[.*, 255\].*must be in \[0, 1\].*by 255"
        with pytest.raises(ConfigError, match=expected):
            metric(clean * 255, noisy * 255)  # scored as near-identical before (55 dB, SSIM 0.998)
        with pytest.raises(ConfigError, match=r"target has float values .*\(x \+ 1\) / 2"):
            metric(clean, noisy * 2 - 1)
    with pytest.raises(ConfigError, match=r"psnr_array: prediction .*by 255"):
        psnr_array(image_pairs[0][0].astype(np.float32), image_pairs[1][0].astype(np.float32))
    with pytest.raises(ConfigError, match=r"ssim_array: target .*by 255"):
        ssim_array(image_pairs[0][0] / 255.0, image_pairs[1][0].astype(np.float64))
    with pytest.raises(ConfigError, match=r"gradient_energy: frames .*by 255"):
        gradient_energy(clean * 255)
    with pytest.raises(ConfigError, match=r"per_horizon_scores: targets .*by 255"):
        per_horizon_scores(clean[None], noisy[None] * 255)
    # within the tolerance, half an 8-bit step (rounding after resampling): accepted, quantised as clipped values
    nudged = clean.clone()
    nudged[:, :, 0, 0], nudged[:, :, 1, 1] = 1.0 + 1.9e-3, -1.9e-3
    clipped = nudged.clamp(0, 1)
    assert torch.equal(psnr(nudged, noisy), psnr(clipped, noisy))
    assert torch.equal(ssim(noisy, nudged), ssim(noisy, clipped))
    assert gradient_energy(nudged).shape == (3,)
    nudged[:, :, 0, 0] = 1.004  # twice as far out: refused, clamping suggested
    expected = r"values in \[-0\.0019, 1\.004\].*within half an 8-bit step, 0\.5/255\): clamp"
    with pytest.raises(ConfigError, match=expected):
        psnr(nudged, noisy)


# ----------------------------------------------------------------------------- LPIPS


@pytest.fixture(scope="module")
def random_alexnet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded random AlexNet `features` file in the shared files' layout ("features.N.*" keys)."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for index, shape in ALEXNET_CONVS.items():
        fan_in = shape[1] * shape[2] * shape[3]
        state[f"features.{index}.weight"] = torch.randn(shape, generator=generator) * (2.0 / fan_in) ** 0.5
        state[f"features.{index}.bias"] = torch.zeros(shape[0])
    path = tmp_path_factory.mktemp("backbones") / "alexnet_features_imagenet.safetensors"
    save_file(state, str(path))
    return path


@pytest.fixture(scope="module")
def lpips_metric(random_alexnet_file: Path) -> LPIPSMetric:
    return LPIPSMetric(net="alex", backbones=random_alexnet_file, device="cpu")


def test_lpips_local_file_needs_no_download(random_alexnet_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    monkeypatch.setattr("gansuite.core.backbones._torchvision_features", no_download)
    metric = LPIPSMetric(backbones=random_alexnet_file.parent, device="cpu")
    assert metric.backbone_source == str(random_alexnet_file)


def test_lpips_copies_the_backbone_into_lpips(lpips_metric: LPIPSMetric, random_alexnet_file: Path) -> None:
    from safetensors.torch import load_file

    state = load_file(str(random_alexnet_file))
    net = lpips_metric._model.net
    for slice_name, index in (("slice1", 0), ("slice2", 3), ("slice3", 6), ("slice4", 8), ("slice5", 10)):
        layer = getattr(getattr(net, slice_name), str(index))
        assert torch.equal(layer.weight, state[f"features.{index}.weight"])


def test_lpips_is_zero_for_identical_images_and_grows_with_noise(lpips_metric: LPIPSMetric) -> None:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(2, 3, 48, 48, generator=generator)
    noise = torch.randn(images.shape, generator=generator)
    assert torch.allclose(lpips_metric(images, images), torch.zeros(2), atol=1e-7)
    distances = [lpips_metric((images + level * noise).clamp(0, 1), images) for level in (0.02, 0.1, 0.3)]
    assert (distances[0] < distances[1]).all() and (distances[1] < distances[2]).all()


def test_lpips_batch_equals_single_images(lpips_metric: LPIPSMetric) -> None:
    generator = torch.Generator().manual_seed(2)
    x, y = torch.rand(5, 3, 40, 40, generator=generator), torch.rand(5, 3, 40, 40, generator=generator)
    batched = lpips_metric(x, y)
    single = torch.cat([lpips_metric(x[i : i + 1], y[i : i + 1]) for i in range(5)])
    assert batched.shape == (5,)
    assert torch.allclose(batched, single, atol=1e-5)


def test_lpips_refuses_images_on_the_0_255_scale(lpips_metric: LPIPSMetric) -> None:
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with pytest.raises(ConfigError, match=r"lpips: prediction has float values .*must be in \[0, 1\].*by 255"):
        lpips_metric(x * 255, x * 255)


def test_lpips_gray_is_repeated_to_rgb(lpips_metric: LPIPSMetric) -> None:
    x, y = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    assert torch.allclose(lpips_metric(x, y), lpips_metric(x.repeat(1, 3, 1, 1), y.repeat(1, 3, 1, 1)))


def test_lpips_of_an_empty_batch_is_empty(lpips_metric: LPIPSMetric) -> None:
    empty = torch.rand(0, 3, 32, 32)
    distances = lpips_metric(empty, empty)
    assert distances.shape == (0,) and distances.dtype == torch.float32


def test_lpips_refuses_images_smaller_than_the_network_takes(lpips_metric: LPIPSMetric) -> None:
    for height, width in ((1, 1), (16, 64), (64, 30)):
        x = torch.rand(1, 3, height, width)
        with pytest.raises(ConfigError, match=rf"lpips: images of {width}x{height} pixels are too small for the alex"):
            lpips_metric(x, x)
    x = torch.rand(1, 3, 31, 31)
    assert lpips_metric(x, x).shape == (1,)


@pytest.mark.parametrize("batch_size", [0, 2.5, True, "8"])
def test_lpips_batch_size_must_be_a_positive_int(batch_size: object, random_alexnet_file: Path) -> None:
    with pytest.raises(ConfigError, match=rf"LPIPS batch_size must be an integer >= 1.*got {batch_size!r}"):
        LPIPSMetric(backbones=random_alexnet_file, device="cpu", batch_size=batch_size)  # type: ignore[arg-type]


def test_lpips_missing_backbone_says_both_ways(tmp_path: Path) -> None:
    with pytest.raises(BackboneNotFoundError, match=r"GANSUITE_BACKBONES.*torchvision"):
        LPIPSMetric(backbones=tmp_path / "nothing.safetensors", device="cpu")
    with pytest.raises(ConfigError, match="LPIPS net must be one of"):
        LPIPSMetric(net="squeeze", backbones=tmp_path)  # type: ignore[arg-type]


@pytest.mark.data
def test_lpips_with_the_shared_alexnet_runs(backbones_dir: Path) -> None:
    folder = backbones_dir
    metric = LPIPSMetric(backbones=folder, device="cpu")
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(metric(x, x), torch.zeros(2), atol=1e-7)
    assert (metric((x + 0.2 * torch.randn_like(x)).clamp(0, 1), x) > 0.01).all()


# ----------------------------------------------------------------------------- anomaly


@pytest.mark.parametrize(
    ("scores", "labels", "auc", "eer"),
    [
        ([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], 1.0, 0.0),  # perfect separation
        ([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1], 0.0, 1.0),  # perfectly wrong
        ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.75, 0.5),  # scikit-learn's documentation example
        ([1, 2, 3, 4, 5, 6], [0, 0, 1, 0, 1, 1], 8 / 9, 1 / 3),  # 8 of 9 pairs ordered; crossing on a point
        ([1, 2, 3, 4, 5], [0, 1, 0, 1, 1], 5 / 6, 1 / 3),  # crossing inside a segment (interpolated)
    ],
)
def test_auc_and_eer_hand_computed(scores: list[float], labels: list[int], auc: float, eer: float) -> None:
    assert frame_auc(scores, labels) == pytest.approx(auc)
    assert equal_error_rate(scores, labels) == pytest.approx(eer)


def test_anomaly_errors() -> None:
    with pytest.raises(ConfigError, match="3 scores and 2 labels"):
        frame_auc([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(ConfigError, match="both normal and anomalous"):
        equal_error_rate([0.1, 0.2], [1, 1])
    with pytest.raises(ConfigError, match="NaN or infinite"):
        frame_auc([0.1, float("nan")], [0, 1])
    with pytest.raises(ConfigError, match="0 \\(normal\\) or 1"):
        frame_auc([0.1, 0.2], [0, 2])


# ----------------------------------------------------------------------------- video


def test_gradient_energy_closed_form() -> None:
    ramp = (torch.arange(16, dtype=torch.float64) * 0.05).expand(2, 3, 1, 12, 16)  # (N, T, C, H, W)
    energy = gradient_energy(ramp)
    assert energy.shape == (2, 3)
    assert torch.allclose(energy, torch.full((2, 3), 0.05**2, dtype=torch.float64))
    assert torch.equal(gradient_energy(torch.full((1, 3, 8, 8), 0.4)), torch.zeros(1))


@pytest.mark.parametrize("channels", [1, 3])
def test_per_horizon_scores_per_step(channels: int, lpips_metric: LPIPSMetric) -> None:
    generator = torch.Generator().manual_seed(4)
    targets = torch.rand(2, 3, channels, 32, 32, generator=generator)
    noise = torch.randn(targets.shape, generator=generator)
    steps = torch.tensor([0.0, 0.05, 0.2]).view(1, 3, 1, 1, 1)  # error grows with the horizon
    predictions = (targets + steps * noise).clamp(0, 1)
    scores = per_horizon_scores(predictions, targets, lpips=lpips_metric)
    assert [s.step for s in scores] == [1, 2, 3]
    assert scores[0].psnr == PSNR_CEILING and scores[0].ssim == pytest.approx(1.0) and scores[0].lpips == 0.0
    assert scores[1].psnr > scores[2].psnr and scores[1].ssim > scores[2].ssim
    assert scores[1].lpips is not None and scores[2].lpips is not None and scores[1].lpips < scores[2].lpips
    expected = psnr(predictions[:, 2], targets[:, 2], channel="rgb", quantize=False).mean()
    assert scores[2].psnr == pytest.approx(float(expected))
    assert scores[0].sharpness == pytest.approx(scores[0].target_sharpness)


def test_blur_lowers_sharpness() -> None:
    frames = torch.rand(1, 2, 1, 32, 32, generator=torch.Generator().manual_seed(5))
    blurred = torch.nn.functional.avg_pool2d(frames.flatten(0, 1), 3, 1, 1).view_as(frames)
    scores = per_horizon_scores(blurred, frames)
    assert all(s.lpips is None and s.sharpness < s.target_sharpness for s in scores)


def test_per_horizon_scores_shape_errors() -> None:
    with pytest.raises(ConfigError, match=r"\(N, T, C, H, W\)"):
        per_horizon_scores(torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32))
