"""`benchmark video-sr`: the warping error against closed forms, and a run on a tiny generated clip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _upscale_helpers import export_tiny
from click.testing import CliRunner

from gansuite.bench.video_sr import run_video_sr_benchmark, warping_error
from gansuite.cli import main
from gansuite.errors import ConfigError
from gansuite.io.video import write_video
from gansuite.tasks.upscale.temporal import flow_remap


def texture(height: int = 64, width: int = 80, seed: int = 0) -> np.ndarray:
    """A smooth random texture (H, W, 3) in [0.1, 0.9]: blurred noise that optical flow can follow."""
    import cv2

    noise = np.random.default_rng(seed).random((height, width, 3)).astype(np.float32)
    return 0.1 + 0.8 * cv2.GaussianBlur(noise, (0, 0), 3) / cv2.GaussianBlur(noise, (0, 0), 3).max()


def gray8(frame: np.ndarray) -> np.ndarray:
    return (frame.mean(axis=2) * 255).astype(np.uint8)


def test_warping_error_of_a_static_scene_is_the_frame_difference() -> None:
    base = texture()
    delta = 0.05
    frames = [np.clip(base + (delta if t % 2 else 0.0), 0, 1) for t in range(4)]  # flickering brightness
    flows = [flow_remap(gray8(base), gray8(base)) for _ in range(3)]  # the scene does not move
    assert all(mask.all() for _, _, mask in flows)
    assert warping_error(frames, flows) == pytest.approx(3 * delta**2, rel=1e-4)  # sum over RGB of delta²
    assert warping_error([base] * 4, flows) == 0.0


def test_warping_error_follows_motion() -> None:
    base = texture(seed=1)
    frames = [np.roll(base, shift=2 * t, axis=1) for t in range(4)]  # moves 2 px right per frame
    flows = [flow_remap(gray8(frames[t - 1]), gray8(frames[t])) for t in range(1, 4)]
    steady = warping_error(frames, flows)
    noisy = [f + np.random.default_rng(t).normal(0, 0.03, f.shape).astype(np.float32) for t, f in enumerate(frames)]
    assert steady < 2e-4  # the warp undoes the motion
    assert warping_error(noisy, flows) > 10 * steady  # independent per-frame noise is flicker


def test_run_on_a_tiny_clip(tmp_path: Path) -> None:
    frames = np.stack([np.roll(texture(48, 64, seed=2), shift=t, axis=1) for t in range(5)])
    clip = write_video(tmp_path / "pan.mkv", frames, 10)  # lossless
    model = export_tiny(tmp_path / "tiny_x2.safetensors", "compact", 2)
    import gansuite.bench.gansuite_models  # noqa: F401  (resolves gansuite weights files)

    report = run_video_sr_benchmark(["bicubic", str(model)], [clip], scale=2, max_frames=4, max_short_side=48,
                                    device="cpu", temporal_blend=0.5)
    names = [row.method for row in report.rows]
    assert names == ["bicubic", "tiny_x2", "tiny_x2+blend"]
    bicubic, tiny, blended = report.rows
    assert bicubic.frames == 4 and bicubic.psnr_y > 25 and bicubic.lpips is None
    assert bicubic.ground_truth_warp_error == tiny.ground_truth_warp_error < 1e-3
    assert blended.warp_error < tiny.warp_error  # the blend steadies the output
    assert 0 < bicubic.error_warp_error < bicubic.warp_error + bicubic.ground_truth_warp_error
    assert report.manifest["models"]["tiny_x2"]["sha256"]
    assert "| pan.mkv | bicubic | 4 |" in report.to_markdown() and "E_warp of the error" in report.to_markdown()
    assert json.loads(report.to_json())["rows"][0]["method"] == "bicubic"


def test_a_still_flat_clip_gives_finite_psnr_and_strict_json(tmp_path: Path) -> None:
    frames = np.full((3, 32, 32, 3), 0.4, np.float32)  # bicubic reproduces every frame exactly
    clip = write_video(tmp_path / "still.mkv", frames, 10)
    report = run_video_sr_benchmark(["bicubic"], [clip], scale=2, max_frames=3, max_short_side=32, device="cpu")
    assert report.rows[0].psnr_y == 100.0  # capped, as the protocol says, not inf
    data = json.loads(report.to_json(), parse_constant=lambda constant: pytest.fail(f"{constant} in the JSON"))
    assert "capped at 100 dB" in data["manifest"]["protocol"]["psnr"]


def test_a_one_frame_clip_is_refused_before_any_method_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gansuite.bench.video_sr.resolve_method", lambda *a: pytest.fail("a method was resolved first"))
    good = write_video(tmp_path / "good.mkv", np.stack([texture(32, 32, seed=t) for t in range(3)]), 10)
    single = tmp_path / "single"
    single.mkdir()
    import cv2

    cv2.imwrite(str(single / "000.png"), np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ConfigError, match=r"--clip .*single: 1 frame, but measuring flicker needs 2"):
        run_video_sr_benchmark(["bicubic"], [good, single], scale=2, max_short_side=32, device="cpu")


def test_cli(tmp_path: Path) -> None:
    frames = np.stack([np.roll(texture(32, 48, seed=3), shift=t, axis=0) for t in range(3)])
    clip = write_video(tmp_path / "tilt.mkv", frames, 10)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["benchmark", "video-sr", "--method", "bicubic", "--clip", str(clip), "--scale",
                                       "2", "--max-short-side", "32", "--no-lpips", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["rows"][0]["frames"] == 3
    bad = CliRunner().invoke(main, ["benchmark", "video-sr", "--method", "bicubic", "--clip", str(clip),
                                    "--max-short-side", "16"])
    assert bad.exit_code != 0 and "--max-short-side" in bad.output
