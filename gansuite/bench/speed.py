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
"""

from __future__ import annotations

import concurrent.futures
import copy
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gansuite.bench.manifest import build_manifest, device_description
from gansuite.core.checkpoint import load_weights, read_weights_metadata
from gansuite.core.config import ContentLossConfig
from gansuite.core.networks import GENERATORS, NetworkSpec, build_network
from gansuite.core.trainer import Sample, Trainer
from gansuite.errors import CheckpointError, ConfigError, GansuiteError
from gansuite.tasks.upscale import models as _models  # noqa: F401  (registers the SR generators)
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path
from gansuite.tasks.upscale.recipes import get_recipe

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

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
PEAK_CONV_INPUT = (1, 64, 512, 512)
"""Input of the reference convolution (3x3, 64 → 64, padding 1) whose MAC rate is the peak."""

_ARCH_EXAMPLE = "compact:scale=4,channels=48,num_convs=16,activation=lrelu"
_CPU_AMP_NOTE = "AMP is CUDA-only: gansuite's Trainer trains in float32 on the CPU"
_MIB = 2**20


# ---------------------------------------------------------------------------------------- parsing
def parse_precisions(value: str | Sequence[str]) -> tuple[str, ...]:
    """Parse ``--precision fp32,bf16`` (or a sequence of names) into a tuple without repeats.

    Raises:
        ConfigError: an empty list or a name other than fp32, fp16, bf16.
    """
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [name.strip().lower() for name in names if name.strip()]
    bad = [name for name in names if name not in PRECISIONS]
    if bad or not names:
        raise ConfigError(
            f"--precision {value!r}: {', '.join(map(repr, bad)) or 'nothing'} is not a precision; "
            "give a comma-separated list of fp32, fp16, bf16 (e.g. --precision fp32,bf16)"
        )
    return tuple(dict.fromkeys(names))


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_arch(text: str) -> NetworkSpec:
    """Parse ``--arch NAME[:key=value,...]`` into a generator spec (numbers and true/false typed).

    Raises:
        ConfigError: a malformed spec or a repeated key.
        UnknownNameError: NAME is not a registered generator (the message lists them).
    """
    name, _, rest = text.strip().partition(":")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, raw = (part.strip() for part in item.partition("="))
        if not sep or not key or not raw or key in kwargs:
            problem = f"{key!r} is given twice" if key in kwargs else f"{item!r} is not key=value"
            raise ConfigError(f"--arch {text!r}: {problem}; expected NAME[:key=value,...], e.g. {_ARCH_EXAMPLE}")
        kwargs[key] = _value(raw)
    if not name:
        raise ConfigError(f"--arch {text!r}: no generator name; expected NAME[:key=value,...], e.g. {_ARCH_EXAMPLE}")
    GENERATORS.get(name)
    return NetworkSpec("generator", name, kwargs)


# ---------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class SpeedModel:
    """A generator to time: its table name, spec and weights file (None: random weights, same speed)."""

    name: str
    spec: NetworkSpec
    source_file: Path | None = None

    def build(self) -> nn.Module:
        """The generator in eval mode on the CPU, weights from `source_file` or seeded random ones."""
        return (load_weights(self.source_file) if self.source_file is not None else build_network(self.spec)).eval()


def _checked(model: SpeedModel, flag: str) -> SpeedModel:
    try:
        network = build_network(model.spec)
    except GansuiteError as exc:
        raise type(exc)(f"{flag} {model.name!r}: {exc}") from exc
    if not isinstance(getattr(network, "scale", None), int):
        raise ConfigError(
            f"{flag} {model.name!r}: {model.spec.name!r} is not a super-resolution generator (it has no integer "
            f"scale); give an upscale generator, e.g. {_ARCH_EXAMPLE}"
        )
    return model


def resolve_speed_models(models: Sequence[str] = (), archs: Sequence[str] = ()) -> list[SpeedModel]:
    """Turn ``--model`` and ``--arch`` values into `SpeedModel`s (default: every shipped model present).

    Args:
        models: shipped names ("x4", "x4-gan", "x2") or gansuite ``.safetensors`` files.
        archs: ``NAME[:key=value,...]`` specs of registered generators, randomly initialised.

    Returns:
        The models, `models` first, in the given order.

    Raises:
        CheckpointError: a missing shipped file, a missing or non-gansuite weights file.
        ConfigError: a bad spec, a non-SR generator, repeated names, or nothing to run.
        UnknownNameError: an unknown generator name.
    """
    resolved: list[SpeedModel] = []
    if not models and not archs:
        models = [name for name in SHIPPED_WEIGHTS if shipped_weights_path(name).is_file()]
        if not models:
            raise ConfigError(
                f"no shipped upscale weights in this build (gansuite/weights holds none of "
                f"{', '.join(SHIPPED_WEIGHTS)}); give --model FILE or --arch SPEC, e.g. --arch {_ARCH_EXAMPLE}"
            )
    for value in models:
        path = shipped_weights_path(value) if value in SHIPPED_WEIGHTS else Path(value)
        if not path.is_file():
            what = "shipped model, but its file is not in this build" if value in SHIPPED_WEIGHTS else "not a file"
            raise CheckpointError(
                f"--model {value!r}: {what}; give a shipped name ({', '.join(SHIPPED_WEIGHTS)}) whose weights are "
                "installed, or a gansuite .safetensors file"
            )
        spec, _ = read_weights_metadata(path)
        resolved.append(_checked(SpeedModel(value if value in SHIPPED_WEIGHTS else path.stem, spec, path), "--model"))
    for text in archs:
        try:
            spec = parse_arch(text)
        except GansuiteError as exc:
            raise type(exc)(f"--arch {text!r}: {exc}" if not str(exc).startswith("--arch") else str(exc)) from exc
        resolved.append(_checked(SpeedModel(text.strip(), spec), "--arch"))
    names = [model.name for model in resolved]
    if len(set(names)) != len(names):
        raise ConfigError(f"two models share a name ({names}); give each --model/--arch once")
    return resolved


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
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _autocast(device: torch.device, precision: str) -> AbstractContextManager[Any]:
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=PRECISIONS[precision])


def _time_calls(run: Callable[[], object], device: torch.device, warmup: int, repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls of `run`, after `warmup` untimed calls."""
    for _ in range(warmup):
        run()
    seconds = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        run()
        _sync(device)
        seconds.append(time.perf_counter() - start)
    return seconds


def _median(values: Sequence[float]) -> float:
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
    with torch.inference_mode(), _autocast(device, precision):
        seconds = _time_calls(lambda: conv(x), device, warmup, max(repeats, 1))
    return macs / _median(seconds)


def _rss_mib() -> tuple[float, float]:
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
        peak_mib = peak / _MIB if sys.platform == "darwin" else peak / 1024
        return peak_mib, peak_mib


def _time_inference(
    model: SpeedModel, device: torch.device, precision: str, size: int, warmup: int, repeats: int, seed: int
) -> dict[str, Any]:
    """Load, then time `model` on a random (1, C, size, size) input; seconds, memory (MiB), conv peak."""
    torch.manual_seed(seed)
    network = model.build().to(device).requires_grad_(False)
    if device.type == "cpu":
        network = network.to(memory_format=torch.channels_last)
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        baseline = torch.cuda.memory_allocated(device) / _MIB
    else:
        baseline = _rss_mib()[0]
    x = torch.rand(1, int(getattr(network, "in_channels", 3)), size, size, device=device)
    if device.type == "cpu":
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), _autocast(device, precision):
        seconds = _time_calls(lambda: network(x), device, warmup, repeats)
    peak = torch.cuda.max_memory_allocated(device) / _MIB if device.type == "cuda" else _rss_mib()[1]
    # the reference conv right after the model, in the same process: load drifts less in between
    conv_peak = measure_conv_peak(device, precision, warmup=warmup, repeats=repeats)
    return {"seconds": seconds, "peak": peak, "baseline": baseline, "conv_peak": conv_peak}


def _inference_child(
    model: SpeedModel, precision: str, size: int, warmup: int, repeats: int, seed: int, threads: int
) -> dict[str, Any]:
    """Run in a fresh spawned process: one CPU measurement, so the peak RSS is its own."""
    torch.set_num_threads(threads)
    return _time_inference(model, torch.device("cpu"), precision, size, warmup, repeats, seed)


# ---------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class InferenceSpeed:
    """One model on one device at one precision; None where the combination was skipped (see `note`).

    Memory is "peak RSS" of a fresh process (CPU), "max allocated" by torch (CUDA), or "n/a".
    MACs are per output pixel, rates in GMAC/s; `peak_fraction` = achieved / conv peak.
    """

    model: str
    scale: int
    device: str
    precision: str
    input_size: int
    output_megapixels_per_s: float | None
    median_seconds: float | None
    seconds: tuple[float, ...]
    peak_memory_mib: float | None
    baseline_memory_mib: float | None
    memory_kind: str
    macs_per_pixel: float
    conv_peak_gmacs: float | None
    achieved_gmacs: float | None
    peak_fraction: float | None
    note: str = ""


@dataclass(frozen=True)
class TrainingSpeed:
    """GAN training steps of one generator (with the U-Net discriminator); None where skipped."""

    model: str
    device: str
    precision: str
    batch_size: int
    patch_size: int
    content_losses: str
    iterations_per_s: float | None
    images_per_s: float | None
    median_seconds: float | None
    seconds: tuple[float, ...]
    peak_memory_mib: float | None
    note: str = ""


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


@dataclass(frozen=True)
class SpeedReport:
    """The speed tables of a run with their manifest (protocol, versions, devices, seed, model hashes)."""

    manifest: dict[str, Any]
    inference: tuple[InferenceSpeed, ...]
    training: tuple[TrainingSpeed, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"manifest": ..., "inference": [...], "training": [...]}``."""
        return {
            "manifest": self.manifest,
            "inference": [asdict(row) for row in self.inference],
            "training": [asdict(row) for row in self.training],
        }

    def to_json(self, *, indent: int = 2) -> str:
        """The report as JSON text (see `to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent) + "\n"

    def to_markdown(self) -> str:
        """Markdown tables (inference, then training) with the protocol and devices under them."""
        protocol = self.manifest.get("protocol", {})
        lines = [
            f"Inference: {protocol.get('inference', '')}",
            "",
            "| Model | Device | Precision | Output MP/s | ms/image | Peak memory (MiB) | Baseline (MiB) | Increment "
            "(MiB) | MACs/px | Conv peak (GMAC/s) | Achieved (GMAC/s) | Of peak | Note |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in self.inference:
            ms = None if r.median_seconds is None else 1000 * r.median_seconds
            fraction = "—" if r.peak_fraction is None else f"{100 * r.peak_fraction:.0f}%"
            memory = (r.peak_memory_mib, r.baseline_memory_mib)
            increment = None if None in memory else memory[0] - memory[1]  # type: ignore[operator]
            lines.append(
                f"| {r.model} | {r.device} | {r.precision} | {_fmt(r.output_megapixels_per_s, 3)} | {_fmt(ms, 0)} "
                f"| {_fmt(r.peak_memory_mib, 0)} | {_fmt(r.baseline_memory_mib, 0)} | {_fmt(increment, 0)} "
                f"| {_fmt(r.macs_per_pixel, 0)} "
                f"| {_fmt(r.conv_peak_gmacs, 1)} | {_fmt(r.achieved_gmacs, 1)} | {fraction} | {r.note} |"
            )
        if self.training:
            lines += [
                "",
                f"Training: {protocol.get('training', '')}",
                "",
                "| Model | Device | Precision | it/s | images/s | s/step | Peak memory (MiB) | Content losses | Note |",
                "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
            ]
            for t in self.training:
                lines.append(
                    f"| {t.model} | {t.device} | {t.precision} | {_fmt(t.iterations_per_s)} | {_fmt(t.images_per_s)} "
                    f"| {_fmt(t.median_seconds, 3)} | {_fmt(t.peak_memory_mib, 0)} | {t.content_losses} | {t.note} |"
                )
        load = self.manifest.get("load_average_1m", {})
        lines += [
            "",
            f"Devices: {'; '.join(self.manifest.get('devices', []))}; {protocol.get('threads', '?')} torch threads; "
            f"1-minute load average {load.get('start', '?')} at the start, {load.get('end', '?')} at the end; "
            f"gansuite {self.manifest.get('packages', {}).get('gansuite', '?')}, "
            f"torch {self.manifest.get('packages', {}).get('torch', '?')}.",
        ]
        if self.manifest.get("note"):
            lines.append(f"Note: {self.manifest['note']}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- training
class _SyntheticHead:
    """The smallest task head: the batch already is (LR, HR)."""

    def prepare(self, batch: tuple[torch.Tensor, torch.Tensor]) -> Sample:
        return Sample(inputs=batch[0], target=batch[1])

    def generate(self, generator: nn.Module, sample: Sample) -> torch.Tensor:
        return generator(sample.inputs)


def measure_training(
    model: SpeedModel,
    *,
    device: torch.device,
    precision: str = "fp32",
    batch_size: int = 4,
    patch_size: int = 128,
    warmup: int = 1,
    steps: int = 3,
    backbones: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> TrainingSpeed:
    """Time `Trainer.train_step` of `model`'s architecture against the x4-gan recipe's discriminator.

    Args:
        model: the generator (trained from a random initialisation: the weights do not change speed).
        device: CPU or CUDA.
        precision: "fp32"; on CUDA also "fp16" (autocast + GradScaler) or "bf16" (autocast).
        batch_size: HR crops per step.
        patch_size: HR crop side; the LR input is patch_size / scale (random data).
        warmup: untimed steps first (Adam state, kernel selection).
        steps: timed steps; the median step time gives it/s.
        backbones: VGG16 weights (file or folder) to add the recipe's perceptual loss; None: L1 only.
        seed: torch seed of the networks and the batch.

    Returns:
        The measured row.

    Raises:
        ConfigError: AMP on the CPU, or a patch size that is not a multiple of 8 and of the scale.
        BackboneNotFoundError: `backbones` holds no VGG16 weights.
    """
    recipe = get_recipe("x4-gan")
    torch.manual_seed(seed)
    generator = build_network(model.spec)
    scale = int(generator.scale)
    if patch_size % 8 or patch_size % scale:
        raise ConfigError(
            f"--train-patch {patch_size}: the U-Net discriminator needs a multiple of 8 and the x{scale} model a "
            f"multiple of {scale}; use e.g. --train-patch 128"
        )
    losses = (recipe.trainer.content_losses[0],)
    if backbones is not None:
        perceptual = recipe.trainer.content_losses[1]
        options = {**perceptual.options, "backbones": str(backbones)}
        losses += (ContentLossConfig("perceptual", perceptual.weight, options),)
    config = recipe.trainer.replace(
        batch_size=batch_size, device=device.type, precision=precision, content_losses=losses, progress=False,
        tensorboard=False, seed=seed,
    )
    high_res = torch.rand(batch_size, 3, patch_size, patch_size)
    sample = Sample(inputs=F.avg_pool2d(high_res, scale), target=high_res)
    with tempfile.TemporaryDirectory() as run_dir:  # train_step writes nothing; the trainer wants a folder
        trainer = Trainer(
            generator=generator, discriminator=build_network(recipe.discriminator), head=_SyntheticHead(),
            config=config, run_dir=run_dir,
        )
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        seconds = _time_calls(lambda: trainer.train_step(sample), device, warmup, max(steps, 1))
    median = _median(seconds)
    return TrainingSpeed(
        model=model.name, device=device.type, precision=precision, batch_size=batch_size, patch_size=patch_size,
        content_losses=" + ".join(c.name for c in losses), iterations_per_s=1 / median,
        images_per_s=batch_size / median, median_seconds=median, seconds=tuple(seconds),
        peak_memory_mib=torch.cuda.max_memory_allocated(device) / _MIB if device.type == "cuda" else None,
        note="fp16 with GradScaler" if precision == "fp16" else "",
    )


# ---------------------------------------------------------------------------------------- the run
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


def _measure(
    model: SpeedModel, device: torch.device, precision: str, size: int, warmup: int, repeats: int, seed: int,
    isolate_memory: bool,
) -> tuple[dict[str, Any], str]:
    """Seconds and memory of one inference measurement, and what the memory figures are."""
    if device.type == "cuda":
        return _time_inference(model, device, precision, size, warmup, repeats, seed), "max allocated (torch)"
    if not isolate_memory:
        measured = _time_inference(model, device, precision, size, warmup, repeats, seed)
        return {**measured, "peak": None, "baseline": None}, "n/a"
    job = (model, precision, size, warmup, repeats, seed, torch.get_num_threads())
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_inference_child, *job).result(), "peak RSS, fresh process"


def _inference_row(
    model: SpeedModel, scale: int, device: torch.device, precision: str, size: int, macs: float,
    measured: dict[str, Any] | None, memory_kind: str, note: str,
) -> InferenceSpeed:
    if measured is None:
        return InferenceSpeed(
            model.name, scale, device.type, precision, size, None, None, (), None, None, "n/a", macs, None, None,
            None, note,
        )
    median, peak = _median(measured["seconds"]), measured["conv_peak"]
    pixels_per_s = size * size * scale**2 / median
    achieved = macs * pixels_per_s
    return InferenceSpeed(
        model=model.name, scale=scale, device=device.type, precision=precision, input_size=size,
        output_megapixels_per_s=pixels_per_s / 1e6, median_seconds=median, seconds=tuple(measured["seconds"]),
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
                measured, kind = (None, "n/a") if reason else _measure(
                    model, dev, precision, size, warmup, repeats, seed, isolate_memory
                )
                row = _inference_row(model, scales[model.name], dev, precision, size, macs[model.name], measured,
                                     kind, reason)
                inference.append(row)
                say(f"{model.name} {dev.type} {precision}: {_fmt(row.output_megapixels_per_s, 3)} MP/s, "
                    f"{_fmt(row.peak_fraction and 100 * row.peak_fraction, 0)}% of a {_fmt(row.conv_peak_gmacs, 1)} "
                    "GMAC/s conv peak")
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
