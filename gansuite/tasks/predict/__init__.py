"""The next-frame prediction head: clip datasets, Moving MNIST, the U-Net predictor, recipes,
training, `FramePredictor` inference and anomaly scoring (Mathieu et al. 2016; Liu et al. 2018).
"""

from gansuite.tasks.predict import flow_models as _flow_models  # noqa: F401  (registers flow-unet)
from gansuite.tasks.predict import models as _models  # noqa: F401  (registers the generator)
from gansuite.tasks.predict.anomaly import StreamingAnomalyScorer, StreamScore, align_frame_labels, score_clip
from gansuite.tasks.predict.baselines import flow_extrapolation
from gansuite.tasks.predict.calibration import AnomalyCalibration, CausalConfig, calibrate, load_calibration
from gansuite.tasks.predict.data import ClipWindows, find_clips, load_clip
from gansuite.tasks.predict.evidence import EvidenceConfig, FrameEvidence, clip_evidence
from gansuite.tasks.predict.flow_models import FlowUNetPredictor
from gansuite.tasks.predict.head import PredictHead
from gansuite.tasks.predict.live import CalibratedAnomalyScorer, LiveScore
from gansuite.tasks.predict.models import UNetPredictor, rollout
from gansuite.tasks.predict.moving_mnist import MovingMNIST
from gansuite.tasks.predict.predictor import FramePredictor, PredictionResult
from gansuite.tasks.predict.pretrained import SHIPPED_MODELS
from gansuite.tasks.predict.recipes import RECIPES, PredictRecipe, get_recipe
from gansuite.tasks.predict.training import train_predict

__all__ = [
    "RECIPES",
    "SHIPPED_MODELS",
    "AnomalyCalibration",
    "CalibratedAnomalyScorer",
    "CausalConfig",
    "ClipWindows",
    "EvidenceConfig",
    "FlowUNetPredictor",
    "FrameEvidence",
    "FramePredictor",
    "LiveScore",
    "MovingMNIST",
    "PredictHead",
    "PredictRecipe",
    "PredictionResult",
    "StreamScore",
    "StreamingAnomalyScorer",
    "UNetPredictor",
    "align_frame_labels",
    "calibrate",
    "clip_evidence",
    "find_clips",
    "flow_extrapolation",
    "get_recipe",
    "load_calibration",
    "load_clip",
    "rollout",
    "score_clip",
    "train_predict",
]
