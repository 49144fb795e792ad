"""The shipped next-frame weights: cards, and predictions better than copying the last frame.

Each test skips when its weights file is not in this build, and the data tests skip without
`GANSUITE_DATA`; CI sets it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _predict_helpers import one_thread  # noqa: F401  (autouse: convolutions on one thread)

from gansuite.core.checkpoint import read_weights_metadata
from gansuite.tasks.predict.moving_mnist import MovingMNIST
from gansuite.tasks.predict.predictor import FramePredictor
from gansuite.tasks.predict.pretrained import SHIPPED_MODELS, shipped_weights_path

_CARD_FIELDS = {"name", "data", "recipe", "steps", "hardware", "wall_time", "metrics", "metrics_command"}


def _shipped(name: str) -> Path:
    path = shipped_weights_path(name)
    if not path.is_file():
        pytest.skip(f"{name} weights are not shipped in this build")
    return path


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_a_shipped_model_carries_a_full_card(name: str) -> None:
    spec, card = read_weights_metadata(_shipped(name))
    assert set(card) >= _CARD_FIELDS, sorted(_CARD_FIELDS - set(card))
    assert card["name"] == name and card["task"] == "predict" and spec.name in ("unet-predictor", "flow-unet")
    predictor = FramePredictor.from_pretrained(name)
    assert predictor.context_frames == card["context_frames"]


def test_mmnist_beats_copy_last_at_every_step_on_test_sequences(data_dir: Path) -> None:
    _shipped("mmnist")
    sequences = MovingMNIST(data_dir / "video" / "mnist", split="test", sequences=16, num_frames=20)
    clips = torch.stack([sequences[i] for i in range(len(sequences))])  # (16, 20, 1, 64, 64)
    predicted = FramePredictor.from_pretrained("mmnist").predict_batch(clips[:, :10], future=10)
    truth = clips[:, 10:]
    model_error = (predicted - truth).pow(2).mean(dim=(0, 2, 3, 4))
    copy_error = (clips[:, 9:10] - truth).pow(2).mean(dim=(0, 2, 3, 4))
    assert bool((model_error < copy_error).all()), (model_error.tolist(), copy_error.tolist())


def test_ped2_scores_the_anomalous_frames_of_a_test_clip_higher(data_dir: Path) -> None:
    """Ped2 test clip 02 (a cyclist enters mid-clip): anomalous frames get higher mean scores."""
    import numpy as np

    from gansuite.io.video import read_video
    from gansuite.tasks.predict.anomaly import align_frame_labels, anomaly_scores, score_clip

    _shipped("ped2")
    ped2 = data_dir / "video" / "ped2"
    frames = read_video(ped2 / "testing" / "02", grayscale=True).frames
    labels = np.load(ped2 / "labels" / "frame_labels_ped2.npy").ravel()[180:360]  # clip 01 has 180 frames
    predictor = FramePredictor.from_pretrained("ped2")
    scores = anomaly_scores([score_clip(predictor, frames)])
    aligned = align_frame_labels(labels, [len(frames)], predictor.context_frames)
    assert 0 < aligned.sum() < aligned.size
    assert scores[aligned == 1].mean() > scores[aligned == 0].mean() + 0.1


def test_natural_is_not_worse_than_optical_flow_extrapolation_on_a_clip(data_dir: Path) -> None:
    """realshort.mp4 (a training clip), 4 windows: at step 1 the flow model is at least the DIS baseline
    (it starts from it), and re-estimating the flow along its rollout beats holding it constant later."""
    import numpy as np

    from gansuite.bench.predict import _clip_frames
    from gansuite.metrics import psnr
    from gansuite.tasks.predict.baselines import flow_extrapolation
    from gansuite.tasks.predict.evaluation import sliding_windows

    spec, _ = read_weights_metadata(_shipped("natural"))
    if spec.name != "flow-unet":
        pytest.skip("the shipped natural model is not the flow model")
    windows = [w for _, w in sliding_windows(_clip_frames(data_dir / "video" / "clips" / "realshort.mp4", 256),
                                             length=8, stride=8)]
    clips = torch.from_numpy(np.stack(windows).transpose(0, 1, 4, 2, 3).copy())
    context, truth = clips[:, :4], clips[:, 4:]
    model = FramePredictor.from_pretrained("natural").predict_batch(context, 4)
    flow = flow_extrapolation(context, 4)
    gains = [float(psnr(model[:, t], truth[:, t], channel="rgb").mean() - psnr(flow[:, t], truth[:, t], channel="rgb")
                   .mean()) for t in range(4)]
    assert gains[0] > -0.05 and min(gains[1:]) > 0.0, gains
