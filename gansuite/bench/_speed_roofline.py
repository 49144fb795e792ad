"""Counting and timing for the speed benchmark: MACs per output pixel, the conv peak, the timing loop.

The fraction of peak (Williams, Waterman and Patterson, "Roofline", CACM 2009) is the model's
multiply-accumulates per output pixel times its output pixels per second, over the MAC rate of a
large 3x3 64→64 convolution (`measure_conv_peak`). MACs are counted with forward hooks on
``nn.Conv2d`` and ``nn.Linear``; every timing is `time_calls` (warm-up, then CUDA-synchronised
timed calls) reduced by `median`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn

from gansuite.bench._speed_models import PRECISIONS

__all__ = [
    "PEAK_CONV_INPUT",
    "autocast",
    "count_macs",
    "macs_per_output_pixel",
    "measure_conv_peak",
    "median",
    "sync",
    "time_calls",
]

PEAK_CONV_INPUT = (1, 64, 512, 512)
"""Input of the reference convolution (3x3, 64 → 64, padding 1) whose MAC rate is the peak."""


# ---------------------------------------------------------------------------------------- counting
def count_macs(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass, from hooks on every ``nn.Conv2d`` and ``nn.Linear``.

    A convolution costs output elements × in_channels/groups × kernel area, a linear layer output
    elements × in_features; other layers (activations, PixelShuffle, interpolation) count 0.

    Args:
        model: the network (any device, "meta" included: only shapes are needed).
        *inputs: its forward arguments.

    Returns:
        The total MACs of the forward pass on `inputs` (all batch elements).
    """
    total = 0

    def hook(module: nn.Module, _: Any, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * (module.in_channels // module.groups) * kernel
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return total


def macs_per_output_pixel(model: nn.Module, height: int, width: int) -> float:
    """MACs per output pixel of an SR generator on a (1, C, height, width) input (counted on "meta").

    Args:
        model: a generator with `scale` and `in_channels` attributes; it is not modified.
        height, width: the LR input size.

    Returns:
        MACs of the forward pass / (height·scale · width·scale).
    """
    channels = int(getattr(model, "in_channels", 3))
    try:
        macs = count_macs(copy.deepcopy(model).to("meta"), torch.empty(1, channels, height, width, device="meta"))
    except (NotImplementedError, RuntimeError):  # an op without a meta kernel: count on real tensors
        macs = count_macs(copy.deepcopy(model).cpu(), torch.zeros(1, channels, height, width))
    return macs / (height * model.scale * width * model.scale)


# ---------------------------------------------------------------------------------------- timing
def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); a no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def autocast(device: torch.device, precision: str) -> AbstractContextManager[Any]:
    """``torch.autocast`` to the precision's dtype; nothing for "fp32"."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=PRECISIONS[precision])


def time_calls(run: Callable[[], object], device: torch.device, warmup: int, repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls of `run`, after `warmup` untimed calls."""
    for _ in range(warmup):
        run()
    seconds = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        run()
        sync(device)
        seconds.append(time.perf_counter() - start)
    return seconds


def median(values: Sequence[float]) -> float:
    """The median (the mean of the middle two for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])


def measure_conv_peak(device: torch.device, precision: str, *, warmup: int = 2, repeats: int = 5) -> float:
    """The MAC rate (MACs/s) of a 3x3 64 → 64 conv on a `PEAK_CONV_INPUT` input, median of `repeats`.

    Channels-last on the CPU; fp16/bf16 through autocast, as the models run.
    """
    conv = nn.Conv2d(64, 64, 3, padding=1, bias=False).to(device).requires_grad_(False)
    x = torch.rand(PEAK_CONV_INPUT, device=device)
    if device.type == "cpu":
        conv, x = conv.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    macs = count_macs(nn.Conv2d(64, 64, 3, padding=1, bias=False, device="meta"), x.to("meta"))
    with torch.inference_mode(), autocast(device, precision):
        seconds = time_calls(lambda: conv(x), device, warmup, max(repeats, 1))
    return macs / median(seconds)
