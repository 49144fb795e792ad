"""PSNR and SSIM with the super-resolution evaluation protocol as options.

The protocol of the SR literature (SRCNN, Dong et al. 2014; EDSR, Lim et al. 2017; ESRGAN,
Wang et al. 2018), made explicit here:

* images are quantised to 8 bit first (round half away from zero, clip to 0..255), as the
  papers score saved PNGs (``quantize=True``);
* ``channel="y"`` scores the BT.601 luma of MATLAB's ``rgb2ycbcr``
  (``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for R, G, B in [0, 1]); ``channel="rgb"``
  scores every channel given (RGB, or the single channel of a grayscale image);
* ``crop_border`` pixels are removed from each side before scoring (the protocol crops
  ``scale`` pixels);
* the data range is the 8-bit one: inputs in [0, 1] are put on the 0..255 scale and the peak
  is 255;
* SSIM is Wang et al. (IEEE TIP 2004): an 11x11 Gaussian window with sigma 1.5, K1 = 0.01,
  K2 = 0.03, population (not sample) statistics, filtered 'valid' as MATLAB's ``ssim_index.m``
  does (no padding; the map is 10 pixels smaller in each dimension), averaged over the map and
  then over the channels.

The torch functions are batched and run on the device of their inputs, in float64 (float32 on
MPS); they return one value per image. The ``*_array`` functions score one numpy image.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from gansuite.core.arguments import check_integer
from gansuite.core.pixel_range import check_unit_range
from gansuite.errors import ConfigError, InputImageError
from gansuite.metrics._color import check_pair, compute_dtype, quantize_8bit, rgb_to_y

__all__ = ["Channel", "psnr", "psnr_array", "ssim", "ssim_array"]

Channel = Literal["y", "rgb"]

PEAK = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _prepare(images: torch.Tensor, *, channel: Channel, crop_border: int, quantize: bool, what: str) -> torch.Tensor:
    """Quantise, convert to the scored channel(s) on the 8-bit scale, crop; float64."""
    if channel not in ("y", "rgb"):
        raise ConfigError(f"{what}: channel must be 'y' or 'rgb'; got {channel!r}")
    crop_border = check_integer(
        crop_border, f"{what}: crop_border", minimum=0, unit="pixels", advice=" (the SR protocol uses the scale)"
    )
    x = images.to(compute_dtype(images.device))
    x = quantize_8bit(x) if quantize else x * PEAK
    if channel == "y":
        if x.shape[1] != 3:
            raise ConfigError(
                f"{what}: channel='y' needs RGB (N, 3, H, W) input; got {x.shape[1]} channel(s): use "
                "channel='rgb' for single-channel images, or replicate gray to 3 channels"
            )
        x = rgb_to_y(x)
    if crop_border:
        x = x[..., crop_border:-crop_border, crop_border:-crop_border]
    if x.shape[-1] < 1 or x.shape[-2] < 1:
        raise ConfigError(f"{what}: crop_border={crop_border} leaves nothing of a {tuple(images.shape[-2:])} image")
    return x


def psnr(
    prediction: torch.Tensor,
    target: torch.Tensor,
    *,
    channel: Channel = "y",
    crop_border: int = 0,
    quantize: bool = True,
) -> torch.Tensor:
    """Peak signal-to-noise ratio per image, ``10 log10(255^2 / MSE)``, with the SR protocol's options.

    The default `channel="y"` gives the PSNR-Y of the SR literature (Dong et al. 2014; Lim et al.
    2017); their protocol also sets `crop_border` to the scale.

    Args:
        prediction: (N, C, H, W) float in [0, 1], RGB (C = 3) or gray (C = 1).
        target: same shape and layout as `prediction`.
        channel: "y" (PSNR-Y: BT.601 luma of MATLAB's rgb2ycbcr; needs RGB) or "rgb" (all channels).
        crop_border: pixels removed from each side before scoring (the SR protocol uses scale).
        quantize: round both images to 8 bit first, as the SR protocol does.

    Returns:
        (N,) float64 (float32 on MPS) in dB, on the inputs' device; ``inf`` for identical images.

    Raises:
        ConfigError: inputs of the wrong layout or different shapes, values outside [0, 1] by
            more than 0.5/255 (`gansuite.core.pixel_range`; 0..255 images must be divided by 255),
            or bad options (an unknown `channel`, a `crop_border` that is not an int >= 0 or that
            leaves no pixel).
    """
    return _psnr(prediction, target, channel=channel, crop_border=crop_border, quantize=quantize, what="psnr")


def _psnr(
    prediction: torch.Tensor, target: torch.Tensor, *, channel: Channel, crop_border: int, quantize: bool, what: str
) -> torch.Tensor:
    """`psnr`, with messages naming `what` (the public function called)."""
    x, y = _prepared_pair(prediction, target, channel=channel, crop_border=crop_border, quantize=quantize, what=what)
    mse = (x - y).pow(2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(PEAK**2 / mse)


def _prepared_pair(
    prediction: torch.Tensor, target: torch.Tensor, *, channel: Channel, crop_border: int, quantize: bool, what: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both images checked as a pair, then cropped, quantised and reduced to `channel` for scoring."""
    check_pair(prediction, target, what)
    x = _prepare(prediction, channel=channel, crop_border=crop_border, quantize=quantize, what=what)
    y = _prepare(target, channel=channel, crop_border=crop_border, quantize=quantize, what=what)
    return x, y


def _gaussian_window(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The normalised 1-D Gaussian of MATLAB's ``fspecial('gaussian', 11, 1.5)`` (separable)."""
    offsets = torch.arange(SSIM_WINDOW, device=device, dtype=dtype) - (SSIM_WINDOW - 1) / 2
    g = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    return g / g.sum()


def _filter_valid(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' filtering of every channel of (N, C, H, W) with the 1-D `window`."""
    c = x.shape[1]
    x = F.conv2d(x, window.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, window.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def ssim(
    prediction: torch.Tensor,
    target: torch.Tensor,
    *,
    channel: Channel = "y",
    crop_border: int = 0,
    quantize: bool = True,
) -> torch.Tensor:
    """Structural similarity per image (Wang et al. 2004), with the SR protocol's options.

    Args:
        prediction: (N, C, H, W) float in [0, 1], RGB (C = 3) or gray (C = 1).
        target: same shape and layout as `prediction`.
        channel: "y" (BT.601 luma of MATLAB's rgb2ycbcr; needs RGB) or "rgb" (mean over all
            channels).
        crop_border: pixels removed from each side before scoring (the SR protocol uses scale).
        quantize: round both images to 8 bit first, as the SR protocol does.

    Returns:
        (N,) float64 (float32 on MPS) in [-1, 1], on the inputs' device.

    Raises:
        ConfigError: inputs of the wrong layout or different shapes, values outside [0, 1] by
            more than 0.5/255 (0..255 images must be divided by 255), bad options, or an image
            smaller than the 11x11 window after cropping.
    """
    return _ssim(prediction, target, channel=channel, crop_border=crop_border, quantize=quantize, what="ssim")


def _ssim(
    prediction: torch.Tensor, target: torch.Tensor, *, channel: Channel, crop_border: int, quantize: bool, what: str
) -> torch.Tensor:
    """`ssim`, with messages naming `what` (the public function called)."""
    x, y = _prepared_pair(prediction, target, channel=channel, crop_border=crop_border, quantize=quantize, what=what)
    if min(x.shape[-2:]) < SSIM_WINDOW:
        raise ConfigError(
            f"{what}: the scored area {tuple(x.shape[-2:])} is smaller than the {SSIM_WINDOW}x{SSIM_WINDOW} "
            "window; use larger images or a smaller crop_border"
        )
    window = _gaussian_window(x.device, x.dtype)
    c1, c2 = (SSIM_K1 * PEAK) ** 2, (SSIM_K2 * PEAK) ** 2
    mu_x, mu_y = _filter_valid(x, window), _filter_valid(y, window)
    var_x = _filter_valid(x * x, window) - mu_x**2
    var_y = _filter_valid(y * y, window) - mu_y**2
    cov = _filter_valid(x * y, window) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim_map.flatten(2).mean(dim=2).mean(dim=1)


def _array_to_tensor(image: np.ndarray, what: str, name: str) -> torch.Tensor:
    """(H, W[, C]) uint8 or float [0, 1] array → (1, C, H, W) float64 tensor in [0, 1].

    Raises:
        InputImageError: not a numpy array, or another layout or dtype.
        ConfigError: float values outside [0, 1] by more than 0.5/255, naming `what` and the argument `name`.
    """
    if not isinstance(image, np.ndarray):
        hint = f"; for (N, C, H, W) tensors use {what.removesuffix('_array')}" if torch.is_tensor(image) else ""
        raise InputImageError(
            f"{what}: {name} must be a numpy array (H, W) or (H, W, 3), got {type(image).__name__}{hint}"
        )
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise InputImageError(f"{what}: expected an (H, W) or (H, W, 3) image; got {name} of shape {image.shape}")
    if image.dtype == np.uint8:
        values = image.astype(np.float64) / 255.0
    elif np.issubdtype(image.dtype, np.floating):
        check_unit_range(image, f"{what}: {name}")
        values = image.astype(np.float64)
    else:
        fix = "convert 16-bit images to float in [0, 1] first (x / 65535)" if image.dtype == np.uint16 else (
            "convert it to uint8, or to float in [0, 1]"
        )
        raise InputImageError(
            f"{what}: expected uint8 or float (in [0, 1]) pixels; got {name} of dtype {image.dtype}: {fix}"
        )
    return torch.from_numpy(np.ascontiguousarray(values.transpose(2, 0, 1)))[None]


def _array_pair(
    prediction: np.ndarray, target: np.ndarray, channel: Channel, what: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both arrays as (1, C, H, W) float64 tensors, with shape and channel errors in the arrays' own terms.

    Raises:
        InputImageError: an array of the wrong type, layout or dtype.
        ConfigError: float values outside [0, 1], different shapes, or gray images with channel="y".
    """
    x, y = _array_to_tensor(prediction, what, "prediction"), _array_to_tensor(target, what, "target")
    if x.shape != y.shape:
        raise ConfigError(
            f"{what}: prediction {prediction.shape} and target {target.shape} differ in shape; crop or resize them to "
            "the same size first"
        )
    if channel == "y" and x.shape[1] != 3:
        raise ConfigError(
            f"{what}: channel='y' needs RGB (H, W, 3) images; got gray ones of shape {prediction.shape}: use "
            "channel='rgb' for gray images"
        )
    return x, y


def psnr_array(
    prediction: np.ndarray,
    target: np.ndarray,
    *,
    channel: Channel = "y",
    crop_border: int = 0,
    quantize: bool = True,
) -> float:
    """`psnr` of one numpy image pair.

    Args:
        prediction: (H, W, 3) RGB or (H, W) gray, uint8 or float in [0, 1].
        target: same shape and layout as `prediction`.
        channel: "y" or "rgb"; see `psnr`.
        crop_border: pixels removed from each side; see `psnr`.
        quantize: round to 8 bit first (a no-op for uint8 inputs).

    Returns:
        PSNR in dB; ``inf`` for identical images.

    Raises:
        InputImageError: not a numpy array, or an array of the wrong layout or dtype.
        ConfigError: different shapes, float values outside [0, 1] by more than 0.5/255 (0..255
            float images must be divided by 255, or given as uint8), or bad options.
    """
    x, y = _array_pair(prediction, target, channel, "psnr_array")
    return float(_psnr(x, y, channel=channel, crop_border=crop_border, quantize=quantize, what="psnr_array")[0])


def ssim_array(
    prediction: np.ndarray,
    target: np.ndarray,
    *,
    channel: Channel = "y",
    crop_border: int = 0,
    quantize: bool = True,
) -> float:
    """`ssim` of one numpy image pair.

    Args:
        prediction: (H, W, 3) RGB or (H, W) gray, uint8 or float in [0, 1].
        target: same shape and layout as `prediction`.
        channel: "y" or "rgb"; see `ssim`.
        crop_border: pixels removed from each side; see `ssim`.
        quantize: round to 8 bit first (a no-op for uint8 inputs).

    Returns:
        SSIM in [-1, 1].

    Raises:
        InputImageError: not a numpy array, or an array of the wrong layout or dtype.
        ConfigError: different shapes, float values outside [0, 1] by more than 0.5/255 (0..255
            float images must be divided by 255, or given as uint8), bad options, or an image
            smaller than the window.
    """
    x, y = _array_pair(prediction, target, channel, "ssim_array")
    return float(_ssim(x, y, channel=channel, crop_border=crop_border, quantize=quantize, what="ssim_array")[0])
