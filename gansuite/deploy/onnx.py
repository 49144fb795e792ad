"""ONNX export of the upscalers and next-frame predictors, and an onnxruntime upscaler.

Export goes through ``torch.onnx.export`` (the TorchScript exporter, which needs nothing beyond
torch) at opset 17 or later, with the batch, height and width axes dynamic — unlike Real-ESRGAN's
export script, which fixes a 64x64 input — so one file serves any image size and batch.

The graph and its metadata:

- upscaler: input ``low_res`` (N, 3, h, w) float32 RGB in [0, 1] → output ``high_res``
  (N, 3, h·scale, w·scale) float32 (nominally [0, 1], not clamped; `Upscaler` clamps).
- predictor: input ``context`` (N, k·C, H, W) float32 in [0, 1], the k context frames oldest
  first stacked along channels → output ``next_frame`` (N, C, H, W) float32 (not clamped);
  several steps ahead: feed each prediction back as the newest frame (`rollout`).
- ``metadata_props``: ``gansuite_kind`` ("upscale" or "predict"), ``gansuite_spec`` (the
  network spec JSON), ``gansuite_card`` (the model card JSON, as in the safetensors file),
  ``gansuite_version``, and ``gansuite_scale`` + ``gansuite_receptive_radius`` (upscalers) or
  ``gansuite_context_frames`` + ``gansuite_channels`` (predictors).

`OnnxUpscaleModel` wraps an onnxruntime session as a callable with `scale` and
`receptive_radius`, which `Upscaler` accepts in place of a torch module, so tiling, alpha and
8/16-bit I/O are the same as with torch. `cached_onnx_upscaler` exports a shipped model or a
weights file once into a cache folder (``GANSUITE_CACHE``, else ``$XDG_CACHE_HOME/gansuite``,
else ``~/.cache/gansuite``), keyed by the weights' sha256, the realism and the opset.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gansuite._extras import require_extra
from gansuite.core.atomic import atomic_path, check_output_path
from gansuite.core.user_cache import cache_root
from gansuite.deploy._exportable import ExportableModel, load_exportable
from gansuite.deploy._ort import OnnxUpscaleModel, _session, read_onnx_metadata
from gansuite.errors import CheckpointError, ConfigError, GansuiteError, NotAvailableError

__all__ = [
    "DEFAULT_OPSET",
    "ExportReport",
    "OnnxUpscaleModel",
    "cache_dir",
    "cached_onnx_upscaler",
    "check_opset",
    "export_onnx",
    "load_exportable",
    "onnx_upscaler",
    "read_onnx_metadata",
]

DEFAULT_OPSET = 17
"""The lowest opset exported (the first with LayerNormalization; every op used here is older)."""

MAX_ABS_DIFF = 1e-3
"""The largest |onnxruntime − torch| (float32, inputs in [0, 1]) `export_onnx` accepts when it verifies;
gansuite's networks agree to about 1e-6, a graph traced wrong (a size or batch baked in) by far more."""

_IO_NAMES = {"upscale": ("low_res", "high_res"), "predict": ("context", "next_frame")}


@dataclass(frozen=True)
class ExportReport:
    """What `export_onnx` wrote and how closely it matches torch.

    Attributes:
        path: the .onnx file.
        kind: "upscale" or "predict".
        opset: the ONNX opset.
        input_shape: the (N, C, H, W) of the check input (odd sizes, batch 2), or None unchecked.
        max_abs_diff: max |onnxruntime − torch| on that input (float32), or None unchecked.
    """

    path: Path
    kind: str
    opset: int
    input_shape: tuple[int, ...] | None
    max_abs_diff: float | None


def check_opset(opset: int) -> None:
    """Refuse an opset this torch cannot write, before any model is loaded.

    Raises:
        ConfigError: naming ``--opset``, the value and the accepted range.
    """
    from torch.onnx import _constants

    highest = int(getattr(_constants, "ONNX_MAX_OPSET", DEFAULT_OPSET))
    if isinstance(opset, bool) or not isinstance(opset, int) or not DEFAULT_OPSET <= opset <= highest:
        raise ConfigError(
            f"--opset {opset}: this torch ({torch.__version__}) exports opsets {DEFAULT_OPSET} to {highest}; "
            f"choose one in that range (default {DEFAULT_OPSET})"
        )


def _metadata(exportable: ExportableModel) -> dict[str, str]:
    module = exportable.module
    spec = getattr(module, "spec", None)
    values = {
        "gansuite_kind": exportable.kind,
        "gansuite_name": exportable.name,
        "gansuite_card": json.dumps(exportable.card, sort_keys=True),
        "gansuite_version": _version(),
    }
    if spec is not None:
        values["gansuite_spec"] = spec.to_json()
    if exportable.kind == "upscale":
        values["gansuite_scale"] = str(int(module.scale))
        values["gansuite_receptive_radius"] = str(int(module.receptive_radius))
    else:
        values["gansuite_context_frames"] = str(int(module.context_frames))
        values["gansuite_channels"] = str(int(module.channels))
    return values


def _version() -> str:
    try:
        return importlib.metadata.version("gansuite")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _example_input(exportable: ExportableModel, batch: int, height: int, width: int) -> torch.Tensor:
    module = exportable.module
    channels = 3 if exportable.kind == "upscale" else int(module.context_frames) * int(module.channels)
    generator = torch.Generator().manual_seed(0)
    return torch.rand(batch, channels, height, width, generator=generator)


def export_onnx(
    exportable: ExportableModel,
    path: str | os.PathLike[str],
    *,
    opset: int = DEFAULT_OPSET,
    verify: bool = True,
    overwrite: bool = False,
) -> ExportReport:
    """Write `exportable` as an ONNX file with dynamic batch/height/width and its card in the metadata.

    Args:
        exportable: from `load_exportable`.
        path: the ``.onnx`` file to write (atomically).
        opset: ONNX opset, 17 to the highest this torch writes (`check_opset`).
        verify: run the file in onnxruntime on a batch of 2 at an odd size (23x17) and compare it
            with torch (the size differs from the one traced, so dynamic axes are exercised); a
            difference over `MAX_ABS_DIFF` removes the file and raises.
        overwrite: replace an existing file.

    Returns:
        An `ExportReport`.

    Raises:
        CheckpointError: with `verify`, onnxruntime fails on the file or differs from torch by more than
            `MAX_ABS_DIFF` (the file is removed).
        ConfigError: an opset outside 17..the highest this torch writes, or a file name not ending in ``.onnx``.
        OutputError, OutputExistsError: the file cannot be written.
        MissingExtraError: onnx (or, with `verify`, onnxruntime) is not installed.
        NotAvailableError: a network that cannot be traced to ONNX (its class sets
            ``onnx_unsupported`` to the reason, e.g. the ``flow-unet`` predictor, which calls OpenCV).
    """
    reason = getattr(exportable.module, "onnx_unsupported", None)
    if reason:
        raise NotAvailableError(f"{exportable.name}: cannot be exported to ONNX: {reason}; run it with PyTorch")
    onnx = require_extra("onnx", "onnx", feature="ONNX export")
    check_opset(opset)
    target = Path(path)
    if target.suffix.lower() != ".onnx":
        raise ConfigError(f"-o {target}: an ONNX file name must end in .onnx")
    check_output_path(target, overwrite=overwrite)
    module = exportable.module.eval().float()
    input_name, output_name = _IO_NAMES[exportable.kind]
    out_axes = {0: "batch", 2: "out_height", 3: "out_width"} if exportable.kind == "upscale" else {
        0: "batch", 2: "height", 3: "width"}
    # traced at sizes that are not multiples of 2, 4 or 8, so size-dependent padding is recorded as ops
    example = _example_input(exportable, 1, 37, 29)
    with atomic_path(target, overwrite=overwrite) as temp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation notes about the TorchScript exporter
        try:
            torch.onnx.export(
                module, (example,), str(temp), dynamo=False, opset_version=opset, input_names=[input_name],
                output_names=[output_name], do_constant_folding=True,
                dynamic_axes={input_name: {0: "batch", 2: "height", 3: "width"}, output_name: out_axes},
            )
        except (OSError, GansuiteError):
            raise
        except Exception as exc:  # the tracer's and exporter's own errors: an op or a Python construct it cannot record
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise NotAvailableError(
                f"{exportable.name}: torch cannot export this network to ONNX at opset {opset} ({message[:300]}); "
                "run it with PyTorch (--engine torch), or try a later --opset"
            ) from exc
        graph = onnx.load(str(temp))
        graph.producer_name = "gansuite"
        graph.doc_string = (
            f"gansuite {exportable.kind} model {exportable.name!r}: {input_name} -> {output_name}; "
            "see metadata_props gansuite_card"
        )
        for key, value in _metadata(exportable).items():
            entry = graph.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(graph)
        onnx.save(graph, str(temp))
    if not verify:
        return ExportReport(path=target, kind=exportable.kind, opset=opset, input_shape=None, max_abs_diff=None)
    check = _example_input(exportable, 2, 23, 17)
    session = _session(target)
    try:
        produced = session.run(None, {input_name: check.numpy()})[0]
    except Exception as exc:  # onnxruntime's own exception types
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{target}: the exported graph fails in onnxruntime on a {tuple(check.shape)} input "
                              f"({message[:300]})") from exc
    with torch.no_grad():
        expected = module(check).float().numpy()
    if produced.shape != expected.shape:
        target.unlink(missing_ok=True)
        raise CheckpointError(f"{target}: ONNX output {produced.shape} differs from torch's {expected.shape}")
    difference = float(np.abs(produced - expected).max())
    if not difference <= MAX_ABS_DIFF:  # NaN too
        target.unlink(missing_ok=True)
        raise CheckpointError(
            f"{exportable.name}: the exported graph differs from torch by {difference:.3g} (over {MAX_ABS_DIFF:g}) "
            f"on a {tuple(check.shape)} input, so it does not trace to ONNX faithfully (a size or batch fixed at "
            "export?); nothing was written; run it with PyTorch (--engine torch)"
        )
    return ExportReport(path=target, kind=exportable.kind, opset=opset, input_shape=tuple(check.shape),
                        max_abs_diff=difference)


def cache_dir() -> Path:
    """Where exported ONNX files are cached: ``onnx/`` in gansuite's user cache (`gansuite.core.user_cache`)."""
    return cache_root() / "onnx"


def cached_onnx_upscaler(
    model: str | os.PathLike[str], *, realism: float | None = None, opset: int = DEFAULT_OPSET
) -> Path:
    """The ONNX file of an upscaler, exported into `cache_dir()` on first use.

    Args:
        model: a shipped upscaler name or a gansuite ``.safetensors`` file; an ``.onnx`` file is
            returned as it is.
        realism: as `Upscaler.from_pretrained` (part of the cache key).
        opset: ONNX opset (part of the cache key).

    Raises:
        CheckpointError, ConfigError: as `load_exportable`, or a predictor given as an upscaler.
        MissingExtraError: onnx is not installed and the file is not cached yet.
    """
    from gansuite.tasks.upscale.model_files import PICKLE_SUFFIXES, read_state_dict
    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

    text = str(model)
    if text.lower().endswith(".onnx"):
        if realism is not None:
            raise ConfigError("--realism blends torch weights; it cannot change an .onnx file: export with --realism")
        return Path(text)
    if Path(text).suffix.lower() in PICKLE_SUFFIXES and Path(text).is_file():
        read_state_dict(text)  # refuses a training checkpoint, naming `gansuite train export`, as --engine torch
    sources = [shipped_weights_path(text) if text in SHIPPED_WEIGHTS else Path(text)]
    if realism is not None and text in SHIPPED_WEIGHTS and f"{text}-gan" in SHIPPED_WEIGHTS:
        sources.append(shipped_weights_path(f"{text}-gan"))
    if not all(source.is_file() for source in sources):
        exportable = load_exportable(text, realism=realism)  # raises the error that names what is missing
        _check_upscaler(exportable, text)
    digest = hashlib.sha256()
    for source in sources:
        digest.update(hashlib.sha256(source.read_bytes()).hexdigest().encode())
    digest.update(f"realism={realism};opset={opset};torch={torch.__version__}".encode())
    target = cache_dir() / f"{Path(text).stem}-{digest.hexdigest()[:16]}.onnx"
    if target.is_file():
        return target
    exportable = load_exportable(text, realism=realism)
    _check_upscaler(exportable, text)
    target.parent.mkdir(parents=True, exist_ok=True)
    # a third-party network is checked against torch once, as `export onnx` does: its trace may fix a size
    export_onnx(exportable, target, opset=opset, verify=exportable.card.get("source_file") is not None,
                overwrite=True)
    return target


def _check_upscaler(exportable: ExportableModel, text: str) -> None:
    if exportable.kind != "upscale":
        raise ConfigError(
            f"--model {text} is a next-frame predictor, not an upscaler; give an upscaler (x4, x2, a weights file) "
            "or run it with `gansuite predict-frames`"
        )


def onnx_upscaler(
    model: str | os.PathLike[str], *, realism: float | None = None, rank: int = 0, world_size: int = 1,
    threads: int | None = None, **settings: Any,
) -> Any:
    """An `Upscaler` running an ONNX upscaler (a file, or a model exported to the cache) in onnxruntime.

    Args:
        model: an ``.onnx`` file written by `export_onnx`, a shipped upscaler name or a gansuite
            ``.safetensors`` file (exported into `cache_dir()` on first use).
        realism: as `Upscaler.from_pretrained` (not for ``.onnx`` files).
        rank, world_size: under torchrun, rank 0 exports to the cache while the others wait.
        threads: onnxruntime intra-op threads (None: all cores, shared out among a node's ranks under torchrun).
        **settings: `Upscaler` keyword arguments; device "auto" means the CPU here.

    Raises:
        CheckpointError, ConfigError, MissingExtraError: as `cached_onnx_upscaler` and `OnnxUpscaleModel`.
    """
    from gansuite.core.arguments import check_setting_names
    from gansuite.tasks.upscale.settings import check_outscale, check_tile_overlap
    from gansuite.tasks.upscale.upscaler import LOADER_SETTINGS, Upscaler

    check_setting_names(settings, LOADER_SETTINGS, "onnx_upscaler")  # before a model is exported to the cache
    check_tile_overlap(settings.get("tile_overlap"))
    check_outscale(settings.get("outscale"))
    if settings.get("device", "auto") == "auto":
        settings["device"] = "cpu"
    if world_size > 1 and rank != 0:
        import torch.distributed as dist

        dist.barrier()  # rank 0 exports first
        path = cached_onnx_upscaler(model, realism=realism)
    else:
        path = cached_onnx_upscaler(model, realism=realism)
        if world_size > 1:
            import torch.distributed as dist

            dist.barrier()
    if threads is None and world_size > 1:  # the processes of one node share its cores
        threads = max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", world_size)))
    return Upscaler(OnnxUpscaleModel(path, threads=threads), **settings)
