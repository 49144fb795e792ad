"""The effective receptive field of an SR network, measured by an impulse-response probe.

Tiling needs, around every tile, as much context as changes the output visibly. The
*theoretical* receptive radius of deep networks is far larger than that (Real-ESRGAN's RRDBNet:
353 input pixels, which would make a 2000x1500 photo cost 16x its pixels at tile 256), because
the influence of a pixel decays roughly like a Gaussian with depth (Luo et al., "Understanding
the Effective Receptive Field in Deep CNNs", NeurIPS 2016).

The probe: a seeded uniform-noise input (the contrast of natural texture) and a copy whose
centre pixel moves by exactly 0.5 in every channel. Both go through the network in float32; the
output change per unit of input change is the impulse response K. A tile border replaces every
input pixel beyond the overlap, each by at most a full-range change, so the largest error it can
cause at a kept pixel is the *tail mass* of K beyond the overlap (summed over the input offsets
of one output sub-pixel phase, the largest phase). The radius is the smallest one whose tail
mass is at most half an 8-bit level, plus 2 pixels. When the response still has mass near the
probe's border, the probe doubles its size (up to `max_radius`).

Measured once per model file and cached in memory and in a small JSON file in the user cache
directory (``$GANSUITE_CACHE_DIR``, else ``$XDG_CACHE_HOME/gansuite``, else
``~/.cache/gansuite``), keyed by the file's SHA-256 and the probe's settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from gansuite.errors import ConfigError

__all__ = ["PROBE_VERSION", "ProbeResult", "cache_dir", "cached_receptive_radius", "probe_receptive_radius"]

PROBE_VERSION = 2
_TOLERANCE = 0.5 / 255  # half an 8-bit level: the most a tile border may move a kept pixel
_MARGIN = 2  # input pixels beyond the measured radius
_MEMORY: dict[str, int] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProbeResult:
    """What the probe saw.

    Attributes:
        response_radius: the smallest radius (input pixels) whose impulse-response tail mass is
            at most the tolerance.
        radius: the context to give each tile: response radius + 2, at most `max_radius`.
        probe_radius: half-size of the last probe input (its side is 2·probe_radius + 1, or more).
        reached_border: the response filled the largest probe; `radius` is then `max_radius`.
    """

    response_radius: int
    radius: int
    probe_radius: int
    reached_border: bool


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


@torch.no_grad()
def probe_receptive_radius(
    fn: Callable[[torch.Tensor], torch.Tensor],
    *,
    scale: int,
    device: str | torch.device = "cpu",
    channels: int = 3,
    tolerance: float = _TOLERANCE,
    start_radius: int = 16,
    max_radius: int = 192,
    multiple_of: int = 1,
    seed: int = 0,
) -> ProbeResult:
    """Measure a network's effective receptive radius with one impulse.

    The centre pixel of a textured input moves by exactly 0.5 in every channel; the output
    change per unit of input change is the impulse response K (linearised at that input). A
    tile border replaces every pixel beyond the overlap, each by at most a full-range change, so
    the error it can cause at a kept pixel is bounded by the *tail mass* of K beyond the overlap
    (summed per output sub-pixel phase). The radius is the smallest r whose tail mass is at most
    `tolerance`.

    Args:
        fn: the network, (N, C, h, w) float32 in [0, 1] → (N, C', h·scale, w·scale), on `device`.
        scale: its upscaling factor, >= 1.
        device: where the probe tensors are made.
        channels: input channels C.
        tolerance: the largest tail mass (output change in [0, 1] units) left outside the radius.
        start_radius, max_radius: the probe grows from the first to at most the second.
        multiple_of: the probe side is a multiple of this (window sizes of transformers).
        seed: the texture's seed.

    Returns:
        A `ProbeResult`.

    Raises:
        ConfigError: bad settings, or `fn` returned the wrong shape.
    """
    if scale < 1 or start_radius < 1 or max_radius < start_radius or tolerance <= 0 or multiple_of < 1:
        raise ConfigError(
            f"receptive-field probe: bad settings scale={scale}, radii {start_radius}..{max_radius}, "
            f"tolerance={tolerance}, multiple_of={multiple_of}"
        )
    generator = torch.Generator().manual_seed(seed)
    probe = start_radius
    while True:
        side = _round_up(2 * probe + 1, multiple_of)
        centre = side // 2
        base = torch.rand((1, channels, side, side), generator=generator)  # texture of natural contrast
        flipped = base.clone()
        value = flipped[:, :, centre, centre]
        flipped[:, :, centre, centre] = torch.where(value < 0.5, value + 0.5, value - 0.5)  # |change| = 0.5
        outputs = fn(torch.cat([base, flipped]).to(device)) if _batched(fn) else torch.cat(
            [fn(base.to(device)), fn(flipped.to(device))]
        )
        if outputs.shape[-2:] != (side * scale, side * scale):
            raise ConfigError(
                f"receptive-field probe: a {side}x{side} input gave {tuple(outputs.shape)}, expected x{scale}"
            )
        kernel = (outputs[1].double() - outputs[0].double()).abs().amax(dim=0).cpu() / 0.5  # (side·s, side·s)
        coords = (torch.arange(side * scale, dtype=torch.float64) + 0.5) / scale - 0.5 - centre
        rings = torch.maximum(coords.abs()[:, None], coords.abs()[None, :]).ceil().long()  # input-pixel ring
        tail = torch.zeros(centre + 2, dtype=torch.float64)  # tail[r]: the largest phase's mass beyond ring r
        for row in range(scale):
            for column in range(scale):
                mass = torch.zeros(centre + 2, dtype=torch.float64).index_add_(
                    0, rings[row::scale, column::scale].flatten().clamp(max=centre + 1),
                    kernel[row::scale, column::scale].flatten(),
                )
                beyond = mass.flip(0).cumsum(0).flip(0)  # beyond[r] = mass at rings >= r
                tail = torch.maximum(tail, torch.cat([beyond[1:], beyond.new_zeros(1)]))
        response = int(torch.nonzero(tail <= tolerance)[0]) if bool((tail <= tolerance).any()) else centre + 1
        at_border = bool(tail[max(0, centre - 2)] > tolerance / 4) or response >= centre - 1
        if not at_border or probe >= max_radius:
            radius = max_radius if at_border else min(max_radius, response + _MARGIN)
            return ProbeResult(response_radius=response, radius=radius, probe_radius=probe, reached_border=at_border)
        probe = min(max_radius, probe * 2)


def _batched(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    return isinstance(fn, nn.Module)  # an nn.Module takes a batch; other callables (descriptors) one image


def cache_dir() -> Path:
    """The user cache directory for probe results (not created here)."""
    if os.environ.get("GANSUITE_CACHE_DIR"):
        return Path(os.environ["GANSUITE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gansuite"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_cache(file: Path) -> dict[str, dict]:
    try:
        data = json.loads(file.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def cached_receptive_radius(
    path: str | os.PathLike[str],
    fn: Callable[[torch.Tensor], torch.Tensor],
    *,
    scale: int,
    device: str | torch.device = "cpu",
    multiple_of: int = 1,
    module: nn.Module | None = None,
) -> int:
    """The probed radius of the network in `path`, measured on the first call only.

    Args:
        path: the model file; its SHA-256 keys the cache.
        fn: the loaded network (see `probe_receptive_radius`).
        scale: its scale.
        device: where to run the probe; `module` (the parameters behind `fn`) is moved there for
            the probe and back to where it was.
        multiple_of: the architecture's size multiple.
        module: the parameters behind `fn`, to move to `device`.

    Returns:
        The tile overlap to use, in input pixels.
    """
    path = Path(path)
    key = f"{_file_digest(path)}:v{PROBE_VERSION}:t{_TOLERANCE:g}"
    with _LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
    file = cache_dir() / "receptive_fields.json"
    entry = _read_cache(file).get(key)
    if isinstance(entry, dict) and isinstance(entry.get("radius"), int):
        with _LOCK:
            _MEMORY[key] = entry["radius"]
        return entry["radius"]
    home = next(module.parameters()).device if module is not None else None
    if module is not None:
        module.to(device)
    try:
        result = probe_receptive_radius(fn, scale=scale, device=device, multiple_of=multiple_of)
    finally:
        if module is not None and home is not None:
            module.to(home)
    with _LOCK:
        _MEMORY[key] = result.radius
        try:  # a read-only home only costs a re-probe next time
            file.parent.mkdir(parents=True, exist_ok=True)
            data = _read_cache(file)
            data[key] = {"radius": result.radius, "response_radius": result.response_radius, "file": path.name,
                         "reached_border": result.reached_border}
            temp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
            temp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
            os.replace(temp, file)
        except OSError:
            pass
    return result.radius
