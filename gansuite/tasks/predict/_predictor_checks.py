"""The argument checks of `FramePredictor`: each refuses a value by name, with the value seen and its type."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from gansuite.errors import ConfigError
from gansuite.metrics import resolve_device

__all__ = ["check_device", "check_float_frames", "check_future", "check_settings", "is_integer", "seen"]


def is_integer(value: object) -> bool:
    """An int (or numpy integer), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def seen(value: object) -> str:
    """How a message shows a value it refuses: its repr and its type."""
    return f"{value!r} ({type(value).__name__})"


def check_future(future: object, where: str) -> int:
    """`future` as an int, or a ConfigError naming it, the value seen and what is accepted."""
    if isinstance(future, numbers.Integral) and not isinstance(future, bool) and int(future) >= 1:
        return int(future)
    raise ConfigError(
        f"{where}: future must be a positive integer, the number of frames to predict; got {seen(future)}: "
        "pass e.g. future=1"
    )


def check_device(device: object, where: str) -> torch.device:
    """`device` resolved, or a ConfigError naming it (a wrong type here, an unknown or absent device in
    `resolve_device`)."""
    if not isinstance(device, str | torch.device):
        raise ConfigError(
            f"{where}: device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got {seen(device)}"
        )
    return resolve_device(device)


def _check_size(name: str, value: object) -> tuple[int, int] | None:
    """None, or a (height, width) of two positive integers; anything else is a ConfigError naming `name`."""
    if value is None:
        return None
    if isinstance(value, tuple | list) and len(value) == 2 and all(is_integer(v) and v >= 1 for v in value):
        return int(value[0]), int(value[1])
    raise ConfigError(
        f"FramePredictor: {name} must be None or a (height, width) pair of positive integers, e.g. (256, 256); "
        f"got {seen(value)}"
    )


def check_float_frames(values: np.ndarray | torch.Tensor, where: str) -> None:
    """Refuses integer (uint8, uint16, ...) and bool frames: the float API takes floats in [0, 1]."""
    if isinstance(values, torch.Tensor):
        if values.is_floating_point():
            return
        fix = "convert 8-bit frames with x.float() / 255 (16-bit ones with / 65535)"
    else:
        if np.issubdtype(values.dtype, np.floating):
            return
        fix = (
            "convert 8-bit RGB frames with x.astype(np.float32) / 255 (16-bit ones with / 65535), OpenCV BGR "
            "frames with gansuite.io.decode_array(frame).color; or pass uint8/uint16 OpenCV frames to the "
            "predictor itself, predictor(frames)"
        )
    raise ConfigError(f"{where} has dtype {values.dtype}; frames must be float in [0, 1]: {fix}")


def check_settings(
    *,
    working_size: object,
    max_short_side: object,
    batch_size: object,
    copy_model: object,
    trained_frame_size: object,
) -> tuple[tuple[int, int] | None, tuple[int, int] | None, int | None]:
    """`FramePredictor`'s size and batch settings checked: (working_size, trained_frame_size, max_short_side).

    Raises:
        ConfigError: as `FramePredictor` lists them.
    """
    if not is_integer(batch_size) or batch_size < 1:
        raise ConfigError(
            f"FramePredictor: batch_size must be a positive integer (windows per forward pass), got "
            f"{seen(batch_size)}"
        )
    if not isinstance(copy_model, bool):
        raise ConfigError(f"FramePredictor: copy_model must be True or False, got {seen(copy_model)}")
    size = _check_size("working_size", working_size)
    trained = _check_size("trained_frame_size", trained_frame_size)
    if max_short_side is not None and (not is_integer(max_short_side) or max_short_side < 1):
        raise ConfigError(
            "FramePredictor: max_short_side must be None or a positive integer (pixels), got "
            f"{seen(max_short_side)}"
        )
    if size is not None and max_short_side is not None:
        raise ConfigError(
            f"FramePredictor: give working_size or max_short_side, not both (got working_size={size}, "
            f"max_short_side={max_short_side}): working_size is the exact size the model runs at, "
            "max_short_side only caps the short side"
        )
    return size, trained, None if max_short_side is None else int(max_short_side)
