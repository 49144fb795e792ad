"""`gansuite benchmark predict` on a tiny synthetic MNIST IDX file and a synthetic clip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _predict_helpers import (
    export_tiny,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
    write_clip_folder,
    write_clip_video,
    write_mnist,
)
from click.testing import CliRunner

from gansuite.bench.predict import run_predict_benchmark
from gansuite.cli import main
from gansuite.errors import ConfigError


@pytest.fixture(scope="module")
def mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mnist(tmp_path_factory.mktemp("mnist"))


def test_moving_mnist_and_clip_tables(mnist: Path, tmp_path: Path) -> None:
    gan = export_tiny(tmp_path / "tiny-gan.safetensors", context=10, channels=1)
    mse = export_tiny(tmp_path / "tiny-mse.safetensors", context=10, channels=1)
    clip = write_clip_video(tmp_path / "clip.mkv", frames=16, height=32, width=40)
    out_json, out_md = tmp_path / "predict.json", tmp_path / "predict.md"
    args = ["benchmark", "predict", "--model", str(gan), "--model", str(mse), "--mnist", str(mnist),
            "--sequences", "4", "--clips", str(clip), "--future", "2", "--stride", "4", "--no-lpips",
            "--json", str(out_json), "--markdown", str(out_md)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out_json.read_text())
    rows = report["results"]
    mnist_rows = [r for r in rows if r["dataset"] == "moving-mnist"]
    assert {r["method"] for r in mnist_rows} == {"copy-last", "flow-extrapolation", "tiny-gan", "tiny-mse"}
    assert [r["step"] for r in mnist_rows if r["method"] == "copy-last"] == list(range(1, 11))
    assert all(r["count"] == 4 for r in mnist_rows)
    first = mnist_rows[0]
    assert first["frame_mse"] == pytest.approx(first["mse"] * 64 * 64)  # OpenSTL's MSE: summed over a frame
    clip_rows = [r for r in rows if r["dataset"] == "clip"]
    assert len(clip_rows) == 4 * 2 and clip_rows[0]["count"] == 2  # windows of 10 + 2 start at 0 and 4
    assert report["manifest"]["protocol"]["mnist"]["sequences"] == 4
    assert set(report["manifest"]["models"]) == {"tiny-gan", "tiny-mse"}
    table = out_md.read_text()
    assert "ConvLSTM MSE 29.8 / SSIM 0.929" in table and "| copy-last |" in table and "t+10" in table
    assert "| flow-extrapolation |" in table


def test_nothing_to_benchmark_is_an_error(mnist: Path) -> None:
    with pytest.raises(ConfigError, match="nothing to benchmark"):
        run_predict_benchmark([])
    result = CliRunner().invoke(main, ["benchmark", "predict", "--mnist", str(mnist), "--sequences", "2",
                                       "--model", "no-such-model"])
    assert result.exit_code == 1 and "neither a shipped name" in result.output


def test_an_exact_prediction_scores_the_psnr_ceiling_not_infinity() -> None:
    import torch

    from gansuite.metrics.video import PSNR_CEILING, per_horizon_scores
    from gansuite.tasks.predict.evaluation import HorizonAccumulator

    torch.manual_seed(0)
    target = torch.rand(2, 2, 1, 16, 16)
    prediction = target.clone()
    prediction[1, 1] = (prediction[1, 1] + 0.1).clamp(0, 1)  # window 1 misses step 2; step 1 is exact
    scores = HorizonAccumulator(2)
    scores.add("m", prediction, target)
    step1, step2 = scores.results("m")
    assert step1.psnr == pytest.approx(PSNR_CEILING)
    assert 20.0 < step2.psnr < PSNR_CEILING  # the mean of a capped exact frame and a ~21 dB one
    assert per_horizon_scores(prediction, target)[0].psnr == pytest.approx(PSNR_CEILING)


def test_several_clips_add_window_weighted_pooled_rows(tmp_path: Path) -> None:
    model = export_tiny(tmp_path / "tiny.safetensors", context=2, channels=3)
    (tmp_path / "clips").mkdir()
    write_clip_video(tmp_path / "clips" / "a.mkv", frames=16, height=32, width=40)
    write_clip_video(tmp_path / "clips" / "b.mkv", frames=8, height=32, width=40)
    report = run_predict_benchmark([model], clips=[tmp_path / "clips"], future=2, stride=2, device="cpu")
    rows = {(r.dataset, r.method, r.step): r for r in report.rows}
    a, b, pooled = (rows[(d, "copy-last", 1)] for d in ("a", "b", "all clips"))
    assert (a.count, b.count, pooled.count) == (7, 3, 10)
    assert pooled.psnr == pytest.approx((7 * a.psnr + 3 * b.psnr) / 10)
    assert rows[("all clips", "tiny", 2)].count == 10


def test_a_clip_too_short_for_a_window_is_refused_before_anything_is_scored(
    mnist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gansuite.bench.predict._score_batch", lambda *a: pytest.fail("a window was scored first"))
    long_clip = write_clip_video(tmp_path / "long.mkv", frames=12, height=32, width=40)
    short_folder = write_clip_folder(tmp_path / "short", frames=5, height=32, width=40)
    with pytest.raises(ConfigError, match=r"--clips .*short: 5 frames, but a window of 4 context \+ 2 future frames "
                       r"needs 6; lower --future"):
        run_predict_benchmark([], mnist=mnist, sequences=2, clips=[long_clip, short_folder], future=2, device="cpu")
    short_video = write_clip_video(tmp_path / "short.mkv", frames=5, height=32, width=40)
    model = export_tiny(tmp_path / "six.safetensors", context=6, channels=3)
    with pytest.raises(ConfigError, match=r"short\.mkv: 5 frames, but a window of 6 context \(--model six's\)"):
        run_predict_benchmark([model], clips=[long_clip, short_video], future=1, device="cpu")
