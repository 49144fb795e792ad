"""Real-ESRGAN's second-order degradation: seeded, and each stage does what it says."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from gansuite.bench._sr_degradation import real_degradation
from gansuite.errors import ConfigError
from gansuite.metrics import jpeg_grid_strength
from gansuite.tasks.upscale.head import UpscaleHead
from gansuite.tasks.upscale.realistic import (
    KERNEL_TYPES,
    DegradationStage,
    RealisticDegradationConfig,
    add_gaussian_noise,
    add_poisson_noise,
    apply_kernels,
    jpeg_compress,
    random_kernel,
    realistic_degradation_batch,
    sinc_kernel,
    unsharp_mask,
)


def _photo(seed: int = 0, size: int = 64) -> torch.Tensor:
    """A smooth random picture with edges: (1, 3, size, size) in [0, 1]."""
    rng = np.random.default_rng(seed)
    small = rng.random((3, 8, 8))
    image = torch.from_numpy(small).float()[None]
    image = torch.nn.functional.interpolate(image, size=(size, size), mode="bicubic", align_corners=False)
    image[..., size // 3 : size // 2, :] += 0.3
    return image.clamp(0, 1)


def test_same_seed_same_low_res_and_other_seed_differs() -> None:
    high = torch.cat([_photo(0), _photo(1)])
    first = realistic_degradation_batch(high, 4, np.random.default_rng(7))
    again = realistic_degradation_batch(high, 4, np.random.default_rng(7))
    other = realistic_degradation_batch(high, 4, np.random.default_rng(8))
    assert first.shape == (2, 3, 16, 16)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    torch.testing.assert_close(first * 255, (first * 255).round(), atol=1e-4, rtol=0)


@pytest.mark.parametrize("seed", range(12))
def test_every_blur_kernel_sums_to_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    stage = DegradationStage(sinc_prob=0.3)
    for size in (7, 13, 21):
        kernel = random_kernel(rng, stage, size)
        assert kernel.shape == (size, size)
        assert kernel.sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("kind", KERNEL_TYPES)
def test_each_kernel_type_is_a_centred_low_pass(kind: str) -> None:
    probs = tuple(1.0 if k == kind else 0.0 for k in KERNEL_TYPES)
    stage = DegradationStage(kernel_probs=probs, sinc_prob=0.0, blur_sigma=(1.5, 2.5))
    kernel = random_kernel(np.random.default_rng(3), stage, 15)
    assert kernel.sum() == pytest.approx(1.0) and (kernel >= 0).all()
    assert kernel[7, 7] == kernel.max()  # peak at the centre
    np.testing.assert_allclose(kernel, kernel[::-1, ::-1], atol=1e-12)  # point-symmetric
    if kind.endswith("_iso") or kind == "iso":
        np.testing.assert_allclose(kernel, kernel.T, atol=1e-12)


def test_sinc_kernel_rings() -> None:
    kernel = sinc_kernel(21, np.pi / 3)
    assert kernel.sum() == pytest.approx(1.0) and kernel.min() < 0  # negative lobes: ringing


def test_apply_kernels_delta_is_identity_and_box_is_mean() -> None:
    images = torch.rand(2, 3, 12, 12)
    delta = torch.zeros(2, 5, 5)
    delta[:, 2, 2] = 1
    torch.testing.assert_close(apply_kernels(images, delta), images)
    box = torch.full((2, 3, 3), 1 / 9)
    out = apply_kernels(images, box)
    torch.testing.assert_close(out[..., 5, 5], images[..., 4:7, 4:7].mean(dim=(-1, -2)))


def test_gaussian_noise_has_the_set_sigma_and_gray_noise_is_shared() -> None:
    images = torch.full((2, 3, 128, 128), 0.5)
    sigma = torch.tensor([5 / 255, 20 / 255])
    noisy = add_gaussian_noise(images, sigma, torch.tensor([False, True]), seed=1)
    noise = noisy - images
    assert noise[0].std().item() == pytest.approx(5 / 255, rel=0.03)
    assert noise[1].std().item() == pytest.approx(20 / 255, rel=0.03)
    assert torch.equal(noise[1, 0], noise[1, 2]) and not torch.equal(noise[0, 0], noise[0, 2])


def test_poisson_noise_variance_follows_brightness() -> None:
    images = torch.cat([torch.full((1, 3, 128, 128), 0.1), torch.full((1, 3, 128, 128), 0.8)])
    noise = add_poisson_noise(images, torch.tensor([1.0, 1.0]), torch.tensor([False, False]), seed=2) - images
    # photon counts at 8-bit levels: variance = x * 255 counts², i.e. x / 255 in [0, 1] units
    for n, level in enumerate((0.1, 0.8)):
        assert noise[n].var().item() == pytest.approx(level / 255, rel=0.05)


def test_jpeg_is_real_jpeg_and_quality_matters() -> None:
    image = _photo(4)
    low = jpeg_compress(image, [10])
    high = jpeg_compress(image, [95])
    assert (low - image).abs().mean() > 2 * (high - image).abs().mean()
    array = (image[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)[..., ::-1]
    _ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(array), [cv2.IMWRITE_JPEG_QUALITY, 10])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    np.testing.assert_allclose(low[0].permute(1, 2, 0).numpy(), decoded, atol=1e-6)


def test_unsharp_mask_sharpens_edges_and_keeps_flat_areas() -> None:
    flat = torch.full((1, 3, 64, 64), 0.4)
    torch.testing.assert_close(unsharp_mask(flat), flat)
    edge = torch.zeros(1, 3, 64, 64)
    edge[..., 32:] = 0.6
    blurred = apply_kernels(edge, torch.from_numpy(sinc_kernel(9, np.pi / 2)).float()[None].clamp(min=0) / 1.0)
    sharp = unsharp_mask(blurred)
    gradient = lambda x: (x[..., 1:] - x[..., :-1]).abs().max()  # noqa: E731
    assert gradient(sharp) > gradient(blurred)


def test_config_is_validated_and_serialisable() -> None:
    with pytest.raises(ConfigError, match="kernel_probs"):
        DegradationStage(kernel_probs=(1.0, 0.5, 0, 0, 0, 0))
    with pytest.raises(ConfigError, match="jpeg_range"):
        DegradationStage(jpeg_range=(0, 120))
    with pytest.raises(ConfigError, match="odd"):
        RealisticDegradationConfig(kernel_sizes=(8,))
    saved = RealisticDegradationConfig().as_dict()
    assert saved["first"]["jpeg_range"] == (30, 95) and saved["final_sinc_prob"] == 0.8


def test_realistic_head_sharpens_targets_and_bicubic_does_not() -> None:
    crops = (torch.rand(2, 32, 32, 3) * 255).to(torch.uint8)
    real = UpscaleHead(scale=4, degradation="realistic").prepare(crops)
    clean = UpscaleHead(scale=4, degradation="bicubic").prepare(crops)
    assert real.inputs.shape == (2, 3, 8, 8)
    assert torch.equal(clean.target, crops.permute(0, 3, 1, 2).float() / 255)
    assert not torch.equal(real.target, clean.target)
    plain = UpscaleHead(scale=4, degradation="realistic", realistic=RealisticDegradationConfig(sharpen_target=False))
    assert torch.equal(plain.prepare(crops).target, clean.target)


def test_real_photo_recipes_train_on_plain_targets() -> None:
    # sharpened (gt_usm) targets teach over-amplified detail: the shipped real-photo recipes turn them off
    from gansuite.tasks.upscale.recipes import RECIPES

    for name in ("x4-real-psnr", "x4-real-gan"):
        recipe = RECIPES.get(name)
        assert recipe.degradation == "realistic" and recipe.realistic is not None
        assert recipe.realistic.sharpen_target is False


def test_jpeg_grid_strength_sees_upscaled_blocks() -> None:
    rng = np.random.default_rng(0)
    small = cv2.resize(rng.random((12, 12, 3)).astype(np.float32), (64, 64), interpolation=cv2.INTER_CUBIC)
    low = np.clip(small * 255, 0, 255).astype(np.uint8)
    _ok, encoded = cv2.imencode(".jpg", low, [cv2.IMWRITE_JPEG_QUALITY, 15])
    blocky = cv2.imdecode(encoded, cv2.IMREAD_COLOR)

    def up(array: np.ndarray) -> torch.Tensor:
        big = cv2.resize(array, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
        return torch.from_numpy(big).permute(2, 0, 1)[None].float() / 255

    assert jpeg_grid_strength(up(blocky), 4).item() > 1.2
    assert jpeg_grid_strength(up(low), 4).item() == pytest.approx(1.0, abs=0.1)


def test_benchmark_real_degradation_is_fixed_per_image() -> None:
    high = (np.random.default_rng(1).random((64, 48, 3)) * 255).astype(np.uint8)
    first = real_degradation(high, 4, seed=0, name="a.png")
    assert first.shape == (16, 12, 3) and first.dtype == np.uint8
    assert np.array_equal(first, real_degradation(high, 4, seed=0, name="a.png"))
    assert not np.array_equal(first, real_degradation(high, 4, seed=0, name="b.png"))
