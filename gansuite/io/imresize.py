"""MATLAB-compatible bicubic ``imresize`` for torch tensors and numpy arrays.

The super-resolution literature makes its low-resolution inputs and its bicubic baselines with
MATLAB's ``imresize(image, scale, 'bicubic')`` (Dong et al., SRCNN, ECCV 2014; Lim et al., EDSR,
CVPRW 2017; Wang et al., ESRGAN, ECCVW 2018). Reproducing published numbers needs the same
resampler, which differs from OpenCV's and PyTorch's bicubic interpolation in three ways:

* the cubic convolution kernel of Keys (1981) with a = -0.5;
* antialiasing on downscale: the kernel is stretched by ``1 / scale`` (and scaled by ``scale``),
  so a x4 downscale averages over 16 input pixels instead of 4;
* taps that fall outside the image are clamped to the end samples (MATLAB's imresize.m:
  "Clamp out-of-range indices; has the effect of replicating end-points"), and the weights of
  each output pixel are normalised to sum to one.

As in MATLAB, the image is resized along the dimension with the smaller scale first. For uint8
arrays MATLAB rounds (half away from zero) and saturates the intermediate result to uint8 after
each dimension; the numpy path does the same and reproduces the MATLAB-made low-resolution
images of Set5 and Set14 (x2, x4) bit for bit.
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache

import numpy as np
import torch

from gansuite.errors import ConfigError, InputImageError

__all__ = ["imresize", "imresize_array", "resize_weights"]

_KERNEL_WIDTH = 4.0  # support of the cubic kernel, in input pixels, before antialiasing


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5, as in MATLAB's imresize."""
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


@lru_cache(maxsize=64)
def _weights_cached(in_length: int, out_length: int, scale: float, antialiasing: bool) -> np.ndarray:
    if scale < 1 and antialiasing:
        kernel_width = _KERNEL_WIDTH / scale

        def kernel(x: np.ndarray) -> np.ndarray:
            return scale * _cubic(scale * x)
    else:
        kernel_width = _KERNEL_WIDTH
        kernel = _cubic
    # 1-based output coordinates mapped into input space (MATLAB's `contributions`).
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = math.ceil(kernel_width) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # 1-based
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)
    # Clamp out-of-range taps to the end samples, as MATLAB's imresize.m does ("has the effect of
    # replicating end-points"); mirroring them instead (as some Python ports do) misses MATLAB's
    # LR images at the borders by up to 11 grey levels.
    columns = np.clip(indices.astype(np.int64) - 1, 0, in_length - 1)
    matrix = np.zeros((out_length, in_length), dtype=np.float64)
    rows = np.broadcast_to(np.arange(out_length)[:, None], columns.shape)
    np.add.at(matrix, (rows, columns), weights)
    matrix.setflags(write=False)
    return matrix


def resize_weights(in_length: int, out_length: int, scale: float, antialiasing: bool = True) -> np.ndarray:
    """The (out_length, in_length) float64 matrix that resizes one dimension as MATLAB does.

    Row ``i`` holds the normalised cubic weights (Keys 1981, a = -0.5) of output sample ``i``
    over the input samples, with the out-of-range taps clamped to the end samples (MATLAB's
    replication of end-points). Resizing a dimension is a product with this matrix.

    Args:
        in_length: number of input samples along the dimension.
        out_length: number of output samples.
        scale: the scale factor of this dimension (output / input); it sets the kernel and the
            sampling positions, as MATLAB's ``Scale`` does.
        antialiasing: stretch the kernel by ``1 / scale`` when downscaling (MATLAB's default).

    Returns:
        A read-only float64 array of shape (out_length, in_length); each row sums to one.
    """
    return _weights_cached(int(in_length), int(out_length), float(scale), bool(antialiasing))


def _plan(
    in_size: tuple[int, int],
    scale: float | tuple[float, float] | None,
    size: tuple[int, int] | None,
) -> tuple[tuple[float, float], tuple[int, int]]:
    """Per-dimension (scale, output length) for (H, W), following MATLAB's rules."""
    if scale is None and size is None:
        raise ConfigError("imresize needs a scale factor or an output size (H, W); got neither")
    scales: tuple[float, ...] | None = None
    if scale is not None:
        scales = (float(scale),) * 2 if isinstance(scale, numbers.Real) else tuple(float(v) for v in scale)
        if len(scales) != 2 or min(scales) <= 0:
            raise ConfigError(f"imresize scale must be a positive number or a pair (sy, sx); got {scale!r}")
    if size is not None and (len(size) != 2 or min(size) <= 0):
        raise ConfigError(f"imresize size must be a pair of positive ints (H, W); got {size!r}")
    if size is None:
        assert scales is not None  # one of the two is given, checked above
        out = (math.ceil(in_size[0] * scales[0]), math.ceil(in_size[1] * scales[1]))
    else:
        out = (int(size[0]), int(size[1]))
    if scales is None:
        scales = (out[0] / in_size[0], out[1] / in_size[1])
    return (scales[0], scales[1]), out


def _order(scales: tuple[float, float]) -> tuple[int, int]:
    """MATLAB resizes along the dimension with the smaller scale first (stable for ties)."""
    return (0, 1) if scales[0] <= scales[1] else (1, 0)


def imresize(
    images: torch.Tensor,
    *,
    scale: float | tuple[float, float] | None = None,
    size: tuple[int, int] | None = None,
    antialiasing: bool = True,
) -> torch.Tensor:
    """Resize a batch with MATLAB's bicubic ``imresize`` (Keys 1981 cubic, a = -0.5), on the tensor's device.

    Args:
        images: (N, C, H, W) floating tensor (any leading dimensions are allowed; the last two
            are resized), any range; the values are not clipped.
        scale: a factor for both dimensions or a pair (sy, sx); with no `size` the output has
            ``ceil(H * sy), ceil(W * sx)`` samples.
        size: output (H, W); with no `scale` the per-dimension factor is ``size / input``.
            With both, `scale` sets the kernel and `size` the output, as MATLAB allows.
        antialiasing: stretch the kernel on downscale (MATLAB's default, True).

    Returns:
        The resized tensor, same dtype and device, shape (..., H', W').

    Raises:
        ConfigError: the tensor is not floating point or has fewer than two dimensions, or
            neither/an invalid `scale` or `size` is given.
    """
    if not torch.is_tensor(images) or not images.is_floating_point() or images.dim() < 2:
        kind = f"{images.dtype} tensor of shape {tuple(images.shape)}" if torch.is_tensor(images) else type(images)
        raise ConfigError(
            f"imresize expects a floating (N, C, H, W) tensor; got {kind}: convert with .float() "
            "or use imresize_array for numpy images"
        )
    scales, out = _plan((images.shape[-2], images.shape[-1]), scale, size)
    result = images
    for dim in _order(scales):
        in_length = result.shape[-2 + dim]
        matrix = torch.from_numpy(np.array(resize_weights(in_length, out[dim], scales[dim], antialiasing)))
        matrix = matrix.to(device=images.device, dtype=images.dtype)
        if dim == 0:
            result = torch.einsum("oh,...hw->...ow", matrix, result)
        else:
            result = torch.einsum("ow,...hw->...ho", matrix, result)
    return result


def imresize_array(
    image: np.ndarray,
    *,
    scale: float | tuple[float, float] | None = None,
    size: tuple[int, int] | None = None,
    antialiasing: bool = True,
) -> np.ndarray:
    """Resize one (H, W) or (H, W, C) image with MATLAB's bicubic ``imresize``.

    uint8 images are computed in float64 and rounded and clipped to 0..255 after each
    dimension, as MATLAB does, and come back as uint8. Floating images come back in their
    dtype, unclipped.

    Args:
        image: (H, W) or (H, W, C) uint8 or floating array.
        scale: a factor for both dimensions or a pair (sy, sx); see `imresize`.
        size: output (H, W); see `imresize`.
        antialiasing: stretch the kernel on downscale (MATLAB's default, True).

    Returns:
        The resized array, (H', W') or (H', W', C), same dtype as `image`.

    Raises:
        InputImageError: the array is not 2-D or 3-D, or not uint8 or floating.
        ConfigError: neither/an invalid `scale` or `size` is given.
    """
    if image.ndim not in (2, 3) or not (image.dtype == np.uint8 or np.issubdtype(image.dtype, np.floating)):
        raise InputImageError(
            f"imresize_array expects an (H, W) or (H, W, C) uint8 or float array; got {image.dtype} "
            f"of shape {image.shape}: convert 16-bit images to float first"
        )
    scales, out = _plan((image.shape[0], image.shape[1]), scale, size)
    is_uint8 = image.dtype == np.uint8
    result = image.astype(np.float64)
    for dim in _order(scales):
        matrix = resize_weights(result.shape[dim], out[dim], scales[dim], antialiasing)
        result = np.moveaxis(np.tensordot(matrix, result, axes=([1], [dim])), 0, dim)
        if is_uint8:  # MATLAB's uint8 rounds half away from zero, numpy's round to even
            result = np.clip(np.floor(result + 0.5), 0, 255)
    return result.astype(np.uint8) if is_uint8 else result.astype(image.dtype)
