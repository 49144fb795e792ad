"""onnxruntime sessions for gansuite's ONNX files: `OnnxUpscaleModel` and the metadata reader.

Kept apart from the export (`gansuite.deploy.onnx`, which re-exports these names) so that running
an exported file needs only onnxruntime, never the onnx package.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gansuite._extras import require_extra
from gansuite.core.checkpoint import missing_file_error
from gansuite.errors import CheckpointError

__all__ = ["OnnxUpscaleModel", "read_onnx_metadata"]


def _session(path: Path, *, threads: int | None = None, providers: list[str] | None = None) -> Any:
    ort = require_extra("onnx", "onnxruntime", feature="the onnxruntime engine")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(str(path), sess_options=options,
                                    providers=providers or ["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable files
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: onnxruntime cannot load it ({message})") from exc


def read_onnx_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file as a dict (needs only onnxruntime).

    Raises:
        CheckpointError: a missing or unreadable file.
    """
    source = Path(path)
    if not source.is_file():
        raise CheckpointError(f"ONNX file {source} does not exist")
    return dict(_session(source).get_modelmeta().custom_metadata_map)


class OnnxUpscaleModel:
    """An exported upscaler in onnxruntime, callable like the torch model (host tensors, float32).

    Pass it to `Upscaler` for tiling, alpha and 8/16-bit I/O::

        Upscaler(OnnxUpscaleModel("x4.onnx"), tile="auto")

    Args:
        path: an ``.onnx`` file written by `export_onnx` (its metadata gives scale and receptive radius).
        threads: onnxruntime intra-op threads (None: onnxruntime's default, all cores).
        providers: onnxruntime execution providers (default: the CPU one).

    Raises:
        CheckpointError: a missing or unreadable file, or one that is not a gansuite upscaler.
        MissingExtraError: onnxruntime is not installed.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, threads: int | None = None, providers: list[str] | None = None
    ) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise missing_file_error(self.path, "ONNX file")
        if not self.path.is_file():
            raise CheckpointError(f"--model {self.path}: ONNX file does not exist")
        self.session = _session(self.path, threads=threads, providers=providers)
        metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        if metadata.get("gansuite_kind") == "predict":
            raise CheckpointError(
                f"{self.path}: a next-frame predictor exported by gansuite, not an upscaler; export an upscaler "
                "(`gansuite export onnx --model x4`) or run the predictor with `gansuite predict-frames`"
            )
        if metadata.get("gansuite_kind") != "upscale":
            raise CheckpointError(
                f"{self.path}: not an upscaler exported by `gansuite export onnx` (metadata gansuite_kind is "
                f"{metadata.get('gansuite_kind')!r})"
            )
        self.scale = int(metadata["gansuite_scale"])
        self.receptive_radius = int(metadata["gansuite_receptive_radius"])
        self.card: dict[str, Any] = json.loads(metadata.get("gansuite_card", "{}"))
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, low_res: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) float RGB in [0, 1] → (N, 3, h·scale, w·scale) float32 on the host."""
        array = np.ascontiguousarray(low_res.detach().to("cpu", torch.float32).numpy())
        return torch.from_numpy(self.session.run(None, {self.input_name: array})[0])
