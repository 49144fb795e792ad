"""A corpus of bad and odd image inputs, made at test time (tiny, a few hundred bytes each).

The kinds users report against image upscalers (Real-ESRGAN, Upscayl, waifu2x, chaiNNer, OpenCV):
files that are not what their name says, broken files, files that are not regular files, and
valid but odd images (gray stored as RGB, hidden colour under transparency, EXIF orientation in
every format that carries it, planar 16-bit TIFF, animations). Each builder writes its file(s)
into a folder and returns the path; the tests in `test_bad_inputs.py` assert what gansuite must
do with each kind.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np


def smooth_bgr(height: int, width: int, seed: int = 0, channels: int = 3, dtype: type = np.uint8) -> np.ndarray:
    """A smooth random image as OpenCV writes it (photo-like, not noise)."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    small = rng.integers(0, top + 1, (max(2, height // 4), max(2, width // 4), channels), dtype=dtype)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return image.reshape(height, width, channels) if channels > 1 else image.reshape(height, width)


def encoded(extension: str, array: np.ndarray, params: tuple[int, ...] = ()) -> bytes:
    ok, buffer = cv2.imencode(extension, array, list(params))
    assert ok, extension
    return buffer.tobytes()


def png_chunk(name: bytes, payload: bytes, *, crc: int | None = None) -> bytes:
    body = name + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) if crc is None else crc)


def png_with_chunk(png: bytes, chunk: bytes) -> bytes:
    """`chunk` inserted right after IHDR (byte 33)."""
    return png[:33] + chunk + png[33:]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming `width` x `height`, and no pixel data (a decompression-bomb header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def exif_blob(orientation: int) -> bytes:
    """A minimal little-endian TIFF-structured EXIF block with one Orientation (274) entry."""
    entry = struct.pack("<HHII", 274, 3, 1, orientation)  # tag, SHORT, count 1, value
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + b"\0\0\0\0"


def pil_save(path: Path, array_rgb_or_rgba: np.ndarray, **options: object) -> Path:
    from PIL import Image

    mode = "RGBA" if array_rgb_or_rgba.shape[-1] == 4 else "RGB"
    Image.fromarray(array_rgb_or_rgba, mode).save(path, **options)
    return path


def animated(
    path: Path, count: int = 3, durations: tuple[int, ...] = (40, 120, 250), size: tuple[int, int] = (10, 8)
) -> Path:
    """An animated GIF/APNG/WebP (from the suffix) of `count` distinct frames with the given delays."""
    from PIL import Image

    frames = []
    for index in range(count):
        rgb = np.zeros((size[1], size[0], 3), np.uint8)
        rgb[:, : (index + 1) * size[0] // count] = (200, 40 * index, 255 - 60 * index)
        frames.append(Image.fromarray(rgb, "RGB"))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=list(durations[:count]), loop=0)
    return path


# ---------------------------------------------------------------------------- files that cannot be used

Builder = Callable[[Path], Path]


def _bytes(name: str, data: bytes | Callable[[], bytes]) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return path

    return build


def _png() -> bytes:
    return encoded(".png", smooth_bgr(12, 10, seed=3))


def _half(extension: str, channels: int = 3) -> Callable[[], bytes]:
    def make() -> bytes:
        data = encoded(extension, smooth_bgr(24, 20, seed=4, channels=channels))
        return data[: len(data) // 2]

    return make


def _float_tiff() -> bytes:
    return encoded(".tiff", np.random.default_rng(0).random((6, 5, 3)).astype(np.float32))


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.png"
    os.mkfifo(path)
    return path


def _device(folder: Path) -> Path:
    path = folder / "zero.png"
    path.symlink_to("/dev/zero")
    return path


def _loop(folder: Path) -> Path:
    path = folder / "loop.png"
    path.symlink_to(path.name)  # a symlink to itself: ELOOP
    return path


def _folder_named_png(folder: Path) -> Path:
    path = folder / "album.png"
    path.mkdir()
    return path


UNUSABLE: dict[str, tuple[Builder, str]] = {
    # name: (builder, what the one error line must say)
    "empty": (_bytes("empty.png", b""), "file is empty"),
    "text": (_bytes("notes.png", b"these are not pixels\n"), "not a recognised image format"),
    "html": (_bytes("page.jpg", b"<!DOCTYPE html><html><body>404</body></html>"), "not a recognised image format"),
    "zip": (_bytes("archive.png", b"PK\x03\x04" + bytes(40)), "not a recognised image format"),
    "pdf": (_bytes("scan.jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "not a recognised image format"),
    "random": (_bytes("noise.webp", bytes(np.random.default_rng(1).integers(1, 256, 300, dtype=np.uint8))),
               "not a recognised image format"),
    "png_half": (_bytes("half.png", _half(".png")), "corrupt or truncated"),
    "png_garbage": (_bytes("garbage.png", lambda: _png()[:33] + bytes(range(256)) * 2), "corrupt or truncated"),
    "png_signature_only": (_bytes("sig.png", b"\x89PNG\r\n\x1a\n"), "corrupt or truncated"),
    "jpeg_half": (_bytes("half.jpg", _half(".jpg")), "corrupt or truncated"),
    "jpeg_soi_only": (_bytes("soi.jpg", b"\xff\xd8\xff\xe0" + bytes(12)), "corrupt or truncated"),
    "webp_half": (_bytes("half.webp", _half(".webp")), "corrupt or truncated"),
    "webp_riff_only": (_bytes("riff.webp", b"RIFF\x04\x00\x00\x00WEBP"), "corrupt or truncated"),
    "tiff_half": (_bytes("half.tif", _half(".tif")), "corrupt or truncated"),
    "tiff_header_only": (_bytes("head.tif", b"II*\x00\x08\x00\x00\x00"), "corrupt or truncated"),
    "bmp_half": (_bytes("half.bmp", _half(".bmp")), "corrupt or truncated"),
    "gif_header_only": (_bytes("head.gif", b"GIF89a\x0a\x00\x0a\x00\x00\x00\x00"), "corrupt or truncated"),
    "pnm_half": (_bytes("half.ppm", _half(".ppm")), "corrupt or truncated"),
    "float_tiff": (_bytes("float.tif", _float_tiff), "unsupported pixel type float32"),
    "bomb_header": (_bytes("bomb.png", lambda: png_header_only(200_000, 200_000)), "pixels"),
    "fifo": (_fifo, "is a FIFO, not a regular file"),
    "dev_zero": (_device, "is a device, not a regular file"),
    "symlink_loop": (_loop, "cannot be examined"),
    "folder_named_png": (_folder_named_png, "is a folder"),
}
"""Inputs that can never be upscaled: each must fail alone, in one line naming it, the batch going on."""
