"""The adversarial core: blocks, discriminators, losses, the trainer, EMA and checkpoints.

The core knows no task: task heads plug into `Trainer` through the `GanHead` protocol.
"""

from gansuite.core import discriminators as _discriminators  # noqa: F401  (registers them)
from gansuite.core.checkpoint import export_weights, load_checkpoint, load_weights, read_weights_metadata
from gansuite.core.config import ContentLossConfig, TrainerConfig
from gansuite.core.ema import ExponentialMovingAverage
from gansuite.core.networks import DISCRIMINATORS, GENERATORS, NetworkSpec, build_network
from gansuite.core.trainer import GanHead, Sample, StepResult, Trainer, TrainerHooks, TrainingResult

__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "ContentLossConfig",
    "ExponentialMovingAverage",
    "GanHead",
    "NetworkSpec",
    "Sample",
    "StepResult",
    "Trainer",
    "TrainerConfig",
    "TrainerHooks",
    "TrainingResult",
    "build_network",
    "export_weights",
    "load_checkpoint",
    "load_weights",
    "read_weights_metadata",
]
