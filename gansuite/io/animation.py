"""Animated GIF, APNG and WebP files: every frame, with its delay, in and out (Pillow).

`read_image` refuses an animated file rather than silently keeping its first frame. Here such a
file is read as its sequence of fully composited frames (Pillow applies each format's disposal
and blending, so every frame is the picture as shown at that moment), each an 8-bit
`LoadedImage`, with its delays in milliseconds and its loop count, and written back as an
animated file of any of the three kinds. GIF stores 256 colours per frame, so a GIF is written
with a palette chosen per frame (Pillow's median cut); APNG is lossless; WebP is written at the
given quality.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gansuite.core.atomic import atomic_write_bytes, check_output_path
from gansuite.errors import ConfigError, InputImageError
from gansuite.io._encode import is_opaque
from gansuite.io._probe import animation_frames, probe_size, sniff_format
from gansuite.io.image import DEFAULT_MAX_PIXELS, LoadedImage, check_regular_file

__all__ = ["ANIMATION_FORMATS", "Animation", "count_frames", "read_animation", "write_animation"]

ANIMATION_FORMATS: dict[str, str] = {".gif": "GIF", ".png": "PNG", ".webp": "WEBP"}
"""Extensions that hold animations, and the Pillow format of each."""


@dataclass(frozen=True)
class Animation:
    """The frames of an animated file.

    Attributes:
        frames: composited frames, each an 8-bit `LoadedImage` (`color` `(H, W, 3) float32 in
            [0, 1], RGB`, `alpha` `(H, W)` or None when every frame is opaque).
        durations: how long each frame shows, in milliseconds.
        loop: how many times the animation repeats (0 = forever).
        kind: the source format: "GIF", "PNG" or "WebP".
    """

    frames: tuple[LoadedImage, ...]
    durations: tuple[int, ...]
    loop: int
    kind: str


def count_frames(path: str | os.PathLike[str]) -> int:
    """Frames in a GIF, APNG or WebP file from its structure (no decoding); 1 for still images.

    Raises:
        InputImageError: Not a regular file, or unreadable.
    """
    file = check_regular_file(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise InputImageError(f"{file}: cannot be read ({error.strerror})") from None
    kind = sniff_format(data)
    return animation_frames(data, kind) if kind else 1


def read_animation(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Animation:
    """Reads every frame of an animated (or still) GIF, PNG or WebP file.

    Args:
        path: The file.
        max_pixels: Refuse when frames × width × height exceeds this (checked before decoding).

    Returns:
        The `Animation`; frames are 8-bit RGB with alpha where any frame is not opaque.

    Raises:
        InputImageError: Not a readable GIF/PNG/WebP file, corrupt, or too large.
        MissingExtraError: Pillow is not installed (`pip install 'gansuite[images]'`).
    """
    from gansuite._extras import require_extra

    file = check_regular_file(path)
    data = file.read_bytes()
    kind = sniff_format(data)
    if kind not in ("GIF", "PNG", "WebP"):
        raise InputImageError(f"{file}: animations are read from GIF, PNG (APNG) or WebP files, not {kind or 'this'}")
    count = animation_frames(data, kind)
    size = probe_size(data, kind)
    if size is not None and count * size[0] * size[1] > max_pixels:
        raise InputImageError(
            f"{file}: {count} frames of {size[1]}x{size[0]} are {count * size[0] * size[1]:,} pixels, above the "
            f"limit of {max_pixels:,}; raise max_pixels if memory allows"
        )
    image_module = require_extra("images", "PIL.Image", feature=f"{file}: reading an animated {kind}")
    frames: list[np.ndarray] = []
    durations: list[int] = []
    try:
        with image_module.open(io.BytesIO(data)) as image:
            loop = int(image.info.get("loop", 0) or 0)
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                image.load()  # WebP sets the frame's duration when it is loaded
                durations.append(round(float(image.info.get("duration", 100) or 100)))
                frames.append(np.asarray(image.convert("RGBA")))
    except (OSError, ValueError, EOFError, SyntaxError) as error:
        raise InputImageError(f"{file}: the animated {kind} could not be decoded ({error})") from None
    keep_alpha = not all(is_opaque(frame[:, :, 3] / np.float32(255)) for frame in frames)
    loaded = tuple(
        LoadedImage(
            color=frame[:, :, :3].astype(np.float32) / np.float32(255),
            alpha=frame[:, :, 3].astype(np.float32) / np.float32(255) if keep_alpha else None,
            bit_depth=8,
            grayscale=False,
            path=file,
        )
        for frame in frames
    )
    return Animation(frames=loaded, durations=tuple(durations), loop=loop, kind=kind)


def write_animation(
    path: str | os.PathLike[str],
    frames: list[LoadedImage] | tuple[LoadedImage, ...],
    durations: list[int] | tuple[int, ...],
    *,
    loop: int = 0,
    quality: int = 95,
    overwrite: bool = True,
) -> Path:
    """Writes frames as an animated GIF, APNG or WebP (from the extension), atomically.

    Args:
        path: Output file ending in .gif, .png or .webp; its folder must exist.
        frames: equally sized images (`color` `(H, W, 3)` float in [0, 1], optional `alpha`).
        durations: milliseconds per frame, one per frame.
        loop: repeat count (0 = forever).
        quality: 1 to 100, for WebP.
        overwrite: Whether an existing file may be replaced.

    Raises:
        ConfigError: Another extension, no frames, mismatched durations or sizes.
        OutputError, OutputExistsError: As `write_image`.
        MissingExtraError: Pillow is not installed.
    """
    from gansuite._extras import require_extra

    target = check_output_path(path, overwrite=overwrite)
    extension = target.suffix.lower()
    if extension not in ANIMATION_FORMATS:
        raise ConfigError(f"{target}: animations are written as {', '.join(ANIMATION_FORMATS)}, not {extension!r}")
    if not frames or len(frames) != len(durations):
        raise ConfigError(f"{target}: {len(frames)} frames but {len(durations)} durations; give one per frame")
    if len({(frame.height, frame.width) for frame in frames}) != 1:
        raise ConfigError(f"{target}: the frames of an animation must all have the same size")
    image_module = require_extra("images", "PIL.Image", feature=f"{target}: writing an animated {extension}")
    has_alpha = any(frame.alpha is not None and not is_opaque(frame.alpha) for frame in frames)
    pictures = [image_module.fromarray(_to_uint8(frame, has_alpha), "RGBA" if has_alpha else "RGB") for frame in frames]
    options: dict[str, object] = {"save_all": True, "append_images": pictures[1:], "loop": loop,
                                  "duration": [int(d) for d in durations]}
    if extension == ".gif":
        options["disposal"] = 2  # each frame is a full picture: clear before drawing the next
        options["optimize"] = False
    elif extension == ".webp":
        options["quality"] = quality
    buffer = io.BytesIO()
    pictures[0].save(buffer, format=ANIMATION_FORMATS[extension], **options)
    return atomic_write_bytes(target, buffer.getvalue(), overwrite=overwrite)


def _to_uint8(frame: LoadedImage, with_alpha: bool) -> np.ndarray:
    planes = [frame.color]
    if with_alpha:
        alpha = frame.alpha if frame.alpha is not None else np.ones(frame.color.shape[:2], np.float32)
        planes.append(alpha[:, :, None])
    stacked = np.concatenate(planes, axis=2) if with_alpha else frame.color
    return np.ascontiguousarray(np.clip(np.rint(stacked * 255.0), 0, 255).astype(np.uint8))
