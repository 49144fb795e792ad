"""The effective receptive field of an SR network, measured by an impulse-response probe.

Tiling needs, around every tile, as much context as changes the output visibly. The
*theoretical* receptive radius of deep networks is far larger than that (Real-ESRGAN's RRDBNet:
353 input pixels, which would make a 2000x1500 photo cost 16x its pixels at tile 256), because
the influence of a pixel decays roughly like a Gaussian with depth (Luo et al., "Understanding
the Effective Receptive Field in Deep CNNs", NeurIPS 2016).

The probe: a seeded uniform-noise input (the contrast of natural texture) and a copy whose
centre pixel moves by exactly 0.5 in every channel. Both go through the network in float32; the
output change per unit of input change is the impulse response. The radius is the farthest ring
(Chebyshev distance in input pixels) where the response exceeds `tolerance` (1/2048 per unit of
input change), plus a 4-pixel margin because a tile border truncates many pixels at once. When
the response reaches the probe's border, the probe doubles its size (up to `max_radius`). (A
first version probed a faint-noise grey input, whose flipped pixel barely moved, and left seams
of up to 32 levels with Real-ESRGAN x4plus; bounding the response's summed tail instead asks for
radii near the theoretical one, since the absolute values of a deep network's response do not
cancel in that bound as its signed values do in practice.)

Measured once per model file and cached in memory and in a small JSON file in the user cache
directory (``$GANSUITE_CACHE``, else ``$XDG_CACHE_HOME/gansuite``, else ``~/.cache/gansuite``;
`gansuite.core.user_cache`), keyed by the file's SHA-256 and the probe's settings.
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

from gansuite.core.user_cache import cache_root
from gansuite.errors import ConfigError

__all__ = ["PROBE_VERSION", "ProbeResult", "cache_dir", "cached_receptive_radius", "probe_receptive_radius"]

PROBE_VERSION = 3
_TOLERANCE = 1.0 / 2048  # output change per unit of input change of one pixel (an eighth of an 8-bit level)
_MARGIN = 4  # input pixels beyond the measured radius: a tile border truncates many pixels at once
_MEMORY: dict[str, int] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProbeResult:
    """What the probe saw.

    Attributes:
        response_radius: the farthest ring (input pixels) where the impulse response exceeds the
            tolerance.
        radius: the context to give each tile: response radius + 4, at most `max_radius`.
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
    change per unit of input change is the impulse response (linearised at that input). The
    radius is the farthest ring where it exceeds `tolerance`.

    Args:
        fn: the network, (N, C, h, w) float32 in [0, 1] → (N, C', h·scale, w·scale), on `device`.
        scale: its upscaling factor, >= 1.
        device: where the probe tensors are made.
        channels: input channels C.
        tolerance: output change per unit of input change (in [0, 1] units) that counts as influence.
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
        ring_max = torch.zeros(int(rings.max()) + 1, dtype=torch.float64).scatter_reduce(
            0, rings.flatten(), kernel.flatten(), reduce="amax"
        )
        above = torch.nonzero(ring_max > tolerance)
        response = int(above.max()) if above.numel() else 0
        at_border = response >= centre - 1
        if not at_border or probe >= max_radius:
            radius = max_radius if at_border else min(max_radius, response + _MARGIN)
            return ProbeResult(response_radius=response, radius=radius, probe_radius=probe, reached_border=at_border)
        probe = min(max_radius, probe * 2)


def _batched(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    return isinstance(fn, nn.Module)  # an nn.Module takes a batch; other callables (descriptors) one image


def cache_dir() -> Path:
    """The user cache directory for probe results (not created here): `gansuite.core.user_cache.cache_root`."""
    return cache_root()


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
