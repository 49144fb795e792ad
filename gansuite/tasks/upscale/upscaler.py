"""Inference: `Upscaler` upscales one image at a time, tiled, with a float32 fallback.

Compared with Real-ESRGAN's inference script it blends overlapping tiles instead of pasting
them (no seams: with overlap ≥ the receptive field the output equals the untiled one), keeps
only one tile on the device while the whole image stays in host memory, halves the tile and
retries on out-of-memory, recomputes in float32 any tile that comes out non-finite in half
precision (the "black image" failure), and offers ESRGAN's network interpolation between the
PSNR-oriented and GAN weights (`realism`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gansuite.core.checkpoint import load_weights
from gansuite.errors import CheckpointError, ConfigError
from gansuite.io.image import LoadedImage, decode_array, encode_array
from gansuite.io.imresize import imresize
from gansuite.io.tiling import tiled_apply
from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

__all__ = ["UpscaleResult", "Upscaler", "interpolate_weights"]

_PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
_BYTES_PER_INPUT_PIXEL_PER_CHANNEL = 4 * 4  # float32, about four live feature maps per layer


@dataclass(frozen=True)
class UpscaleResult:
    """One upscaled image.

    Attributes:
        image: the kind that went in: a `LoadedImage` (float RGB in [0, 1] with alpha, bit depth
            and gray flag of the source).
        scale: the final scale (the network's, or `outscale`).
        tiles: how many tiles were run.
        fallback_tiles: tiles recomputed in float32 because half precision gave non-finite values.
        tile_size: the tile side used (0 = untiled).
        seconds: wall time.
    """

    image: LoadedImage
    scale: float
    tiles: int
    fallback_tiles: int
    tile_size: int
    seconds: float


def interpolate_weights(faithful: nn.Module, detailed: nn.Module, realism: float) -> nn.Module:
    """ESRGAN's network interpolation: (1 − realism)·θ_faithful + realism·θ_detailed, in `faithful`.

    Raises:
        ConfigError: realism outside [0, 1] or networks of different architectures.
    """
    if not 0.0 <= realism <= 1.0:
        raise ConfigError(f"--realism must be between 0 and 1, got {realism}")
    if getattr(faithful, "spec", None) != getattr(detailed, "spec", None):
        raise ConfigError("realism needs a PSNR-oriented and a GAN model of the same architecture")
    detailed_state = detailed.state_dict()
    with torch.no_grad():
        for name, value in faithful.state_dict().items():
            if value.is_floating_point():
                value.lerp_(detailed_state[name].to(value.dtype), realism)
    return faithful


def _resolve(model: str | os.PathLike[str]) -> Path:
    if str(model) in SHIPPED_WEIGHTS:
        path = shipped_weights_path(str(model))
        if not path.is_file():
            raise CheckpointError(f"shipped model {model!r} is not included in this build ({path.name} is missing)")
        return path
    path = Path(model)
    if not path.is_file():
        raise CheckpointError(
            f"model {model!r} is neither a shipped name ({', '.join(sorted(SHIPPED_WEIGHTS))}) nor an existing file"
        )
    return path


class Upscaler:
    """Upscales images with a super-resolution generator.

    Holds the model and settings only; every call keeps its data local, so one `Upscaler` can
    serve several threads.

    Args:
        model: a generator taking (N, 3, h, w) float RGB in [0, 1], with `scale` and
            `receptive_radius` attributes (the registered SR generators have both).
        device: "auto", "cpu" or "cuda".
        precision: "auto" (fp16 on CUDA, bf16 where fp16 is unsupported; fp32 on CPU), "fp32",
            "fp16" or "bf16".
        tile: "auto" (from free memory), 0 (no tiling) or a tile side in input pixels.
        tile_overlap: context pixels around each tile; None uses the model's receptive radius,
            which makes tiled output equal the untiled one.
        outscale: final scale after the network (a high-quality MATLAB-bicubic resize), or None.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        device: str = "auto",
        precision: str = "auto",
        tile: int | str = "auto",
        tile_overlap: int | None = None,
        outscale: float | None = None,
    ) -> None:
        if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
            raise ConfigError(f"--device must be auto, cpu or cuda, got {device!r}")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for, but CUDA is not available here; use --device cpu")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.dtype = self._resolve_precision(precision)
        if not (tile == "auto" or (isinstance(tile, int) and not isinstance(tile, bool) and tile >= 0)):
            raise ConfigError(f"--tile must be auto, 0 or a positive size, got {tile!r}")
        if tile_overlap is not None and tile_overlap < 0:
            raise ConfigError(f"--tile-overlap must be >= 0, got {tile_overlap}")
        if outscale is not None and not 0 < outscale <= 16:
            raise ConfigError(f"--outscale must be in (0, 16], got {outscale}")
        self.scale = int(model.scale)
        self.tile = tile
        self.tile_overlap = int(model.receptive_radius) if tile_overlap is None else tile_overlap
        self.outscale = outscale
        self.model = model.eval().to(self.device)
        if self.device.type == "cpu":
            self.model = self.model.to(memory_format=torch.channels_last)
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    @classmethod
    def from_pretrained(
        cls, name: str | os.PathLike[str] = "x4", *, realism: float | None = None, **settings: object
    ) -> Upscaler:
        """Load a shipped model by name ("x4", "x4-gan", "x2") or a gansuite weights file.

        Args:
            name: shipped name or path to a `.safetensors` file exported by gansuite.
            realism: with the "x4" model, interpolate towards "x4-gan" (0 = faithful, 1 = GAN).
            **settings: `Upscaler` keyword arguments.
        """
        model = load_weights(_resolve(name))
        if realism is not None:
            detailed_name = f"{name}-gan" if f"{name}-gan" in SHIPPED_WEIGHTS else None
            if str(name).endswith("-gan"):
                detailed_name, name = str(name), str(name).removesuffix("-gan")
                model = load_weights(_resolve(name))
            if detailed_name is None:
                raise ConfigError(f"--realism needs a GAN counterpart of {name!r}; shipped pairs: x4 / x4-gan")
            model = interpolate_weights(model, load_weights(_resolve(detailed_name)), realism)
        return cls(model, **settings)  # type: ignore[arg-type]

    def _resolve_precision(self, precision: str) -> torch.dtype:
        if precision == "auto":
            if self.device.type != "cuda":
                return torch.float32
            return torch.float16
        if precision not in _PRECISIONS:
            raise ConfigError(f"--precision must be auto, fp32, fp16 or bf16, got {precision!r}")
        if self.device.type != "cuda" and precision == "fp16":
            raise ConfigError("--precision fp16 needs CUDA; on the CPU use fp32 (the default)")
        return _PRECISIONS[precision]

    # ------------------------------------------------------------------ the pipeline
    def __call__(self, image: np.ndarray | torch.Tensor | LoadedImage, *, on_tile=None) -> UpscaleResult:
        """Upscale one image.

        Args:
            image: a numpy array as OpenCV reads it (uint8/uint16; gray, BGR or BGRA), a
                `LoadedImage`, or a tensor (3, H, W) / (1, 3, H, W) float RGB in [0, 1].
            on_tile: optional progress callback `(done, total)`.

        Returns:
            An `UpscaleResult`; `encode_array(result.image...)` or `to_array(result)` gives back
            the input's kind.
        """
        started = time.perf_counter()
        loaded = self._load(image)
        stats = {"tiles": 0, "fallback": 0}
        color = torch.from_numpy(loaded.color).permute(2, 0, 1).unsqueeze(0)
        out_color, tile = self._upscale(color, stats, on_tile)
        out_alpha = None
        if loaded.alpha is not None:
            alpha = torch.from_numpy(loaded.alpha)[None, None].expand(1, 3, -1, -1).contiguous()
            out_alpha = self._upscale(alpha, stats, None)[0].mean(dim=1, keepdim=True)
        result = LoadedImage(
            color=out_color[0].permute(1, 2, 0).numpy(),
            alpha=None if out_alpha is None else out_alpha[0, 0].numpy(),
            bit_depth=loaded.bit_depth,
            grayscale=loaded.grayscale,
            path=None,
        )
        return UpscaleResult(
            image=result,
            scale=self.outscale or self.scale,
            tiles=stats["tiles"],
            fallback_tiles=stats["fallback"],
            tile_size=tile,
            seconds=time.perf_counter() - started,
        )

    def to_array(self, result: UpscaleResult) -> np.ndarray:
        """The result as OpenCV would write it: same dtype and channels as the input array."""
        image = result.image
        return encode_array(image.color, image.alpha, bit_depth=image.bit_depth, grayscale=image.grayscale)

    @staticmethod
    def _load(image: np.ndarray | torch.Tensor | LoadedImage) -> LoadedImage:
        if isinstance(image, LoadedImage):
            return image
        if isinstance(image, np.ndarray):
            return decode_array(image)
        if isinstance(image, torch.Tensor):
            tensor = image[0] if image.dim() == 4 else image
            if tensor.dim() != 3 or tensor.shape[0] != 3 or not tensor.is_floating_point():
                shape = tuple(image.shape)
                raise ConfigError(f"a tensor input must be (3, H, W) or (1, 3, H, W) float RGB, got {shape}")
            color = tensor.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
            return LoadedImage(color=np.ascontiguousarray(color), alpha=None, bit_depth=8, grayscale=False)
        raise ConfigError(f"cannot upscale a {type(image).__name__}: give a numpy array, a tensor or a LoadedImage")

    def _auto_tile(self, height: int, width: int) -> int:
        if self.device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(self.device)
            budget = free * 0.5
        else:
            budget = 512 * 2**20  # keeps peak host memory of a large photo well under 2.5 GB
        channels = max((p.shape[0] for p in self.model.parameters() if p.dim() == 4), default=64)
        per_pixel = channels * _BYTES_PER_INPUT_PIXEL_PER_CHANNEL + 3 * 4 * self.scale**2 * 2
        side = int((budget / per_pixel) ** 0.5)
        side = max(32, min(side, 2048))
        return 0 if height * width <= side * side else side

    def _run_tile(self, tile: torch.Tensor, stats: dict[str, int]) -> torch.Tensor:
        stats["tiles"] += 1
        tile = tile.to(self.device)
        if self.device.type == "cpu":
            tile = tile.contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            if self.dtype != torch.float32:
                with torch.autocast(self.device.type, dtype=self.dtype):
                    out = self.model(tile).float()
                if torch.isfinite(out).all():
                    return out.clamp_(0, 1)
                stats["fallback"] += 1
            return self.model(tile.float()).float().clamp_(0, 1)

    def _upscale(self, image: torch.Tensor, stats: dict[str, int], on_tile) -> tuple[torch.Tensor, int]:
        """(1, 3, H, W) float32 host tensor → (1, 3, H', W') float32 in [0, 1] on the host."""
        height, width = image.shape[-2:]
        tile = self._auto_tile(height, width) if self.tile == "auto" else int(self.tile)
        while True:
            try:
                out = tiled_apply(
                    lambda t: self._run_tile(t, stats),
                    image,
                    scale=self.scale,
                    tile=tile,
                    overlap=self.tile_overlap,
                    device=self.device,
                    on_tile=on_tile,
                )
                break
            except torch.OutOfMemoryError:
                if self.tile != "auto" or tile == 32:
                    raise
                tile = max(32, (tile or max(height, width)) // 2)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
        if self.outscale is not None and self.outscale != self.scale:
            size = (round(height * self.outscale), round(width * self.outscale))
            out = imresize(out, size=size).clamp_(0, 1)
        return out, tile
