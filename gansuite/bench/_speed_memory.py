"""One inference measurement of the speed benchmark: time, memory and conv peak, in a fresh process on the CPU.

On the CPU the measurement runs in a fresh child process (multiprocessing 'spawn') that reports
its peak resident set size and its resident size after importing torch and loading the model
(the baseline). On Linux the peak is the child's own ``VmHWM`` (/proc/self/status), as
``ru_maxrss`` of a spawned child also covers the parent's address space before ``exec``;
elsewhere ``ru_maxrss`` is used. On CUDA, ``torch.cuda.max_memory_allocated`` after
``reset_peak_memory_stats`` (weights included). See `gansuite.bench.speed` for the protocol.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import resource
import sys
from pathlib import Path
from typing import Any

import torch

from gansuite.bench._speed_models import SpeedModel
from gansuite.bench._speed_roofline import autocast, measure_conv_peak, sync, time_calls

__all__ = ["MIB", "inference_child", "measure_inference", "rss_mib", "time_inference"]

MIB = 2**20


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MiB.

    Linux: VmRSS and VmHWM of /proc/self/status, the peak of this address space alone (a spawned
    child's ru_maxrss also holds its parent's peak, carried over by exec). Elsewhere: ru_maxrss
    (KiB on Linux, bytes on macOS) for both.
    """
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_mib = peak / MIB if sys.platform == "darwin" else peak / 1024
        return peak_mib, peak_mib


def time_inference(
    model: SpeedModel, device: torch.device, precision: str, size: int, warmup: int, repeats: int, seed: int
) -> dict[str, Any]:
    """Load, then time `model` on a random (1, C, size, size) input; seconds, memory (MiB), conv peak."""
    torch.manual_seed(seed)
    network = model.build().to(device).requires_grad_(False)
    if device.type == "cpu":
        network = network.to(memory_format=torch.channels_last)
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        baseline = torch.cuda.memory_allocated(device) / MIB
    else:
        baseline = rss_mib()[0]
    x = torch.rand(1, int(getattr(network, "in_channels", 3)), size, size, device=device)
    if device.type == "cpu":
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), autocast(device, precision):
        seconds = time_calls(lambda: network(x), device, warmup, repeats)
    peak = torch.cuda.max_memory_allocated(device) / MIB if device.type == "cuda" else rss_mib()[1]
    # the reference conv right after the model, in the same process: load drifts less in between
    conv_peak = measure_conv_peak(device, precision, warmup=warmup, repeats=repeats)
    return {"seconds": seconds, "peak": peak, "baseline": baseline, "conv_peak": conv_peak}


def inference_child(
    model: SpeedModel, precision: str, size: int, warmup: int, repeats: int, seed: int, threads: int
) -> dict[str, Any]:
    """Run in a fresh spawned process: one CPU measurement, so the peak RSS is its own."""
    torch.set_num_threads(threads)
    return time_inference(model, torch.device("cpu"), precision, size, warmup, repeats, seed)


def measure_inference(
    model: SpeedModel, device: torch.device, precision: str, size: int, warmup: int, repeats: int, seed: int,
    isolate_memory: bool,
) -> tuple[dict[str, Any], str]:
    """Seconds and memory of one inference measurement, and what the memory figures are.

    Args:
        model: the generator to time.
        device: CPU or CUDA.
        precision: "fp32", "fp16" or "bf16" (autocast).
        size: side of the square LR input.
        warmup, repeats: untimed and timed runs.
        seed: torch seed of the weights and the input.
        isolate_memory: on the CPU, measure in a fresh spawned process (peak RSS); False measures
            in this process and reports no memory.

    Returns:
        ``{"seconds", "peak", "baseline", "conv_peak"}`` (memory in MiB or None) and the memory kind.
    """
    if device.type == "cuda":
        return time_inference(model, device, precision, size, warmup, repeats, seed), "max allocated (torch)"
    if not isolate_memory:
        measured = time_inference(model, device, precision, size, warmup, repeats, seed)
        return {**measured, "peak": None, "baseline": None}, "n/a"
    job = (model, precision, size, warmup, repeats, seed, torch.get_num_threads())
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(inference_child, *job).result(), "peak RSS, fresh process"
