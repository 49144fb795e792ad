"""Anomaly scoring: label alignment, per-clip normalisation, offline AUC and the streaming scorer.

The synthetic test set: gray clips of a drifting background with a moving square (predictable,
so a copy-last-frame model predicts them well) in which labelled segments of frames are
replaced by random noise (unpredictable). AUC must then be near 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from _predict_helpers import (
    copy_last_model,
    export_tiny,
    moving_square,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
)
from click.testing import CliRunner

from gansuite.bench.anomaly import run_anomaly_benchmark
from gansuite.cli import main
from gansuite.errors import ConfigError
from gansuite.io.video import write_frames
from gansuite.metrics import frame_auc
from gansuite.tasks.predict.anomaly import (
    StreamingAnomalyScorer,
    align_frame_labels,
    anomaly_scores,
    prediction_psnr,
    regularity,
    score_clip,
)
from gansuite.tasks.predict.predictor import FramePredictor

# clip lengths and anomalous frame ranges [start, stop) per clip
_CLIPS = ((30, (12, 20)), (24, (5, 9)), (28, (20, 28)))


def _clip_with_anomalies(length: int, anomalous: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    frames = moving_square(length, 32, 32, channels=1)
    labels = np.zeros(length, dtype=np.int64)
    rng = np.random.default_rng(seed)
    start, stop = anomalous
    frames[start:stop] = rng.random((stop - start, 32, 32, 1), dtype=np.float32)
    labels[start:stop] = 1
    return frames, labels


@pytest.fixture(scope="module")
def test_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    root = tmp_path_factory.mktemp("anomaly")
    labels = []
    for index, (length, anomalous) in enumerate(_CLIPS):
        frames, clip_labels = _clip_with_anomalies(length, anomalous, seed=index)
        write_frames(root / f"{index + 1:02d}", frames)
        labels.append(clip_labels)
    return root, np.concatenate(labels)[None]  # (1, total) as the Ped2 labels file


def test_label_alignment_drops_the_first_k_frames_of_every_clip() -> None:
    labels = np.array([[0, 0, 1, 1, 0, 1, 1, 0, 0]])  # clips of 5 and 4 frames
    assert align_frame_labels(labels, [5, 4], 2).tolist() == [1, 1, 0, 0, 0]
    assert align_frame_labels(labels, [5, 4], 0).tolist() == labels.ravel().tolist()
    with pytest.raises(ConfigError, match="9 labels but the clips hold 10 frames"):
        align_frame_labels(labels, [5, 5], 2)


def test_regularity_is_min_max_normalised_per_clip() -> None:
    assert regularity(np.array([20.0, 30.0, 25.0])).tolist() == [0.0, 1.0, 0.5]
    assert regularity(np.array([7.0, 7.0])).tolist() == [1.0, 1.0]
    scores = anomaly_scores([np.array([10.0, 20.0]), np.array([40.0, 30.0, 35.0])])
    assert scores.tolist() == [1.0, 0.0, 0.0, 1.0, 0.5]
    same = torch.rand(2, 1, 8, 8)
    assert prediction_psnr(same, same).tolist() == [100.0, 100.0]


def test_unpredictable_frames_are_detected_offline(test_set: tuple[Path, np.ndarray]) -> None:
    root, labels = test_set
    predictor = FramePredictor(copy_last_model(context=2, channels=1), device="cpu")
    report = run_anomaly_benchmark(root, labels, model=predictor)
    assert report.n_frames == sum(length - 2 for length, _ in _CLIPS)
    assert report.auc > 0.9 and report.eer < 0.2
    assert [clip["anomalous"] for clip in report.clips] == [8, 4, 8]
    assert set(report.to_dict()) >= {"auc", "eer", "n_frames", "manifest"}
    assert "| 01 |" in report.to_markdown()


def test_streaming_scorer_detects_them_as_frames_arrive(test_set: tuple[Path, np.ndarray]) -> None:
    predictor = FramePredictor(copy_last_model(context=2, channels=1), device="cpu")
    scorer = StreamingAnomalyScorer(predictor)
    frames, labels = _clip_with_anomalies(40, (15, 25), seed=7)
    assert scorer.update(frames[0]) is None and scorer.update(frames[1]) is None  # k = 2 frames of context
    scores = [scorer.update(frame) for frame in frames[2:]]
    assert [s.frame_index for s in scores] == list(range(2, 40))
    assert all(0.0 <= s.anomaly <= 1.0 and s.anomaly == 1.0 - s.regularity for s in scores)
    assert frame_auc([s.anomaly for s in scores], labels[2:]) > 0.9
    scorer.reset()
    windowed = list(StreamingAnomalyScorer(predictor, window=8).score_stream(iter(frames)))
    assert len(windowed) == 38 and frame_auc([s.anomaly for s in windowed], labels[2:]) > 0.9


def test_cli_benchmark_anomaly(test_set: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    root, labels = test_set
    np.save(tmp_path / "labels.npy", labels)
    model = export_tiny(tmp_path / "gray.safetensors", context=2, channels=1)
    out = tmp_path / "anomaly.json"
    args = ["benchmark", "anomaly", "--frames", str(root), "--labels", str(tmp_path / "labels.npy"),
            "--model", str(model), "--json", str(out), "--markdown", str(tmp_path / "anomaly.md")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report) >= {"auc", "eer", "n_frames", "manifest"} and 0.0 <= report["auc"] <= 1.0
    assert report["manifest"]["protocol"]["context_frames"] == 2
    np.save(tmp_path / "short.npy", labels[:, :-1])
    args[args.index(str(tmp_path / "labels.npy"))] = str(tmp_path / "short.npy")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "81 labels but the clips hold 82 frames" in result.output


def test_labels_that_cannot_fit_are_refused_before_any_clip_is_scored(
    test_set: tuple[Path, np.ndarray], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, labels = test_set
    predictor = FramePredictor(copy_last_model(context=2, channels=1), device="cpu")
    monkeypatch.setattr("gansuite.bench.anomaly.score_clip", lambda *a: pytest.fail("a clip was scored first"))
    monkeypatch.setattr("gansuite.bench.anomaly_causal.clips_evidence", lambda *a, **k: pytest.fail("scored first"))
    with pytest.raises(ConfigError, match=r"--labels \(array\): 81 labels but the clips hold 82 frames"):
        run_anomaly_benchmark(root, labels[:, :-1], model=predictor)
    np.save(tmp_path / "normal.npy", np.zeros_like(labels))
    with pytest.raises(ConfigError, match=r"--labels .*normal\.npy: all 76 labels of the scored frames are 0"):
        run_anomaly_benchmark(root, tmp_path / "normal.npy", model=predictor)
    from gansuite.bench.anomaly_causal import run_causal_anomaly_benchmark

    with pytest.raises(ConfigError, match=r"81 labels but the clips hold 82 frames"):  # before calibration too
        run_causal_anomaly_benchmark(root, labels[:, :-1], root, model=predictor)


def test_a_frame_without_pixels_is_refused_naming_it() -> None:
    scorer = StreamingAnomalyScorer(FramePredictor(copy_last_model(2, 1), device="cpu"))
    for frame in (np.zeros((0, 5, 1), np.float32), np.zeros((4, 0), np.float64)):
        with pytest.raises(ConfigError, match=r"frame 0 has shape .*; float frames are .* with H, W >= 1"):
            scorer.update(frame)  # was a ValueError from np.min of an empty array


def test_score_clip_takes_a_list_of_frames_and_names_integer_pixels() -> None:
    predictor = FramePredictor(copy_last_model(2, 1), device="cpu")
    frames = moving_square(6, 16, 16, channels=1)
    expected = score_clip(predictor, frames)
    assert expected.shape == (4,)
    np.testing.assert_array_equal(score_clip(predictor, list(frames)), expected)  # was an AttributeError
    with pytest.raises(ConfigError, match=r"score_clip: frames have dtype uint8; .*as_float_frame"):
        score_clip(predictor, (frames * 255).astype(np.uint8))  # was 'float values in [0, 255]'
    with pytest.raises(ConfigError, match=r"score_clip: frames must be a .* numpy array .*, got str"):
        score_clip(predictor, "clip.mp4")
    with pytest.raises(ConfigError, match="differ in shape"):
        score_clip(predictor, [frames[0], frames[1][:8]])
