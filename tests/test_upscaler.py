"""`Upscaler`: sizes, tiled == untiled, array round trips, alpha, realism, float32 fallback, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from _upscale_helpers import (
    export_tiny,
    install_shipped,
    near_identity_generator,
    one_thread,
    random_array,
    tiny_generator,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from gansuite.core.checkpoint import load_weights
from gansuite.errors import CheckpointError, ConfigError, UnknownNameError
from gansuite.io import plan_tiles
from gansuite.io.image import LoadedImage
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path
from gansuite.tasks.upscale.upscaler import Upscaler, interpolate_weights


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    with one_thread():
        yield


MODELS = {scale: tiny_generator("compact", scale) for scale in (2, 4)}
IDENTITY = {scale: near_identity_generator(scale) for scale in (2, 4)}
CHANNELS = {"gray": 1, "BGR": 3, "BGRA": 4}
GREY_LEVEL = 1 / 255


def _upsample(array: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)


# ---------------------------------------------------------------------------- sizes and round trips


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    height=st.integers(1, 20),
    width=st.integers(1, 20),
    scale=st.sampled_from([2, 4]),
    tile=st.sampled_from(["auto", 0, 7]),
)
def test_output_is_input_times_scale(height: int, width: int, scale: int, tile: int | str) -> None:
    upscaler = Upscaler(MODELS[scale], device="cpu", tile=tile)
    result = upscaler(random_array(height, width))
    assert result.image.color.shape == (height * scale, width * scale, 3)
    assert result.image.color.dtype == np.float32
    assert result.image.color.min() >= 0.0 and result.image.color.max() <= 1.0
    assert result.scale == scale and result.tiles >= 1 and result.fallback_tiles == 0
    assert result.tile_size == (0 if tile == "auto" else tile)  # "auto" leaves a small image whole


@settings(max_examples=24, deadline=None, derandomize=True)
@given(
    height=st.integers(1, 12),
    width=st.integers(1, 12),
    scale=st.sampled_from([2, 4]),
    layout=st.sampled_from(sorted(CHANNELS)),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    seed=st.integers(0, 1000),
)
def test_array_round_trip_keeps_dtype_channels_and_pixels(
    height: int, width: int, scale: int, layout: str, dtype: type, seed: int
) -> None:
    # a model that is exactly nearest upsampling: every pixel must come back as it went in,
    # so bit depth, channel order, gray and alpha all survive decode → model → encode
    array = random_array(height, width, CHANNELS[layout], dtype, seed)
    upscaler = Upscaler(IDENTITY[scale], device="cpu", tile=0)
    out = upscaler.to_array(upscaler(array))
    assert out.dtype == array.dtype
    assert out.ndim == array.ndim and out.shape[2:] == array.shape[2:]
    expected = _upsample(array, scale)
    if layout == "BGRA":  # the invisible colour under alpha 0 is bled from visible neighbours
        visible = expected[..., 3] > 0
        np.testing.assert_array_equal(out[visible], expected[visible])
        np.testing.assert_array_equal(out[..., 3], expected[..., 3])
    else:
        np.testing.assert_array_equal(out, expected)


def test_round_trip_of_a_real_model_keeps_the_kind_of_array() -> None:
    for layout, channels in CHANNELS.items():
        for dtype in (np.uint8, np.uint16):
            array = random_array(5, 7, channels, dtype)
            upscaler = Upscaler(MODELS[4], device="cpu")
            out = upscaler.to_array(upscaler(array))
            assert (out.dtype, out.shape) == (array.dtype, (20, 28, *array.shape[2:])), layout


# ---------------------------------------------------------------------------- tiling


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    tile=st.integers(4, 24),
    extra_overlap=st.one_of(st.none(), st.integers(0, 3)),
    scale=st.sampled_from([2, 4]),
)
def test_tiled_equals_untiled_within_one_grey_level(
    height: int, width: int, tile: int, extra_overlap: int | None, scale: int
) -> None:
    model = MODELS[scale]
    overlap = None if extra_overlap is None else model.receptive_radius + extra_overlap
    array = random_array(height, width, 4, seed=height * 41 + width)  # BGRA: colour and alpha are both tiled
    untiled = Upscaler(model, device="cpu", tile=0)
    whole = untiled(array)
    progress: list[tuple[int, int]] = []
    tiled = Upscaler(model, device="cpu", tile=tile, tile_overlap=overlap)(array, on_tile=lambda *p: progress.append(p))
    plan = plan_tiles(height, width, tile, overlap if overlap is not None else model.receptive_radius)
    assert tiled.tile_size == tile and tiled.tiles == 2 * len(plan)  # colour, then alpha
    assert progress[-1] == (len(plan), len(plan))  # progress reports the colour pass
    np.testing.assert_allclose(tiled.image.color, whole.image.color, atol=GREY_LEVEL, rtol=0)
    np.testing.assert_allclose(tiled.image.alpha, whole.image.alpha, atol=GREY_LEVEL, rtol=0)
    quantised = [untiled.to_array(result).astype(int) for result in (tiled, whole)]
    assert np.abs(quantised[0] - quantised[1]).max() <= 1


@pytest.mark.parametrize("name", ["srresnet", "rrdbnet"])
def test_tiled_equals_untiled_for_the_larger_architectures(name: str) -> None:
    model = tiny_generator(name, 2)
    image = torch.rand(3, 23, 31, generator=torch.Generator().manual_seed(3))
    whole = Upscaler(model, device="cpu", tile=0)(image)
    tiled = Upscaler(model, device="cpu", tile=12)(image)
    assert tiled.tiles == 6
    np.testing.assert_allclose(tiled.image.color, whole.image.color, atol=GREY_LEVEL, rtol=0)


# ---------------------------------------------------------------------------- alpha


def test_alpha_is_upscaled_separately_from_colour() -> None:
    upscaler = Upscaler(MODELS[4], device="cpu", tile=0)
    bgra = random_array(9, 11, 4, seed=5)
    bgra[..., 3] = np.maximum(bgra[..., 3], 1)  # no fully transparent pixel, whose colour would be bled
    with_alpha = upscaler(bgra)
    # the colour does not see the alpha plane ...
    np.testing.assert_array_equal(with_alpha.image.color, upscaler(np.ascontiguousarray(bgra[..., :3])).image.color)
    # ... and the alpha is the alpha plane upscaled as an image of its own
    plane = torch.from_numpy(bgra[..., 3].astype(np.float32) / 255).expand(3, -1, -1)
    expected = upscaler(plane).image.color.mean(axis=2)
    np.testing.assert_allclose(with_alpha.image.alpha, expected, atol=1e-6, rtol=0)


def test_constant_alpha_stays_constant() -> None:
    # a model close to a faithful one (small residual): colour detail is added, a flat alpha stays flat
    upscaler = Upscaler(near_identity_generator(4, residual=0.05), device="cpu", tile=0)
    bgra = random_array(10, 12, 4, seed=6)
    bgra[..., 3] = 180
    out = upscaler.to_array(upscaler(bgra))
    assert np.abs(out[..., 3].astype(int) - 180).max() <= 2
    assert np.abs(out[..., :3].astype(int) - _upsample(bgra[..., :3], 4)).max() > 2  # the model did change colour


# ---------------------------------------------------------------------------- realism (network interpolation)


@pytest.fixture()
def shipped_pair(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    return install_shipped(monkeypatch, tmp_path / "weights", ("x4", "x4-gan"))


def test_realism_endpoints_are_exactly_the_two_models(shipped_pair: dict[str, Path]) -> None:
    image = random_array(8, 9, 3, seed=7)
    faithful = Upscaler(load_weights(shipped_pair["x4"]), device="cpu", tile=0)(image).image.color
    detailed = Upscaler(load_weights(shipped_pair["x4-gan"]), device="cpu", tile=0)(image).image.color
    assert not np.array_equal(faithful, detailed)
    at_zero = Upscaler.from_pretrained("x4", realism=0.0, device="cpu", tile=0)(image).image.color
    at_one = Upscaler.from_pretrained("x4", realism=1.0, device="cpu", tile=0)(image).image.color
    np.testing.assert_array_equal(at_zero, faithful)
    np.testing.assert_array_equal(at_one, detailed)
    # x4-gan is the realism=1 end: asking it for another realism is a conflict, refused by name
    with pytest.raises(ConfigError, match=r"--model x4-gan and --realism conflict: .* give --model x4 --realism R"):
        Upscaler.from_pretrained("x4-gan", realism=0.0, device="cpu")


def test_realism_half_gives_weights_halfway(shipped_pair: dict[str, Path]) -> None:
    faithful, detailed = load_weights(shipped_pair["x4"]), load_weights(shipped_pair["x4-gan"])
    halfway = Upscaler.from_pretrained("x4", realism=0.5, device="cpu").model.state_dict()
    for name, value in faithful.state_dict().items():
        expected = (value + detailed.state_dict()[name]) / 2
        torch.testing.assert_close(halfway[name], expected, atol=1e-7, rtol=0, msg=name)


def test_interpolate_weights_refuses_bad_realism_and_different_architectures() -> None:
    a, b = tiny_generator("compact", 4, seed=1), tiny_generator("compact", 4, seed=2)
    for realism in (-0.1, 1.5):
        with pytest.raises(ConfigError, match=f"`realism` must be between 0 and 1, got {realism}"):
            interpolate_weights(a, b, realism)
    with pytest.raises(ConfigError, match="same architecture"):
        interpolate_weights(a, tiny_generator("compact", 2), 0.5)


@pytest.mark.parametrize("value", ["0.5", True, float("nan"), None])
def test_realism_and_denoise_that_are_not_numbers_are_refused_by_name(value: object,
                                                                      shipped_pair: dict[str, Path]) -> None:
    a, b = tiny_generator("compact", 4, seed=1), tiny_generator("compact", 4, seed=2)
    with pytest.raises(ConfigError, match=rf"`realism` must be between 0 and 1, got {re.escape(repr(value))}"):
        interpolate_weights(a, b, value)  # type: ignore[arg-type]
    if value is None:
        return
    for name in ("realism", "denoise"):  # a str raised TypeError, True blended fully
        with pytest.raises(ConfigError, match=rf"`{name}` must be between 0 and 1, got .*; give a number"):
            Upscaler.from_pretrained("x4", device="cpu", **{name: value})


def test_realism_needs_the_shipped_pair(tmp_path: Path, shipped_pair: dict[str, Path]) -> None:
    with pytest.raises(ConfigError, match=r"between 0 and 1, got 1\.5"):
        Upscaler.from_pretrained("x4", realism=1.5, device="cpu")
    weights = export_tiny(tmp_path / "mine.safetensors")
    with pytest.raises(ConfigError, match="GAN counterpart"):
        Upscaler.from_pretrained(weights, realism=0.5, device="cpu")


# ---------------------------------------------------------------------------- float32 fallback


class _BreaksInHalfPrecision(nn.Module):
    """Wraps a generator so that, under autocast (the Upscaler's half-precision path), tiles whose
    input is brighter than `threshold` come out NaN, as an fp16 overflow does on a GPU.

    The arithmetic itself always runs in float32, so results are comparable with a float32 run.
    """

    def __init__(self, inner: nn.Module, threshold: float) -> None:
        super().__init__()
        self.inner, self.threshold = inner, threshold
        self.scale, self.receptive_radius = inner.scale, inner.receptive_radius

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = torch.is_autocast_enabled(x.device.type)
        with torch.autocast(x.device.type, enabled=False):
            out = self.inner(x.float())
        if half and float(x.float().mean()) > self.threshold:
            out = torch.full_like(out, float("nan"))
        return out


def _half_and_half(height: int, width: int) -> torch.Tensor:
    image = torch.rand(3, height, width, generator=torch.Generator().manual_seed(4)) * 0.1
    image[:, :, : width // 2] += 0.85  # bright left half, dark right half
    return image


@pytest.mark.parametrize(("threshold", "expect"), [(0.5, "some"), (-1.0, "all"), (2.0, "none")])
def test_non_finite_half_precision_tiles_are_recomputed_in_float32(threshold: float, expect: str) -> None:
    model = _BreaksInHalfPrecision(MODELS[2], threshold)
    image = _half_and_half(24, 40)
    reference = Upscaler(model, device="cpu", precision="fp32", tile=8)(image)
    assert reference.fallback_tiles == 0  # float32 never takes the half-precision path

    upscaler = Upscaler(model, device="cpu", precision="bf16", tile=8)
    assert upscaler.dtype == torch.bfloat16
    result = upscaler(image)
    plan = plan_tiles(24, 40, 8, model.receptive_radius)
    bright = sum(
        float(image[:, b.source.top : b.source.bottom, b.source.left : b.source.right].mean()) > threshold for b in plan
    )
    assert result.tiles == len(plan)
    assert result.fallback_tiles == bright
    assert {"some": 0 < bright < len(plan), "all": bright == len(plan), "none": bright == 0}[expect]
    assert np.isfinite(result.image.color).all()
    np.testing.assert_allclose(result.image.color, reference.image.color, atol=1e-6, rtol=0)


# ---------------------------------------------------------------------------- outscale and tensors


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    height=st.integers(2, 12),
    width=st.integers(2, 12),
    outscale=st.floats(0.5, 6.0, allow_nan=False),
    layout=st.sampled_from(sorted(CHANNELS)),
)
def test_outscale_gives_rounded_size(height: int, width: int, outscale: float, layout: str) -> None:
    upscaler = Upscaler(MODELS[4], device="cpu", outscale=outscale)
    array = random_array(height, width, CHANNELS[layout])
    result = upscaler(array)
    size = (round(height * outscale), round(width * outscale))
    assert result.scale == outscale
    assert result.image.color.shape == (*size, 3)
    assert upscaler.to_array(result).shape == (*size, *array.shape[2:])


def test_outscale_equal_to_the_model_scale_changes_nothing() -> None:
    array = random_array(6, 5)
    plain = Upscaler(MODELS[4], device="cpu")(array).image.color
    np.testing.assert_array_equal(Upscaler(MODELS[4], device="cpu", outscale=4)(array).image.color, plain)


def test_tensor_input_is_float_rgb() -> None:
    upscaler = Upscaler(MODELS[2], device="cpu")
    image = torch.rand(3, 7, 9, generator=torch.Generator().manual_seed(8))
    loaded = LoadedImage(color=image.permute(1, 2, 0).numpy().copy(), alpha=None, bit_depth=8, grayscale=False)
    expected = upscaler(loaded).image.color
    for given_image in (image, image[None]):
        result = upscaler(given_image)
        assert result.image.color.shape == (14, 18, 3) and result.image.alpha is None
        np.testing.assert_array_equal(result.image.color, expected)
    with pytest.raises(ConfigError, match=r"\(3, H, W\) or \(1, 3, H, W\) float RGB, got \(4, 7, 9\)"):
        upscaler(torch.rand(4, 7, 9))
    with pytest.raises(ConfigError, match="float RGB"):
        upscaler(torch.zeros(3, 7, 9, dtype=torch.uint8))
    with pytest.raises(ConfigError, match="cannot upscale a list"):
        upscaler([[0.5]])  # type: ignore[arg-type]


def test_float_images_on_the_0_255_scale_are_refused_not_clamped_white() -> None:
    upscaler = Upscaler(MODELS[2], device="cpu", tile=0)
    batch = torch.rand(2, 3, 7, 9, generator=torch.Generator().manual_seed(9))
    expected = r"has float values in \[.*, 2\d\d(\.\d*)?\]; float images must be in \[0, 1\].*divide .* by 255"
    with pytest.raises(ConfigError, match=f"upscale_tensor: images {expected}"):
        upscaler.upscale_tensor(batch * 255)  # was clamped to a near-white image
    with pytest.raises(ConfigError, match=f"the image tensor {expected}"):
        upscaler(batch[0] * 255)
    frames = [frame.permute(1, 2, 0).numpy() for frame in batch]
    with pytest.raises(ConfigError, match=f"frame 1 {expected}"):
        list(upscaler.upscale_frames([frames[0], frames[1] * 255], batch_size=2))
    # a hair outside (rounding after resampling) still passes and is clamped, as before
    nudged = batch.clone()
    nudged[:, :, 0, 0], nudged[:, :, 1, 1] = 1.0015, -0.0015
    torch.testing.assert_close(upscaler.upscale_tensor(nudged), upscaler.upscale_tensor(nudged.clamp(0, 1)))


# ---------------------------------------------------------------------------- errors


def test_bad_settings_are_refused_naming_the_option() -> None:
    model = MODELS[4]
    for tile in (-1, "big"):
        with pytest.raises(ConfigError, match="`tile` must be auto, 0 or a positive size"):
            Upscaler(model, device="cpu", tile=tile)
    with pytest.raises(ConfigError, match="`precision` 'fp16' needs CUDA"):
        Upscaler(model, device="cpu", precision="fp16")
    with pytest.raises(ConfigError, match="`precision` must be auto, fp32, fp16 or bf16, got 'fp64'"):
        Upscaler(model, device="cpu", precision="fp64")
    with pytest.raises(ConfigError, match="`tile_overlap` must be >= 0"):
        Upscaler(model, device="cpu", tile_overlap=-2)
    with pytest.raises(ConfigError, match=r"`outscale` must be in \(0, 16\], got 0"):
        Upscaler(model, device="cpu", outscale=0)
    with pytest.raises(ConfigError, match="`device` must be auto, cpu or cuda, got 'tpu'"):
        Upscaler(model, device="tpu")


def test_a_misspelt_setting_of_a_loader_is_named_with_the_closest_one_before_the_file_is_read(tmp_path: Path) -> None:
    missing = tmp_path / "not-there.safetensors"  # never opened: the setting is checked first
    accepted = r"accepted: device, precision, tile, tile_overlap, outscale"
    misspelt = r"from_pretrained: unknown setting devcie \(did you mean device\?\); "
    with pytest.raises(ConfigError, match=misspelt + accepted):
        Upscaler.from_pretrained(missing, devcie="cpu")  # was a TypeError from the constructor
    with pytest.raises(ConfigError, match=r"Upscaler.from_file: unknown setting copy_model; .*upscaler's own"):
        Upscaler.from_file(missing, copy_model=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_cuda_without_cuda_is_refused() -> None:
    with pytest.raises(ConfigError, match="CUDA is not available here; use `device` 'cpu'"):
        Upscaler(MODELS[4], device="cuda")


def test_unknown_model_name_lists_the_shipped_names() -> None:
    present = [name for name in sorted(SHIPPED_WEIGHTS) if shipped_weights_path(name).is_file()]
    assert {"x2", "x4", "x4-gan"} <= set(present)
    expected = rf"'x8' is neither a shipped name \({', '.join(present)}\) nor an existing"
    with pytest.raises(CheckpointError, match=expected):
        Upscaler.from_pretrained("x8")
    with pytest.raises(UnknownNameError, match=r"valid names are \['x2', 'x4', 'x4-gan', 'x4-real', 'x4-real-gan'\]"):
        shipped_weights_path("x8")


def test_missing_or_unreadable_weights_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(CheckpointError, match=r"missing\.safetensors.*nor an existing file"):
        Upscaler.from_pretrained(missing)
    text = tmp_path / "notes.safetensors"
    text.write_text("not weights")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        Upscaler.from_pretrained(text)


def test_shipped_name_missing_from_the_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_shipped(monkeypatch, tmp_path / "empty")
    with pytest.raises(CheckpointError, match=r"shipped model 'x4' is not included in this build"):
        Upscaler.from_pretrained("x4")


def test_weights_file_loads_and_upscales(tmp_path: Path) -> None:
    weights = export_tiny(tmp_path / "m.safetensors", "compact", 2, seed=3)
    upscaler = Upscaler.from_pretrained(weights, device="cpu")
    assert upscaler.scale == 2 and upscaler.tile_overlap == upscaler.model.receptive_radius
    expected = Upscaler(tiny_generator("compact", 2, seed=3), device="cpu")(random_array(4, 4)).image.color
    np.testing.assert_array_equal(upscaler(random_array(4, 4)).image.color, expected)


def test_tile_overlap_and_outscale_of_a_wrong_type_or_value_are_refused_naming_the_argument(tmp_path: Path) -> None:
    model = MODELS[2]
    overlap = "`tile_overlap` must be >= 0, a whole number of input pixels, got "
    for bad in (True, False, 2.5, 4.0, float("nan"), float("inf"), "8", -1):
        expected = overlap + re.escape(repr(bad))
        with pytest.raises(ConfigError, match=expected):
            Upscaler(model, device="cpu", tile_overlap=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=expected):  # before the file is looked at (or its radius probed)
            Upscaler.from_file(tmp_path / "never-read.pth", device="cpu", tile_overlap=bad)
        with pytest.raises(ConfigError, match=expected):
            Upscaler.from_pretrained(tmp_path / "never-read.safetensors", device="cpu", tile_overlap=bad)
    for bad in (True, "2", float("nan"), float("inf"), -float("inf"), -2, 0, 17):
        expected = rf"`outscale` must be in \(0, 16\], got {re.escape(repr(bad))}"
        with pytest.raises(ConfigError, match=expected):
            Upscaler(model, device="cpu", outscale=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=expected):
            Upscaler.from_pretrained(tmp_path / "never-read.safetensors", device="cpu", outscale=bad)
    with pytest.raises(ConfigError, match=r"got '8' \(a str\); give an int"):
        Upscaler(model, device="cpu", tile_overlap="8")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"got True \(a bool\); give a finite number"):
        Upscaler(model, device="cpu", outscale=True)  # type: ignore[arg-type]
    upscaler = Upscaler(model, device="cpu", tile_overlap=np.int64(3), outscale=np.float32(2.5))
    assert upscaler.tile_overlap == 3 and type(upscaler.tile_overlap) is int
    assert upscaler.outscale == 2.5 and type(upscaler.outscale) is float


def test_a_tensor_of_another_dtype_is_refused_naming_the_dtype_and_the_conversion() -> None:
    upscaler = Upscaler(MODELS[2], device="cpu", tile=0)
    floats = re.escape("(float16, bfloat16, float32 or float64)")
    with pytest.raises(ConfigError, match=rf"float RGB in \[0, 1\] {floats}, got dtype torch.uint8 of shape "
                       r"\(3, 7, 9\); for 8-bit pixels divide by 255: image.float\(\) / 255"):
        upscaler(torch.zeros(3, 7, 9, dtype=torch.uint8))
    with pytest.raises(ConfigError, match=r"got dtype torch.int64 of shape \(1, 3, 7, 9\); convert it to float pixels"):
        upscaler(torch.zeros(1, 3, 7, 9, dtype=torch.int64))
    with pytest.raises(ConfigError, match=rf"float in \[0, 1\] {floats}, got \(2, 3, 7, 9\) torch.uint16; for 16-bit "
                       r"pixels divide by 65535: images.float\(\) / 65535"):
        upscaler.upscale_tensor(torch.zeros(2, 3, 7, 9, dtype=torch.uint16))
    with pytest.raises(ConfigError, match=r"got \(1, 3, 7, 9\) torch.bool; convert it"):
        upscaler.upscale_tensor(torch.zeros(1, 3, 7, 9, dtype=torch.bool))
    with pytest.raises(ConfigError, match=r"got ndarray; give a torch tensor \(torch.from_numpy"):
        upscaler.upscale_tensor(np.zeros((1, 3, 7, 9), np.float32))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"frame 0: expected \(H, W, 1\|3\) float in \[0, 1\], got \(7, 9, 3\) uint8; "
                       r"for 8-bit pixels divide by 255: frame.astype\(np.float32\) / 255"):
        list(upscaler.upscale_frames([random_array(7, 9)]))


@pytest.mark.parametrize("batch_size", [1, 2])
def test_upscale_frames_refuses_a_frame_of_another_size_in_any_batch(batch_size: int) -> None:
    upscaler = Upscaler(MODELS[2], device="cpu", tile=0)
    frames = [np.zeros((5, 7, 3), np.float32)] * 2 + [np.zeros((6, 7, 3), np.float32)]
    with pytest.raises(ConfigError, match=r"frame 2 is \(6, 7, 3\), earlier frames \(5, 7, 3\): one size per clip"):
        list(upscaler.upscale_frames(frames, batch_size=batch_size))  # batch_size 1 and 2 yielded a 12x14 frame
    with pytest.raises(ConfigError, match=r"frame 0: expected .*got \(0, 7, 3\) float32, which has no pixels"):
        list(upscaler.upscale_frames([np.zeros((0, 7, 3), np.float32)]))


def test_a_folder_given_as_the_model_file_is_one_error_naming_it(tmp_path: Path) -> None:
    from gansuite.tasks.upscale.pretrained import load_upscale_weights

    folder = tmp_path / "run"
    export_tiny(folder / "generator.safetensors", "compact", 2)
    plain = tmp_path / "weights.safetensors"  # a folder with a model file's name
    plain.mkdir()
    for path, held in ((folder, r" \(it holds generator.safetensors\)"), (plain, "")):
        for load in (Upscaler.from_pretrained, Upscaler.from_file, load_weights, load_upscale_weights):
            with pytest.raises(CheckpointError, match=rf"file {re.escape(str(path))} is a folder, not a file{held}; "
                               "give the (model|weights) file itself"):
                load(path)  # type: ignore[operator]


def test_an_overlap_below_the_receptive_radius_warns_only_when_the_image_is_tiled() -> None:
    import warnings

    from gansuite.tasks.upscale.upscaler import TileSeamWarning

    model = MODELS[2]
    image = random_array(40, 40, 3)
    assert model.receptive_radius > 0
    with pytest.warns(TileSeamWarning, match=rf"`tile_overlap` 0 is below this model's receptive radius "
                                             rf"\({model.receptive_radius} px\): the 16-px tiles"):
        Upscaler(model, device="cpu", tile=16, tile_overlap=0)(image)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TileSeamWarning)
        Upscaler(model, device="cpu", tile=16)(image)  # the radius: tiles agree, nothing to say
        Upscaler(model, device="cpu", tile=64, tile_overlap=0)(image)  # one tile: no border to show
        Upscaler(model, device="cpu", tile=16, tile_overlap=model.receptive_radius)(image)
