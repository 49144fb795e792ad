"""Real-ESRGAN's second-order degradation model, on batches of torch tensors.

Wang et al., "Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure Synthetic
Data", ICCVW 2021, Sec. 3: a high-resolution crop goes twice through

    blur (isotropic/anisotropic Gaussian, generalized Gaussian, plateau, or a 2-D sinc)
    → random resize (up, down or keep; area, bilinear or bicubic)
    → Gaussian or Poisson noise (colour or gray)
    → JPEG at a random quality,

and then through a final sinc filter and the resize to exactly 1/scale of the crop, with the
JPEG before or after that pair at random. The JPEG step is real JPEG (OpenCV's libjpeg encode and
decode, per image), not a differentiable approximation. Every random draw comes from one numpy
`Generator`, so the same seed gives the same low-resolution batch.

Every parameter is a field of the frozen `RealisticDegradationConfig`, saved with the run.
Defaults are Real-ESRGAN's (its `train_realesrgan_x4plus.yml`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from gansuite.core.filters import gaussian_blur
from gansuite.errors import ConfigError
from gansuite.tasks.upscale.blur_kernels import anisotropic_distance, apply_kernels, sinc_kernel

__all__ = [
    "KERNEL_TYPES",
    "DegradationStage",
    "RealisticDegradationConfig",
    "add_gaussian_noise",
    "add_poisson_noise",
    "apply_kernels",
    "jpeg_compress",
    "random_kernel",
    "realistic_degradation_batch",
    "sinc_kernel",
    "unsharp_mask",
]

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")
_RESIZE_MODES = ("area", "bilinear", "bicubic")


def _check_range(name: str, value: tuple[float, float], low: float = 0.0) -> None:
    if len(value) != 2 or not (low <= value[0] <= value[1]):
        raise ConfigError(f"{name} must be a (low, high) pair with {low} <= low <= high, got {value}")


def _check_probs(name: str, probs: tuple[float, ...], length: int) -> None:
    if len(probs) != length or any(p < 0 for p in probs) or not math.isclose(sum(probs), 1.0, abs_tol=1e-6):
        raise ConfigError(f"{name} must be {length} non-negative probabilities summing to 1, got {probs}")


@dataclass(frozen=True)
class DegradationStage:
    """One blur → resize → noise → JPEG pass.

    Attributes:
        blur_prob: probability of blurring at all.
        kernel_probs: probabilities of the `KERNEL_TYPES`, in that order.
        sinc_prob: probability of a sinc kernel instead (ringing and overshoot artefacts).
        blur_sigma: range of the Gaussian's standard deviation, in pixels of this stage's input.
        betag_range: shape of the generalized Gaussian (β; 2 is Gaussian).
        betap_range: shape of the plateau kernel (β).
        resize_probs: probabilities of up, down and keep.
        resize_range: the factor's range (up draws from (1, high], down from [low, 1)).
        gaussian_noise_prob: probability of Gaussian (else Poisson) noise.
        noise_range: Gaussian σ range, in 8-bit levels.
        poisson_scale_range: Poisson noise scale range.
        gray_noise_prob: probability that the noise is the same in every channel.
        jpeg_range: JPEG quality range (inclusive).
    """

    blur_prob: float = 1.0
    kernel_probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    sinc_prob: float = 0.1
    blur_sigma: tuple[float, float] = (0.2, 3.0)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    resize_probs: tuple[float, float, float] = (0.2, 0.7, 0.1)
    resize_range: tuple[float, float] = (0.15, 1.5)
    gaussian_noise_prob: float = 0.5
    noise_range: tuple[float, float] = (1.0, 30.0)
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_noise_prob: float = 0.4
    jpeg_range: tuple[int, int] = (30, 95)

    def __post_init__(self) -> None:
        for name in ("blur_prob", "sinc_prob", "gaussian_noise_prob", "gray_noise_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        _check_probs("kernel_probs", self.kernel_probs, len(KERNEL_TYPES))
        _check_probs("resize_probs", self.resize_probs, 3)
        for name in ("blur_sigma", "betag_range", "betap_range", "resize_range", "noise_range", "poisson_scale_range"):
            _check_range(name, getattr(self, name))
        if self.resize_range[0] <= 0:
            raise ConfigError(f"resize_range must be positive, got {self.resize_range}")
        if not 1 <= self.jpeg_range[0] <= self.jpeg_range[1] <= 100:
            raise ConfigError(f"jpeg_range must lie in [1, 100], got {self.jpeg_range}")


_SECOND_STAGE = DegradationStage(
    blur_prob=0.8,
    sinc_prob=0.1,
    blur_sigma=(0.2, 1.5),
    resize_probs=(0.3, 0.4, 0.3),
    resize_range=(0.3, 1.2),
    noise_range=(1.0, 25.0),
    poisson_scale_range=(0.05, 2.5),
)


@dataclass(frozen=True)
class RealisticDegradationConfig:
    """Parameters of the whole second-order degradation (Real-ESRGAN's defaults).

    Attributes:
        first, second: the two passes.
        final_sinc_prob: probability of the final sinc filter (else an identity kernel).
        kernel_sizes: odd kernel sizes drawn uniformly, in pixels.
        sharpen_target: unsharp-mask the high-resolution target (Real-ESRGAN's `gt_usm`), so the
            model learns to give slightly crisper output than the camera did.
    """

    first: DegradationStage = DegradationStage()
    second: DegradationStage = _SECOND_STAGE
    final_sinc_prob: float = 0.8
    kernel_sizes: tuple[int, ...] = (7, 9, 11, 13, 15, 17, 19, 21)
    sharpen_target: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.final_sinc_prob <= 1.0:
            raise ConfigError(f"final_sinc_prob must be in [0, 1], got {self.final_sinc_prob}")
        if not self.kernel_sizes or any(k < 3 or k % 2 == 0 for k in self.kernel_sizes):
            raise ConfigError(f"kernel_sizes must be odd and >= 3, got {self.kernel_sizes}")

    def as_dict(self) -> dict:
        """Plain JSON-ready dict of every parameter (saved with the run)."""
        return asdict(self)


def random_kernel(rng: np.random.Generator, stage: DegradationStage, size: int) -> np.ndarray:
    """One blur kernel of `stage`'s kinds (Real-ESRGAN's `random_mixed_kernels`), summing to 1.

    Args:
        rng: the source of randomness.
        stage: the pass whose kernel parameters apply.
        size: odd side length in pixels.

    Returns:
        (size, size) float64 kernel, non-negative except for sinc kernels, summing to 1.
    """
    if rng.random() < stage.sinc_prob:
        cutoff = rng.uniform(np.pi / 3, np.pi) if size < 13 else rng.uniform(np.pi / 5, np.pi)
        return sinc_kernel(size, float(cutoff))
    kind = KERNEL_TYPES[int(rng.choice(len(KERNEL_TYPES), p=np.asarray(stage.kernel_probs)))]
    sigma_x = float(rng.uniform(*stage.blur_sigma))
    if kind.endswith("iso") and not kind.endswith("aniso"):
        sigma_y, theta = sigma_x, 0.0
    else:
        sigma_y, theta = float(rng.uniform(*stage.blur_sigma)), float(rng.uniform(-np.pi, np.pi))
    distance = anisotropic_distance(size, sigma_x, sigma_y, theta)
    if kind.startswith("generalized"):
        beta = float(rng.uniform(*stage.betag_range))
        kernel = np.exp(-0.5 * np.power(distance, beta / 2))
    elif kind.startswith("plateau"):
        beta = float(rng.uniform(*stage.betap_range))
        kernel = 1.0 / (np.power(distance, beta) + 1.0)
    else:
        kernel = np.exp(-0.5 * distance)
    return kernel / kernel.sum()


def add_gaussian_noise(images: torch.Tensor, sigma: torch.Tensor, gray: torch.Tensor, seed: int) -> torch.Tensor:
    """Add zero-mean Gaussian noise (no clamping).

    Args:
        images: (N, C, H, W) float in [0, 1].
        sigma: (N,) standard deviation per image, in the images' units (8-bit σ / 255).
        gray: (N,) bool: the same noise in every channel.
        seed: seed of the noise.

    Returns:
        (N, C, H, W) noisy images.
    """
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(images.shape, generator=generator, dtype=torch.float32).to(images)
    gray_noise = noise[:, :1].expand_as(noise)
    noise = torch.where(gray.view(-1, 1, 1, 1).to(images.device), gray_noise, noise)
    return images + noise * sigma.view(-1, 1, 1, 1).to(images)


def add_poisson_noise(images: torch.Tensor, scale: torch.Tensor, gray: torch.Tensor, seed: int) -> torch.Tensor:
    """Add Poisson (shot) noise as Real-ESRGAN does: photon counts at 8-bit levels, times `scale`.

    Args:
        images: (N, C, H, W) float in [0, 1].
        scale: (N,) noise scale per image.
        gray: (N,) bool: noise drawn on the luma and shared by every channel.
        seed: seed of the noise.

    Returns:
        (N, C, H, W) noisy images.
    """
    generator = torch.Generator().manual_seed(seed)
    clipped = images.detach().float().cpu().clamp(0, 1)
    levels = 255.0
    colour_noise = torch.poisson(clipped * levels, generator=generator) / levels - clipped
    luma = (0.299 * clipped[:, 0:1] + 0.587 * clipped[:, 1:2] + 0.114 * clipped[:, 2:3]) if clipped.shape[1] == 3 \
        else clipped[:, :1]
    gray_noise = (torch.poisson(luma * levels, generator=generator) / levels - luma).expand_as(clipped)
    noise = torch.where(gray.view(-1, 1, 1, 1), gray_noise, colour_noise)
    return images + (noise * scale.view(-1, 1, 1, 1)).to(images)


def jpeg_compress(images: torch.Tensor, qualities: list[int]) -> torch.Tensor:
    """Real JPEG: encode and decode every image with libjpeg (4:2:0) at its quality.

    Args:
        images: (N, 3, H, W) float RGB, clamped to [0, 1] and quantised to 8 bit first.
        qualities: one JPEG quality (1..100) per image.

    Returns:
        (N, 3, H, W) float32 in [0, 1] on the input's device.
    """
    arrays = images.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    out = np.empty_like(arrays)
    for i, (array, quality) in enumerate(zip(arrays, qualities, strict=True)):
        bgr = np.ascontiguousarray(array[..., ::-1])
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise ConfigError("OpenCV could not JPEG-encode a training crop")
        out[i] = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1]
    return torch.from_numpy(out).permute(0, 3, 1, 2).float().div(255).to(images.device)


def unsharp_mask(images: torch.Tensor, weight: float = 0.5, radius: int = 50, threshold: float = 10.0) -> torch.Tensor:
    """Unsharp masking as Real-ESRGAN's `USMSharp`: sharpen where the detail exceeds a threshold.

    Args:
        images: (N, C, H, W) float in [0, 1].
        weight: amount of the detail added back.
        radius: Gaussian kernel side (made odd) of the blur, in pixels.
        threshold: detail below this many 8-bit levels is left unsharpened (soft mask).

    Returns:
        (N, C, H, W) float in [0, 1].
    """
    radius += 1 - radius % 2
    sigma = 0.3 * ((radius - 1) * 0.5 - 1) + 0.8
    blurred = gaussian_blur(images, sigma, size=radius, padding="reflect")
    residual = images - blurred
    mask = (residual.abs() * 255 > threshold).float()
    soft = gaussian_blur(mask, sigma, size=radius, padding="reflect")
    sharp = (images + weight * residual).clamp(0, 1)
    return soft * sharp + (1 - soft) * images


def _resize(images: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    if mode == "area":
        return F.interpolate(images, size=size, mode="area")
    return F.interpolate(images, size=size, mode=mode, align_corners=False, antialias=mode != "area")


def _stage(images: torch.Tensor, rng: np.random.Generator, stage: DegradationStage, config: RealisticDegradationConfig,
           scale_base: tuple[int, int] | None) -> torch.Tensor:
    n = images.shape[0]
    # blur: one kernel per image, all padded to the batch's largest size
    if rng.random() < stage.blur_prob:
        size = int(rng.choice(config.kernel_sizes))
        kernels = np.stack([random_kernel(rng, stage, size) for _ in range(n)])
        images = apply_kernels(images, torch.from_numpy(kernels).float())
    # resize (one factor and mode for the batch, as Real-ESRGAN does)
    direction = int(rng.choice(3, p=np.asarray(stage.resize_probs)))
    if direction == 0:
        factor = float(rng.uniform(1.0, stage.resize_range[1]))
    elif direction == 1:
        factor = float(rng.uniform(stage.resize_range[0], 1.0))
    else:
        factor = 1.0
    base_h, base_w = scale_base if scale_base is not None else images.shape[-2:]
    size = (max(1, int(base_h * factor)), max(1, int(base_w * factor)))
    images = _resize(images, size, _RESIZE_MODES[int(rng.integers(len(_RESIZE_MODES)))])
    # noise
    gray = torch.from_numpy(rng.random(n) < stage.gray_noise_prob)
    seed = int(rng.integers(2**31))
    if rng.random() < stage.gaussian_noise_prob:
        sigma = torch.from_numpy(rng.uniform(*stage.noise_range, size=n) / 255.0).float()
        images = add_gaussian_noise(images, sigma, gray, seed)
    else:
        scale = torch.from_numpy(rng.uniform(*stage.poisson_scale_range, size=n)).float()
        images = add_poisson_noise(images, scale, gray, seed)
    return images.clamp(0, 1)


def _jpeg_random(images: torch.Tensor, rng: np.random.Generator, jpeg_range: tuple[int, int]) -> torch.Tensor:
    qualities = [int(q) for q in rng.integers(jpeg_range[0], jpeg_range[1] + 1, size=images.shape[0])]
    return jpeg_compress(images, qualities)


def realistic_degradation_batch(
    high_res: torch.Tensor,
    scale: int,
    rng: np.random.Generator,
    config: RealisticDegradationConfig | None = None,
) -> torch.Tensor:
    """Second-order realistic degradation of a batch (Wang et al. 2021).

    Args:
        high_res: (N, 3, H, W) float32 RGB in [0, 1], H and W at least `scale`.
        scale: the super-resolution factor; the output is exactly (H / scale, W / scale).
        rng: every random choice comes from here (same state → same output).
        config: the parameters (default: Real-ESRGAN's).

    Returns:
        (N, 3, H // scale, W // scale) float32 RGB in [0, 1], quantised to 8 bit (the last step
        is JPEG, or a resize whose output is rounded to 8 bit).

    Raises:
        ConfigError: `high_res` is not (N, 3, H, W) with sides of at least `scale`.
    """
    config = config or RealisticDegradationConfig()
    if high_res.ndim != 4 or high_res.shape[1] != 3:
        raise ConfigError(f"realistic degradation takes (N, 3, H, W) RGB, got shape {tuple(high_res.shape)}")
    height, width = high_res.shape[-2:]
    if height < scale or width < scale:
        raise ConfigError(f"crop {height}x{width} is smaller than the scale {scale}")
    out_size = (height // scale, width // scale)
    x = _stage(high_res.float(), rng, config.first, config, None)
    x = _jpeg_random(x, rng, config.first.jpeg_range)
    x = _stage(x, rng, config.second, config, (height // scale, width // scale))
    # final sinc + resize to the exact LR size, and JPEG, in a random order
    if rng.random() < config.final_sinc_prob:
        size = int(rng.choice(config.kernel_sizes))
        final_kernel = sinc_kernel(size, float(rng.uniform(np.pi / 3, np.pi)))
    else:
        final_kernel = np.zeros((1, 1))
        final_kernel[0, 0] = 1.0
    kernels = torch.from_numpy(np.repeat(final_kernel[None], x.shape[0], axis=0)).float()
    mode = _RESIZE_MODES[int(rng.integers(len(_RESIZE_MODES)))]
    if rng.random() < 0.5:
        x = apply_kernels(_resize(x, out_size, mode), kernels)
        x = _jpeg_random(x, rng, config.second.jpeg_range)
    else:
        x = _jpeg_random(x, rng, config.second.jpeg_range)
        x = apply_kernels(_resize(x, out_size, mode), kernels)
    return x.clamp(0, 1).mul(255).round().div(255)
