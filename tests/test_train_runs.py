"""Training runs you can trust, through `gansuite train`: reproducible fresh runs, --checkpoint-every,
resume refusing changed settings (--force-resume), the run-folder lock and a full disk, each one line.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _predict_helpers import write_clip_folder
from _upscale_helpers import one_thread, write_images
from click.testing import CliRunner
from safetensors.torch import load_file

from gansuite.cli import main
from gansuite.core.networks import NetworkSpec
from gansuite.core.run_folder import LOCK_NAME
from gansuite.tasks.predict import get_recipe as get_predict_recipe
from gansuite.tasks.predict import train_predict
from gansuite.tasks.predict.recipes import predictor_spec


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hr")
    write_images(folder, 2, 100)  # the x4-psnr recipe crops 96 px
    return folder


def _train(images: Path, run: Path, *extra: str) -> object:
    args = ["train", "upscale", "--recipe", "x4-psnr", "--data", str(images), "--out", str(run), "--device", "cpu"]
    return CliRunner().invoke(main, [*args, "--batch-size", "2", *extra])


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def test_two_identical_train_commands_give_identical_weights(images: Path, tmp_path: Path) -> None:
    first = _train(images, tmp_path / "a", "--steps", "2")
    torch.rand(17)  # whatever the process did before, a fresh run starts from its seed
    second = _train(images, tmp_path / "b", "--steps", "2")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    a = _weights(tmp_path / "a" / "generator_ema.safetensors")
    b = _weights(tmp_path / "b" / "generator_ema.safetensors")
    assert a.keys() == b.keys()
    for name, value in a.items():
        assert torch.equal(value, b[name]), f"{name} differs between two identical runs"


def test_checkpoint_every_on_the_command_line(images: Path, tmp_path: Path) -> None:
    result = _train(images, tmp_path / "run", "--steps", "3", "--checkpoint-every", "2")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert names == ["step_00000002.pt", "step_00000003.pt"]  # the period, then the end of the run


def test_resume_refuses_changed_settings_unless_forced(images: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert _train(images, run, "--steps", "4", "--until", "2").exit_code == 0
    # the same command (and runtime options such as --workers) resumes
    same = _train(images, run, "--steps", "4", "--until", "3", "--workers", "0")
    assert same.exit_code == 0, same.output
    assert json.loads(same.stdout)["step"] == 3

    changed = _train(images, run, "--steps", "4", "--batch-size", "3")
    assert changed.exit_code == 1
    assert len(changed.output.strip().splitlines()) == 1
    assert "batch_size (--batch-size) changed: was 2, now 3" in changed.output and "--force-resume" in changed.output

    forced = _train(images, run, "--steps", "4", "--batch-size", "3", "--force-resume")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["step"] == 4


def test_resume_refuses_other_data(images: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert _train(images, run, "--steps", "4", "--until", "2").exit_code == 0
    other = tmp_path / "other"
    write_images(other, 3, 100)
    result = CliRunner().invoke(main, [
        "train", "upscale", "--recipe", "x4-psnr", "--data", str(other), "--out", str(run), "--device", "cpu",
        "--batch-size", "2", "--steps", "4",
    ])
    assert result.exit_code == 1 and "data (--data) changed" in result.output


def test_a_running_trainer_keeps_a_second_one_out(images: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / LOCK_NAME).write_text(json.dumps({"pid": sleeper.pid, "host": os.uname().nodename}))
        result = _train(images, run, "--steps", "1")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert f"in use by another trainer (PID {sleeper.pid}" in result.output
    # once that process is gone, its lock is stale and the next run takes the folder
    assert _train(images, run, "--steps", "1").exit_code == 0
    assert not (run / LOCK_NAME).exists()


def test_a_full_disk_during_training_is_one_line(images: Path, tmp_path: Path, monkeypatch) -> None:
    def full_disk(obj, f, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    result = _train(images, tmp_path / "run", "--steps", "1")
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("Error: disk full:") and "step_00000001.pt" in result.output


def test_an_unwritable_run_folder_is_refused_before_the_data_is_read(
    images: Path, tmp_path: Path, monkeypatch
) -> None:
    real_open = os.open

    def read_only(path, flags, *args):  # a read-only mount: root writes anywhere else
        if Path(path).parent == tmp_path and flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    monkeypatch.setattr("gansuite.tasks.upscale.training.HighResCrops", lambda *a, **k: pytest.fail("data read first"))
    result = _train(images, tmp_path / "run", "--steps", "1")
    assert result.exit_code == 1 and "internal error" not in result.output
    assert f"output folder {tmp_path / 'run'} (it would be made inside {tmp_path}) is not writable" in result.output
    assert "choose another --out" in result.output
    assert not (tmp_path / "run").exists()


def test_init_with_a_training_checkpoint_names_the_export_command(images: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "step_00000003.pt"
    torch.save({"step": 3, "generator": {}, "optimizer_g": {}}, checkpoint)
    result = _train(images, tmp_path / "run", "--steps", "1", "--init", str(checkpoint))
    assert result.exit_code == 1 and "internal error" not in result.output
    assert "is a PyTorch (torch.save) file, not gansuite .safetensors weights" in result.output
    assert f"gansuite train export {checkpoint} -o step_00000003.safetensors" in result.output
    assert not (tmp_path / "run").exists()


def test_a_fresh_predict_run_is_reproducible_from_its_seed(tmp_path: Path) -> None:
    write_clip_folder(tmp_path / "clips" / "01", frames=8)
    recipe = get_predict_recipe("natural-mse")
    recipe = dataclasses.replace(
        recipe,
        generator=predictor_spec(context_frames=recipe.context_frames, channels=recipe.channels, base_channels=4,
                                 depth=2),
        discriminator=None if recipe.discriminator is None else NetworkSpec(
            "discriminator", "patchgan", {**recipe.discriminator.kwargs, "base_channels": 4}),
        trainer=recipe.trainer.replace(progress=False, tensorboard=False, sample_every=0, validate_every=0),
        rollout=2,
        crop_size=16 if recipe.crop_size else None,
        frame_size=(16, 16) if recipe.frame_size else None,
    )
    runs = []
    for name in ("a", "b"):
        train_predict(recipe, data=[tmp_path / "clips"], out=tmp_path / name, steps=1, batch_size=1, device="cpu")
        runs.append(_weights(tmp_path / name / "generator_ema.safetensors"))
        torch.rand(5)
    for key, value in runs[0].items():
        assert torch.equal(value, runs[1][key]), key
