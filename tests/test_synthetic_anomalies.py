"""Synthetic anomalies in normal footage and the label-free choice of anomaly-scoring settings.

The injector is checked on a static random texture, where every pasted pixel differs from the
frame below it: the changed region of each frame is the object's box, at the drawn position,
moving by the drawn velocity, with the same pixels throughout; nothing else changes.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from _predict_helpers import (
    copy_last_model,
    moving_square,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
)

from gansuite.bench.anomaly_causal import Variant, run_causal_anomaly_benchmark
from gansuite.bench.anomaly_offline import (
    OfflineCandidate,
    centred_mean,
    offline_candidate_grid,
    offline_clip_scores,
    run_offline_selection_benchmark,
)
from gansuite.bench.anomaly_selection import (
    MONITOR_DEFAULT,
    Candidate,
    candidate_grid,
    run_synthetic_selection_benchmark,
)
from gansuite.core.checkpoint import export_weights
from gansuite.errors import ConfigError
from gansuite.io import write_frames
from gansuite.metrics import frame_auc
from gansuite.tasks.predict import FramePredictor
from gansuite.tasks.predict.calibration import CausalConfig, calibrate
from gansuite.tasks.predict.evidence import EvidenceConfig, FrameEvidence, clip_evidence, clip_evidence_many
from gansuite.tasks.predict.synthetic_anomalies import SyntheticAnomalyConfig, synthesize

_CONFIG = SyntheticAnomalyConfig(events_per_clip=3, duration=(8, 16), speed=(3.0, 5.0), size=(8, 12),
                                 max_angle_degrees=30.0, gap=3, feather=2)


def _texture(frames: int = 60, height: int = 48, width: int = 96, seed: int = 0) -> np.ndarray:
    """(T, H, W, 1) float32: the same random texture in every frame."""
    still = np.random.default_rng(seed).random((height, width, 1), dtype=np.float32)
    return np.repeat(still[None], frames, axis=0)


def _box(changed: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(changed)
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_injected_object_moves_at_the_drawn_speed_and_stays_rigid(seed: int) -> None:
    frames = _texture()
    made = synthesize(frames, _CONFIG, seed)
    assert made.events
    for event in made.events:
        corners = []
        r0, c0 = event.source
        source = frames[event.start, r0 : r0 + event.height, c0 : c0 + event.width]
        inner = np.s_[_CONFIG.feather : event.height - _CONFIG.feather, _CONFIG.feather : event.width - _CONFIG.feather]
        for t in range(event.start, event.stop):
            top, left, bottom, right = _box((made.frames[t] != frames[t]).any(axis=2))
            assert (bottom - top, right - left) == (event.height, event.width)
            assert (top, left) == event.position(t)
            pasted = made.frames[t, top:bottom, left:right]
            np.testing.assert_array_equal(pasted[inner], source[inner])  # rigid: the same pixels each frame
            corners.append((top, left))
        steps = np.arange(len(corners))
        rows, cols = np.array(corners, dtype=float).T
        assert _CONFIG.speed[0] <= event.speed <= _CONFIG.speed[1]
        assert math.degrees(math.atan2(abs(event.velocity[0]), abs(event.velocity[1]))) <= _CONFIG.max_angle_degrees
        if len(corners) >= 8:  # the fitted motion of the pasted box (positions rounded to ±0.5 px)
            measured = (np.polyfit(steps, rows, 1)[0], np.polyfit(steps, cols, 1)[0])
            assert measured == pytest.approx(event.velocity, abs=0.2)
            assert _CONFIG.speed[0] - 0.3 <= math.hypot(*measured) <= _CONFIG.speed[1] + 0.3
        # the whole path, from first to last frame, is the velocity times the frames elapsed (±1 px rounding)
        travelled = (rows[-1] - rows[0], cols[-1] - cols[0])
        expected = (event.velocity[0] * (len(corners) - 1), event.velocity[1] * (len(corners) - 1))
        assert travelled == pytest.approx(expected, abs=1.0)


@pytest.mark.parametrize("seed", range(6))
def test_frames_outside_events_are_untouched_and_labels_match(seed: int) -> None:
    frames = _texture(seed=seed)
    before = frames.copy()
    made = synthesize(frames, _CONFIG, seed)
    np.testing.assert_array_equal(frames, before)  # the input is not modified
    changed = (made.frames != frames).any(axis=(1, 2, 3))
    np.testing.assert_array_equal(changed, made.labels.astype(bool))
    np.testing.assert_array_equal(made.frames[made.labels == 0], frames[made.labels == 0])
    assert made.labels.sum() == sum(e.stop - e.start for e in made.events)


def test_events_fit_the_clip_keep_their_gap_and_follow_the_seed() -> None:
    frames = _texture(frames=120, height=40, width=64)
    for seed in range(20):
        made = synthesize(frames, _CONFIG, [seed, 3])
        events = made.events
        assert 1 <= len(events) <= _CONFIG.events_per_clip
        for first, second in itertools.pairwise(events):
            assert first.stop + _CONFIG.gap <= second.start
        for event in events:
            assert 1 <= event.stop - event.start <= _CONFIG.duration[1]  # shorter only to stay inside the frame
            assert _CONFIG.size[0] <= min(event.height, event.width)
            assert max(event.height, event.width) <= _CONFIG.size[1]
            for t in range(event.start, event.stop):
                top, left = event.position(t)
                assert 0 <= top <= 40 - event.height and 0 <= left <= 64 - event.width
    again = synthesize(frames, _CONFIG, [4, 3])
    assert again.events == synthesize(frames, _CONFIG, [4, 3]).events
    assert again.events != synthesize(frames, _CONFIG, [5, 3]).events


def test_bad_settings_and_small_frames_are_refused() -> None:
    with pytest.raises(ConfigError, match="speed must be"):
        SyntheticAnomalyConfig(speed=(5.0, 2.0))
    with pytest.raises(ConfigError, match="max_angle_degrees"):
        SyntheticAnomalyConfig(max_angle_degrees=120)
    with pytest.raises(ConfigError, match="too small"):
        synthesize(_texture(height=20, width=30), SyntheticAnomalyConfig(size=(10, 24)), 0)
    with pytest.raises(ConfigError, match=r"\(T, H, W, 1 or 3\)"):
        synthesize(np.zeros((10, 48, 48)), _CONFIG, 0)


def test_candidate_grid_covers_the_settings_once() -> None:
    grid = candidate_grid()
    assert len(grid) == 2 * 3 * 2 * 4 + 3 * 4 == len(set(grid))
    assert MONITOR_DEFAULT in grid
    assert all(c.evidence.top_k == 1 for c in grid if c.causal.features == ("motion",))
    with pytest.raises(ConfigError, match="at least one value"):
        candidate_grid(smoothings=())


@pytest.fixture(scope="module")
def predictor() -> FramePredictor:
    return FramePredictor(copy_last_model(context=2, channels=1), device="cpu")


def test_clip_evidence_many_equals_one_config_at_a_time(predictor: FramePredictor) -> None:
    frames = moving_square(16, 32, 48, channels=1)
    configs = [EvidenceConfig(patch_size=8, top_k=1), EvidenceConfig(patch_size=16, top_k=3, motion=False)]
    together = clip_evidence_many(predictor, frames, configs)
    for config, evidence in zip(configs, together, strict=True):
        alone = clip_evidence(predictor, frames, config)
        for name, values in alone.as_dict().items():
            np.testing.assert_array_equal(values, evidence.as_dict()[name])
    with pytest.raises(ConfigError, match="at least one"):
        clip_evidence_many(predictor, frames, [])


def _scene(length: int, seed: int) -> np.ndarray:
    """(T, 48, 64, 1): a textured still background (for textured objects) with a slowly moving square."""
    rng = np.random.default_rng(seed)
    frames = 0.5 * moving_square(length, 48, 64, channels=1) + 0.5 * _texture(length, 48, 64, seed=100)
    return np.clip(frames + rng.normal(0, 0.01, frames.shape), 0, 1).astype(np.float32)


def _test_scene(index: int) -> np.ndarray:
    """Test clip `index` (0 or 1): a scene with a random 8x8 patch in frames 15-29."""
    frames = _scene(40, 10 + index)
    frames[15:30, 20:28, 30:38] = np.random.default_rng(index).random((15, 8, 8, 1))
    return frames


def _normal_and_test_clips(root: Path) -> tuple[Path, Path, np.ndarray]:
    """Four normal clips and two test clips of 40 frames as frame folders, and the test labels (80,)."""
    normal, test = root / "normal", root / "test"
    for i in range(4):
        write_frames(normal / f"{i + 1:02d}", _scene(40, i))
    for i in range(2):
        write_frames(test / f"{i + 1:02d}", _test_scene(i))
    one = np.r_[np.zeros(15), np.ones(15), np.zeros(10)].astype(np.int64)
    return normal, test, np.concatenate([one, one])


@pytest.mark.slow
def test_selection_reads_no_test_label_and_the_test_row_is_the_chosen_setting(
    predictor: FramePredictor, tmp_path: Path
) -> None:
    normal, test, labels = _normal_and_test_clips(tmp_path)
    candidates = [Candidate(EvidenceConfig(patch_size=8), CausalConfig(features=("patch_psnr",), smoothing=1)),
                  Candidate(EvidenceConfig(patch_size=8), CausalConfig(features=("patch_psnr",), smoothing=20)),
                  Candidate(EvidenceConfig(patch_size=16, top_k=2), CausalConfig(features=("frame_psnr",)))]
    synthetic = SyntheticAnomalyConfig(events_per_clip=1, duration=(8, 12), speed=(2.0, 4.0), size=(8, 12), gap=2)
    # a model file, so that the evidence is cached (keyed by the file's hash)
    weights = export_weights(tmp_path / "copy_last.safetensors", predictor.model, card={"task": "predict"})
    predictor = FramePredictor.from_pretrained(weights, device="cpu")
    # the second run reads the evidence the first one cached
    kwargs = {"candidates": candidates, "synthetic": synthetic, "false_alarm_rate": 0.05, "cache_dir": tmp_path / "c"}
    report = run_synthetic_selection_benchmark(test, labels[None], normal, model=predictor, **kwargs)
    selection = report.selection
    aucs = [row["validation_auc"] for row in selection.rows]
    assert selection.chosen == int(np.argmax(aucs)) and aucs[0] > 0.8  # synthetic objects are detectable
    assert selection.folds == (["01", "03"], ["02", "04"])
    assert all(len(row["validation_auc_folds"]) == 2 for row in selection.rows)
    flipped = run_synthetic_selection_benchmark(test, 1 - labels[None], normal, model=predictor, **kwargs)
    assert [r["validation_auc"] for r in flipped.selection.rows] == aucs  # test labels play no part
    assert len(list((tmp_path / "c").glob("*.npz"))) == 2 * 4 * 2 + 2  # clean + synthetic per config, test clips
    assert flipped.selection.chosen == report.selection.chosen == selection.chosen
    chosen = candidates[selection.chosen]
    direct = run_causal_anomaly_benchmark(test, labels[None], normal, model=predictor, evidence=chosen.evidence,
                                          variants=[Variant("x", chosen.causal)], false_alarm_rate=0.05)
    assert report.test["causal"] == direct.rows[0]["causal"]
    assert flipped.test["causal"]["micro_auc"] == pytest.approx(1 - report.test["causal"]["micro_auc"])
    text = report.to_markdown()
    assert chosen.name in text and "Validation AUC (synthetic)" in text and '"validation"' in report.to_json()


def test_centred_mean_averages_the_frames_on_either_side_and_fewer_at_the_ends() -> None:
    values = np.random.default_rng(0).random(23)
    for window in (1, 3, 9, 31):
        half = window // 2
        naive = [values[max(0, i - half) : i + half + 1].mean() for i in range(values.size)]
        np.testing.assert_allclose(centred_mean(values, window), naive, rtol=1e-12)
    for bad in (0, 4, -1):
        with pytest.raises(ConfigError, match="odd number of frames"):
            centred_mean(values, bad)
    assert len(offline_candidate_grid()) == (2 * 3 * 2 + 3) * 5


def test_offline_scores_are_min_max_per_clip_and_a_long_event_survives_the_smoothing() -> None:
    """A 20-frame anomaly in noisy scores: smoothing over 9 frames separates it better than none."""
    rng = np.random.default_rng(1)
    truth = np.zeros(200, dtype=np.int64)
    truth[90:110] = 1
    frame_psnr = 30.0 - 1.0 * truth + rng.normal(0, 0.8, 200)  # one frame's PSNR is noisy
    evidence = FrameEvidence(frame_psnr, frame_psnr.copy(), np.zeros(200))
    calibration = calibrate([FrameEvidence(*(rng.normal(30, 0.8, 100) for _ in range(2)), np.zeros(100))],
                            causal=CausalConfig(features=("frame_psnr",)))
    scores = {w: offline_clip_scores(calibration, evidence, w) for w in (1, 9)}
    for s in scores.values():
        assert s.min() == 0.0 and s.max() == 1.0
    assert frame_auc(scores[9], truth) > frame_auc(scores[1], truth) + 0.05


def test_offline_selection_reads_no_test_label_and_scores_the_chosen_setting(
    predictor: FramePredictor, tmp_path: Path
) -> None:
    normal, test, labels = _normal_and_test_clips(tmp_path)
    candidates = [OfflineCandidate(EvidenceConfig(patch_size=8), ("patch_psnr",), 1),
                  OfflineCandidate(EvidenceConfig(patch_size=8), ("patch_psnr",), 5),
                  OfflineCandidate(EvidenceConfig(patch_size=16, top_k=2), ("frame_psnr",), 3)]
    synthetic = SyntheticAnomalyConfig(events_per_clip=1, duration=(8, 12), speed=(2.0, 4.0), size=(8, 12), gap=2)
    kwargs = {"candidates": candidates, "synthetic": synthetic}
    report = run_offline_selection_benchmark(test, labels[None], normal, model=predictor, **kwargs)
    aucs = [row["validation_auc"] for row in report.rows]
    assert report.chosen == int(np.argmax(aucs)) and max(aucs) > 0.8
    flipped = run_offline_selection_benchmark(test, 1 - labels[None], normal, model=predictor, **kwargs)
    assert [r["validation_auc"] for r in flipped.rows] == aucs and flipped.chosen == report.chosen
    assert flipped.test["micro_auc"] == pytest.approx(1 - report.test["micro_auc"])
    # the test row is the chosen setting's offline score, computed directly
    chosen = candidates[report.chosen]
    k = predictor.context_frames
    normal_evidence = [clip_evidence(predictor, _scene(40, i), chosen.evidence) for i in range(4)]
    calibration = calibrate(normal_evidence, evidence_config=chosen.evidence,
                            causal=CausalConfig(features=chosen.features))
    direct = [offline_clip_scores(calibration, clip_evidence(predictor, _test_scene(i), chosen.evidence), chosen.window)
              for i in range(2)]
    truth = np.concatenate([labels[i * 40 + k : (i + 1) * 40] for i in range(2)])
    assert report.test["micro_auc"] == pytest.approx(frame_auc(np.concatenate(direct), truth), abs=1e-6)
    text = report.to_markdown()
    assert chosen.name in text and "Liu et al. 2018" in text and '"unsmoothed"' in report.to_json()
