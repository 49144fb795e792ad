"""What `gansuite info` reports: versions, devices, precision support and where assets come from."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from pathlib import Path
from typing import Any

import torch

from gansuite.core.backbones import BACKBONE_ENV, BACKBONE_FILES

__all__ = ["DATA_ENV", "environment_info", "shipped_weights_dir"]

DATA_ENV = "GANSUITE_DATA"


def shipped_weights_dir() -> Path:
    """The folder of weights shipped inside the package."""
    return Path(__file__).resolve().parent / "weights"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment_info() -> dict[str, Any]:
    """A JSON-serialisable description of this installation and machine."""
    cuda = torch.cuda.is_available()
    devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []
    backbone_dir = os.environ.get(BACKBONE_ENV)
    if backbone_dir:
        backbones = {
            name: str(Path(backbone_dir) / file) + ("" if (Path(backbone_dir) / file).is_file() else " (missing)")
            for name, file in BACKBONE_FILES.items()
        }
    else:
        backbones = {name: f"torchvision weights API (cache: {torch.hub.get_dir()})" for name in BACKBONE_FILES}
    weights = sorted(p.name for p in shipped_weights_dir().glob("*.safetensors"))
    return {
        "versions": {
            "gansuite": _version("gansuite"),
            "python": platform.python_version(),
            **{pkg: _version(pkg) for pkg in ("torch", "torchvision", "opencv-python-headless", "lpips", "numpy")},
        },
        "device": {
            "cpu_threads": torch.get_num_threads(),
            "cuda_available": cuda,
            "cuda_devices": devices,
            "cuda_version": torch.version.cuda,
        },
        "precision": {
            "cpu": "fp32 (mixed precision is used on CUDA only)",
            "cuda_fp16_amp": cuda,
            "cuda_bf16_amp": bool(cuda and torch.cuda.is_bf16_supported()),
        },
        "weights": {"shipped_dir": str(shipped_weights_dir()), "shipped": weights},
        "backbones": {"source_env": f"{BACKBONE_ENV}={backbone_dir or '(unset)'}", **backbones},
        "data": f"{DATA_ENV}={os.environ.get(DATA_ENV) or '(unset)'}",
    }
