"""gansuite: GAN applications on a shared adversarial core.

The short imports for library users::

    from gansuite import Upscaler, FramePredictor, StreamingAnomalyScorer, Trainer, TrainerConfig
    from gansuite import read_image, write_image, imresize, psnr, ssim, GansuiteError
    from gansuite import read_video, iter_video_frames, write_video, LPIPSMetric

The names are resolved on first use (PEP 562), so `import gansuite` loads only what the
registries need. Importing the package registers every task head's networks, so a weights
file or checkpoint can be rebuilt by name from any entry point (`gansuite.core.load_weights`
included).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gansuite import tasks as _tasks  # noqa: F401  (registers the task heads' networks)

if TYPE_CHECKING:  # what the lazy names resolve to, for type checkers and IDEs
    from gansuite.core.config import ContentLossConfig, TrainerConfig
    from gansuite.core.trainer import GanHead, Sample, Trainer, TrainingResult
    from gansuite.errors import (
        CheckpointError,
        ConfigError,
        GansuiteError,
        InputImageError,
        InputVideoError,
        NotAvailableError,
        OutputError,
    )
    from gansuite.io.image import LoadedImage, read_image, write_image
    from gansuite.io.imresize import imresize
    from gansuite.io.video import (
        VideoWriter,
        iter_timed_frames,
        iter_video_frames,
        probe_video,
        read_video,
        write_video,
    )
    from gansuite.metrics.perceptual import LPIPSMetric
    from gansuite.metrics.psnr_ssim import psnr, ssim
    from gansuite.tasks.predict import AnomalyCalibration, CalibratedAnomalyScorer, LiveScore, load_calibration
    from gansuite.tasks.predict.anomaly import StreamingAnomalyScorer, StreamScore
    from gansuite.tasks.predict.predictor import FramePredictor, PredictionResult
    from gansuite.tasks.upscale.upscaler import Upscaler, UpscaleResult
    from gansuite.tasks.upscale.video import upscale_video

_EXPORTS: dict[str, str] = {
    # inference
    "Upscaler": "gansuite.tasks.upscale.upscaler",
    "UpscaleResult": "gansuite.tasks.upscale.upscaler",
    "upscale_video": "gansuite.tasks.upscale.video",
    "FramePredictor": "gansuite.tasks.predict.predictor",
    "PredictionResult": "gansuite.tasks.predict.predictor",
    "StreamingAnomalyScorer": "gansuite.tasks.predict.anomaly",
    "StreamScore": "gansuite.tasks.predict.anomaly",
    "CalibratedAnomalyScorer": "gansuite.tasks.predict",
    "LiveScore": "gansuite.tasks.predict",
    "AnomalyCalibration": "gansuite.tasks.predict",
    "load_calibration": "gansuite.tasks.predict",
    # training
    "Trainer": "gansuite.core.trainer",
    "TrainerConfig": "gansuite.core.config",
    "ContentLossConfig": "gansuite.core.config",
    "GanHead": "gansuite.core.trainer",
    "Sample": "gansuite.core.trainer",
    "TrainingResult": "gansuite.core.trainer",
    # images and metrics
    "LoadedImage": "gansuite.io.image",
    "read_image": "gansuite.io.image",
    "write_image": "gansuite.io.image",
    "imresize": "gansuite.io.imresize",
    # video
    "VideoWriter": "gansuite.io.video",
    "iter_timed_frames": "gansuite.io.video",
    "probe_video": "gansuite.io.video",
    "read_video": "gansuite.io.video",
    "iter_video_frames": "gansuite.io.video",
    "write_video": "gansuite.io.video",
    # metrics
    "psnr": "gansuite.metrics.psnr_ssim",
    "ssim": "gansuite.metrics.psnr_ssim",
    "LPIPSMetric": "gansuite.metrics.perceptual",
    # errors
    "GansuiteError": "gansuite.errors",
    "CheckpointError": "gansuite.errors",
    "ConfigError": "gansuite.errors",
    "InputImageError": "gansuite.errors",
    "InputVideoError": "gansuite.errors",
    "NotAvailableError": "gansuite.errors",
    "OutputError": "gansuite.errors",
}

__all__ = [
    "AnomalyCalibration",
    "CalibratedAnomalyScorer",
    "CheckpointError",
    "ConfigError",
    "ContentLossConfig",
    "FramePredictor",
    "GanHead",
    "GansuiteError",
    "InputImageError",
    "InputVideoError",
    "LPIPSMetric",
    "LiveScore",
    "LoadedImage",
    "NotAvailableError",
    "OutputError",
    "PredictionResult",
    "Sample",
    "StreamScore",
    "StreamingAnomalyScorer",
    "Trainer",
    "TrainerConfig",
    "TrainingResult",
    "UpscaleResult",
    "Upscaler",
    "VideoWriter",
    "imresize",
    "iter_timed_frames",
    "iter_video_frames",
    "load_calibration",
    "probe_video",
    "psnr",
    "read_image",
    "read_video",
    "ssim",
    "upscale_video",
    "write_image",
    "write_video",
]
assert sorted(_EXPORTS) == __all__  # one list, kept literal for linters and IDEs


def __getattr__(name: str) -> Any:
    """Resolve a public name on first use and cache it in the module (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gansuite' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
