"""Super-resolution benchmark with the papers' protocol: PSNR-Y, SSIM-Y and LPIPS on Set5/Set14-style sets.

The protocol of SRCNN (Dong et al., ECCV 2014), EDSR (Lim et al., CVPRW 2017) and ESRGAN
(Wang et al., ECCVW 2018):

1. each HR image is cropped (bottom/right) to a multiple of the scale;
2. its LR input is MATLAB's ``imresize(hr, 1/scale, 'bicubic')`` (`gansuite.io.imresize`,
   bit-exact on Set5/Set14), unless a folder of LR images is given;
3. the method upscales the whole LR image; the output is quantised to 8 bit;
4. PSNR and SSIM are computed on the BT.601 Y channel of MATLAB's ``rgb2ycbcr`` with ``scale``
   pixels cropped from each border, data range 255, SSIM with an 11x11 Gaussian window
   (sigma 1.5); LPIPS (Zhang et al. 2018, v0.1, AlexNet) on the full RGB images. A gray HR
   image (Set14's bridge.png) is fed to the methods replicated to RGB but scored on its own gray
   values, as the MATLAB evaluation scripts behind the published tables do (they convert to Y
   only three-channel images); scoring it on Y instead adds 0.09 dB to Set14 x4;
5. scores are averaged over the images of each set.

Methods are "bicubic" (MATLAB bicubic upsampling of the LR image), any model file the
``spandrel`` package can load (optional dependency), or whatever a resolver registered with
`register_method_resolver` accepts: that is how gansuite's own upscale head plugs in its shipped
models and checkpoints.

This module runs the benchmark (image loading, scoring, the manifest) and re-exports its parts:
the methods and their resolvers live in `gansuite.bench._sr_methods`, the result rows and the
report in `gansuite.bench._sr_report`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gansuite.bench._sr_degradation import DEGRADATIONS, REAL_DEGRADATION, real_degradation
from gansuite.bench._sr_methods import BicubicMethod, MethodResolver, SRMethod, register_method_resolver, resolve_method
from gansuite.bench._sr_report import ImageScore, SRBenchmarkReport, SRBenchmarkResult
from gansuite.bench.manifest import build_manifest
from gansuite.errors import ConfigError, GansuiteError, InputImageError
from gansuite.io.image import read_image, write_image
from gansuite.io.imresize import imresize_array
from gansuite.metrics import LPIPSMetric, jpeg_grid_strength, psnr, quantize_8bit, resolve_device, ssim
from gansuite.metrics.video import PSNR_CEILING

__all__ = [
    "IMAGE_EXTENSIONS",
    "BicubicMethod",
    "ImageScore",
    "MethodResolver",
    "SRBenchmarkReport",
    "SRBenchmarkResult",
    "SRMethod",
    "parse_named_paths",
    "register_method_resolver",
    "resolve_method",
    "run_sr_benchmark",
]

IMAGE_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".ppm", ".pgm")


def parse_named_paths(values: Sequence[str], option: str) -> dict[str, Path]:
    """Parse repeated ``NAME=PATH`` option values (``--dataset Set5=DIR``) into a dict.

    Args:
        values: the raw option values.
        option: the flag, for messages (e.g. "--dataset").

    Returns:
        NAME → Path, in the given order.

    Raises:
        ConfigError: a value without "=", an empty name or path, or a repeated name.
    """
    parsed: dict[str, Path] = {}
    for value in values:
        name, sep, path = (part.strip() for part in value.partition("="))
        if not sep or not name or not path:
            raise ConfigError(f"{option} {value!r}: expected NAME=PATH, e.g. {option} Set5=datasets/Set5/HR")
        if name in parsed:
            raise ConfigError(f"{option}: the name {name!r} is given twice; give each name once")
        parsed[name] = Path(path).expanduser()
    return parsed


def _list_images(folder: Path, what: str) -> list[Path]:
    if not folder.is_dir():
        raise InputImageError(f"{what} {folder}: not a folder; give a folder of images")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise InputImageError(f"{what} {folder}: holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


_SSIM_WINDOW = 11  # the protocol's 11x11 Gaussian window needs at least this many scored pixels a side


def _check_inputs(
    datasets: Mapping[str, str | os.PathLike[str]], lr_dirs: Mapping[str, Path], scale: int, crop: int
) -> None:
    """Refuse, before any method runs, what would otherwise stop the run after some images were scored:

    an HR image too small to score (cropped to a multiple of `scale` and of its `crop`-pixel border,
    it must still hold the SSIM window), an image that is not 8-bit, and with an LR
    folder, an HR image without its LR image or with one of the wrong size. Every image is decoded
    once here and again when it is scored.
    """
    for dataset, hr_dir in datasets.items():
        flag = f"--dataset {dataset}"
        lr_dir = lr_dirs.get(dataset)
        for path in _list_images(Path(hr_dir), flag):
            high, _ = _read_rgb8(path, flag)
            _check_scorable(flag, path, high.shape[0], high.shape[1], scale, crop, hr_dir)
            if lr_dir is not None:
                low, _ = _read_rgb8(_find_low_res(lr_dir, path.stem, scale), f"--lr-dir {lr_dir}")
                _check_low_res_size(lr_dir, path, low.shape[:2], high.shape[:2], scale)


def _check_scorable(
    flag: str, path: Path, height: int, width: int, scale: int, crop: int, hr_dir: str | os.PathLike[str]
) -> None:
    side = min(height - height % scale, width - width % scale) - 2 * crop
    if side < _SSIM_WINDOW:
        raise InputImageError(
            f"{flag}: {path.name} is {width}x{height}, too small to score at x{scale}: after the {crop}-pixel "
            f"border crop {max(side, 0)} pixels a side are left, under the {_SSIM_WINDOW}x{_SSIM_WINDOW} SSIM "
            f"window; remove it from {hr_dir}"
        )


def _check_low_res_size(
    lr_dir: Path, hr_path: Path, low_shape: tuple[int, ...], high_shape: tuple[int, ...], scale: int
) -> None:
    """The LR image must be the HR image cropped to a multiple of `scale`, divided by `scale`."""
    cropped = (high_shape[0] - high_shape[0] % scale, high_shape[1] - high_shape[1] % scale)
    if (low_shape[0] * scale, low_shape[1] * scale) != cropped:
        raise InputImageError(
            f"--lr-dir {lr_dir}: LR image of {hr_path.name} is {low_shape[1]}x{low_shape[0]}, but the HR image "
            f"cropped to a multiple of {scale} is {cropped[1]}x{cropped[0]}, which needs "
            f"{cropped[1] // scale}x{cropped[0] // scale}; wrong scale folder or --scale?"
        )


def _read_rgb8(path: Path, flag: str) -> tuple[np.ndarray, bool]:
    """(H, W, 3) uint8 RGB (gray replicated to 3 channels, alpha ignored) and whether it was gray."""
    image = read_image(path)
    if image.bit_depth != 8:
        raise InputImageError(
            f"{flag}: {path} is a {image.bit_depth}-bit image; the SR protocol scores 8-bit images (PSNR range "
            "255): convert it to 8 bit"
        )
    return np.rint(image.color * 255.0).astype(np.uint8), image.grayscale


def _scored_planes(sr: torch.Tensor, hr: torch.Tensor, hr_is_gray: bool, gray_on_y: bool) -> tuple[Any, ...]:
    """(prediction, target, channel) for PSNR/SSIM: Y of RGB, or the gray plane of a gray HR image.

    MATLAB evaluation scripts convert to Y only when the image has three channels, so a gray HR
    image (Set14's bridge) is scored on its own values; the SR output is reduced to its BT.601
    luma (0.299 R + 0.587 G + 0.114 B, exact when the channels are equal).
    """
    if not hr_is_gray or gray_on_y:
        return sr, hr, "y"
    luma = sr.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (sr * luma).sum(dim=1, keepdim=True), hr[:, :1], "rgb"


def _find_low_res(folder: Path, stem: str, scale: int) -> Path:
    """The LR file of HR image `stem`: ``{stem}x{scale}.*`` (Set5/Set14 naming) or ``{stem}.*``."""
    for name in (f"{stem}x{scale}", stem):
        for ext in IMAGE_EXTENSIONS:
            if (folder / f"{name}{ext}").is_file():
                return folder / f"{name}{ext}"
    raise InputImageError(
        f"--lr-dir {folder}: no LR image for {stem!r}; expected {stem}x{scale}.png or {stem}.png (any image extension)"
    )


def _to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 → (1, 3, H, W) float32 in [0, 1] on `device`."""
    return torch.from_numpy(image.transpose(2, 0, 1).copy()).to(device).float().div_(255.0)[None]


@dataclass(frozen=True)
class _ImagePair:
    """One test image: HR cropped to a multiple of the scale and its LR input, (1, 3, H, W) in [0, 1]."""

    path: Path
    high_res: torch.Tensor
    low_res: torch.Tensor
    grayscale: bool


def _load_pair(
    hr_path: Path, scale: int, lr_dir: Path | None, device: torch.device, degradation: str, seed: int
) -> _ImagePair:
    """Read one HR image and make or read its LR input (`_check_inputs` has vetted both)."""
    high, grayscale = _read_rgb8(hr_path, "--dataset")
    if lr_dir is not None:
        low, _ = _read_rgb8(_find_low_res(lr_dir, hr_path.stem, scale), f"--lr-dir {lr_dir}")
        _check_low_res_size(lr_dir, hr_path, low.shape[:2], high.shape[:2], scale)
    high = high[: high.shape[0] - high.shape[0] % scale, : high.shape[1] - high.shape[1] % scale]
    if lr_dir is None and degradation == "real":
        low = real_degradation(high, scale, seed=seed, name=hr_path.name)
    elif lr_dir is None:
        low = imresize_array(high, scale=1.0 / scale)
    return _ImagePair(hr_path, _to_tensor(high, device), _to_tensor(low, device), grayscale)


def _timed(method: SRMethod, low_res: torch.Tensor) -> tuple[torch.Tensor, float]:
    if low_res.device.type == "cuda":
        torch.cuda.synchronize(low_res.device)
    start = time.perf_counter()
    with torch.inference_mode():
        output = method(low_res)
    if low_res.device.type == "cuda":
        torch.cuda.synchronize(low_res.device)
    return output, time.perf_counter() - start


def _protocol(
    scale: int, crop_border: int, lpips_metric: LPIPSMetric | None, low_res: dict[str, str], gray_on_y: bool,
    degradation: str = "bicubic",
) -> dict[str, Any]:
    lpips_text = "LPIPS skipped" if lpips_metric is None else "LPIPS v0.1 alex on full RGB images"
    gray_text = "gray HR images on Y of replicated RGB" if gray_on_y else "gray HR images on their gray values"
    read = sorted(name for name, origin in low_res.items() if origin.startswith("read"))
    lr_text = f"LR read from folders for {', '.join(read)}, else" if read else "LR by"
    made_text = (
        "blur sigma U(0.8, 1.6), MATLAB bicubic downscale, Poisson + Gaussian noise and JPEG q60 of HR (seeded)"
        if degradation == "real" else "MATLAB bicubic imresize of HR"
    )
    return {
        "summary": (
            f"x{scale}; PSNR/SSIM on Y (BT.601, MATLAB rgb2ycbcr) of 8-bit images ({gray_text}), "
            f"{crop_border}-pixel border crop, range 255, each image's PSNR capped at {PSNR_CEILING:g} dB, "
            f"SSIM 11x11 Gaussian sigma 1.5; {lpips_text}; "
            f"{lr_text} {made_text}; JPEG-grid strength on the output's Y (1.0 = no grid); "
            "s/MP = model seconds per output megapixel."
        ),
        "scale": scale,
        "hr_crop": "HR cropped bottom/right to a multiple of the scale",
        "low_res": low_res,
        "degradation": REAL_DEGRADATION if degradation == "real" else "bicubic",
        "jpeg_grid": "mean |dY| across the (8 x scale)-pixel cell boundaries / mean |dY| across the other "
        "scale-phase boundaries, rows and columns pooled (gansuite.metrics.jpeg_grid_strength)",
        "resize": "MATLAB imresize bicubic: cubic kernel a=-0.5, antialiased on downscale, end samples replicated",
        "quantization": "SR output rounded half away from zero and clipped to 0..255 before scoring",
        "channel": "Y = 16 + 65.481 R + 128.553 G + 24.966 B (R, G, B in [0, 1]; MATLAB rgb2ycbcr)",
        "gray_images": "Y of the gray replicated to RGB"
        if gray_on_y
        else "scored on their gray values against the BT.601 luma of the output (MATLAB scripts skip rgb2ycbcr)",
        "crop_border": crop_border,
        "data_range": 255,
        "psnr_ceiling": f"each image's PSNR capped at {PSNR_CEILING:g} dB: an exact output (MSE 0) would make the "
        "set's mean infinite",
        "ssim": {"window": "11x11 Gaussian", "sigma": 1.5, "k1": 0.01, "k2": 0.03, "filtering": "valid"},
        "lpips": None
        if lpips_metric is None
        else {"net": "alex", "version": "0.1", "backbone": lpips_metric.backbone_source, "input": "RGB, no crop"},
    }


def _score(
    method: SRMethod, pair: _ImagePair, crop: int, lpips_metric: LPIPSMetric | None, gray_on_y: bool
) -> tuple[ImageScore, torch.Tensor]:
    """Run `method` on one LR image and score its 8-bit output; returns the score and the output."""
    output, seconds = _timed(method, pair.low_res)
    if output.shape != pair.high_res.shape:
        raise GansuiteError(
            f"method {method.name} turned a {tuple(pair.low_res.shape)} input into {tuple(output.shape)}; "
            f"expected {tuple(pair.high_res.shape)} (RGB, x{method.scale})"
        )
    sr = quantize_8bit(output.float()) / 255.0
    pred, true, channel = _scored_planes(sr, pair.high_res, pair.grayscale, gray_on_y)
    grid = float(jpeg_grid_strength(sr, method.scale)[0]) if min(sr.shape[-2:]) > 8 * method.scale else None
    score = ImageScore(
        image=pair.path.name,
        psnr_y=float(psnr(pred, true, channel=channel, crop_border=crop)[0].clamp(max=PSNR_CEILING)),
        ssim_y=float(ssim(pred, true, channel=channel, crop_border=crop)[0]),
        lpips_alex=None if lpips_metric is None else float(lpips_metric(sr, pair.high_res)[0]),
        seconds=seconds,
        jpeg_grid=grid,
        megapixels=sr.shape[-1] * sr.shape[-2] / 1e6,
    )
    return score, sr


def run_sr_benchmark(
    methods: Sequence[str | SRMethod],
    datasets: Mapping[str, str | os.PathLike[str]],
    *,
    scale: int = 4,
    lr_dirs: Mapping[str, str | os.PathLike[str]] | None = None,
    device: str | torch.device = "auto",
    save_images: str | os.PathLike[str] | None = None,
    crop_border: int | None = None,
    backbones: str | os.PathLike[str] | None = None,
    compute_lpips: bool = True,
    gray_on_y: bool = False,
    degradation: str = "bicubic",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> SRBenchmarkReport:
    """Score SR methods on HR image folders with the papers' protocol.

    Args:
        methods: ``--method`` values ("bicubic", a gansuite model name or checkpoint a resolver
            accepts, a spandrel-loadable model file) or `SRMethod` objects.
        datasets: dataset name → folder of HR images.
        scale: the upscaling factor (2, 3, 4, ...).
        lr_dirs: dataset name → folder of ready-made LR images (``{stem}x{scale}.png`` or
            ``{stem}.png``); datasets not named get LR images made by MATLAB-compatible imresize.
        device: "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
        save_images: folder to write the SR outputs to, as ``DIR/{dataset}/{method}/{stem}.png``.
        crop_border: border pixels excluded from PSNR/SSIM; None uses `scale` (the protocol).
        backbones: AlexNet weights for LPIPS (file or folder); None uses ``GANSUITE_BACKBONES``
            or torchvision.
        compute_lpips: False skips LPIPS (its column is then None).
        gray_on_y: score gray HR images on the Y of their replicated RGB instead of on their
            own gray values. The published Set14 figures score bridge.png on its gray values
            (False); True raises Set14's bicubic x4 PSNR-Y from 26.00 to 26.09 dB.
        degradation: how LR inputs are made from HR images (datasets without an LR folder):
            "bicubic" (the papers' protocol) or "real" (the fixed blur + noise + JPEG q60 draw of
            `gansuite.bench._sr_degradation`, its parameters in the manifest).
        seed: torch seed set before the run, and the seed of the "real" degradation; recorded.
        progress: called with a short line after each image (e.g. ``click.echo``).

    Returns:
        The report: one `SRBenchmarkResult` per (method, dataset), methods in the given order.

    Raises:
        ConfigError: bad scale, names, device, or a method of another scale.
        InputImageError: a missing/empty folder, unreadable image, missing or mis-sized LR image.
        CheckpointError, NotAvailableError: a model file cannot be loaded.
        BackboneNotFoundError: LPIPS's AlexNet cannot be found.
        GansuiteError: a method returned an output of the wrong shape; `save_images` cannot be
            written (an ``OutputError``).
    """
    if not isinstance(scale, int) or scale < 1:
        raise ConfigError(f"--scale must be a positive integer; got {scale!r}")
    if not methods or not datasets:
        raise ConfigError("give at least one --method and one --dataset NAME=HR_DIR")
    lr_dirs = {name: Path(path) for name, path in (lr_dirs or {}).items()}
    unknown = sorted(set(lr_dirs) - set(datasets))
    if unknown:
        raise ConfigError(f"--lr-dir names {unknown}, which are not datasets; datasets are {sorted(datasets)}")
    if degradation not in DEGRADATIONS:
        raise ConfigError(f"--degradation {degradation!r} is not one of {', '.join(DEGRADATIONS)}")
    crop = scale if crop_border is None else crop_border
    _check_inputs(datasets, lr_dirs, scale, crop)
    torch_device = resolve_device(device)
    torch.manual_seed(seed)
    resolved = [resolve_method(spec, scale, torch_device) for spec in methods]
    names = [m.name for m in resolved]
    if len(set(names)) != len(names):
        raise ConfigError(f"--method: two methods share a name ({names}); rename one of the model files")
    lpips_metric = LPIPSMetric(net="alex", backbones=backbones, device=torch_device) if compute_lpips else None
    scores: dict[tuple[str, str], list[ImageScore]] = {}
    warmed: set[str] = set()
    for dataset, hr_dir in datasets.items():
        for hr_path in _list_images(Path(hr_dir), f"--dataset {dataset}"):
            pair = _load_pair(hr_path, scale, lr_dirs.get(dataset), torch_device, degradation, seed)
            for method in resolved:
                if method.name not in warmed:  # the first call pays for kernel selection: not timed
                    _timed(method, pair.low_res)
                    warmed.add(method.name)
                score, sr = _score(method, pair, crop, lpips_metric, gray_on_y)
                scores.setdefault((method.name, dataset), []).append(score)
                if save_images is not None:
                    folder = Path(save_images) / dataset / method.name
                    folder.mkdir(parents=True, exist_ok=True)
                    write_image(folder / f"{hr_path.stem}.png", sr[0].permute(1, 2, 0).cpu().numpy())
                if progress is not None:
                    progress(f"{method.name} {dataset} {hr_path.name}: PSNR-Y {score.psnr_y:.2f} dB")
    results = tuple(
        SRBenchmarkResult.from_scores(method.name, dataset, scale, scores[(method.name, dataset)])
        for method in resolved
        for dataset in datasets
    )
    made = "real-looking degradation of HR (see real_degradation)" if degradation == "real" else "MATLAB imresize of HR"
    low_res = {name: f"read from {lr_dirs[name]}" if name in lr_dirs else made for name in datasets}
    manifest = build_manifest(
        protocol=_protocol(scale, crop, lpips_metric, low_res, gray_on_y, degradation),
        device=torch_device,
        seed=seed,
        model_files={m.name: m.source_file for m in resolved if m.source_file is not None},
        extra={"datasets": {name: str(Path(path).resolve()) for name, path in datasets.items()}},
    )
    return SRBenchmarkReport(manifest=manifest, results=results)
