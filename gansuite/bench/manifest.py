"""The manifest written beside every benchmark table: what was measured, how, and with what.

A number in a table is only reproducible with its protocol, the versions of the packages that
computed it, the device, the seed and the exact model files (by sha256) next to it, as
MLPerf's and the Papers-with-Code result cards record them.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from gansuite.core.strict_json import strict_json

__all__ = [
    "MANIFEST_PACKAGES", "build_manifest", "device_description", "file_sha256", "package_versions", "portable",
    "report_json",
]

# distribution name → key in the manifest
MANIFEST_PACKAGES = {
    "torch": "torch",
    "torchvision": "torchvision",
    "lpips": "lpips",
    "numpy": "numpy",
    "opencv-python-headless": "opencv",
    "scikit-image": "scikit-image",
    "spandrel": "spandrel",
    "gansuite": "gansuite",
}


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape benchmark numbers.

    Returns:
        Manifest key → version string, or "not installed". OpenCV's version is the one the
        imported ``cv2`` reports, whichever OpenCV wheel provides it.
    """
    versions: dict[str, str] = {}
    for distribution, key in MANIFEST_PACKAGES.items():
        try:
            versions[key] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[key] = "not installed"
    try:
        import cv2

        versions["opencv"] = str(cv2.__version__)
    except ImportError:
        pass
    return versions


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks.

    Args:
        path: the file.

    Returns:
        64 lowercase hex digits.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def device_description(device: torch.device) -> str:
    """A device in words, e.g. "cuda:0 (NVIDIA H100 80GB HBM3)" or "cpu (2 threads)"."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})"
    return str(device)


def build_manifest(
    *,
    protocol: Mapping[str, Any],
    device: torch.device,
    seed: int,
    model_files: Mapping[str, str | os.PathLike[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON-ready manifest of one benchmark run.

    Args:
        protocol: how the numbers are computed (channel, crop, resize, metric settings, ...).
        device: where the models and metrics ran.
        seed: the torch seed set before the run.
        model_files: method name → model file; each is recorded with its sha256.
        extra: further top-level entries (e.g. the datasets and the command line).

    Returns:
        A dict with "created" (UTC, ISO 8601), "protocol", "packages", "python", "platform",
        "device", "seed" and "models", plus `extra`.

    Raises:
        OSError: a model file cannot be read.
    """
    models = {
        name: {"file": str(Path(path).resolve()), "sha256": file_sha256(path)}
        for name, path in (model_files or {}).items()
    }
    manifest = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "protocol": dict(protocol),
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device_description(device),
        "seed": seed,
        "models": models,
        **dict(extra or {}),
    }
    return portable(manifest)


_PATH_VARIABLES = ("GANSUITE_DATA", "GANSUITE_BACKBONES")


def portable(value: Any) -> Any:
    """Write paths under GANSUITE_DATA / GANSUITE_BACKBONES / the package as `$VAR/...`, not machine paths."""
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v) for v in value]
    if not isinstance(value, str) or not value.startswith("/"):
        return value
    roots = [(f"${name}", os.environ.get(name, "")) for name in _PATH_VARIABLES]
    roots.append(("<gansuite>", str(Path(__file__).resolve().parents[1])))
    for label, root in roots:
        if root:
            root = str(Path(root).resolve())
            if value == root or value.startswith(root + os.sep):
                return label + value[len(root) :]
    return value


def report_json(value: Any, *, indent: int = 2) -> str:
    """A report as strict JSON text: NaN and infinities anywhere inside written as null.

    ``json.dumps`` writes them as ``NaN``/``Infinity``, which strict parsers (jq, browsers,
    ``JSON.parse``) refuse, so one such number would make the whole report unreadable.
    """
    return strict_json(value, indent=indent) + "\n"
