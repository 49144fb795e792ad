"""Synthetic motion over still images, the seeded concatenation, and training on stills."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _predict_helpers import (
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
    write_clip_folder,
)
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.core.sampling import SeededConcat, SeededIndex
from gansuite.errors import ConfigError
from gansuite.tasks.predict import get_recipe, train_predict
from gansuite.tasks.predict.recipes import predictor_spec
from gansuite.tasks.predict.synthetic import MotionRanges, SyntheticMotion
from gansuite.tasks.predict.training import build_dataset

_STILL = MotionRanges(max_pan=0.0, max_zoom=0.0, max_rotation=0.0, max_layers=0)


@pytest.fixture(scope="module")
def stills(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three textured 8-bit images of different sizes, one of them gray, one in a sub-folder."""
    root = tmp_path_factory.mktemp("stills")
    rng = np.random.default_rng(0)
    (root / "sub").mkdir()
    for name, shape in (("a.png", (48, 64, 3)), ("b.jpg", (40, 40, 3)), ("sub/c.png", (56, 44))):
        noise = rng.random(shape).astype(np.float32)
        smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
        image = np.clip((smooth - smooth.min()) / (np.ptp(smooth) + 1e-6) * 255, 0, 255).astype(np.uint8)
        cv2.imwrite(str(root / name), image)
    return root


def test_items_have_the_clip_layout_and_range(stills: Path) -> None:
    data = SyntheticMotion([stills], num_frames=5, size=24)
    assert len(data) == 3 * 50 and data.channels == 3
    clip = data[SeededIndex(4, 7)]
    assert clip.shape == (5, 3, 24, 24) and clip.dtype == torch.float32
    assert float(clip.min()) >= 0.0 and float(clip.max()) <= 1.0
    gray = SyntheticMotion([stills], num_frames=3, size=16, grayscale=True, length=10)
    assert gray[0].shape == (3, 1, 16, 16) and len(gray) == 10


def test_items_are_determined_by_the_seeded_index(stills: Path) -> None:
    data = SyntheticMotion([stills], num_frames=4, size=20)
    assert torch.equal(data[SeededIndex(1, 123)], data[SeededIndex(1, 123)])
    assert not torch.equal(data[SeededIndex(1, 123)], data[SeededIndex(1, 124)])


def test_no_motion_gives_identical_frames_and_a_pan_moves_them(stills: Path) -> None:
    still = SyntheticMotion([stills], num_frames=4, size=20, motion=_STILL)[SeededIndex(0, 3)]
    assert torch.equal(still[0], still[3])
    panning = SyntheticMotion(
        [stills], num_frames=4, size=20, motion=dataclasses.replace(_STILL, max_pan=3.0)
    )
    moved = [float((clip[3] - clip[0]).abs().mean()) for clip in (panning[SeededIndex(0, s)] for s in range(8))]
    assert max(moved) > 0.01


def test_a_pure_pan_shifts_the_view_by_whole_pixels(stills: Path) -> None:
    """Frame t+1 of a pan is frame t shifted: the shifted copy matches better than the unshifted one."""
    data = SyntheticMotion([stills], num_frames=3, size=24, motion=dataclasses.replace(_STILL, max_pan=2.5))
    clip = data[SeededIndex(0, 11)][:, 0].numpy()
    best = min(
        ((dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)),
        key=lambda d: np.abs(np.roll(clip[0], (-d[0], -d[1]), (0, 1))[4:-4, 4:-4] - clip[1][4:-4, 4:-4]).mean(),
    )
    assert best != (0, 0)


def test_shake_moves_every_frame_by_a_different_bounded_offset(stills: Path) -> None:
    """With shake only, consecutive frames differ by shifts that change from frame to frame (not a constant pan)."""
    data = SyntheticMotion([stills], num_frames=5, size=24, motion=dataclasses.replace(_STILL, max_shake=2.0))

    def shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        (dx, dy), _ = cv2.phaseCorrelate(a.astype(np.float64), b.astype(np.float64))
        return dx, dy

    steps = []
    for seed in range(6):
        clip = data[SeededIndex(0, seed)][:, 0].numpy()
        steps.append([shift(clip[t], clip[t + 1]) for t in range(4)])
    offsets = np.array(steps)  # (clips, 4 steps, 2)
    assert np.abs(offsets).max() <= 4.0 + 0.5  # the difference of two offsets of at most 2 output pixels each
    assert np.abs(np.diff(offsets, axis=1)).max() > 0.3  # the step changes: not predictable from the last one
    assert torch.equal(data[SeededIndex(0, 1)], data[SeededIndex(0, 1)])


def test_layers_move_over_a_still_background(stills: Path) -> None:
    data = SyntheticMotion([stills], num_frames=3, size=24, motion=dataclasses.replace(_STILL, max_layers=2))
    background = SyntheticMotion([stills], num_frames=3, size=24, motion=_STILL)
    changed = []
    for seed in range(12):
        clip = data[SeededIndex(0, seed)]
        changed.append(float((clip[2] - clip[0]).abs().amax()))
    assert max(changed) > 0.05  # some clips draw at least one moving layer
    assert torch.equal(background[SeededIndex(0, 5)][0], background[SeededIndex(0, 5)][2])


def test_bad_settings_are_config_errors(stills: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="num_frames >= 2"):
        SyntheticMotion([stills], num_frames=1, size=16)
    with pytest.raises(ConfigError, match="holds no images"):
        SyntheticMotion([tmp_path], num_frames=3, size=16)
    with pytest.raises(ConfigError, match="motion ranges"):
        MotionRanges(max_pan=-1.0)


def test_seeded_concat_routes_indices_and_seeds() -> None:
    class Echo:
        def __init__(self, name: str, n: int) -> None:
            self.name, self.n = name, n

        def __len__(self) -> int:
            return self.n

        def __getitem__(self, key: SeededIndex | int) -> tuple:
            return (self.name, key)

    joined = SeededConcat([Echo("a", 2), Echo("empty", 0), Echo("b", 3)])
    assert len(joined) == 5
    assert joined[SeededIndex(1, 9)] == ("a", SeededIndex(1, 9))
    assert joined[SeededIndex(2, 9)] == ("b", SeededIndex(0, 9))
    assert joined[4] == ("b", 2)
    with pytest.raises(IndexError):
        joined[5]
    with pytest.raises(ConfigError, match="empty"):
        SeededConcat([Echo("empty", 0)])


def _tiny_natural(name: str = "natural-unet-mse"):
    recipe = get_recipe(name)
    quiet = {"progress": False, "tensorboard": False, "log_every": 1, "checkpoint_every": 0, "sample_every": 0,
             "validate_every": 0, "batch_size": 2}
    return dataclasses.replace(
        recipe,
        generator=predictor_spec(context_frames=4, channels=3, base_channels=4, depth=2),
        trainer=recipe.trainer.replace(**quiet),
        crop_size=16,
    )


def test_stills_make_up_the_recipe_share_of_training_items(stills: Path, tmp_path: Path) -> None:
    write_clip_folder(tmp_path / "clip", frames=10, height=24, width=32)
    recipe = _tiny_natural()
    clips_only = build_dataset(recipe, [tmp_path / "clip"])
    mixed = build_dataset(recipe, [tmp_path / "clip"], stills=[stills])
    assert recipe.stills_share == 0.5 and len(mixed) == 2 * len(clips_only)
    assert mixed[SeededIndex(len(mixed) - 1, 0)].shape == clips_only[0].shape == (6, 3, 16, 16)
    with pytest.raises(ConfigError, match="does not train on still images"):
        build_dataset(get_recipe("ped2"), [tmp_path / "clip"], stills=[stills])


def test_training_on_stills_records_them_in_the_card(stills: Path, tmp_path: Path) -> None:
    write_clip_folder(tmp_path / "clip", frames=10, height=24, width=32)
    train_predict(_tiny_natural(), data=[tmp_path / "clip"], stills=[stills], out=tmp_path / "run", steps=2,
                  device="cpu")
    card = json.loads((tmp_path / "run" / "generator_ema.json").read_text())
    assert card["stills"] == [stills.name] and card["stills_share"] == 0.5 and card["data"] == ["clip"]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    expected = dataclasses.asdict(_tiny_natural().motion or MotionRanges())
    assert card["synthetic_motion"] == config["synthetic_motion"] == expected and "max_shake" in expected


def test_cli_rejects_stills_for_a_recipe_without_them(stills: Path, tmp_path: Path) -> None:
    write_clip_folder(tmp_path / "clip", frames=10)
    result = CliRunner().invoke(main, ["train", "predict", "--recipe", "ped2", "--data", str(tmp_path / "clip"),
                                       "--stills", str(stills), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "does not train on still images" in result.output and len(result.output.strip().splitlines()) == 1


def test_brightness_changes_scale_the_frames_and_acceleration_changes_the_pan(stills: Path) -> None:
    still = SyntheticMotion([stills], num_frames=4, size=20, motion=_STILL)
    lit = SyntheticMotion(
        [stills], num_frames=4, size=20, motion=dataclasses.replace(_STILL, max_brightness_change=0.2)
    )
    ratios = []
    for seed in range(4):
        clip = lit[SeededIndex(0, seed)]
        assert torch.allclose(clip[0], still[SeededIndex(0, seed)][0], atol=1e-6)  # frame 0 keeps its brightness
        ratios.append(float(clip[3].mean() / clip[0].mean()))
    assert max(abs(r - 1.0) for r in ratios) > 0.05
    steady = SyntheticMotion([stills], num_frames=5, size=24, motion=dataclasses.replace(_STILL, max_pan=2.0))
    speeding = SyntheticMotion(
        [stills], num_frames=5, size=24, motion=dataclasses.replace(_STILL, max_pan=2.0, max_acceleration=1.5)
    )
    changed = [not torch.allclose(steady[SeededIndex(0, s)][4], speeding[SeededIndex(0, s)][4]) for s in range(4)]
    assert any(changed)


def test_scaling_layers_grow_or_shrink(stills: Path) -> None:
    motion = dataclasses.replace(_STILL, max_layers=1, max_layer_zoom=0.3, max_layer_speed=0.0)
    data = SyntheticMotion([stills], num_frames=4, size=32, motion=motion)
    fixed = SyntheticMotion([stills], num_frames=4, size=32, motion=dataclasses.replace(motion, max_layer_zoom=0.0))
    differs = [not torch.allclose(data[SeededIndex(0, s)][3], fixed[SeededIndex(0, s)][3]) for s in range(6)]
    assert any(differs)
    with pytest.raises(ConfigError, match="motion ranges"):
        MotionRanges(max_layer_zoom=0.6)
