"""Speed benchmark: inference throughput and memory, GAN training-step rate, and how near the peak.

Inference, per model, device and precision: a (1, 3, size, size) float32 RGB LR input (default
256x256) runs through the generator as `Upscaler` runs it (weights in float32, channels-last on
the CPU, fp16/bf16 through ``torch.autocast``, untiled); `warmup` untimed runs, then `repeats`
timed ones (CUDA synchronised around each); the median gives output megapixels per second.

Memory: on the CPU each measurement runs in a fresh child process (multiprocessing 'spawn') that
reports its peak resident set size and its resident size after importing torch and loading the
model (the baseline), so the increment of the forward pass shows. On Linux the peak is the
child's own ``VmHWM`` (/proc/self/status): ``getrusage(RUSAGE_SELF).ru_maxrss`` of a spawned
child also covers the parent's address space before ``exec`` (the kernel carries the old peak
over), so it reports the parent's peak whenever that is larger; elsewhere ``ru_maxrss`` is used.
On CUDA, ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` (weights included).

Fraction of peak, as the roofline model puts it (Williams, Waterman and Patterson, "Roofline",
CACM 2009): the model's multiply-accumulates per output pixel, counted with forward hooks on
``nn.Conv2d`` and ``nn.Linear`` (output elements × in_channels/groups × kernel area; activations,
PixelShuffle and interpolation are not counted), times the measured output pixels per second,
over the MAC rate of a large 3x3 64→64 convolution on a (1, 64, 512, 512) input measured right
after the model, in the same process, on the same device, precision and thread count.

Training: `Trainer.train_step` (a discriminator step, then a generator step with EMA) of the
x4-gan recipe's setup (U-Net discriminator with spectral norm, Real-ESRGAN; BCE adversarial loss,
weight 0.1; Adam; generator EMA) on a fixed synthetic batch, with the L1 content loss only unless
VGG16 backbones are given for the recipe's perceptual loss; data loading is not timed. AMP
(fp16 + GradScaler, bf16) on CUDA only: the trainer trains in float32 on the CPU.

This module runs the benchmark and re-exports its parts: parsing and model resolution live in
`gansuite.bench._speed_models`, MAC counting, the conv peak and the timing loop in
`gansuite.bench._speed_roofline`, the (process-isolated) inference measurement in
`gansuite.bench._speed_memory`, the training-step rate in `gansuite.bench._speed_training`, and
the result rows and tables in `gansuite.bench._speed_report`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import torch

from gansuite.bench._speed_memory import measure_inference
from gansuite.bench._speed_models import PRECISIONS, SpeedModel, parse_arch, parse_precisions, resolve_speed_models
from gansuite.bench._speed_report import InferenceSpeed, SpeedReport, TrainingSpeed, format_value
from gansuite.bench._speed_roofline import PEAK_CONV_INPUT, count_macs, macs_per_output_pixel, measure_conv_peak, median
from gansuite.bench._speed_training import measure_training
from gansuite.bench.manifest import build_manifest, device_description
from gansuite.core.networks import build_network
from gansuite.errors import ConfigError

__all__ = [
    "PEAK_CONV_INPUT",
    "PRECISIONS",
    "InferenceSpeed",
    "SpeedModel",
    "SpeedReport",
    "TrainingSpeed",
    "count_macs",
    "macs_per_output_pixel",
    "measure_conv_peak",
    "measure_training",
    "parse_arch",
    "parse_precisions",
    "resolve_speed_models",
    "run_speed_benchmark",
]

_CPU_AMP_NOTE = "AMP is CUDA-only: gansuite's Trainer trains in float32 on the CPU"


def _devices(device: str) -> list[torch.device]:
    if device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"--device {device!r}: use auto (the CPU, and CUDA when present), cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: CUDA is not available on this machine; use --device cpu or auto")
    found = [torch.device("cpu")] if device in ("auto", "cpu") else []
    return found + ([torch.device("cuda")] if device != "cpu" and torch.cuda.is_available() else [])


def _plan(device: torch.device, asked: tuple[str, ...] | None, training: bool) -> list[tuple[str, str]]:
    """(precision, reason to skip or "") for a device; CPU inference runs fp32 unless asked otherwise."""
    if device.type == "cpu":
        wanted = asked or (tuple(PRECISIONS) if training else ("fp32",))
        reasons = {"fp16": _CPU_AMP_NOTE if training else "no fp16 convolutions on the CPU"}
        if training:
            reasons["bf16"] = _CPU_AMP_NOTE
    else:
        wanted = asked or tuple(PRECISIONS)
        reasons = {} if torch.cuda.is_bf16_supported() else {"bf16": "this GPU does not support bf16"}
    return [(precision, reasons.get(precision, "")) for precision in wanted]


def _inference_row(
    model: SpeedModel, scale: int, device: torch.device, precision: str, size: int, macs: float,
    measured: dict[str, Any] | None, memory_kind: str, note: str,
) -> InferenceSpeed:
    if measured is None:
        return InferenceSpeed(
            model.name, scale, device.type, precision, size, None, None, (), None, None, "n/a", macs, None, None,
            None, note,
        )
    median_time, peak = median(measured["seconds"]), measured["conv_peak"]
    pixels_per_s = size * size * scale**2 / median_time
    achieved = macs * pixels_per_s
    return InferenceSpeed(
        model=model.name, scale=scale, device=device.type, precision=precision, input_size=size,
        output_megapixels_per_s=pixels_per_s / 1e6, median_seconds=median_time, seconds=tuple(measured["seconds"]),
        peak_memory_mib=measured["peak"], baseline_memory_mib=measured["baseline"], memory_kind=memory_kind,
        macs_per_pixel=macs, conv_peak_gmacs=peak / 1e9, achieved_gmacs=achieved / 1e9,
        peak_fraction=achieved / peak, note=note,
    )


def _protocol(
    size: int, warmup: int, repeats: int, train: dict[str, Any], backbones: object, isolate_memory: bool
) -> dict[str, Any]:
    channels_last = "on the CPU (as Upscaler runs); NCHW on CUDA"
    losses = "L1 + VGG perceptual" if backbones else "L1 only"
    cpu_memory = (
        "peak RSS of a fresh spawned process (Linux: VmHWM, as its ru_maxrss holds the parent's peak; else "
        "ru_maxrss); baseline: its RSS after importing torch and loading the model"
    )
    return {
        "inference": (
            f"batch 1, {size}x{size} LR input, {warmup} warm-up + {repeats} timed runs, median; weights float32, "
            f"fp16/bf16 by autocast; channels-last {channels_last}; untiled. Of peak = MACs/px × output px/s ÷ "
            f"the MAC rate of a 3x3 64→64 conv on {'x'.join(map(str, PEAK_CONV_INPUT))} measured right after the "
            "model (same process, device, precision)."
        ),
        "training": (
            f"Trainer.train_step (D step, then G step + EMA), x4-gan recipe's U-Net discriminator and BCE loss, "
            f"batch {train['batch_size']}, HR patch {train['patch_size']}, random data (loading not timed), "
            f"{train['warmup']} warm-up + {train['steps']} timed steps, median; {losses}."
        ),
        "input_size": [size, size],
        "batch": 1,
        "warmup": warmup,
        "repeats": repeats,
        "statistic": "median",
        "threads": torch.get_num_threads(),
        "channels_last": channels_last,
        "macs": "hooks on nn.Conv2d/nn.Linear: output elements × in_channels/groups × kernel area, per output pixel",
        "conv_peak": {"input": list(PEAK_CONV_INPUT), "kernel": 3, "out_channels": 64, "statistic": "median",
                      "when": "after each model's timed runs and memory reading, in the same process"},
        "memory": {"cpu": cpu_memory if isolate_memory else "not measured",
                   "cuda": "torch.cuda.max_memory_allocated after reset_peak_memory_stats (weights included)"},
        "training_setup": {**train, "content_losses": losses},
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
    }


def run_speed_benchmark(
    models: Sequence[str] = (),
    archs: Sequence[str] = (),
    *,
    device: str = "auto",
    precisions: str | Sequence[str] | None = None,
    size: int = 256,
    repeats: int = 5,
    warmup: int = 2,
    training: bool = True,
    train_batch: int = 4,
    train_patch: int = 128,
    train_warmup: int = 1,
    train_steps: int = 3,
    backbones: str | os.PathLike[str] | None = None,
    isolate_memory: bool = True,
    seed: int = 0,
    note: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SpeedReport:
    """Measure inference throughput/memory and training-step rate of SR generators (module docstring).

    Args:
        models: ``--model`` values (shipped names or gansuite .safetensors files).
        archs: ``--arch`` specs (``NAME[:key=value,...]``, random weights). With neither, every
            shipped model present is timed.
        device: "auto" (the CPU, and CUDA when present), "cpu" or "cuda".
        precisions: "fp32,fp16,bf16"-style list; None: fp32 on the CPU (bf16 is much slower there,
            ask for it), fp32/fp16/bf16 on CUDA. Combinations a device lacks become rows with a note.
        size: side of the square LR input (pixels).
        repeats: timed runs per measurement (the median is reported).
        warmup: untimed runs before them.
        training: also time GAN training steps.
        train_batch, train_patch: training batch size and HR crop side.
        train_warmup, train_steps: untimed and timed training steps.
        backbones: VGG16 weights for the perceptual loss in the training step; None: L1 only.
        isolate_memory: measure CPU inference in a fresh spawned process (peak RSS); False runs it
            in this process and reports no memory (quicker, for tests).
        seed: torch seed of random weights and inputs.
        note: a line recorded in the manifest and printed under the tables (e.g. machine load).
        progress: called with a short line after each measurement.

    Returns:
        The report.

    Raises:
        ConfigError: bad sizes, counts, device or precisions, or nothing runnable on the devices.
        CheckpointError, UnknownNameError: see `resolve_speed_models`.
    """
    train = {"batch_size": train_batch, "patch_size": train_patch, "warmup": train_warmup, "steps": train_steps}
    limits = {"--size": (size, 8), "--repeats": (repeats, 1), "--warmup": (warmup, 0), "train_steps": (train_steps, 1),
              "--train-batch": (train_batch, 1), "--train-patch": (train_patch, 8), "train_warmup": (train_warmup, 0)}
    for flag, (value, least) in limits.items():
        if not isinstance(value, int) or value < least:
            raise ConfigError(f"{flag} must be an integer >= {least}; got {value!r}")
    asked = None if precisions is None else parse_precisions(precisions)
    devices = _devices(device)
    plans = {d: _plan(d, asked, training=False) for d in devices}
    if all(reason for plan in plans.values() for _, reason in plan):
        raise ConfigError(
            f"--precision {','.join(asked or ())}: nothing runs on {', '.join(d.type for d in devices)} "
            "(fp16 needs CUDA); use fp32 or bf16 on the CPU"
        )
    resolved = resolve_speed_models(models, archs)
    say = progress or (lambda line: None)
    load_start = round(os.getloadavg()[0], 2)
    networks = {m.name: build_network(m.spec) for m in resolved}  # random weights: only shapes are read
    macs = {name: macs_per_output_pixel(network, size, size) for name, network in networks.items()}
    scales = {name: int(network.scale) for name, network in networks.items()}
    del networks
    inference: list[InferenceSpeed] = []
    for dev in devices:
        for precision, reason in plans[dev]:
            for model in resolved:
                measured, kind = (None, "n/a") if reason else measure_inference(
                    model, dev, precision, size, warmup, repeats, seed, isolate_memory
                )
                row = _inference_row(model, scales[model.name], dev, precision, size, macs[model.name], measured,
                                     kind, reason)
                inference.append(row)
                say(f"{model.name} {dev.type} {precision}: {format_value(row.output_megapixels_per_s, 3)} MP/s, "
                    f"{format_value(row.peak_fraction and 100 * row.peak_fraction, 0)}% of a "
                    f"{format_value(row.conv_peak_gmacs, 1)} GMAC/s conv peak")
    rows: list[TrainingSpeed] = []
    for dev in devices if training else []:
        for precision, reason in _plan(dev, asked, training=True):
            for model in resolved:
                if reason:
                    rows.append(TrainingSpeed(model.name, dev.type, precision, train_batch, train_patch,
                                              "—", None, None, None, (), None, reason))
                    continue
                rows.append(measure_training(model, device=dev, precision=precision, backbones=backbones, seed=seed,
                                             **train))
                say(f"train {model.name} {dev.type} {precision}: {rows[-1].iterations_per_s:.2f} it/s")
    manifest = build_manifest(
        protocol=_protocol(size, warmup, repeats, {**train, "enabled": training}, backbones, isolate_memory),
        device=devices[-1],
        seed=seed,
        model_files={m.name: m.source_file for m in resolved if m.source_file is not None},
        extra={
            "devices": [device_description(d) for d in devices],
            "architectures": {m.name: json.loads(m.spec.to_json()) for m in resolved},
            "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
            "note": note or "",
        },
    )
    return SpeedReport(manifest=manifest, inference=tuple(inference), training=tuple(rows))
