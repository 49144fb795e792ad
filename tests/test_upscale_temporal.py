"""`TemporalBlend`: flow-guided blending against flicker, and `upscale --temporal-blend` on a clip."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
from _upscale_helpers import export_tiny, tiny_generator
from _video_helpers import make_clip
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.errors import ConfigError
from gansuite.io.video import read_video
from gansuite.tasks.upscale.temporal import TemporalBlend, flow_remap, gray8
from gansuite.tasks.upscale.upscaler import Upscaler
from gansuite.tasks.upscale.video import upscale_video


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth random RGB texture in [0.1, 0.9] that optical flow can follow."""
    noise = np.random.default_rng(seed).random((height, width, 3)).astype(np.float32)
    blurred = cv2.GaussianBlur(noise, (0, 0), 2.5)
    blurred = (blurred - blurred.min()) / (blurred.max() - blurred.min())
    return (0.1 + 0.8 * blurred).astype(np.float32)


def downscale(frame: np.ndarray) -> np.ndarray:
    return cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)


def test_first_frame_unchanged_and_flicker_on_a_still_scene_is_damped() -> None:
    scene = texture(96, 128)
    rng = np.random.default_rng(1)
    outputs = [np.clip(scene + rng.normal(0, 0.03, scene.shape), 0, 1).astype(np.float32) for _ in range(12)]
    blend = TemporalBlend(0.5)
    blended = [blend(downscale(scene), out) for out in outputs]
    np.testing.assert_array_equal(blended[0], outputs[0])
    raw_change = np.mean([np.abs(b - a).mean() for a, b in itertools.pairwise(outputs[4:])])
    new_change = np.mean([np.abs(b - a).mean() for a, b in itertools.pairwise(blended[4:])])
    # a = 0.5 along a still scene: frame-to-frame noise of the recursive average is sqrt(1/3) of the raw one
    assert new_change < 0.75 * raw_change
    inner = (slice(8, -8), slice(8, -8))
    assert np.abs(blended[-1] - scene)[inner].mean() < 0.8 * np.abs(outputs[-1] - scene)[inner].mean()


def test_blend_follows_motion_instead_of_ghosting() -> None:
    wide = texture(96, 200, seed=2)
    frames = [np.ascontiguousarray(wide[:, 4 * t : 4 * t + 128]) for t in range(6)]  # a 4 px/frame pan
    blend = TemporalBlend(0.5)
    blended = [blend(downscale(frame), frame) for frame in frames]
    inner = (slice(8, -8), slice(8, -24))
    warped_error = np.abs(blended[-1] - frames[-1])[inner].mean()
    naive_error = np.abs(0.5 * frames[-1] + 0.5 * frames[-2] - frames[-1])[inner].mean()  # blending without flow
    assert warped_error < 0.3 * naive_error


def test_scene_cut_passes_the_new_frame_through() -> None:
    first, second = texture(96, 128, seed=3), texture(96, 128, seed=4)
    blend = TemporalBlend(0.5)
    blend(downscale(first), first)
    after_cut = blend(downscale(second), second)
    assert np.abs(after_cut - second).mean() < 0.25 * np.abs(0.5 * first + 0.5 * second - second).mean()
    _, _, mask = flow_remap(gray8(first), gray8(second))
    assert mask.mean() < 0.5  # the flows of unrelated frames disagree


@pytest.mark.parametrize("strength", [0, 1, -0.2, 1.5, True, "0.5"])
def test_strength_outside_the_open_interval_is_refused(strength: object) -> None:
    with pytest.raises(ConfigError, match="`temporal_blend` must be in"):
        TemporalBlend(strength)  # type: ignore[arg-type]


def test_size_change_mid_clip_is_refused() -> None:
    blend = TemporalBlend(0.5)
    blend(np.zeros((8, 8, 3), np.float32), np.zeros((16, 16, 3), np.float32))
    with pytest.raises(ConfigError, match="frame size changed"):
        blend(np.zeros((8, 9, 3), np.float32), np.zeros((16, 18, 3), np.float32))


def test_upscale_video_with_temporal_blend_equals_blending_the_frames(tmp_path: Path) -> None:
    source = tmp_path / "clip.mkv"
    make_clip(source, frames=5, width=32, height=24, codec="ffv1", audio=False)
    upscaler = Upscaler(tiny_generator("compact", 2, seed=5), device="cpu", tile=0)
    plain = upscale_video(upscaler, source, tmp_path / "plain.mkv", codec="ffv1").output
    smooth = upscale_video(upscaler, source, tmp_path / "smooth.mkv", codec="ffv1", temporal_blend=0.5).output
    decoded = read_video(source).frames
    blend = TemporalBlend(0.5)
    expected = np.stack([blend(low, high) for low, high in zip(decoded, read_video(plain).frames, strict=True)])
    got = read_video(smooth).frames
    np.testing.assert_allclose(got, expected, atol=1.5 / 255)  # ffv1 is lossless up to RGB↔YUV rounding
    assert np.abs(got[1:] - read_video(plain).frames[1:]).mean() > 1e-3  # it did blend


def test_cli_temporal_blend_option(tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    make_clip(source, frames=4, width=32, height=24)
    model = export_tiny(tmp_path / "tiny.safetensors", scale=2)
    runner = CliRunner()
    result = runner.invoke(main, ["upscale", str(source), "--model", str(model), "--device", "cpu",
                                  "--temporal-blend", "0.5", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert read_video(tmp_path / "out" / "clip_x2.mp4").frames.shape == (4, 48, 64, 3)
    refused = runner.invoke(main, ["upscale", str(source), "--model", str(model), "--temporal-blend", "1"])
    assert refused.exit_code == 2 and "--temporal-blend" in refused.output
