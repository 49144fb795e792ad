"""Inference: `Upscaler` upscales images (one at a time, or a tensor batch), tiled, with a float32 fallback.

Compared with Real-ESRGAN's inference script it blends overlapping tiles instead of pasting
them (no seams: with overlap ≥ the receptive field the output equals the untiled one), keeps
only one tile on the device while the whole image stays in host memory, halves the tile and
retries on out-of-memory, recomputes in float32 any tile that comes out non-finite in half
precision (the "black image" failure), and offers ESRGAN's network interpolation between the
PSNR-oriented and GAN weights (`realism`). `Upscaler.from_file` runs any SR model file spandrel
recognises through the same engine, with the tile overlap set to the model's probed effective
receptive field (`gansuite.tasks.upscale.receptive_field`).
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gansuite.core.arguments import check_setting_names
from gansuite.core.pixel_range import check_unit_range
from gansuite.errors import ConfigError
from gansuite.io.content import bleed_transparent_colour, has_equal_channels
from gansuite.io.image import LoadedImage, encode_array
from gansuite.io.imresize import imresize
from gansuite.tasks.upscale._engine import run_model_tile, tiled_with_retry
from gansuite.tasks.upscale.inputs import FLOAT_DTYPES, as_loaded_image, dtype_advice, frame_batches
from gansuite.tasks.upscale.model_files import is_gansuite_weights
from gansuite.tasks.upscale.pretrained import load_upscale_weights
from gansuite.tasks.upscale.settings import (
    auto_tile_size,
    check_outscale,
    check_tile_overlap,
    interpolate_weights,
    load_blended_weights,
    resolve_device,
    resolve_model_path,
    resolve_precision,
)

__all__ = ["TileSeamWarning", "UpscaleResult", "Upscaler", "interpolate_weights"]


class TileSeamWarning(UserWarning):
    """An image was tiled with less overlap than the model's receptive radius: tile borders may show."""


LOADER_SETTINGS = ("device", "precision", "tile", "tile_overlap", "outscale")
"""The keyword settings `Upscaler.from_pretrained` and `from_file` pass on to the constructor."""
_OWN_MODEL = " (the loaded model is the upscaler's own, so copy_model does not apply)"


@dataclass(frozen=True)
class UpscaleResult:
    """One upscaled image.

    Attributes:
        image: a `LoadedImage`: `color` (H', W', 3) float32 in [0, 1], RGB, `alpha` (H', W')
            float32 in [0, 1] or None (H' = round(H·s), W' = round(W·s)), with the source's bit
            depth and gray flag.
        scale: the final scale s (the network's, or `outscale`).
        tiles: how many tiles were run.
        fallback_tiles: tiles recomputed in float32 because half precision gave non-finite values.
        tile_size: the tile side used, in input pixels (0 = untiled).
        seconds: wall time in seconds.
    """

    image: LoadedImage
    scale: float
    tiles: int
    fallback_tiles: int
    tile_size: int
    seconds: float


class Upscaler:
    """Upscales images with a super-resolution generator, tiled (after Real-ESRGAN's inference, Wang et al. 2021).

    Holds the model and settings only; every call keeps its data local, so one `Upscaler` can
    serve several threads.

    Args:
        model: a generator taking (N, 3, h, w) float RGB in [0, 1], with `scale` and
            `receptive_radius` attributes (the registered SR generators have both); or any
            callable with those two attributes mapping a float32 host tensor (N, 3, h, w) to
            (N, 3, h·scale, w·scale), such as `gansuite.deploy.onnx.OnnxUpscaleModel` (an
            onnxruntime session): it runs on the host in float32 with the same tiling and alpha.
        device: "auto", "cpu", "cuda", "cuda:N" or a `torch.device`.
        precision: "auto" (fp16 on CUDA, bf16 where fp16 is unsupported; fp32 on CPU), "fp32",
            "fp16" or "bf16".
        tile: "auto" (from free memory), 0 (no tiling) or a tile side in input pixels.
        tile_overlap: context pixels around each tile, an int >= 0; None uses the model's receptive radius,
            which makes tiled output equal the untiled one (for third-party files: the probed
            effective radius, beyond which one pixel moves the output by < 1/1024), with a
            4-pixel blending band. Less than the radius is faster but may show tile borders: an
            image that is cut into tiles then gives a `TileSeamWarning`.
        outscale: final scale after the network, a number in (0, 16] (a MATLAB-bicubic resize of
            the network's output), or None.
        copy_model: work on a copy of `model` (the default), so the caller's module is never
            changed (no eval(), requires_grad, device or memory-format change); False hands the
            module over to the upscaler.

    Raises:
        ConfigError: a bad `tile`; a `tile_overlap` that is not an int >= 0 (a bool, a float such
            as 2.5, NaN or inf, a string, a negative number); an `outscale` that is not a number in
            (0, 16] (a bool, a string, NaN, inf, 0 or less); an unknown or absent device, an
            unknown precision or one the device or model lacks, or a non-torch model with a device
            other than the CPU or a precision other than fp32.
    """

    def __init__(
        self,
        model: nn.Module | Callable[[torch.Tensor], torch.Tensor],
        *,
        device: str | torch.device = "auto",
        precision: str = "auto",
        tile: int | str = "auto",
        tile_overlap: int | None = None,
        outscale: float | None = None,
        copy_model: bool = True,
    ) -> None:
        self.device = resolve_device(device, runs_torch=isinstance(model, nn.Module))
        self.precision = precision
        self.dtype = self._resolve_precision(precision, model)
        if not (tile == "auto" or (isinstance(tile, int) and not isinstance(tile, bool) and tile >= 0)):
            raise ConfigError(f"`tile` must be auto, 0 or a positive size, got {tile!r}")
        tile_overlap = check_tile_overlap(tile_overlap)
        outscale = check_outscale(outscale)
        self.scale = int(model.scale)
        self.tile = tile
        self.receptive_radius = int(model.receptive_radius)
        self.tile_overlap = self.receptive_radius if tile_overlap is None else tile_overlap
        # With the model's own radius the tiles agree (exactly, or below the probe's tolerance), so a
        # 4-pixel blending band is enough; a shorter overlap given by the user gets the wide ramp.
        self.tile_feather = min(4, self.tile_overlap // 2) if tile_overlap is None else self.tile_overlap // 2
        self.outscale = outscale
        if not isinstance(model, nn.Module):  # a runtime of its own (onnxruntime): host tensors, float32
            if self.device.type != "cpu" or self.dtype != torch.float32:
                raise ConfigError(
                    f"a {type(model).__name__} model takes float32 host tensors: use `device` 'cpu' "
                    "and `precision` 'fp32' (its runtime picks its own device)"
                )
            self.model = model
            return
        self.model = self._place(copy.deepcopy(model) if copy_model else model)

    def _place(self, model: nn.Module) -> nn.Module:
        """Eval mode, frozen, on `self.device` (channels-last on the CPU, where it is faster)."""
        model = model.eval().to(self.device)
        memory_format = torch.channels_last if self.device.type == "cpu" else torch.contiguous_format
        model = model.to(memory_format=memory_format)
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        return model

    def to(self, device: str | torch.device) -> Upscaler:
        """Move the model to `device` in place and return self (an "auto" precision follows the device).

        Raises:
            ConfigError: an unknown device, CUDA asked for but absent, a precision the new device
                lacks, or a model that runs on a runtime of its own (onnxruntime).
        """
        if not isinstance(self.model, nn.Module):
            raise ConfigError(f"a {type(self.model).__name__} model picks its own device; it cannot be moved")
        device = resolve_device(device, runs_torch=True)
        dtype = self._resolve_precision(self.precision, self.model, device=device)
        self.device, self.dtype = device, dtype
        self.model = self._place(self.model)
        return self

    @classmethod
    def from_pretrained(
        cls,
        name: str | os.PathLike[str] = "x4",
        *,
        realism: float | None = None,
        denoise: float | None = None,
        **settings: object,
    ) -> Upscaler:
        """Load a shipped model by name ("x4", "x4-gan", "x2", "x4-real", "x4-real-gan") or a model file.

        ESRGAN's network interpolation (Wang et al. 2018) blends a shipped model with its twin
        (`settings.load_blended_weights`).

        Args:
            name: shipped name, or a path: a gansuite `.safetensors` file, or a third-party file
                (run through `from_file`, without `realism` / `denoise`).
            realism: in [0, 1]; with "x4" (or "x4-real"), interpolate towards "x4-gan" (or
                "x4-real-gan"): 0 = faithful, 1 = GAN.
            denoise: in [0, 1]; with "x4-real" (or "x4-real-gan"), interpolate from the
                clean-protocol "x4" (or "x4-gan") at 0 to the model as trained at 1: how much
                noise and JPEG is removed.
            **settings: `Upscaler` keyword arguments.

        Raises:
            ConfigError: both `realism` and `denoise`, a value that is not a number in [0, 1] (a
                string, a bool, NaN), a model without that twin (or a file), `realism` with a
                "-gan" model, an unknown setting name, or a bad setting value.
            CheckpointError: a missing or unusable model file.
            NotAvailableError: a third-party file without the optional spandrel package.
        """
        check_setting_names(settings, LOADER_SETTINGS, "Upscaler.from_pretrained", note=_OWN_MODEL)
        check_tile_overlap(settings.get("tile_overlap"))  # before any model is loaded
        check_outscale(settings.get("outscale"))
        if realism is None and denoise is None:
            path = resolve_model_path(name)
            if not is_gansuite_weights(path):
                return cls.from_file(path, **settings)
            model = load_upscale_weights(path)
        else:
            model = load_blended_weights(str(name), realism=realism, denoise=denoise)
        return cls(model, copy_model=False, **settings)  # type: ignore[arg-type]

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **settings: object) -> Upscaler:
        """Load any SR model file: a gansuite `.safetensors`, or one spandrel recognises.

        Third-party files (ESRGAN/Real-ESRGAN, SwinIR, HAT, DAT, OmniSR, SPAN, ... as .pth,
        .safetensors or .ckpt) are read without unpickling code and run through this engine
        (tiling, alpha, 16-bit, gray, precision fallback). Unless `tile_overlap` is given, the
        tile overlap is the model's effective receptive radius, probed once per file and cached
        (`gansuite.tasks.upscale.receptive_field`).

        Args:
            path: the model file.
            **settings: `Upscaler` keyword arguments.

        Raises:
            CheckpointError: a missing, unsafe or unrecognised file, or not an RGB SR model.
            NotAvailableError: a third-party file without the optional spandrel package.
            ConfigError: an unknown setting name, or a bad setting value (see `Upscaler`).
        """
        from gansuite.metrics.perceptual import resolve_device
        from gansuite.tasks.upscale.model_files import load_model_file

        check_setting_names(settings, LOADER_SETTINGS, "Upscaler.from_file", note=_OWN_MODEL)
        overlap = check_tile_overlap(settings.get("tile_overlap"))  # before the file is read and probed
        check_outscale(settings.get("outscale"))
        probe_device = resolve_device(settings.get("device", "auto"))  # type: ignore[arg-type]
        model = load_model_file(path, probe_device=probe_device, receptive_radius=overlap)
        return cls(model, copy_model=False, **settings)  # type: ignore[arg-type]

    def _resolve_precision(
        self, precision: str, model: object = None, *, device: torch.device | None = None
    ) -> torch.dtype:
        return resolve_precision(precision, model, self.device if device is None else device)

    # ------------------------------------------------------------------ the pipeline
    def __call__(self, image: np.ndarray | torch.Tensor | LoadedImage, *, on_tile=None) -> UpscaleResult:
        """Upscale one image.

        Args:
            image: a numpy array as OpenCV reads it (uint8/uint16; gray, BGR or BGRA), a
                `LoadedImage`, or a tensor (3, H, W) / (1, 3, H, W) float RGB in [0, 1] (values
                within 0.5/255 outside are clamped).
            on_tile: optional progress callback `(done, total)`.

        Returns:
            An `UpscaleResult`; `encode_array(result.image...)` or `to_array(result)` gives back
            the input's kind. Gray content (R = G = B everywhere) comes back with equal channels;
            the colour under fully transparent pixels is bled from their visible neighbours
            first, so edges get no dark fringe (`gansuite.io.content`).

        Raises:
            ConfigError: a tensor that holds more than one image, is not (3, H, W) /
                (1, 3, H, W) or not floating point (the message names the dtype seen) or has
                values outside [0, 1] by more than 0.5/255 (0..255 images must be divided by
                255), or an input of another type.
            InputImageError: a numpy array of an unsupported dtype or shape, or of more than
                `gansuite.io.image.DEFAULT_MAX_PIXELS` pixels.
        """
        started = time.perf_counter()
        loaded = as_loaded_image(image)
        stats = {"tiles": 0, "fallback": 0}
        gray = has_equal_channels(loaded.color)
        # hidden colour under transparent pixels (often black) would bleed into the edges as a fringe
        source = loaded.color if loaded.alpha is None else bleed_transparent_colour(loaded.color, loaded.alpha)
        color = torch.from_numpy(source).permute(2, 0, 1).unsqueeze(0)
        out_color, tile = self._upscale(color, stats, on_tile)
        if gray:  # gray content stays gray: average away the colour network's tint
            out_color.copy_(out_color.mean(dim=1, keepdim=True).expand_as(out_color))
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

    def upscale_tensor(self, images: torch.Tensor, *, on_tile=None) -> torch.Tensor:
        """Upscale a batch of images held as a tensor, tiled and batched (for vision pipelines).

        Like calling a spandrel descriptor, but with this engine's tiling, float32 fallback
        and out-of-memory retry. Each tile of the batch is one forward pass; the batch and the
        result stay on the input's device, only tiles visit `self.device`.

        Args:
            images: (N, C, H, W) float in [0, 1] (values within 0.5/255 outside are clamped) on
                any device; C = 3 (RGB), 1 (gray: the model sees it replicated to RGB, the
                output is the mean of its channels) or 4 (RGBA: the alpha channel is upscaled on
                its own, as gray).
            on_tile: optional progress callback `(done, total)`.

        Returns:
            (N, C, round(H·s), round(W·s)) in [0, 1], s = `outscale` or the model's scale, with
            the input's dtype and device.

        Raises:
            ConfigError: not a 4-D floating-point tensor with C in {1, 3, 4} and H, W >= 1 (the
                message names the shape and dtype seen, and for uint8/uint16 how to convert), or
                values outside [0, 1] by more than 0.5/255 (0..255 images must be divided by 255).
        """
        if (
            not isinstance(images, torch.Tensor)
            or images.dim() != 4
            or not images.is_floating_point()
            or images.shape[1] not in (1, 3, 4)
            or images.shape[0] == 0
            or min(images.shape[-2:]) == 0
        ):
            if isinstance(images, torch.Tensor):
                got = f"{tuple(images.shape)} {images.dtype}{dtype_advice(images.dtype, 'images')}"
            else:
                got = f"{type(images).__name__}; give a torch tensor (torch.from_numpy for an array)"
            raise ConfigError(f"upscale_tensor expects (N, 1|3|4, H, W) float in [0, 1] ({FLOAT_DTYPES}), got {got}")
        check_unit_range(images, "upscale_tensor: images")
        return self._upscale_batch(images, on_tile)

    def _upscale_batch(self, images: torch.Tensor, on_tile=None) -> torch.Tensor:
        """`upscale_tensor` on a batch already checked (layout and [0, 1] range)."""
        stats = {"tiles": 0, "fallback": 0}
        x = images.detach().float().clamp(0, 1)
        channels = x.shape[1]
        color = x.expand(-1, 3, -1, -1) if channels == 1 else x[:, :3]
        out = self._upscale(color.contiguous(), stats, on_tile)[0]
        if channels == 1:
            out = out.mean(dim=1, keepdim=True)
        elif channels == 4:
            alpha = self._upscale(x[:, 3:].expand(-1, 3, -1, -1).contiguous(), stats, None)[0]
            out = torch.cat([out, alpha.mean(dim=1, keepdim=True)], dim=1)
        return out.to(images.dtype)

    def upscale_frames(self, frames: Iterable[np.ndarray], *, batch_size: int = 1) -> Iterator[np.ndarray]:
        """Upscale a stream of frames (a video) in batches; each result is yielded once its batch is done.

        Memory holds one batch in and one out, whatever the length of `frames`; the frames are
        run through `upscale_tensor` (tiling, precision, float32 fallback as for images).
        `gansuite.tasks.upscale.video.upscale_video` wraps this with decoding and encoding.

        Args:
            frames: `(H, W, 3)` RGB or `(H, W, 1)` gray frames, float in [0, 1], all one size.
            batch_size: frames per forward pass (>= 1); more helps on a GPU, not on a CPU.

        Returns:
            An iterator of `(round(H·s), round(W·s), C) float32 in [0, 1]` frames, in order.

        Raises:
            ConfigError: while iterating: a bad `batch_size`, a frame that is not (H, W, 1|3)
                float with H, W >= 1 or has values outside [0, 1] by more than 0.5/255, or a frame
                of another size than the first (whichever batch it falls in).
        """
        for batch in frame_batches(frames, batch_size):
            yield from self._upscale_frame_batch(batch)

    def _upscale_frame_batch(self, batch: list[np.ndarray]) -> Iterator[np.ndarray]:
        stacked = torch.from_numpy(np.stack(batch).astype(np.float32, copy=False)).permute(0, 3, 1, 2)
        out = self._upscale_batch(stacked).permute(0, 2, 3, 1).numpy()  # frame_batches checked each frame
        for frame in out:
            yield np.ascontiguousarray(frame)

    def to_array(self, result: UpscaleResult) -> np.ndarray:
        """The result as OpenCV would write it: uint8 or uint16 (the source's bit depth), (H, W) gray,
        (H, W, 3) BGR, or (H, W, 4) BGRA when there is alpha (gray + alpha included)."""
        image = result.image
        return encode_array(image.color, image.alpha, bit_depth=image.bit_depth, grayscale=image.grayscale)

    def _auto_tile(self, height: int, width: int, images: int = 1) -> int:
        """The tile core side for `images` images of height x width (see `auto_tile_size`)."""
        band = 2 * (self.tile_overlap + self.tile_feather)  # what tiled_apply adds around each core
        return auto_tile_size(self.model, self.device, self.scale, band, height, width, images)

    def _upscale(self, image: torch.Tensor, stats: dict[str, int], on_tile) -> tuple[torch.Tensor, int]:
        """(N, 3, H, W) float32 tensor → (N, 3, H', W') float32 in [0, 1] where `image` is."""
        height, width = image.shape[-2:]
        tile = self._auto_tile(height, width, image.shape[0]) if self.tile == "auto" else int(self.tile)
        out, tile = tiled_with_retry(
            lambda t: run_model_tile(self.model, t, self.device, self.dtype, stats), image, scale=self.scale,
            tile=tile, retry=self.tile == "auto", overlap=self.tile_overlap, feather=self.tile_feather,
            device=self.device, on_tile=on_tile,
        )
        if 0 < tile < max(height, width) and self.tile_overlap < self.receptive_radius:
            warnings.warn(TileSeamWarning(
                f"`tile_overlap` {self.tile_overlap} is below this model's receptive radius ({self.receptive_radius} "
                f"px): the {tile}-px tiles it was cut into may show seams; leave `tile_overlap` unset (the radius) "
                "or raise it"
            ), stacklevel=3)
        if self.outscale is not None and self.outscale != self.scale:
            size = (round(height * self.outscale), round(width * self.outscale))
            out = imresize(out, size=size).clamp_(0, 1)
        return out, tile
