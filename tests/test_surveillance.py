"""Calibrated causal anomaly scores, the live scorer, input validation, `gansuite calibrate` / `monitor`.

Synthetic footage: gray 32x32 clips of a drifting background with a slowly moving square, which
a copy-last-frame model predicts well; an anomaly is a small block of random noise in a corner
for a run of frames (unpredictable, and local: a small share of the frame).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from _predict_helpers import (
    copy_last_model,
    export_tiny,
    moving_square,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
)
from click.testing import CliRunner

from gansuite.bench.anomaly_causal import Variant, run_causal_anomaly_benchmark
from gansuite.cli import main
from gansuite.errors import ConfigError
from gansuite.io import write_frames
from gansuite.tasks.predict import FramePredictor, StreamingAnomalyScorer
from gansuite.tasks.predict.calibration import (
    AnomalyCalibration,
    CausalConfig,
    calibrate,
    causal_scores,
    load_calibration,
)
from gansuite.tasks.predict.evidence import (
    EvidenceConfig,
    FrameEvidence,
    clip_evidence,
    clip_evidence_many,
    motion_magnitude,
)
from gansuite.tasks.predict.live import CalibratedAnomalyScorer

_EVIDENCE = EvidenceConfig(patch_size=8)


def _clip(length: int, seed: int, anomaly: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, 32, 32, 1) frames and (T,) labels; frames in `anomaly` get an 8x8 noise block."""
    frames = moving_square(length, 32, 32, channels=1)
    rng = np.random.default_rng(seed)
    frames = np.clip(frames + rng.normal(0, 0.01, frames.shape).astype(np.float32), 0, 1)
    labels = np.zeros(length, dtype=np.int64)
    if anomaly is not None:
        start, stop = anomaly
        frames[start:stop, 20:28, 20:28] = rng.random((stop - start, 8, 8, 1), dtype=np.float32)
        labels[start:stop] = 1
    return frames, labels


@pytest.fixture(scope="module")
def predictor() -> FramePredictor:
    return FramePredictor(copy_last_model(context=2, channels=1), device="cpu")


@pytest.fixture(scope="module")
def calibration(predictor: FramePredictor) -> AnomalyCalibration:
    normal = [clip_evidence(predictor, _clip(30, seed)[0], _EVIDENCE) for seed in range(4)]
    return calibrate(normal, false_alarm_rate=0.05, evidence_config=_EVIDENCE, causal=CausalConfig(smoothing=1))


def test_injected_anomaly_scores_above_normal_frames(
    predictor: FramePredictor, calibration: AnomalyCalibration
) -> None:
    frames, labels = _clip(40, seed=11, anomaly=(20, 28))
    scores, alerts = causal_scores(calibration, clip_evidence(predictor, frames, _EVIDENCE))
    y = labels[2:]
    normal = np.r_[0:18, 28:38]  # scored frames 2..19 and 30..39 (frames 28, 29 still have noise in their context)
    assert scores[y == 1].min() > scores[normal].max()
    assert alerts[y == 1].all() and alerts[normal].mean() <= 0.1


def test_threshold_gives_the_requested_false_alarm_rate_on_the_calibration_scores() -> None:
    rng = np.random.default_rng(0)
    clips = [FrameEvidence(rng.normal(30, 1, n), rng.normal(20, 2, n), rng.gamma(2.0, 1.0, n)) for n in (300, 500, 200)]
    for rate in (0.01, 0.05, 0.2):
        for smoothing in (1, 5):
            calibration = calibrate(clips, false_alarm_rate=rate, causal=CausalConfig(smoothing=smoothing))
            alerts = np.concatenate([causal_scores(calibration, clip)[1] for clip in clips])
            assert rate - 1.5 / alerts.size <= alerts.mean() <= rate
    with pytest.raises(ConfigError, match="false_alarm_rate must be in"):
        calibrate(clips, false_alarm_rate=1.0)
    with pytest.raises(ConfigError, match="choose one or more of"):
        CausalConfig(features=("psnr",))


def test_scores_of_frame_t_do_not_change_when_later_frames_change(predictor: FramePredictor,
                                                                  calibration: AnomalyCalibration) -> None:
    frames, _ = _clip(30, seed=5)
    changed = frames.copy()
    changed[15:] = np.random.default_rng(1).random(changed[15:].shape, dtype=np.float32)
    for setting in (calibration, AnomalyCalibration(**{**calibration.__dict__,
                                                       "causal": CausalConfig(smoothing=3, baseline_frames=4)})):
        live = [CalibratedAnomalyScorer(predictor, setting) for _ in range(2)]
        a = [s.score for s in live[0].score_stream(frames)]
        b = [s.score for s in live[1].score_stream(changed)]
        assert a[: 15 - 2] == b[: 15 - 2]  # frames 2 .. 14 are scored identically
        assert a[15 - 2] != b[15 - 2]


def test_live_scorer_matches_the_whole_clip_computation(predictor: FramePredictor,
                                                        calibration: AnomalyCalibration) -> None:
    frames, _ = _clip(24, seed=9, anomaly=(10, 15))
    live = list(CalibratedAnomalyScorer(predictor, calibration).score_stream(frames))
    batch, alerts = causal_scores(calibration, clip_evidence(predictor, frames, _EVIDENCE))
    assert [s.frame_index for s in live] == list(range(2, 24))
    np.testing.assert_allclose([s.score for s in live], batch, rtol=1e-5, atol=1e-6)
    assert [s.alert for s in live] == alerts.tolist()
    assert live[0].error_map.shape == (32, 32)


def test_running_baseline_follows_a_slow_level_change_and_freezes_in_alerts() -> None:
    rng = np.random.default_rng(2)
    normal = [FrameEvidence(rng.normal(30, 1, 400), rng.normal(20, 1, 400), np.zeros(400))]
    causal = CausalConfig(features=("patch_psnr",), smoothing=1, baseline_frames=50)
    calibration = calibrate(normal, false_alarm_rate=0.01, causal=causal)
    darker = FrameEvidence(np.full(600, 30.0), np.full(600, 20.0) - np.linspace(0, 4, 600), np.zeros(600))
    scores, _ = causal_scores(calibration, darker)
    fixed, _ = causal_scores(AnomalyCalibration(**{**calibration.__dict__, "causal": CausalConfig(
        features=("patch_psnr",), smoothing=1)}), darker)
    assert scores[-1] < 0.5 * fixed[-1]  # the slow drift is absorbed
    jump = FrameEvidence(np.full(200, 30.0), np.r_[np.full(20, 20.0), np.full(180, 5.0)], np.zeros(200))
    scores, alerts = causal_scores(calibration, jump)
    assert alerts[20:].all() and scores[-1] == pytest.approx(scores[20])  # frozen while alerting


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_motion_magnitude_measures_a_known_shift(method: str) -> None:
    rng = np.random.default_rng(0)
    texture = rng.random((96, 96)).astype(np.float32)
    texture = (texture + np.roll(texture, 1, 0) + np.roll(texture, 1, 1) + np.roll(texture, (1, 1), (0, 1))) / 4
    moved = np.roll(texture, 3, axis=1)  # every pixel 3 px to the right
    inner = motion_magnitude(texture, moved, method)[16:-16, 16:-16]
    assert np.median(inner) == pytest.approx(3.0, abs=0.3)
    assert np.median(motion_magnitude(texture, texture, method)) < 0.1
    with pytest.raises(ConfigError, match="flow method"):
        motion_magnitude(texture, moved, "lucas-kanade")
    with pytest.raises(ConfigError, match="flow must be one of"):
        EvidenceConfig(flow="lucas-kanade")


def test_configs_with_different_flows_get_their_own_motion(predictor: FramePredictor) -> None:
    frames = _clip(12, 0)[0]
    dis, farneback = clip_evidence_many(
        predictor, frames, [EvidenceConfig(patch_size=8), EvidenceConfig(patch_size=8, flow="farneback")]
    )
    assert np.allclose(dis.motion, clip_evidence(predictor, frames, EvidenceConfig(patch_size=8)).motion)
    assert np.allclose(farneback.motion,
                       clip_evidence(predictor, frames, EvidenceConfig(patch_size=8, flow="farneback")).motion)
    assert not np.allclose(dis.motion, farneback.motion)
    assert np.array_equal(dis.patch_psnr, farneback.patch_psnr)  # one network pass serves both


def test_a_calibration_file_from_before_dis_keeps_farneback(calibration: AnomalyCalibration, tmp_path: Path) -> None:
    assert calibration.evidence.flow == "dis"
    data = calibration.to_dict()
    assert data["evidence"]["flow"] == "dis"
    del data["evidence"]["flow"]  # files written before the flow was a setting measured with Farneback
    (tmp_path / "old.json").write_text(json.dumps(data))
    assert load_calibration(tmp_path / "old.json").evidence.flow == "farneback"


def test_calibration_json_round_trip(calibration: AnomalyCalibration, tmp_path: Path) -> None:
    path = calibration.save(tmp_path / "calibration.json")
    assert load_calibration(path) == calibration
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(ConfigError, match="not a gansuite anomaly calibration"):
        load_calibration(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="does not exist"):
        load_calibration(tmp_path / "missing.json")


def test_streaming_scorer_takes_opencv_frames_and_refuses_wrong_ranges(predictor: FramePredictor) -> None:
    frames = _clip(8, seed=4)[0]
    rgb = np.repeat(frames, 3, axis=3)
    as_opencv = [np.rint(frame[..., ::-1] * 255).astype(np.uint8) for frame in rgb]  # BGR uint8, as cv2 reads
    as_float = [frame.astype(np.float32) / 255 for frame in as_opencv]  # the same frames as float
    from_uint8 = [s.psnr for s in StreamingAnomalyScorer(predictor).score_stream(as_opencv)]
    from_float = [s.psnr for s in StreamingAnomalyScorer(predictor).score_stream([f[..., ::-1] for f in as_float])]
    np.testing.assert_allclose(from_uint8, from_float, rtol=1e-5)
    assert min(from_uint8) > 20  # not the -43 dB of 0..255 values read as [0, 1]
    with pytest.raises(ConfigError, match=r"float frames must be in \[0, 1\]"):
        StreamingAnomalyScorer(predictor).update(as_opencv[0].astype(np.float32))
    with pytest.raises(ConfigError, match="has dtype int32"):
        StreamingAnomalyScorer(predictor).update(as_opencv[0].astype(np.int32))


def _write_set(root: Path) -> tuple[Path, Path, np.ndarray]:
    normal, test, labels = root / "normal", root / "test", []
    for seed in range(3):
        write_frames(normal / f"{seed + 1:02d}", _clip(24, seed)[0])
    for i, anomaly in enumerate(((12, 20), (4, 10), (14, 24))):
        frames, y = _clip(24, 20 + i, anomaly)
        write_frames(test / f"{i + 1:02d}", frames)
        labels.append(y)
    return normal, test, np.concatenate(labels)[None]


def test_benchmark_reports_offline_and_causal_side_by_side(predictor: FramePredictor, tmp_path: Path) -> None:
    normal, test, labels = _write_set(tmp_path)
    variants = (Variant("whole-frame PSNR", CausalConfig(features=("frame_psnr",), smoothing=1)),
                Variant("patch (default)", CausalConfig(features=("patch_psnr",), smoothing=1)))
    report = run_causal_anomaly_benchmark(test, labels, normal, model=predictor, evidence=_EVIDENCE,
                                          variants=variants, false_alarm_rate=0.05,
                                          calibration_out=tmp_path / "calibration.json")
    patch = report.rows[1]
    assert patch["causal"]["micro_auc"] > 0.95 and patch["offline"]["micro_auc"] > 0.9
    assert patch["detection_rate"] > 0.9 and patch["calibration_false_alarm_rate"] <= 0.05
    assert report.n_frames == 3 * 22 and report.rows[0]["causal"]["macro_clips"] == 3
    assert "Causal micro AUC" in report.to_markdown() and str(normal.resolve()) in report.to_markdown()
    assert load_calibration(tmp_path / "calibration.json").causal.features == ("patch_psnr",)


def test_cli_calibrate_and_monitor_write_lines_video_and_report(tmp_path: Path) -> None:
    normal, test, labels = _write_set(tmp_path)
    model = export_tiny(tmp_path / "gray.safetensors", context=2, channels=1)
    runner = CliRunner()
    result = runner.invoke(main, ["calibrate", str(normal), "--out", str(tmp_path / "cal.json"), "--model", str(model),
                                  "--patch-size", "8", "--false-alarm-rate", "0.05", "--cache", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "cal.json").read_bytes()
    again = runner.invoke(main, ["calibrate", str(normal), "--out", str(tmp_path / "cal.json"), "--model", str(model),
                                 "--false-alarm-rate", "0.2"])
    assert again.exit_code == 1 and "--out" in again.output and "--overwrite" in again.output, again.output
    assert (tmp_path / "cal.json").read_bytes() == written  # refused before any work, file untouched
    assert load_calibration(tmp_path / "cal.json").evidence.flow == "dis"
    farneback = runner.invoke(main, ["calibrate", str(normal), "--out", str(tmp_path / "f.json"), "--model", str(model),
                                     "--patch-size", "8", "--flow", "farneback", "--false-alarm-rate", "0.05"])
    assert farneback.exit_code == 0, farneback.output
    with_farneback = load_calibration(tmp_path / "f.json")
    assert with_farneback.evidence.flow == "farneback"
    assert with_farneback.means["motion"] != load_calibration(tmp_path / "cal.json").means["motion"]
    np.save(tmp_path / "labels.npy", labels)
    args = ["monitor", str(test / "01"), "--calibration", str(tmp_path / "cal.json"), "--model", str(model),
            "--video", str(tmp_path / "out.mkv"), "--report", str(tmp_path / "report"),
            "--labels", str(tmp_path / "labels.npy"), "--fps", "10"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    frames = [line for line in lines if "frame" in line and "event" not in line]
    assert [line["frame"] for line in frames] == list(range(24))
    assert frames[0]["score"] is None and all({"score", "threshold", "alert"} <= set(f) for f in frames)
    starts = [line for line in lines if line.get("event") == "alert_start"]
    ends = [line for line in lines if line.get("event") == "alert_end"]
    assert len(starts) == len(ends)
    assert (tmp_path / "out.mkv").stat().st_size > 0
    for name in ("scores.png", "report.md", "summary.json", "scores.jsonl"):
        assert (tmp_path / "report" / name).is_file()
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["scored"] == 22 and "detection_rate" in summary and summary["realtime_factor"] > 0
    assert "caught" in (tmp_path / "report" / "report.md").read_text()
    result = runner.invoke(main, ["monitor", str(test / "01"), "--calibration", str(tmp_path / "labels.npy"),
                                  "--model", str(model)])
    assert result.exit_code == 1 and "labels.npy is not readable JSON" in result.output


@pytest.mark.slow
def test_shipped_ped2_calibration_alerts_on_the_cyclist_of_test_clip_02(data_dir: Path) -> None:
    """Ped2 test clip 02 (a cyclist from frame 94 on), live, with the calibration made on the training clips."""
    from gansuite.io import iter_video_frames
    from gansuite.tasks.predict.calibration import shipped_calibration_path

    if not shipped_calibration_path("ped2").is_file():
        pytest.skip("this build ships no ped2 calibration")
    ped2 = data_dir / "video" / "ped2"
    labels = np.load(ped2 / "labels" / "frame_labels_ped2.npy").ravel()[180:360]  # clip 01 has 180 frames
    scorer = CalibratedAnomalyScorer(FramePredictor.from_pretrained("ped2", device="cpu"), load_calibration("ped2"))
    scores = list(scorer.score_stream(iter_video_frames(ped2 / "testing" / "02")))
    alerts = np.array([s.alert for s in scores])
    y = labels[[s.frame_index for s in scores]]
    assert alerts[y == 1].mean() > 0.9 and alerts[y == 0].mean() < 0.05  # measured: 97.7% and 0%


def test_monitor_refuses_a_calibration_made_with_other_weights(tmp_path: Path) -> None:
    normal, test, _ = _write_set(tmp_path)
    first = export_tiny(tmp_path / "a.safetensors", context=2, channels=1)
    runner = CliRunner()
    result = runner.invoke(main, ["calibrate", str(normal), "--out", str(tmp_path / "cal.json"), "--model", str(first),
                                  "--patch-size", "8", "--features", "patch_psnr"])
    assert result.exit_code == 0, result.output
    second = export_tiny(tmp_path / "b.safetensors", context=2, channels=1, card={"task": "predict", "note": "b"})
    result = runner.invoke(main, ["monitor", str(test / "01"), "--calibration", str(tmp_path / "cal.json"),
                                  "--model", str(second)])
    assert result.exit_code == 1 and "made with other weights" in result.output


def test_ctrl_c_ends_a_monitor_run_cleanly(predictor: FramePredictor, calibration: AnomalyCalibration,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gansuite.apps.monitor as app

    frames = _clip(12, seed=2, anomaly=(8, 12))[0]

    def camera(source: str, *, max_frames: int | None = None):
        yield from frames
        raise KeyboardInterrupt  # the user stops the camera

    monkeypatch.setattr(app, "capture_frames", camera)
    events: list[dict] = []
    result = app.run_monitor("0", predictor, calibration, video=tmp_path / "out.mkv", fps=10, emit=events.append)
    assert result.frames == 12 and (tmp_path / "out.mkv").stat().st_size > 0
    assert result.events and result.events[-1]["end"] == 11  # the open alert is closed at the last frame
    assert [e["event"] for e in events if "event" in e][-1] == "alert_end"


def test_calibration_on_too_few_frames_for_the_false_alarm_rate_warns(tmp_path: Path) -> None:
    from gansuite.tasks.predict.calibration import CalibrationWarning

    rng = np.random.default_rng(3)
    clips = [FrameEvidence(rng.normal(30, 1, n), rng.normal(20, 2, n), rng.gamma(2.0, 1.0, n)) for n in (24, 48)]
    with pytest.warns(CalibrationWarning, match=r"72 normal frames for a 1\.00% .* at least 1000 normal frames"):
        calibrate(clips, false_alarm_rate=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calibrate(clips, false_alarm_rate=0.2)  # 14.4 frames above the threshold: enough
    normal, _, _ = _write_set(tmp_path)  # 3 clips of 24 frames: 66 scored with k = 2
    model = export_tiny(tmp_path / "gray.safetensors", context=2, channels=1)
    for rate, warned in (("0.01", True), ("0.2", False)):
        result = CliRunner().invoke(main, ["calibrate", str(normal), "--out", str(tmp_path / f"cal{rate}.json"),
                                           "--model", str(model), "--patch-size", "8", "--false-alarm-rate", rate])
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        assert lines == ([
            "warning: calibration on 66 normal frames for a 1.00% false-alarm rate: only 0.7 of them would lie above "
            "the threshold, too few to set it reliably; calibrate on at least 1000 normal frames (or a false-alarm "
            "rate of at least 15.2%)"] if warned else [])


def test_calibrate_never_writes_over_or_into_its_normal_footage(tmp_path: Path) -> None:
    from gansuite.io import write_video

    normal, _, _ = _write_set(tmp_path)
    clip = tmp_path / "normal.mkv"
    write_video(clip, _clip(12, 5)[0], 10.0)
    before = clip.read_bytes()
    model = export_tiny(tmp_path / "gray.safetensors", context=2, channels=1)
    runner = CliRunner()
    cases = [
        ([str(clip), "--out", str(clip), "--overwrite"], f"--out {clip} is the input clip"),
        ([str(normal), "--out", str(normal / "cal.json")], f"--out {normal / 'cal.json'} is inside the input"),
        ([str(normal), "--out", str(tmp_path / "cal.json"), "--cache", str(normal / "cache")],
         f"--cache {normal / 'cache'} is inside the input"),
    ]
    for args, message in cases:
        result = runner.invoke(main, ["calibrate", *args, "--model", str(model), "--patch-size", "8"])
        assert result.exit_code == 1 and message in result.output, result.output
    assert clip.read_bytes() == before and sorted(p.name for p in normal.iterdir()) == ["01", "02", "03"]


_NOT_FINITE = (float("nan"), float("inf"), -float("inf"), True, "2.0")


def test_scorers_refuse_a_threshold_that_is_not_a_finite_number(predictor: FramePredictor,
                                                                calibration: AnomalyCalibration) -> None:
    from gansuite.tasks.predict.calibration import CausalScorer

    for bad in _NOT_FINITE:
        expected = rf"threshold must be a finite number, got {re.escape(repr(bad))}"
        with pytest.raises(ConfigError, match=expected):
            CalibratedAnomalyScorer(predictor, calibration, threshold=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=expected):
            CausalScorer(calibration, threshold=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=expected):
            causal_scores(calibration, clip_evidence(predictor, _clip(6, 1)[0], _EVIDENCE), threshold=bad)
    for good in (2, np.float32(1.5), -0.5):
        assert CalibratedAnomalyScorer(predictor, calibration, threshold=good).threshold == float(good)
    assert CalibratedAnomalyScorer(predictor, calibration).threshold == calibration.threshold
    with pytest.raises(ConfigError, match="the calibration's threshold is NaN"):
        CausalScorer(AnomalyCalibration(**{**calibration.__dict__, "threshold": float("nan")}))


def test_a_calibration_file_with_a_threshold_that_is_not_finite_is_refused(calibration: AnomalyCalibration,
                                                                             tmp_path: Path) -> None:
    for value in ("NaN", "Infinity"):  # what json.dumps writes for them, and json.loads reads back
        text = json.dumps(calibration.to_dict()).replace(f'"threshold": {calibration.threshold!r}',
                                                         f'"threshold": {value}')
        (tmp_path / "cal.json").write_text(text)
        with pytest.raises(ConfigError, match=r"cal\.json: the threshold is (nan|inf), not a finite number"):
            load_calibration(tmp_path / "cal.json")


def test_windows_that_are_not_whole_frame_counts_are_refused_naming_the_argument(predictor: FramePredictor) -> None:
    for bad in (True, 2.5, 3.0, float("nan"), "4", 1, 0, -3):
        with pytest.raises(ConfigError, match=rf"window must be an integer >= 2 frames, got {re.escape(repr(bad))}"):
            StreamingAnomalyScorer(predictor, window=bad)  # type: ignore[arg-type]
    assert StreamingAnomalyScorer(predictor, window=np.int64(5)).window == 5
    for bad in (True, 1.5, float("nan"), "2", 0):
        with pytest.raises(ConfigError, match=rf"smoothing must be an integer >= 1 frames, got {re.escape(repr(bad))}"):
            CausalConfig(smoothing=bad)  # type: ignore[arg-type]
    for bad in (True, 8.0, float("inf"), "8", 1):
        expected = rf"baseline_frames must be an integer >= 2 frames, got {re.escape(repr(bad))}"
        with pytest.raises(ConfigError, match=expected):
            CausalConfig(baseline_frames=bad)  # type: ignore[arg-type]
    numpy_ints = CausalConfig(smoothing=np.int32(3), baseline_frames=np.int64(9))  # type: ignore[arg-type]
    assert numpy_ints == CausalConfig(smoothing=3, baseline_frames=9)
    rng = np.random.default_rng(4)
    clips = [FrameEvidence(rng.normal(30, 1, 200), rng.normal(20, 2, 200), rng.gamma(2.0, 1.0, 200))]
    for bad in (float("nan"), True, "0.01"):
        with pytest.raises(ConfigError, match=rf"false_alarm_rate must be a finite number, got {re.escape(repr(bad))}"):
            calibrate(clips, false_alarm_rate=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_monitor_refuses_a_threshold_that_is_not_finite_before_loading_the_model(tmp_path: Path, value: str) -> None:
    missing = tmp_path / "never-loaded.safetensors"  # loading it would fail with another message
    result = CliRunner().invoke(main, ["monitor", str(tmp_path), "--model", str(missing), f"--threshold={value}"])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: --threshold must be a finite number, got {value}"), lines
    assert "never-loaded" not in result.output


def test_the_calibrated_scorer_refuses_a_calibration_made_with_other_weights(tmp_path: Path) -> None:
    from dataclasses import replace

    from gansuite.bench.manifest import file_sha256

    first = export_tiny(tmp_path / "a.safetensors", context=2, channels=1)
    other = export_tiny(tmp_path / "b.safetensors", context=2, channels=1, card={"task": "predict", "note": "b"})
    renamed = export_tiny(tmp_path / "other" / "a.safetensors", context=2, channels=1,
                          card={"task": "predict", "note": "b"})  # same name, other weights
    rng = np.random.default_rng(5)
    clips = [FrameEvidence(rng.normal(30, 1, 200), rng.normal(20, 2, 200), rng.gamma(2.0, 1.0, 200))]
    made = replace(calibrate(clips, false_alarm_rate=0.05), model="a", extra={"model_sha256": file_sha256(first)})
    CalibratedAnomalyScorer(FramePredictor.from_pretrained(first, device="cpu"), made)  # its own model: fine
    CalibratedAnomalyScorer(FramePredictor(copy_last_model(2, 1), device="cpu"), made)  # a module records no model
    for path, why in ((other, "it was made with model 'a', the predictor is model 'b'"),
                      (renamed, f"it was made with weights of sha256 {file_sha256(first)[:12]}..., the predictor's "
                                f"{renamed} has sha256 {file_sha256(renamed)[:12]}...")):
        with pytest.raises(ConfigError, match=f"made with other weights than the predictor's: {re.escape(why)}"):
            CalibratedAnomalyScorer(FramePredictor.from_pretrained(path, device="cpu"), made)


def test_an_unknown_calibration_name_lists_the_shipped_ones_and_names_no_flag(tmp_path: Path) -> None:
    from gansuite.tasks.predict.calibration import shipped_calibration_names, shipped_calibration_path

    names = shipped_calibration_names()
    assert names == sorted(n for n in ("mmnist", "natural", "ped2") if shipped_calibration_path(n).is_file())
    listed = re.escape(", ".join(names) or "none")
    cases = {
        "natural": rf"shipped model 'natural' comes without a calibration \(shipped ones: {listed}\); make one",
        "no-such-camera": rf"calibration 'no-such-camera' does not exist: it is neither a shipped calibration "
                          rf"\({listed}\) nor an existing file",
        str(tmp_path): "is a folder, not a calibration file",
    }
    for name, expected in cases.items():
        with pytest.raises(ConfigError, match=expected) as caught:
            load_calibration(name)
        assert "--" not in str(caught.value)  # a library message: no command-line flag
    model = export_tiny(tmp_path / "gray.safetensors", context=2, channels=1)
    (tmp_path / "bad.json").write_text("{not json")
    result = CliRunner().invoke(main, ["monitor", str(tmp_path), "--calibration", str(tmp_path / "bad.json"),
                                       "--model", str(model)])
    assert result.exit_code == 1 and f"--calibration: calibration {tmp_path / 'bad.json'} is not readable JSON" in \
        result.output, result.output


@pytest.mark.parametrize("case", ["labels rows", "labels short", "labels offset", "audio-only", "empty folder"])
def test_monitor_checks_labels_and_source_before_the_model_loads_and_leaves_no_report_folder(
    calibration: AnomalyCalibration, tmp_path: Path, case: str
) -> None:
    from _video_helpers import make_audio_only

    normal, _, labels = _write_set(tmp_path)  # 24-frame clips
    source, args = normal / "01", []
    calibration.save(tmp_path / "cal.json")
    if case == "labels rows":  # two clips' labels stacked as rows: never read end to end
        np.save(tmp_path / "labels.npy", labels.reshape(3, 24))
        args, expected = ["--labels", str(tmp_path / "labels.npy")], r"shape \(3, 24\): expected one label per frame"
    elif case == "labels short":
        np.save(tmp_path / "labels.npy", labels[0, :30])
        args = ["--labels", str(tmp_path / "labels.npy"), "--labels-offset", "10"]
        expected = "20 values from --labels-offset 10, but the source has 24 frames"
    elif case == "labels offset":
        np.save(tmp_path / "labels.npy", labels)
        args = ["--labels", str(tmp_path / "labels.npy"), "--labels-offset", "72"]
        expected = r"--labels-offset 72 is past the end of --labels .*labels.npy \(72 values\)"
    elif case == "audio-only":
        source, expected = make_audio_only(tmp_path / "speech.mp4"), "speech.mp4: the file has no video stream"
    else:
        source, expected = tmp_path / "no_frames", "no_frames: folder holds no frame images"
        source.mkdir()
    missing = tmp_path / "never-loaded.safetensors"  # loading it would fail with another message
    result = CliRunner().invoke(main, ["monitor", str(source), "--calibration", str(tmp_path / "cal.json"),
                                       "--model", str(missing), "--report", str(tmp_path / "report"), *args])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and re.search(expected, lines[0]), lines
    assert not (tmp_path / "report").exists()  # checked, not made: a failed run leaves no empty folder


def test_a_monitor_run_whose_labels_run_out_leaves_no_report_folder(tmp_path: Path) -> None:
    """A video file's frame count is known only once read: the labels' shortage is found after the run."""
    from _video_helpers import make_clip

    model = export_tiny(tmp_path / "tiny.safetensors", context=2, channels=3)
    predictor = FramePredictor.from_pretrained(model, device="cpu")
    clips = [clip_evidence(predictor, moving_square(12, 24, 32), _EVIDENCE) for _ in range(2)]
    calibrate(clips, false_alarm_rate=0.05, evidence_config=_EVIDENCE, model=predictor.name).save(tmp_path / "c.json")
    make_clip(tmp_path / "clip.mp4", frames=6, audio=False)
    np.save(tmp_path / "labels.npy", np.zeros(4, np.int64))
    result = CliRunner().invoke(main, ["monitor", str(tmp_path / "clip.mp4"), "--calibration", str(tmp_path / "c.json"),
                                       "--model", str(model), "--quiet", "--report", str(tmp_path / "report"),
                                       "--labels", str(tmp_path / "labels.npy")])
    assert result.exit_code == 1 and "need 0/1 labels for all 6 frames, got 4" in result.output, result.output
    assert not (tmp_path / "report").exists()


def test_calibrate_checks_every_clip_before_scoring_any(tmp_path: Path) -> None:
    from _video_helpers import make_audio_only

    normal, _, _ = _write_set(tmp_path)
    make_audio_only(normal / "speech.mp4")  # a video suffix, no video stream
    missing = tmp_path / "never-loaded.safetensors"
    result = CliRunner().invoke(main, ["calibrate", str(normal), "--out", str(tmp_path / "cal.json"),
                                       "--model", str(missing)])
    assert result.exit_code == 1 and "speech.mp4: the file has no video stream" in result.output, result.output
    assert "never-loaded" not in result.output and len(result.output.strip().splitlines()) == 1
    (normal / "speech.mp4").unlink()
    write_frames(normal / "04", _clip(2, 9)[0])  # 2 frames: nothing to score with 2 context frames
    model = export_tiny(tmp_path / "gray.safetensors", context=2, channels=1)
    result = CliRunner().invoke(main, ["calibrate", str(normal), "--out", str(tmp_path / "cal.json"),
                                       "--model", str(model), "--patch-size", "8"])
    assert result.exit_code == 1 and not (tmp_path / "cal.json").exists(), result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"Error: {normal / '04'}: 2 frames, but gray predicts each frame from the 2 before it, so a clip "
                     "needs at least 3 frames; leave this clip out or give a longer one"], lines  # before any score


def test_monitor_refuses_a_run_that_could_score_no_frame(tmp_path: Path) -> None:
    from _video_helpers import make_clip

    model = export_tiny(tmp_path / "tiny.safetensors", context=2, channels=3)
    predictor = FramePredictor.from_pretrained(model, device="cpu")
    clips = [clip_evidence(predictor, moving_square(12, 24, 32), _EVIDENCE) for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few normal frames for 5% false alarms: not what this test is about
        made = calibrate(clips, false_alarm_rate=0.05, evidence_config=_EVIDENCE, model=predictor.name)
    made.save(tmp_path / "c.json")
    write_frames(tmp_path / "two", moving_square(2, 24, 32))
    make_clip(tmp_path / "two.mp4", frames=2, audio=False)
    base = ["--calibration", str(tmp_path / "c.json"), "--model", str(model), "--quiet"]
    runner = CliRunner()
    result = runner.invoke(main, ["monitor", str(tmp_path / "two"), *base, "--report", str(tmp_path / "r")])
    assert result.exit_code == 1 and "two: 2 frames, but tiny predicts each frame from the 2 before it, so none " \
        "would be scored; give at least 3 frames" in result.output, result.output
    result = runner.invoke(main, ["monitor", str(tmp_path / "two.mp4"), *base, "--max-frames", "2"])
    assert result.exit_code == 1 and "--max-frames 2: tiny predicts each frame from the 2 before it" in result.output
    result = runner.invoke(main, ["monitor", str(tmp_path / "two.mp4"), *base])  # a file's length is known once read
    assert result.exit_code == 0 and "warning: " in result.output and "no frame scored: 2 frames read" in result.output
    assert not (tmp_path / "r").exists()


def test_a_frame_folder_named_like_a_camera_index_is_the_folder(
    calibration: AnomalyCalibration, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gansuite.apps.monitor import probe_source

    normal, _, _ = _write_set(tmp_path)  # folders 01, 02, 03 as in Ped2
    monkeypatch.chdir(normal)
    assert probe_source("01").frames == 24  # was: camera 1
    calibration.save(tmp_path / "cal.json")
    missing = tmp_path / "never-loaded.safetensors"
    result = CliRunner().invoke(main, ["monitor", "99", "--calibration", str(tmp_path / "cal.json"),
                                       "--model", str(missing), "--report", str(tmp_path / "report")])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: camera 99 cannot be opened") and "never-loaded" not in \
        lines[0] and "check that the camera is connected" in lines[0], lines  # before the model loads
    assert not (tmp_path / "report").exists()
