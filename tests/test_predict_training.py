"""Recipes run end to end for a few steps with tiny networks: run directory, card, export, CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from _predict_helpers import (
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
    write_clip_folder,
    write_clip_video,
    write_mnist,
)
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.core.checkpoint import load_weights
from gansuite.core.networks import NetworkSpec
from gansuite.core.trainer import Sample
from gansuite.errors import ConfigError
from gansuite.tasks.predict import FramePredictor, PredictRecipe, get_recipe, train_predict
from gansuite.tasks.predict.recipes import mse_twin, predictor_spec

_QUIET = {"progress": False, "tensorboard": False, "log_every": 1, "checkpoint_every": 2, "sample_every": 2,
          "validate_every": 0, "ema_decay": 0.5, "batch_size": 2}


def _tiny(name: str, **changes: object) -> PredictRecipe:
    """The shipped recipe `name` with a 4-channel generator and discriminator and 16x16 frames."""
    recipe = get_recipe(name)
    generator = predictor_spec(context_frames=recipe.context_frames, channels=recipe.channels, base_channels=4, depth=2)
    discriminator = None
    if recipe.discriminator is not None:
        discriminator = NetworkSpec("discriminator", "patchgan", {**recipe.discriminator.kwargs, "base_channels": 4})
    return dataclasses.replace(
        recipe, generator=generator, discriminator=discriminator, trainer=recipe.trainer.replace(**_QUIET),
        frame_size=(16, 16) if recipe.frame_size else None, crop_size=16 if recipe.crop_size else None, **changes,
    )


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("train_clips")
    write_clip_folder(root / "01", frames=8)
    write_clip_video(root / "02.mkv", frames=8)
    return root


def test_gan_recipe_runs_and_exports(clips: Path, tmp_path: Path) -> None:
    recipe = _tiny("ped2")
    result = train_predict(recipe, data=[clips], val=[clips / "01"], out=tmp_path, steps=3, device="cpu")
    assert result.final_step == 3
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    assert [r["step"] for r in train] == [1, 2, 3] and train[0]["discriminator_loss"] is not None
    validation = [r for r in records if r["kind"] == "validation"][-1]
    assert {"psnr_step1", "copy_last_psnr_step1"} <= set(validation)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["recipe"] == "ped2" and config["frame_size"] == [16, 16]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_00000002.pt", "step_00000003.pt"]
    assert (tmp_path / "samples" / "step_00000002.png").is_file()
    card = json.loads((tmp_path / "generator_ema.json").read_text())
    assert card["recipe"] == "ped2" and card["steps"] == 3 and card["frame_size"] == [16, 16]
    model = load_weights(tmp_path / "generator_ema.safetensors")
    assert (model.context_frames, model.channels) == (4, 1)
    predictor = FramePredictor.from_pretrained(tmp_path / "generator_ema.safetensors")
    assert predictor.working_size == (16, 16)  # from the card


def test_mse_recipe_runs_without_a_discriminator(clips: Path, tmp_path: Path) -> None:
    recipe = _tiny("natural-unet-mse", rollout=2)
    result = train_predict(recipe, data=[clips], out=tmp_path, steps=2, device="cpu")
    assert result.final_step == 2
    assert all(step.discriminator_loss != step.discriminator_loss for step in result.history)  # NaN: no D
    card = json.loads((tmp_path / "generator_ema.json").read_text())
    assert card["adversarial_loss"] == "none" and card["max_short_side"] == 256
    # resuming a finished run trains no further and keeps the export
    again = train_predict(recipe, data=[clips], out=tmp_path, steps=2, device="cpu")
    assert again.final_step == 2 and again.history == []


def test_cli_train_predict_mmnist_recipe(tmp_path: Path) -> None:
    mnist = write_mnist(tmp_path / "mnist")
    out = tmp_path / "run"
    args = ["train", "predict", "--recipe", "mmnist-mse", "--data", str(mnist), "--out", str(out),
            "--steps", "1", "--batch-size", "1", "--device", "cpu"]
    result = CliRunner().invoke(main, [*args, "--precision", "fp32"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["step"] == 1 and Path(summary["weights"]).is_file()
    assert json.loads((out / "config.json").read_text())["trainer"]["precision"] == "fp32"
    refused = CliRunner().invoke(main, [*args, "--precision", "bf16", "--out", str(tmp_path / "bf16")])
    assert refused.exit_code == 1 and "precision bf16 needs CUDA" in refused.output


def test_cli_train_predict_rejects_bad_data(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["train", "predict", "--recipe", "ped2", "--data", str(empty),
                                       "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "holds no clip" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_clip_too_short_is_left_out_with_a_warning_and_a_bad_val_fails_before_any_network(
    clips: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gansuite.tasks.predict.training as training

    data = tmp_path / "data"
    write_clip_folder(data / "long", frames=8)
    write_clip_folder(data / "short", frames=3)  # under ped2's 4 context + 1 frames
    lines: list[str] = []
    result = train_predict(_tiny("ped2-mse"), data=[data], out=tmp_path / "run", steps=1, device="cpu",
                           on_warning=lines.append)
    assert result.final_step == 1
    assert lines == ["--data: left out 1 of 2 clips with fewer than 5 frames: short (3 frames of 16x16)"]
    built: list[object] = []
    monkeypatch.setattr(training, "build_network", lambda spec: built.append(spec))  # must not be reached
    with pytest.raises(ConfigError, match=r"no clip in .*short has 5 frames \(4 context \+ 1 future\)"):
        train_predict(_tiny("ped2-mse"), data=[clips], val=[data / "short"], out=tmp_path / "run2", steps=1,
                      device="cpu")
    assert built == [] and not (tmp_path / "run2").exists()


def test_cli_export_adds_card_fields_to_the_recorded_ones(clips: Path, tmp_path: Path) -> None:
    from gansuite.core.checkpoint import read_weights_metadata

    train_predict(_tiny("ped2"), data=[clips], out=tmp_path / "run", steps=2, device="cpu")
    checkpoint = tmp_path / "run" / "checkpoints" / "step_00000002.pt"
    extra = tmp_path / "card.json"
    extra.write_text(json.dumps({"name": "ped2", "metrics": {"auc": 0.5}}))
    out = tmp_path / "w.safetensors"
    result = CliRunner().invoke(main, ["train", "export", str(checkpoint), "-o", str(out), "--card", str(extra)])
    assert result.exit_code == 0, result.output
    _, card = read_weights_metadata(out)
    assert card["metrics"] == {"auc": 0.5} and card["name"] == "ped2"
    assert card["recipe"] == "ped2" and card["steps"] == 2 and card["frame_size"] == [16, 16]  # recorded
    assert json.loads(out.with_suffix(".json").read_text())["metrics"] == {"auc": 0.5}
    assert FramePredictor.from_pretrained(out).working_size == (16, 16)

    extra.write_text("[1, 2]")
    bad = CliRunner().invoke(main, ["train", "export", str(checkpoint), "-o", str(tmp_path / "x.safetensors"),
                                    "--card", str(extra)])
    assert bad.exit_code != 0 and "not a JSON object" in bad.output
    assert not (tmp_path / "x.safetensors").exists()


def test_samples_feed_the_generator_on_its_own_device(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the trainer hands the samples hook the batch on the CPU; the generator may sit on CUDA
    import torch

    import gansuite.tasks.predict.training as training

    seen: list[torch.device] = []

    def spy(generator, inputs, steps, channels, clamp=False):
        seen.append(inputs.device)
        return torch.zeros(inputs.shape[0], steps * channels, *inputs.shape[2:])

    class Elsewhere(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.marker = torch.nn.Parameter(torch.empty(0, device="meta"))

    monkeypatch.setattr(training, "rollout", spy)
    head = training.PredictHead(context_frames=2, rollout=2, channels=1)
    sample = Sample(inputs=torch.rand(3, 2, 8, 8), target=torch.rand(3, 2, 8, 8))
    training._sample_writer(head)(Elsewhere(), sample, 5, tmp_path)
    assert seen == [torch.device("meta")]
    assert (tmp_path / "samples" / "step_00000005.png").is_file()


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["ped2", "natural"])
def test_training_with_samples_and_validation_on_cuda(name: str, clips: Path, tmp_path: Path) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    recipe = _tiny(name)
    losses = tuple(c for c in recipe.trainer.content_losses if c.name != "perceptual")  # no VGG weights needed
    recipe = dataclasses.replace(recipe, trainer=recipe.trainer.replace(content_losses=losses))
    result = train_predict(recipe, data=[clips], val=[clips / "01"], out=tmp_path, steps=3, device="cuda")
    assert result.final_step == 3 and (tmp_path / "samples" / "step_00000002.png").is_file()
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert any(r["kind"] == "validation" for r in records)


def test_with_rollout_resizes_the_discriminator_and_the_cli_trains_with_it(tmp_path: Path) -> None:
    natural = get_recipe("natural")
    one = natural.with_rollout(1)
    assert one.rollout == 1 and one.discriminator.kwargs["in_channels"] == 3 == natural.discriminator.kwargs[
        "in_channels"] // 2
    assert one.discriminator.kwargs["condition_channels"] == natural.discriminator.kwargs["condition_channels"]
    assert mse_twin(natural).with_rollout(3).discriminator is None and mse_twin(natural).with_rollout(3).rollout == 3
    with pytest.raises(ConfigError, match="rollout must be >= 1"):
        natural.with_rollout(0)
    mnist = write_mnist(tmp_path / "mnist")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "predict", "--recipe", "mmnist-mse", "--data", str(mnist), "--out",
                                       str(out), "--steps", "1", "--batch-size", "1", "--device", "cpu",
                                       "--rollout", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "generator_ema.json").read_text())["rollout"] == 1 != get_recipe("mmnist-mse").rollout
