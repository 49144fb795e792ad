"""Image and video quality metrics with a stated protocol.

PSNR and SSIM follow the super-resolution protocol (8-bit quantisation, BT.601 Y of MATLAB's
``rgb2ycbcr``, border crop, Wang et al. 2004 SSIM); LPIPS is Zhang et al. 2018 (v0.1) through
the ``lpips`` package; ROC-AUC and EER score frame-level anomaly detection; per-horizon scores
and gradient energy evaluate next-frame prediction.
"""

from gansuite.metrics._color import quantize_8bit, rgb_to_y
from gansuite.metrics.anomaly import equal_error_rate, frame_auc
from gansuite.metrics.artifacts import jpeg_grid_strength
from gansuite.metrics.perceptual import LPIPSMetric, LPIPSNet, resolve_device
from gansuite.metrics.psnr_ssim import Channel, psnr, psnr_array, ssim, ssim_array
from gansuite.metrics.video import HorizonScores, gradient_energy, per_horizon_scores

__all__ = [
    "Channel",
    "HorizonScores",
    "LPIPSMetric",
    "LPIPSNet",
    "equal_error_rate",
    "frame_auc",
    "gradient_energy",
    "jpeg_grid_strength",
    "per_horizon_scores",
    "psnr",
    "psnr_array",
    "quantize_8bit",
    "resolve_device",
    "rgb_to_y",
    "ssim",
    "ssim_array",
]
