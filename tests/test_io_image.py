"""Image I/O: round trips for uint8/uint16 x gray/BGR/BGRA, error paths, atomic writes."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _data import require
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gansuite.errors import ConfigError, GansuiteError, InputImageError, NotAvailableError
from gansuite.io import (
    LoadedImage,
    OutputError,
    OutputExistsError,
    atomic_path,
    atomic_write,
    atomic_write_bytes,
    decode_array,
    decode_bytes,
    encode_array,
    encode_bytes,
    from_tensor,
    probe_image,
    read_image,
    rgb_to_gray,
    to_tensor,
    write_image,
)
from gansuite.io import image as image_module


def random_raw(dtype: type, channels: int, height: int = 13, width: int = 17, seed: int = 0) -> np.ndarray:
    """An array as cv2.imread(..., IMREAD_UNCHANGED) returns it: (H, W) or (H, W, C)."""
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels == 1 else (height, width, channels)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


def round_trip_array(raw: np.ndarray) -> np.ndarray:
    loaded = decode_array(raw)
    return encode_array(loaded.color, loaded.alpha, bit_depth=loaded.bit_depth, grayscale=loaded.grayscale)


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_decode_encode_array_round_trip_is_exact(dtype: type, channels: int) -> None:
    raw = random_raw(dtype, channels)
    loaded = decode_array(raw)
    assert loaded.color.shape == (13, 17, 3) and loaded.color.dtype == np.float32
    assert loaded.color.min() >= 0.0 and loaded.color.max() <= 1.0
    assert loaded.bit_depth == (8 if dtype == np.uint8 else 16)
    assert loaded.grayscale == (channels == 1)
    assert (loaded.alpha is not None) == (channels == 4)
    back = round_trip_array(raw)
    assert back.dtype == raw.dtype and back.shape == raw.shape
    np.testing.assert_array_equal(back, raw)


def test_decode_array_gray_with_trailing_axis_and_gray_alpha() -> None:
    raw = random_raw(np.uint8, 1)
    np.testing.assert_array_equal(round_trip_array(raw[:, :, None]), raw)  # (H, W, 1) comes back as (H, W)
    gray_alpha = random_raw(np.uint16, 2)
    loaded = decode_array(gray_alpha)
    assert loaded.grayscale and loaded.alpha is not None
    np.testing.assert_array_equal(loaded.color[:, :, 0], loaded.color[:, :, 2])
    back = encode_array(loaded.color, loaded.alpha, bit_depth=16, grayscale=True)
    assert back.shape == (13, 17, 4)  # OpenCV writes no 2-channel images: BGRA with equal channels
    np.testing.assert_array_equal(back[:, :, 0], gray_alpha[:, :, 0])
    np.testing.assert_array_equal(back[:, :, 3], gray_alpha[:, :, 1])


@pytest.mark.parametrize("extension", [".png", ".tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_file_round_trip_is_exact(tmp_path: Path, extension: str, dtype: type, channels: int) -> None:
    raw = random_raw(dtype, channels)
    source = decode_array(raw)
    path = write_image(
        tmp_path / f"image{extension}",
        source.color,
        source.alpha,
        bit_depth=source.bit_depth,
        grayscale=source.grayscale,
    )
    on_disk = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)  # what other programs see: BGR(A) order
    np.testing.assert_array_equal(on_disk, raw)
    loaded = read_image(path)
    assert loaded.path == path and loaded.bit_depth == source.bit_depth and loaded.grayscale == source.grayscale
    np.testing.assert_array_equal(loaded.color, source.color)
    if channels == 4:
        np.testing.assert_array_equal(loaded.alpha, source.alpha)
    else:
        assert loaded.alpha is None


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    raw=st.sampled_from([np.uint8, np.uint16]).flatmap(
        lambda dtype: hnp.arrays(
            dtype,
            st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3, 4])).map(
                lambda shape: shape[:2] if shape[2] == 1 else shape
            ),
        )
    )
)
def test_round_trip_property(raw: np.ndarray) -> None:
    np.testing.assert_array_equal(round_trip_array(raw), raw)
    loaded = decode_array(raw)
    data = encode_bytes(".png", loaded.color, loaded.alpha, bit_depth=loaded.bit_depth, grayscale=loaded.grayscale)
    again = decode_bytes(data)
    np.testing.assert_array_equal(again.color, loaded.color)
    assert again.bit_depth == loaded.bit_depth and again.grayscale == loaded.grayscale


def test_channel_order_is_rgb_inside_and_bgr_on_disk(tmp_path: Path) -> None:
    red = np.zeros((4, 5, 3), np.float32)
    red[:, :, 0] = 1.0
    path = write_image(tmp_path / "red.png", red)
    assert tuple(cv2.imread(str(path))[0, 0]) == (0, 0, 255)
    np.testing.assert_array_equal(read_image(path).color, red)


def test_grayscale_write_uses_bt601_luma_and_keeps_equal_channels(tmp_path: Path) -> None:
    color = np.zeros((2, 3, 3), np.float32)
    color[0, :, 0] = 1.0  # red
    color[1] = 0.5  # gray
    path = write_image(tmp_path / "gray.png", color, grayscale=True)
    on_disk = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert on_disk.ndim == 2
    assert on_disk[0, 0] == round(0.299 * 255) and on_disk[1, 0] == round(0.5 * 255)
    np.testing.assert_allclose(rgb_to_gray(color)[1], 0.5, rtol=1e-6)
    assert read_image(path).grayscale


def test_values_outside_range_are_clipped_and_rounded() -> None:
    color = np.array([[[-0.2, 0.6 / 255, 1.7]]], np.float32)
    assert encode_array(color).tolist() == [[[255, 1, 0]]]  # BGR order
    assert encode_array(np.full((1, 1, 3), 0.4 / 255, np.float32)).max() == 0


@pytest.mark.parametrize(
    ("scaled", "fix"),
    [(np.full((2, 2, 3), 200.0, np.float32), "divide images on the 0..255 scale by 255"),
     (np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 2, 3), r"map images in \[-1, 1\] to \[0, 1\]")],
)
def test_a_float_image_on_another_scale_is_refused(tmp_path: Path, scaled: np.ndarray, fix: str) -> None:
    with pytest.raises(InputImageError, match=fix):
        encode_array(scaled)
    with pytest.raises(InputImageError, match=r"out\.png: color has float values in \[.*\]; float images must be in"):
        write_image(tmp_path / "out.png", scaled)
    assert not (tmp_path / "out.png").exists()
    alpha = np.full((2, 2), 255.0, np.float32)
    with pytest.raises(InputImageError, match="alpha has float values"):
        encode_array(np.zeros((2, 2, 3), np.float32), alpha)


def test_gray_alpha_png_is_reported_gray(tmp_path: Path) -> None:
    image_lib = pytest.importorskip("PIL.Image")
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    alpha = np.full((3, 4), 128, np.uint8)
    path = tmp_path / "la.png"
    image_lib.fromarray(np.stack([gray, alpha], axis=2), mode="LA").save(path)
    loaded = read_image(path)
    assert loaded.grayscale and loaded.bit_depth == 8
    np.testing.assert_array_equal(loaded.color[:, :, 1], gray / np.float32(255))
    np.testing.assert_allclose(loaded.alpha, 128 / 255)


def test_jpeg_exif_orientation_is_applied(tmp_path: Path) -> None:
    image_lib = pytest.importorskip("PIL.Image")
    exif = image_lib.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    image_lib.fromarray(np.zeros((20, 30, 3), np.uint8)).save(path, exif=exif)
    assert read_image(path).color.shape == (30, 20, 3)


def test_eight_bit_only_formats_downgrade_sixteen_bit(tmp_path: Path) -> None:
    ramp = np.linspace(0.0, 1.0, 40, dtype=np.float32)
    color = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], np.float32(0.25)), axis=2)
    for extension in (".jpg", ".webp"):
        loaded = read_image(write_image(tmp_path / f"x{extension}", color, bit_depth=16, quality=100))
        assert loaded.bit_depth == 8
        assert np.abs(loaded.color - color).max() < 0.05


def test_webp_keeps_alpha(tmp_path: Path) -> None:
    raw = random_raw(np.uint8, 4)
    source = decode_array(raw)
    loaded = read_image(write_image(tmp_path / "x.webp", source.color, source.alpha))
    assert loaded.alpha is not None


def test_non_ascii_path_round_trip(tmp_path: Path) -> None:
    source = decode_array(random_raw(np.uint8, 3))
    path = write_image(tmp_path / "größe 图像.png", source.color)
    np.testing.assert_array_equal(read_image(path).color, source.color)


def test_tensor_helpers() -> None:
    color = decode_array(random_raw(np.uint8, 3)).color
    tensor = to_tensor(color)
    assert tensor.shape == (1, 3, 13, 17) and tensor.dtype == torch.float32
    np.testing.assert_array_equal(from_tensor(tensor), color)
    tensor[0, 0, 0, 0] = 3.0  # no memory shared with the array, and clamped on the way back
    assert color[0, 0, 0] <= 1.0
    assert from_tensor(tensor[0] - 5.0).max() == 0.0
    assert np.isnan(from_tensor(torch.full((3, 2, 2), float("nan")))).all()
    with pytest.raises(InputImageError, match=r"expected a \(1, C, H, W\)"):
        from_tensor(torch.zeros(2, 3, 4, 4))
    with pytest.raises(InputImageError, match=r"expected an \(H, W, C\) numpy array"):
        to_tensor(torch.zeros(4, 4, 3))  # type: ignore[arg-type]


def test_tensor_helpers_refuse_integer_pixels_instead_of_keeping_their_scale() -> None:
    raw = random_raw(np.uint8, 3)
    with pytest.raises(InputImageError, match=r"to_tensor: expected floating point .*got dtype uint8.*decode_array"):
        to_tensor(raw)  # gave a float32 tensor of 0..255 values
    with pytest.raises(InputImageError, match=r"from_tensor: expected floating point .*got dtype torch.uint8"):
        from_tensor(torch.from_numpy(raw).permute(2, 0, 1))  # gave an all-white image


def test_a_path_of_another_type_is_refused_naming_what_takes_it(tmp_path: Path) -> None:
    raw = random_raw(np.uint8, 3)
    with pytest.raises(InputImageError, match=r"must be a file path .*got ndarray; .*use gansuite.io.decode_array"):
        read_image(raw)  # type: ignore[arg-type]
    with pytest.raises(InputImageError, match=r"got BytesIO; for a file's content use gansuite.io.decode_bytes"):
        read_image(io.BytesIO(b"\x89PNG"))  # type: ignore[arg-type]
    with pytest.raises(InputImageError, match=r"must be a file path .*got NoneType"):
        probe_image(None)  # type: ignore[arg-type]
    with pytest.raises(OutputError, match=r"write_image: path must be a file path .*got NoneType; .*encode_bytes"):
        write_image(None, decode_array(raw).color)  # type: ignore[arg-type]
    with pytest.raises(InputImageError, match=r"decode_bytes: data must be .* got str; for a file path use read_image"):
        decode_bytes(str(tmp_path / "a.png"))  # type: ignore[arg-type]
    # bytes paths and bytearray content work, as in the os and io modules
    path = write_image(os.fsencode(tmp_path / "a.png"), decode_array(raw).color)  # type: ignore[arg-type]
    assert read_image(os.fsencode(path)).color.shape == (13, 17, 3)  # type: ignore[arg-type]
    assert decode_bytes(bytearray(path.read_bytes())).color.shape == (13, 17, 3)  # was a TypeError


def test_loaded_image_properties() -> None:
    loaded = decode_array(random_raw(np.uint8, 3))
    assert isinstance(loaded, LoadedImage) and (loaded.height, loaded.width) == (13, 17)
    with pytest.raises(AttributeError):
        loaded.bit_depth = 16  # type: ignore[misc]


# ---------------------------------------------------------------------------- read errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputImageError, match=r"nope\.png: image file does not exist"):
        read_image(tmp_path / "nope.png")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputImageError, match="is a folder, not an image file"):
        read_image(tmp_path)


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(InputImageError, match=r"empty\.png: file is empty \(0 bytes\)"):
        read_image(tmp_path / "empty.png")


def test_text_file_named_png(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("these are my notes, not an image\n")
    with pytest.raises(InputImageError, match=r"notes\.png: not a recognised image format .*accepted: PNG, JPEG"):
        read_image(tmp_path / "notes.png")


@pytest.mark.parametrize("extension", [".png", ".jpg", ".webp"])
@pytest.mark.parametrize("fraction", [0.5, 0.95])
def test_truncated_file(tmp_path: Path, extension: str, fraction: float) -> None:
    data = encode_bytes(extension, np.random.default_rng(0).random((64, 80, 3), dtype=np.float32))
    path = tmp_path / f"cut{extension}"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(InputImageError, match=r"cut\..*: .* file is corrupt or truncated"):
        read_image(path)


def test_float_tiff_is_refused_with_accepted_types(tmp_path: Path) -> None:
    ok, buffer = cv2.imencode(".tif", np.random.default_rng(0).random((4, 5, 3), dtype=np.float32))
    assert ok
    (tmp_path / "float.tif").write_bytes(buffer.tobytes())
    with pytest.raises(InputImageError, match=r"float\.tif: unsupported pixel type float32; accepted: uint8"):
        read_image(tmp_path / "float.tif")


@pytest.mark.parametrize(
    ("array", "pattern"),
    [
        (np.zeros((4, 4), np.int16), "unsupported pixel type int16"),
        (np.zeros((4, 4, 3), np.float64), "unsupported pixel type float64"),
        (np.zeros((4, 4, 5), np.uint8), r"unsupported array shape \(4, 4, 5\)"),
        (np.zeros((2, 4, 4, 3), np.uint8), r"unsupported array shape \(2, 4, 4, 3\)"),
        (np.zeros((0, 4, 3), np.uint8), "image has no pixels"),
        ([[1, 2]], "expected a numpy array"),
    ],
)
def test_decode_array_refuses(array: np.ndarray, pattern: str) -> None:
    with pytest.raises(InputImageError, match=pattern):
        decode_array(array)


def test_pixel_limit(tmp_path: Path) -> None:
    path = write_image(tmp_path / "x.png", np.zeros((10, 20, 3), np.float32))
    assert read_image(path, max_pixels=200).width == 20
    with pytest.raises(InputImageError, match=r"x\.png: image is 20x10 \(200 pixels\), above the limit of 199 pixels"):
        read_image(path, max_pixels=199)
    with pytest.raises(InputImageError, match="above the limit"):
        decode_array(np.zeros((10, 20), np.uint8), max_pixels=100)
    with pytest.raises(ConfigError, match="max_pixels must be a positive integer"):
        read_image(path, max_pixels=0)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)  # 10 gigapixels, RGB
    bomb = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(bomb)

    def no_decode(*args: object) -> None:
        raise AssertionError("decoded although the header is over the limit")

    monkeypatch.setattr(image_module.cv2, "imdecode", no_decode)
    with pytest.raises(InputImageError, match=r"100000x100000 \(10,000,000,000 pixels\), above the limit"):
        read_image(tmp_path / "bomb.png")


@pytest.mark.parametrize(
    ("extension", "channels"),
    [(extension, 1) for extension in (".png", ".jpg", ".webp", ".tif", ".bmp")]
    + [(extension, 3) for extension in (".png", ".jpg", ".webp", ".tif", ".bmp")]
    + [(extension, 4) for extension in (".png", ".webp", ".tif")],
)
def test_header_probe_reads_sizes(extension: str, channels: int) -> None:
    color = np.zeros((37, 23, 3), np.float32)
    alpha = np.ones((37, 23), np.float32) if channels == 4 else None
    data = encode_bytes(extension, color, alpha, grayscale=channels == 1, quality=50)
    kind = image_module._sniff_format(data)
    assert kind is not None
    assert image_module._probe_size(data, kind) == (37, 23)


def test_header_probe_reads_gif_and_lossless_webp() -> None:
    image_lib = pytest.importorskip("PIL.Image")
    for fmt, options in (("GIF", {}), ("WEBP", {"lossless": True})):
        buffer = io.BytesIO()
        image_lib.fromarray(np.zeros((9, 14, 3), np.uint8)).save(buffer, fmt, **options)
        data = buffer.getvalue()
        assert image_module._probe_size(data, image_module._sniff_format(data) or "") == (9, 14)
        assert decode_bytes(data).color.shape == (9, 14, 3)


# ---------------------------------------------------------------------------- write errors


def test_write_refuses_bad_requests(tmp_path: Path) -> None:
    color = np.zeros((4, 4, 3), np.float32)
    alpha = np.full((4, 4), 0.5, np.float32)  # a real alpha (an opaque one is dropped: tests/test_bad_inputs.py)
    with pytest.raises(ConfigError, match=r"x\.jpg: \.jpg cannot store an alpha channel; write \.png, \.webp or \.tif"):
        write_image(tmp_path / "x.jpg", color, alpha)
    with pytest.raises(ConfigError, match=r"cannot write image format '\.gif'; accepted extensions: \.png"):
        write_image(tmp_path / "x.gif", color)
    with pytest.raises(ConfigError, match="bit_depth must be 8 or 16, got 12"):
        write_image(tmp_path / "x.png", color, bit_depth=12)
    with pytest.raises(ConfigError, match="quality must be an integer from 1 to 100, got 0"):
        write_image(tmp_path / "x.jpg", color, quality=0)
    with pytest.raises(InputImageError, match=r"color has shape \(4, 4, 2\)"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 2), np.float32))
    with pytest.raises(InputImageError, match="color has dtype uint8; expected floating point"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(InputImageError, match="must be a numpy array, got Tensor; convert with from_tensor"):
        write_image(tmp_path / "x.png", torch.zeros(4, 4, 3))  # type: ignore[arg-type]
    with pytest.raises(InputImageError, match=r"alpha has shape \(4, 5\), but color is 4x4"):
        write_image(tmp_path / "x.png", color, np.ones((4, 5), np.float32))
    broken = color.copy()
    broken[0, 0, 1] = np.nan
    with pytest.raises(InputImageError, match="color has 1 non-finite values"):
        write_image(tmp_path / "x.png", broken)
    with pytest.raises(OutputError, match=r"output folder .*missing.* does not exist"):
        write_image(tmp_path / "missing" / "x.png", color)
    with pytest.raises(OutputError, match="output path is a folder"):
        write_image(tmp_path, color)
    assert list(tmp_path.iterdir()) == []


def test_overwrite_false_keeps_the_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(b"old")
    hint = r"already exists; pass --overwrite on the command line \(overwrite=True in Python\)"
    with pytest.raises(OutputExistsError, match=hint) as caught:
        write_image(path, np.zeros((4, 4, 3), np.float32), overwrite=False)
    assert "overwrite=False" not in str(caught.value)  # no parameter value, whichever way the caller came
    assert isinstance(caught.value, GansuiteError) and isinstance(caught.value, FileExistsError)
    assert path.read_bytes() == b"old"
    write_image(tmp_path / "new.png", np.zeros((4, 4, 3), np.float32), overwrite=False)


# ---------------------------------------------------------------------------- atomic writes


def test_interrupted_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.png"
    write_image(path, np.zeros((4, 4, 3), np.float32))
    before = path.read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_image(path, np.ones((8, 8, 3), np.float32))
    assert path.read_bytes() == before
    assert [file.name for file in tmp_path.iterdir()] == ["out.png"]  # temporary file removed


def test_atomic_write_body_error_and_text_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    with atomic_write(path, "w") as handle:
        handle.write('{"a": 1}')
    with pytest.raises(RuntimeError, match="interrupted"), atomic_write(path, "w") as handle:
        handle.write('{"a": 2, "half')
        raise RuntimeError("interrupted")
    assert path.read_text() == '{"a": 1}'
    assert [file.name for file in tmp_path.iterdir()] == ["config.json"]


def test_atomic_write_bytes_permissions_and_no_clobber(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    path = atomic_write_bytes(tmp_path / "a.bin", b"one")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600
    path.chmod(0o640)
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two" and path.stat().st_mode & 0o777 == 0o640
    with pytest.raises(OutputExistsError):
        atomic_write_bytes(path, b"three", overwrite=False)
    assert path.read_bytes() == b"two"


def test_atomic_path_requires_a_file(tmp_path: Path) -> None:
    target = tmp_path / "video.mp4"
    with atomic_path(target) as temp:
        assert temp.parent == tmp_path and temp.suffix == ".mp4" and temp.name.startswith(".")
        temp.write_bytes(b"data")
    assert target.read_bytes() == b"data"
    with pytest.raises(OutputError, match="the writer left no file behind"), atomic_path(target) as temp:
        temp.unlink()
    assert target.read_bytes() == b"data"


# ---------------------------------------------------------------------------- shared data


@pytest.mark.data
def test_shared_benchmark_images(data_dir: Path) -> None:
    root = data_dir / "sr"
    bridge = root / "Set14" / "HR" / "bridge.png"
    baby = root / "Set5" / "HR" / "baby.png"
    require(bridge, "Set14's bridge.png")
    require(baby, "Set5's baby.png")
    gray = read_image(bridge)
    assert gray.grayscale and gray.bit_depth == 8 and gray.alpha is None
    color = read_image(baby)
    assert not color.grayscale and color.color.shape[2] == 3
    raw = cv2.imread(str(baby), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(encode_array(color.color, bit_depth=8), raw)


def test_check_image_target_refuses_a_format_or_size_before_any_work(tmp_path: Path) -> None:
    from gansuite.io import check_image_target

    assert check_image_target(tmp_path / "a.PNG", height=10, width=1_000_000) == tmp_path / "a.PNG"
    with pytest.raises(ConfigError, match=r"-o .*a\.gif: cannot write image format '\.gif'; accepted extensions"):
        check_image_target(tmp_path / "a.gif")
    with pytest.raises(ConfigError, match=r"--out .*a\.webp: the image would be 16384x2 pixels and \.webp images are "
                                          r"at most 16,383 pixels a side; crop it or write \.png, \.tif"):
        check_image_target(tmp_path / "a.webp", height=2, width=16384, option="--out", remedy="crop it")
    with pytest.raises(ConfigError, match=r"1000001x1 pixels and \.png images are at most 1,000,000 pixels a side; "
                                          r"make it smaller or write \.tif$"):
        check_image_target(tmp_path / "a.png", height=1, width=1_000_001)


def test_a_png_wider_than_libpng_allows_is_named_with_tif_as_the_way_out(tmp_path: Path) -> None:
    """Was 'OpenCV could not encode .png (libpng error: Invalid IHDR data); try .png'."""
    with pytest.raises(NotAvailableError, match=r"\.png images are at most 1000000 pixels a side.*try \.tif"):
        write_image(tmp_path / "wide.png", np.zeros((1, 1_000_001), np.float32), grayscale=True)


def test_composite_over_shows_a_transparent_image_on_its_background() -> None:
    from gansuite.io import composite_over

    color = np.zeros((2, 2, 3), np.float32)
    alpha = np.array([[0.0, 1.0], [0.25, 0.5]], np.float32)
    assert composite_over(color, None) is color
    white = composite_over(color, alpha)
    assert white.dtype == np.float32 and np.allclose(white[..., 0], [[1.0, 0.0], [0.75, 0.5]])
    assert np.allclose(composite_over(color[..., 0], alpha, background=0.0), 0.0)
