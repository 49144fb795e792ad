"""Training the upscale head: run directory contents, resuming, the CLI, crops, LR making, degradations."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _upscale_helpers import one_thread, write_images
from click.testing import CliRunner
from safetensors.torch import load_file

from gansuite.cli import main
from gansuite.core.checkpoint import load_weights
from gansuite.core.sampling import SeededIndex
from gansuite.errors import ConfigError
from gansuite.tasks.upscale import UpscaleRecipe, get_recipe, train_upscale
from gansuite.tasks.upscale.data import HighResCrops
from gansuite.tasks.upscale.degradations import bicubic_degradation, realistic_degradation
from gansuite.tasks.upscale.head import UpscaleHead
from gansuite.tasks.upscale.realistic import RealisticDegradationConfig
from gansuite.tasks.upscale.training import _save_samples
from gansuite.tasks.upscale.upscaler import Upscaler


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hr")
    write_images(folder, 3, 64)
    return folder


def _small_recipe() -> UpscaleRecipe:
    recipe = get_recipe("x4-psnr")
    trainer = recipe.trainer.replace(
        checkpoint_every=2, sample_every=2, validate_every=2, log_every=1, tensorboard=False
    )
    return dataclasses.replace(recipe, patch_size=32, trainer=trainer)


def _train(images: Path, out: Path, **overrides: object) -> object:
    settings = {"steps": 3, "batch_size": 2, "device": "cpu", "progress": False, **overrides}
    return train_upscale(_small_recipe(), data=[images], out=out, **settings)  # type: ignore[arg-type]


def _log(run: Path, kind: str) -> list[dict]:
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    return [r for r in records if r["kind"] == kind]


# ---------------------------------------------------------------------------- training runs


def test_a_run_leaves_config_log_checkpoints_samples_and_the_exported_generator(tmp_path: Path, images: Path) -> None:
    run = tmp_path / "run"
    result = _train(images, run, val={"tiny": images})

    assert result.final_step == 3 and [s.step for s in result.history] == [1, 2, 3]
    assert all(np.isfinite(s.generator_loss) and not s.skipped for s in result.history)
    config = json.loads((run / "config.json").read_text())
    assert config["recipe"] == "x4-psnr" and config["patch_size"] == 32
    assert config["trainer"]["steps"] == 3 and config["trainer"]["batch_size"] == 2
    assert [r["step"] for r in _log(run, "train")] == [1, 2, 3]
    assert [r["step"] for r in _log(run, "validation")] == [2, 3]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_00000002.pt", "step_00000003.pt"]
    (sample,) = (run / "samples").glob("*.png")
    assert sample.name == "step_00000002.png" and cv2.imread(str(sample)) is not None

    card = json.loads((run / "generator_ema.json").read_text())
    assert card["steps"] == 3 and card["planned_steps"] == 3 and card["recipe"] == "x4-psnr"
    assert card["scale"] == 4 and card["batch_size"] == 2 and card["patch_size"] == 32
    assert card["hardware"].startswith("CPU") and card["training_seconds"] >= 0
    assert card["spec"]["name"] == "compact" and set(card["validation"]) == {"tiny_psnr_y"}
    assert result.validation == card["validation"]

    # the exported EMA generator rebuilds alone and upscales
    generator = load_weights(run / "generator_ema.safetensors")
    assert generator.card["steps"] == 3
    out = Upscaler.from_pretrained(run / "generator_ema.safetensors", device="cpu")(torch.rand(3, 8, 6))
    assert out.image.color.shape == (32, 24, 3)


def test_until_stops_at_a_checkpoint_and_a_rerun_continues_exactly(tmp_path: Path, images: Path) -> None:
    first = _train(images, tmp_path / "chunks", steps=4, until=2)
    assert first.final_step == 2
    first_card = json.loads((tmp_path / "chunks" / "generator_ema.json").read_text())
    assert first_card["steps"] == 2
    second = _train(images, tmp_path / "chunks", steps=4)
    assert second.final_step == 4 and [s.step for s in second.history] == [3, 4]
    assert [r["step"] for r in _log(tmp_path / "chunks", "train")] == [1, 2, 3, 4]
    card = json.loads((tmp_path / "chunks" / "generator_ema.json").read_text())
    assert card["steps"] == 4 and card["planned_steps"] == 4
    assert card["training_seconds"] > first_card["training_seconds"]  # the chunks' wall times add up

    # two chunks train exactly what one uninterrupted run does
    whole = _train(images, tmp_path / "whole", steps=4)
    assert [s.generator_loss for s in whole.history[2:]] == [s.generator_loss for s in second.history]
    chunked = load_file(str(tmp_path / "chunks" / "generator_ema.safetensors"))
    straight = load_file(str(tmp_path / "whole" / "generator_ema.safetensors"))
    for name, value in straight.items():
        torch.testing.assert_close(chunked[name], value, atol=0, rtol=0, msg=name)


def test_x2_starts_from_the_x4_body_and_only_its_upsampler_is_fresh(tmp_path: Path, images: Path) -> None:
    _train(images, tmp_path / "x4", steps=2)
    x4_weights = tmp_path / "x4" / "generator_ema.safetensors"
    recipe = get_recipe("x2-psnr")
    assert recipe.init_transfer and recipe.init_from == "x4"
    small = dataclasses.replace(recipe, patch_size=32, trainer=recipe.trainer.replace(tensorboard=False))
    # lr 0 keeps the weights where the transfer put them
    small = dataclasses.replace(small, trainer=small.trainer.replace(generator_lr=0.0, ema_decay=0.0))
    train_upscale(small, data=[images], out=tmp_path / "x2", init=x4_weights, steps=1, batch_size=2, progress=False)

    config = json.loads((tmp_path / "x2" / "config.json").read_text())
    fresh = config["init_fresh_tensors"]
    assert fresh and all(name.startswith("body.") for name in fresh)
    x4 = load_file(str(x4_weights))
    x2 = load_file(str(tmp_path / "x2" / "generator_ema.safetensors"))
    for name, value in x2.items():
        if name in fresh:
            assert value.shape != x4[name].shape, name
        else:
            torch.testing.assert_close(value, x4[name], atol=0, rtol=0, msg=name)


def test_transfer_refuses_another_architecture(tmp_path: Path) -> None:
    from gansuite.core.checkpoint import export_weights, load_transferable_weights
    from gansuite.core.networks import NetworkSpec, build_network
    from gansuite.errors import CheckpointError

    srresnet = build_network(NetworkSpec("generator", "srresnet", {"scale": 4, "channels": 8, "num_blocks": 1}))
    path = export_weights(tmp_path / "srresnet.safetensors", srresnet)
    compact = build_network(get_recipe("x2-psnr").generator)
    with pytest.raises(CheckpointError, match="transfer needs the same architecture"):
        load_transferable_weights(compact, path)


def test_cli_trains_a_shipped_recipe(tmp_path: Path) -> None:
    write_images(tmp_path / "hr", 2, 100)  # the x4-psnr recipe crops 96 px
    run = tmp_path / "run"
    args = ["train", "upscale", "--recipe", "x4-psnr", "--data", str(tmp_path / "hr"), "--out", str(run)]
    result = CliRunner().invoke(main, [*args, "--steps", "2", "--batch-size", "2", "--device", "cpu",
                                       "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"step": 2, "validation": {}, "run_dir": str(run)}
    assert json.loads((run / "config.json").read_text())["trainer"]["precision"] == "fp32"
    assert (run / "checkpoints" / "step_00000002.pt").is_file()
    assert json.loads((run / "generator_ema.json").read_text())["steps"] == 2


def test_cli_training_errors_are_one_line(tmp_path: Path) -> None:
    write_images(tmp_path / "small", 1, 40)
    base = ["train", "upscale", "--out", str(tmp_path / "run"), "--steps", "1", "--device", "cpu"]
    result = CliRunner().invoke(main, [*base, "--recipe", "x4-psnr", "--data", str(tmp_path / "small")])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "no training image is at least 96x96 pixels" in result.output
    write_images(tmp_path / "hr", 1, 100)
    result = CliRunner().invoke(main, [*base, "--recipe", "x4-psnr", "--data", str(tmp_path / "hr"),
                                       "--precision", "fp16"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "precision fp16 needs CUDA" in result.output
    assert not (tmp_path / "run" / "checkpoints").exists()
    result = CliRunner().invoke(main, [*base, "--recipe", "x4-psnr", "--data", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "--data" in result.output
    result = CliRunner().invoke(main, [*base, "--recipe", "x5", "--data", str(tmp_path / "small")])
    assert result.exit_code == 2 and "--recipe" in result.output


class _ElsewhereGenerator(torch.nn.Module):
    """Stands in for a generator on another device (CUDA) on a CPU-only machine: its parameter
    lives on the "meta" device, and it refuses inputs that are not moved there."""

    def __init__(self) -> None:
        super().__init__()
        self.marker = torch.nn.Parameter(torch.empty(0, device="meta"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.device == self.marker.device, f"input on {x.device}, generator on {self.marker.device}"
        return torch.zeros(x.shape[0], 3, x.shape[2] * 4, x.shape[3] * 4)


def test_samples_run_the_generator_on_its_own_device(tmp_path: Path) -> None:
    # the trainer gives the samples hook the batch as the head made it, on the CPU
    sample = UpscaleHead(scale=4).prepare(torch.randint(0, 256, (2, 16, 16, 3), dtype=torch.uint8))
    _save_samples(_ElsewhereGenerator(), sample, 7, tmp_path)
    grid = cv2.imread(str(tmp_path / "samples" / "step_00000007.png"))
    assert grid is not None and grid.shape[1] > 3 * 16  # LR | output | HR side by side


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_with_samples_and_validation_on_cuda(tmp_path: Path, images: Path) -> None:
    result = _train(images, tmp_path / "run", device="cuda", val={"tiny": images})
    assert result.final_step == 3 and (tmp_path / "run" / "samples" / "step_00000002.png").is_file()


# ---------------------------------------------------------------------------- crops


def _dihedral(array: np.ndarray) -> list[np.ndarray]:
    return [np.rot90(flipped, k) for flipped in (array, array[:, ::-1]) for k in range(4)]


def test_crops_are_flipped_or_rotated_windows_of_the_images(tmp_path: Path) -> None:
    (path,) = write_images(tmp_path, 1, 48)
    image = cv2.imread(str(path))[:, :, ::-1]  # RGB
    crops = HighResCrops([tmp_path], patch_size=16, items_per_epoch=7)
    assert len(crops) == 7
    for seed in range(6):
        crop = crops[SeededIndex(seed % 7, seed)]
        assert crop.shape == (16, 16, 3) and crop.dtype == torch.uint8
        windows = {
            np.ascontiguousarray(image[top : top + 16, left : left + 16]).tobytes()
            for top in range(33)
            for left in range(33)
        }
        assert any(np.ascontiguousarray(t).tobytes() in windows for t in _dihedral(crop.numpy()))


def test_the_same_seeded_index_gives_the_same_crop(images: Path) -> None:
    crops = HighResCrops([images], patch_size=32)
    assert torch.equal(crops[SeededIndex(3, 1234)], crops[SeededIndex(3, 1234)])
    assert torch.equal(crops[5], crops[5])  # a plain index seeds itself
    assert len({crops[SeededIndex(3, seed)].numpy().tobytes() for seed in range(8)}) > 1


def test_images_smaller_than_the_patch_are_skipped(tmp_path: Path) -> None:
    write_images(tmp_path, 1, 64, prefix="large")
    write_images(tmp_path, 1, 20, prefix="small")
    assert [im.shape for im in HighResCrops([tmp_path], patch_size=32).images] == [(64, 64, 3)]
    # scale augmentation adds downscaled copies, kept only while they are large enough
    augmented = HighResCrops([tmp_path], patch_size=32, scale_augment=(0.5, 0.25))
    assert [im.shape for im in augmented.images] == [(64, 64, 3), (32, 32, 3)]


def test_no_large_enough_image_is_a_config_error(tmp_path: Path) -> None:
    write_images(tmp_path / "small", 2, 20)
    with pytest.raises(ConfigError, match="no training image is at least 32x32 pixels"):
        HighResCrops([tmp_path / "small"], patch_size=32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no images"):
        HighResCrops([tmp_path / "empty"], patch_size=32)


# ---------------------------------------------------------------------------- LR making


@pytest.mark.parametrize("scale", [2, 4])
def test_head_makes_8_bit_lr_of_a_scale_th_the_size(scale: int) -> None:
    batch = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    head = UpscaleHead(scale=scale)
    sample = head.prepare(batch)
    assert sample.target.shape == (2, 3, 32, 32)
    torch.testing.assert_close(sample.target, batch.permute(0, 3, 1, 2).float() / 255)
    low = sample.inputs
    assert low.shape == (2, 3, 32 // scale, 32 // scale) and low.dtype == torch.float32
    assert low.min() >= 0 and low.max() <= 1
    torch.testing.assert_close(low * 255, (low * 255).round(), atol=1e-4, rtol=0)  # 8-bit levels
    generator = torch.nn.Conv2d(3, 3 * scale * scale, 3, padding=1)
    assert head.generate(torch.nn.Sequential(generator, torch.nn.PixelShuffle(scale)), sample).shape == (2, 3, 32, 32)


def test_head_realistic_lr_is_repeatable_for_the_same_batch() -> None:
    batch = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    head = UpscaleHead(scale=4, degradation="realistic", seed=3)
    first, second = head.prepare(batch), head.prepare(batch)
    assert first.inputs.shape == (2, 3, 8, 8)
    torch.testing.assert_close(first.inputs, second.inputs, atol=0, rtol=0)  # a resumed run sees the same LR
    with pytest.raises(ConfigError, match=r"degradation 'blurry' is not one of \['bicubic', 'realistic'\]"):
        UpscaleHead(scale=4, degradation="blurry")


@pytest.mark.parametrize(("size", "scale"), [(64, 4), (48, 2), (30, 4)])
def test_realistic_degradation_size_and_range(size: int, scale: int) -> None:
    high = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(size))
    low = realistic_degradation(high, scale, np.random.default_rng(0))
    assert low.shape == (2, 3, size // scale, size // scale)
    assert low.min() >= 0 and low.max() <= 1 and torch.isfinite(low).all()
    torch.testing.assert_close(low * 255, (low * 255).round(), atol=1e-4, rtol=0)
    again = realistic_degradation(high, scale, np.random.default_rng(0))
    torch.testing.assert_close(low, again, atol=0, rtol=0)
    # it degrades more than a clean bicubic downscale does
    assert not torch.equal(low, bicubic_degradation(high, scale))


def test_a_realistic_run_records_its_degradation_parameters(tmp_path: Path, images: Path) -> None:
    plain = RealisticDegradationConfig(sharpen_target=False)
    recipe = dataclasses.replace(_small_recipe(), degradation="realistic", realistic=plain)
    train_upscale(recipe, data=[images], out=tmp_path / "run", steps=1, batch_size=2, device="cpu", progress=False)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    card = json.loads((tmp_path / "run" / "generator_ema.json").read_text())
    for record in (config["realistic_degradation"], card["realistic_degradation"]):
        assert record["sharpen_target"] is False and record["first"]["jpeg_range"] == [30, 95]
