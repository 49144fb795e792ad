"""Distillation of a teacher SR model: the teacher-pairs shards, their dataset and head, the recipe."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from _upscale_helpers import one_thread, tiny_spec, write_images
from click.testing import CliRunner
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn

from gansuite.cli import main
from gansuite.core.run_card import WEIGHTS_NAME
from gansuite.core.sampling import SeededIndex
from gansuite.errors import ConfigError
from gansuite.io.folders import list_images
from gansuite.tasks.upscale import distill, get_recipe, train_upscale
from gansuite.tasks.upscale.distill import DistillHead, TeacherPairs, split_holdout, write_teacher_pairs


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    with one_thread():
        yield


class _Nearest(nn.Module):
    """A stand-in teacher whose output is known exactly: nearest-neighbour x4."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(x, scale_factor=4, mode="nearest")


@pytest.fixture()
def nearest_teacher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distill, "load_teacher", lambda path, scale: _Nearest())


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hr")
    write_images(folder, 4, 64)
    return folder


def _shard(images: Path, out: Path, seed: int = 0, count: int = 6) -> Path:
    return write_teacher_pairs("teacher.safetensors", [images], out, count=count, patch_size=32, seed=seed,
                               holdout_every=0, batch_size=3, save_every=1)


def _nearest(low_res: torch.Tensor) -> torch.Tensor:
    """(h, w, 3) uint8 → (4h, 4w, 3) by repeating pixels."""
    return low_res.repeat_interleave(4, 0).repeat_interleave(4, 1)


def test_shard_holds_the_teacher_output_of_each_lr_crop_and_is_seeded(
    images: Path, tmp_path: Path, nearest_teacher: None
) -> None:
    first = load_file(str(_shard(images, tmp_path / "a.safetensors")))
    assert first["low_res"].shape == (6, 8, 8, 3)
    assert first["teacher"].shape == first["high_res"].shape == (6, 32, 32, 3)
    assert all(t.dtype == torch.uint8 for t in first.values())
    for low, taught in zip(first["low_res"], first["teacher"], strict=True):
        assert torch.equal(taught, _nearest(low))  # the teacher ran on exactly this LR crop
    # the LR is a realistic degradation of the HR crop, not the crop itself
    assert not torch.equal(first["teacher"], first["high_res"])
    assert all(torch.equal(first[k], v) for k, v in load_file(str(_shard(images, tmp_path / "b.safetensors"))).items())
    other = load_file(str(_shard(images, tmp_path / "c.safetensors", seed=1)))
    assert not torch.equal(first["high_res"], other["high_res"])
    with safe_open(str(tmp_path / "a.safetensors"), "pt") as f:
        meta = f.metadata()
    assert meta["seed"] == "0" and meta["teacher"] == "teacher.safetensors" and "blur" in meta["realistic_degradation"]


def test_holdout_leaves_out_every_nth_image(images: Path) -> None:
    files = list_images(images)
    kept, held = split_holdout(files, 2)
    assert held == files[0::2] and kept == files[1::2]
    assert split_holdout(files, 0) == (files, [])
    with pytest.raises(ConfigError):
        split_holdout(files, -1)


def test_pairs_get_the_same_flip_and_rotation(images: Path, tmp_path: Path, nearest_teacher: None) -> None:
    pairs = TeacherPairs([_shard(images, tmp_path / "a.safetensors")])
    assert len(pairs) == 6
    changed = 0
    for seed in range(12):
        item = pairs[SeededIndex(seed % 6, seed)]
        assert torch.equal(item["teacher"], _nearest(item["low_res"]))  # still aligned after augmenting
        changed += not torch.equal(item["high_res"], pairs.tensors["high_res"][seed % 6])
    assert changed  # some draws flip or rotate


def test_head_mixes_teacher_and_high_res() -> None:
    batch = {
        "low_res": torch.full((2, 4, 4, 3), 51, dtype=torch.uint8),
        "teacher": torch.full((2, 16, 16, 3), 255, dtype=torch.uint8),
        "high_res": torch.zeros((2, 16, 16, 3), dtype=torch.uint8),
    }
    sample = DistillHead(teacher_weight=0.25).prepare(batch)
    assert sample.inputs.shape == (2, 3, 4, 4) and torch.allclose(sample.inputs, torch.full_like(sample.inputs, 0.2))
    assert sample.target.shape == (2, 3, 16, 16) and torch.allclose(sample.target, torch.full_like(sample.target, 0.25))
    with pytest.raises(ConfigError):
        DistillHead(teacher_weight=1.5)


def test_shard_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(2)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ConfigError, match="not a teacher-pairs shard"):
        TeacherPairs([tmp_path / "model.safetensors"])


def _distill_recipe() -> object:
    recipe = get_recipe("x4-real-distill")
    trainer = recipe.trainer.replace(checkpoint_every=0, sample_every=0, validate_every=0, log_every=1,
                                     tensorboard=False, warmup_steps=0)
    return dataclasses.replace(recipe, generator=tiny_spec("compact", 4), init_from=None, trainer=trainer)


def test_distill_recipe_learns_the_teacher(images: Path, tmp_path: Path, nearest_teacher: None) -> None:
    shard = _shard(images, tmp_path / "a.safetensors", count=12)
    with pytest.raises(ConfigError, match="teacher-pairs shards"):
        train_upscale(_distill_recipe(), data=[images], out=tmp_path / "bad", steps=1, device="cpu", progress=False)
    result = train_upscale(_distill_recipe(), data=[shard], out=tmp_path / "run", steps=30, batch_size=4,
                           device="cpu", progress=False)
    losses = [h.generator_loss for h in result.history]
    assert sum(losses[-5:]) < sum(losses[:5])  # the L1 to the teacher's outputs goes down
    card = json.loads((tmp_path / "run" / WEIGHTS_NAME).with_suffix(".json").read_text())
    assert card["teacher_weight"] == 1.0 and card["data"] == ["a.safetensors"]


def test_cli_writes_a_shard_and_never_overwrites(tmp_path: Path, nearest_teacher: None) -> None:
    write_images(tmp_path / "big", 2, 128)
    out = tmp_path / "pairs.safetensors"
    teacher = list_images(tmp_path / "big")[0]  # any existing file: the stand-in teacher ignores it
    args = ["train", "teacher-pairs", "--teacher", str(teacher), "--data", str(tmp_path / "big"),
            "--out", str(out), "--count", "3", "--holdout-every", "0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert load_file(str(out))["low_res"].shape[0] == 12  # one whole batch
    again = CliRunner().invoke(main, args)
    assert again.exit_code != 0 and "exists" in again.output


def test_teacher_that_is_not_a_model_is_refused_naming_the_flag(tmp_path: Path) -> None:
    from gansuite.errors import CheckpointError

    garbage = tmp_path / "teacher.safetensors"
    garbage.write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match=r"teacher\.safetensors"):
        distill.load_teacher(garbage, 4)
