"""How an `Upscaler` is set up: model names and files, device, precision, tile size, realism, denoise.

Split from `gansuite.tasks.upscale.upscaler` so that the engine there holds only the pipeline.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from gansuite.core.checkpoint import missing_file_error, read_weights_metadata
from gansuite.errors import CheckpointError, ConfigError
from gansuite.tasks.upscale.model_files import is_gansuite_weights
from gansuite.tasks.upscale.preflight import available_memory
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, load_upscale_weights, shipped_weights_path

__all__ = [
    "MAX_OUTSCALE",
    "auto_tile_size",
    "check_blend",
    "check_model_scale",
    "check_outscale",
    "check_tile_overlap",
    "clean_twin",
    "gan_twin",
    "interpolate_weights",
    "load_blended_weights",
    "resolve_device",
    "resolve_model_path",
    "resolve_precision",
]

MAX_OUTSCALE = 16
"""The largest `outscale` an `Upscaler` takes."""

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
_BYTES_PER_INPUT_PIXEL_PER_CHANNEL = 4 * 4  # float32, about four live feature maps per layer


def interpolate_weights(faithful: nn.Module, detailed: nn.Module, realism: float) -> nn.Module:
    """ESRGAN's network interpolation (Wang et al. 2018): (1 − realism)·θ_faithful + realism·θ_detailed.

    Args:
        faithful: the PSNR-oriented network; its floating-point parameters and buffers are
            overwritten in place.
        detailed: the GAN network of the same architecture (`spec`).
        realism: in [0, 1]; 0 keeps `faithful`, 1 gives `detailed`.

    Returns:
        `faithful`, interpolated.

    Raises:
        ConfigError: realism not a number in [0, 1] (a string, a bool, NaN) or networks of
            different architectures.
    """
    realism = check_blend(realism, "realism")
    if getattr(faithful, "spec", None) != getattr(detailed, "spec", None):
        raise ConfigError("realism needs a PSNR-oriented and a GAN model of the same architecture")
    detailed_state = detailed.state_dict()
    with torch.no_grad():
        for name, value in faithful.state_dict().items():
            if value.is_floating_point():
                value.lerp_(detailed_state[name].to(value.dtype), realism)
    return faithful


def gan_twin(name: str) -> str | None:
    """The GAN twin `--realism` blends a shipped PSNR-oriented model towards (x4 → x4-gan), or None."""
    twin = f"{name}-gan"
    return twin if name in SHIPPED_WEIGHTS and twin in SHIPPED_WEIGHTS else None


def clean_twin(name: str) -> str | None:
    """The clean-protocol twin `--denoise` blends a shipped realistic-degradation model with
    (x4-real → x4, x4-real-gan → x4-gan), or None."""
    twin = name.replace("-real", "")
    return twin if "-real" in name and name in SHIPPED_WEIGHTS and twin in SHIPPED_WEIGHTS else None


def _pairs(twin: Callable[[str], str | None]) -> str:
    return ", ".join(f"{name} / {twin(name)}" for name in SHIPPED_WEIGHTS if twin(name))


def load_blended_weights(name: str, *, realism: float | None = None, denoise: float | None = None) -> nn.Module:
    """A shipped upscaler, optionally blended with its twin (ESRGAN's network interpolation).

    - `realism` R: a PSNR-oriented model blended towards its GAN twin, (1 − R)·θ_name + R·θ_name-gan
      (x4 → x4-gan; Wang et al. 2018).
    - `denoise` D: a model trained on realistic degradations blended with its clean-protocol twin,
      (1 − D)·θ_clean + D·θ_name (x4-real ← x4, x4-real-gan ← x4-gan): D = 1 is the model as
      trained, lower values remove less noise and JPEG and keep more fine detail — Real-ESRGAN's
      ``-dn`` strength for realesr-general-x4v3. `benchmarks/results/sr_denoise.md` measures it.

    Args:
        name: a `SHIPPED_WEIGHTS` name (a file has no twin: with `realism` or `denoise` it is
            refused before anything is loaded).
        realism, denoise: in [0, 1]; at most one of them.

    Returns:
        The network (on the CPU, float32).

    Raises:
        ConfigError: both given, a value that is not a number in [0, 1] (a string, a bool, NaN),
            or `name` has no such twin.
        CheckpointError: a twin's file is missing from this build.
    """
    if realism is not None and denoise is not None:
        raise ConfigError("`realism` and `denoise` cannot be combined: give one of them")
    # checked before any file is read: a string or NaN fails here, not in the middle of a blend
    realism = None if realism is None else check_blend(realism, "realism")
    denoise = None if denoise is None else check_blend(denoise, "denoise")
    if realism is not None and name in SHIPPED_WEIGHTS and name.endswith("-gan"):
        faithful = name.removesuffix("-gan")
        raise ConfigError(
            f"--model {name} and --realism conflict: --realism R blends {faithful} (R=0) with {name} (R=1); "
            f"give --model {faithful} --realism R, or --model {name} alone"
        )

    def load(shipped: str) -> nn.Module:
        return load_upscale_weights(resolve_model_path(shipped))

    if realism is not None:
        gan = gan_twin(name)
        if gan is None:
            raise ConfigError(f"`realism` needs a GAN counterpart of {name!r}; shipped pairs: {_pairs(gan_twin)}")
        return interpolate_weights(load(name), load(gan), realism)
    if denoise is not None:
        clean = clean_twin(name)
        if clean is None:
            raise ConfigError(
                f"`denoise` needs the clean-protocol twin of {name!r} (a model trained on realistic degradations); "
                f"shipped pairs: {_pairs(clean_twin)}"
            )
        return interpolate_weights(load(clean), load(name), denoise)
    return load(name)


def resolve_device(device: str | torch.device, *, runs_torch: bool) -> torch.device:
    """ "auto" → CUDA when present (for torch models), else the CPU; strings and torch.device as torch reads them."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() and runs_torch else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"`device` must be auto, cpu or cuda, got {device!r}") from exc
    if resolved.type not in ("cpu", "cuda", "mps", "xpu"):
        raise ConfigError(f"`device` must be auto, cpu or cuda, got {device!r}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("`device` 'cuda' was asked for, but CUDA is not available here; use `device` 'cpu'")
    return resolved


def _kind(value: object) -> str:
    """" (a str)" for the message about a value of the wrong type; "" for a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f" (a {type(value).__name__})"
    return ""


def check_blend(value: object, name: str) -> float:
    """A `realism` / `denoise` weight (`--realism`, `--denoise`) as a float, after checking it is a number in [0, 1].

    Args:
        value: the weight given.
        name: "realism" or "denoise".

    Returns:
        `value` as a float.

    Raises:
        ConfigError: a bool, a string or another non-number, NaN, or a number outside [0, 1].
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ConfigError(
            f"`{name}` must be between 0 and 1, got {value!r}{_kind(value)}; give a number such as 0.5"
        )
    return float(value)


def check_tile_overlap(tile_overlap: object) -> int | None:
    """`tile_overlap` (`Upscaler`'s, `--tile-overlap`) as an int, after checking it is None or an int >= 0.

    Raises:
        ConfigError: a bool, a float (NaN and infinities included), a string, or a negative int.
    """
    if tile_overlap is None:
        return None
    if isinstance(tile_overlap, bool) or not isinstance(tile_overlap, numbers.Integral) or tile_overlap < 0:
        kind = "" if isinstance(tile_overlap, numbers.Integral) else f" (a {type(tile_overlap).__name__})"
        raise ConfigError(
            f"`tile_overlap` must be >= 0, a whole number of input pixels, got {tile_overlap!r}{kind}; "
            "give an int, or None for the model's receptive radius"
        )
    return int(tile_overlap)


def check_outscale(outscale: object) -> float | None:
    """`outscale` (`Upscaler`'s, `--outscale`), after checking it is None or a number in (0, `MAX_OUTSCALE`].

    Returns:
        `outscale` unchanged (an int stays an int), None, or a numpy scalar as a float.

    Raises:
        ConfigError: a bool, a string, NaN, an infinity, or a number outside (0, 16].
    """
    if outscale is None:
        return None
    if isinstance(outscale, bool) or not isinstance(outscale, numbers.Real) or not 0 < outscale <= MAX_OUTSCALE:
        raise ConfigError(
            f"`outscale` must be in (0, {MAX_OUTSCALE}], got {outscale!r}{_kind(outscale)}; give a finite "
            "number such as 2 or 2.5, or None for the network's own scale"
        )
    return outscale if isinstance(outscale, int | float) else float(outscale)


def resolve_model_path(model: str | os.PathLike[str]) -> Path:
    """The file of a shipped model name ("x4", "x4-real", ...) or an existing path.

    Raises:
        CheckpointError: a shipped name whose file this build lacks, a folder (named as one), or
            neither a name nor a file.
    """
    if str(model) in SHIPPED_WEIGHTS:
        path = shipped_weights_path(str(model))
        if not path.is_file():
            raise CheckpointError(f"shipped model {model!r} is not included in this build ({path.name} is missing)")
        return path
    path = Path(model)
    if path.is_dir():
        raise missing_file_error(path, "model file")
    if not path.is_file():
        present = sorted(name for name in SHIPPED_WEIGHTS if shipped_weights_path(name).is_file())
        raise CheckpointError(f"model {model!r} is neither a shipped name ({', '.join(present)}) nor an existing file")
    return path


def check_model_scale(model: str | os.PathLike[str], scale: int, *, found: int | None = None) -> None:
    """Refuse a model whose upscaling factor is not the `scale` the user asked for (`--scale`).

    Without `found`, the factor is read from the metadata of a shipped name or a gansuite weights
    file (no weights are loaded), so the check runs before any work; other files (third-party,
    .onnx) pass until they are loaded and the check is repeated with `found` = the loaded scale.

    Args:
        model: the `--model` value: a shipped name or a model file.
        scale: the factor asked for.
        found: the loaded model's factor, if known.

    Raises:
        ConfigError: the model upscales by another factor; the message names --model and --scale
            and the ways out.
        CheckpointError: a shipped name whose file this build lacks, or damaged metadata.
    """
    if found is None:
        path = resolve_model_path(model)
        if not is_gansuite_weights(path):
            return
        stored = read_weights_metadata(path)[0].kwargs.get("scale")
        if not isinstance(stored, int) or isinstance(stored, bool):
            return  # no factor in the spec: checked once the model is loaded
        found = stored
    if found != scale:
        raise ConfigError(
            f"--model {model}: the model upscales x{found}, but --scale {scale} was given; drop --scale, give a "
            f"x{scale} model (or no --model), or add --outscale {scale} to resize this model's output"
        )


def resolve_precision(precision: str, model: object, device: torch.device) -> torch.dtype:
    """The compute dtype for `precision` on `device`, given what `model` supports.

    Args:
        precision: "auto" (fp16 on CUDA, bf16 where fp16 is unsupported; fp32 elsewhere),
            "fp32", "fp16" or "bf16".
        model: the network; `supports_half` / `supports_bfloat16` attributes (spandrel
            descriptors have them) are honoured, absent ones mean supported.
        device: where the model runs.

    Raises:
        ConfigError: an unknown precision, fp16 off CUDA, or a precision the model lacks.
    """
    half_ok = bool(getattr(model, "supports_half", True))
    bf16_ok = bool(getattr(model, "supports_bfloat16", True))
    if precision == "auto":
        if device.type != "cuda":
            return torch.float32
        if half_ok:
            return torch.float16
        return torch.bfloat16 if bf16_ok and torch.cuda.is_bf16_supported() else torch.float32
    if precision not in PRECISIONS:
        raise ConfigError(f"`precision` must be auto, fp32, fp16 or bf16, got {precision!r}")
    if device.type != "cuda" and precision == "fp16":
        raise ConfigError("`precision` 'fp16' needs CUDA; on the CPU use 'fp32' (the default)")
    if (precision == "fp16" and not half_ok) or (precision == "bf16" and not bf16_ok):
        raise ConfigError(f"`precision` {precision!r}: this model's architecture does not support it; use 'fp32'")
    return PRECISIONS[precision]


def auto_tile_size(
    model: object, device: torch.device, scale: int, band: int, height: int, width: int, images: int = 1
) -> int:
    """The tile core side for `images` images of height x width: 0 when one pass fits the budget.

    A tile sent to the network is the core plus `band` pixels (the context overlap and the
    blending band on both sides), so the budget pays for (core + band)² input pixels. The
    budget is half the free CUDA memory, or 512 MiB on the host; the bytes per pixel come from
    the widest conv layer (about four live float32 feature maps) or a measured figure
    (`activation_bytes_per_pixel`, set for third-party models), plus the float32 output. On the
    host, when the band would more than double the pixels computed ((core + band)² > 2·core²),
    the core grows to the size where it just doubles them, within a quarter of the memory still
    available (`preflight.available_memory`).

    Returns:
        0 (no tiling) or a core side in input pixels, between 32 and 2048.
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget = free * 0.5
    else:
        budget = 512 * 2**20  # keeps peak host memory of a large photo well under 2.5 GB
    parameters = model.parameters() if isinstance(model, nn.Module) else ()
    channels = max((p.shape[0] for p in parameters if p.dim() == 4), default=64)
    measured = getattr(model, "activation_bytes_per_pixel", 0)  # spandrel models: hooks (model_files)
    activations = max(channels * _BYTES_PER_INPUT_PIXEL_PER_CHANNEL, measured)
    per_pixel = activations + 3 * 4 * scale**2 * 2
    area = budget / per_pixel / max(1, images)  # input pixels one forward pass may hold
    if height * width <= area:
        return 0
    core = int(area**0.5) - band
    # A wide overlap (RRDB's probed radius is ~47 px) would make small tiles compute several times
    # the image: let the tile grow until the overlap at most doubles the work, if a quarter of the
    # memory still available allows it.
    fair = math.ceil(band / (math.sqrt(2) - 1))
    if device.type == "cpu" and core < fair:
        ceiling = (available_memory() or 0) / 4 / per_pixel / max(1, images)
        core = max(core, min(fair, int(ceiling**0.5) - band))
    return max(32, min(core, 2048))
