"""Where and in what precision a training run's networks and batches live.

CUDA runs may use mixed precision (``torch.autocast`` in bfloat16 where the GPU supports it,
else float16 with a ``GradScaler``); CPU runs are float32, where ``channels_last`` is the layout
that makes convolutions fastest. Under DDP each network is wrapped in
``DistributedDataParallel`` on this rank's device.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gansuite.core.distributed import DistributedContext
from gansuite.errors import ConfigError

__all__ = ["autocast_for", "move_to_device", "place_module", "training_precision", "unwrap"]

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def training_precision(wanted: str, device: torch.device) -> torch.dtype:
    """The compute dtype of a run: `wanted` ("auto", "fp32", "fp16" or "bf16") on `device`.

    "auto" is float32 off CUDA, bfloat16 on GPUs that support it, else float16.

    Raises:
        ConfigError: fp16/bf16 asked for on a device other than CUDA.
    """
    if device.type != "cuda":
        if wanted in ("fp16", "bf16"):
            raise ConfigError(f"precision {wanted} needs CUDA; on the CPU use fp32 (or 'auto')")
        return torch.float32
    if wanted == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return _DTYPES[wanted]


def autocast_for(device: torch.device, precision: torch.dtype) -> Any:
    """A ``torch.autocast`` context for mixed precision on CUDA, else a no-op context."""
    if device.type == "cuda" and precision != torch.float32:
        return torch.autocast("cuda", dtype=precision)
    return nullcontext()


def place_module(
    module: nn.Module, device: torch.device, *, channels_last: bool, context: DistributedContext
) -> nn.Module:
    """`module` on `device` (channels_last if asked), wrapped in DDP when `context` is distributed."""
    module = module.to(device)
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    if context.enabled:
        ids = [device.index] if device.type == "cuda" else None
        module = DistributedDataParallel(module, device_ids=ids)
    return module


def unwrap(module: nn.Module) -> nn.Module:
    """The network inside a ``DistributedDataParallel`` wrapper (or `module` itself)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def move_to_device(value: Any, device: torch.device, *, channels_last: bool) -> Any:
    """Tensors (also inside tuples and lists) moved to `device`; 4-D ones channels_last if asked."""
    if isinstance(value, torch.Tensor):
        value = value.to(device, non_blocking=True)
        if channels_last and value.dim() == 4:
            value = value.contiguous(memory_format=torch.channels_last)
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(move_to_device(v, device, channels_last=channels_last) for v in value)
    return value
