"""The trainer: exact resume, atomic checkpoints, the non-finite guard, EMA, schedules, warm-up."""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import pytest
import torch
from _toy_helpers import toy_config, toy_dataset, toy_trainer

from gansuite.core.checkpoint import load_checkpoint, save_checkpoint
from gansuite.core.config import TrainerConfig, learning_rate_factor
from gansuite.core.ema import ExponentialMovingAverage
from gansuite.core.trainer import Sample
from gansuite.errors import CheckpointError, ConfigError, NonFiniteLossError
from gansuite.tasks.toy.demo import ToyHead


def _losses(result) -> list[tuple[float, float]]:
    return [(s.discriminator_loss, s.generator_loss) for s in result.history]


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path: Path) -> None:
    dataset = toy_dataset()
    full = toy_trainer(tmp_path / "full", toy_config()).fit(dataset)

    first = toy_trainer(tmp_path / "split", toy_config()).fit(dataset, until=5)  # not on a checkpoint period
    resumed_trainer = toy_trainer(tmp_path / "split", toy_config())
    second = resumed_trainer.fit(dataset, resume="auto")

    assert _losses(first) + _losses(second) == _losses(full)
    assert second.history[0].step == 6 and second.final_step == 12
    final = torch.load(tmp_path / "full" / "checkpoints" / "step_00000012.pt", weights_only=True)
    for key, value in final["generator"].items():
        assert torch.equal(value, resumed_trainer.generator.state_dict()[key])


def test_run_directory_holds_config_log_and_checkpoints(tmp_path: Path) -> None:
    toy_trainer(tmp_path, toy_config(keep_checkpoints=1)).fit(toy_dataset())
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["trainer"]["steps"] == 12
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 13))
    assert {"discriminator_loss", "generator_loss", "lr_factor"} <= set(records[0])
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step_00000012.pt"]
    payload = load_checkpoint(tmp_path / "checkpoints" / "step_00000012.pt")
    assert {"generator", "discriminator", "ema", "optimizer_g", "optimizer_d", "scaler_g", "rng"} <= set(payload)
    assert TrainerConfig.from_dict(json.loads(payload["config"])) == toy_config(keep_checkpoints=1)


def test_a_crash_while_saving_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"step": 1, "w": torch.ones(3)})

    real_save = torch.save

    def crashing_save(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        if hasattr(f, "truncate"):  # half-written file, then the process "dies"
            f.flush()
            f.truncate(10)
        else:
            with open(f, "r+b") as handle:
                handle.truncate(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"step": 2, "w": torch.zeros(3)})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left behind


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_checkpoints_never_unpickle_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"step": 1, "x": Exploit()}))
    with pytest.raises(CheckpointError, match="could not be read"):
        load_checkpoint(evil)
    assert not marker.exists()


def test_truncated_or_foreign_checkpoints_fail_clearly(tmp_path: Path) -> None:
    truncated = tmp_path / "t.pt"
    save_checkpoint(truncated, {"step": 3, "w": torch.ones(100)})
    truncated.write_bytes(truncated.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="could not be read"):
        load_checkpoint(truncated)
    foreign = tmp_path / "f.pt"
    torch.save({"weights": torch.ones(1)}, foreign)
    with pytest.raises(CheckpointError, match="not a gansuite training checkpoint"):
        load_checkpoint(foreign)


def test_a_file_of_another_kind_as_checkpoint_is_named_for_what_it_is(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    weights = tmp_path / "w.safetensors"
    save_file({"w": torch.ones(2)}, str(weights))
    for path, what in (
        (photo, r"a torch.save file starts with a zip or pickle header, this one with b'\\x89PNG"),
        (empty, r"the file is empty \(0 bytes\)"),
        (weights, r"it is a \.safetensors file \(model weights\); a run's checkpoints are the step_\*\.pt files"),
    ):
        expected = rf"^checkpoint {re.escape(str(path))} is not a training checkpoint: {what}"
        with pytest.raises(CheckpointError, match=expected) as caught:
            load_checkpoint(path)
        assert "pickled" not in str(caught.value)  # nothing here is a pickle


class _NaNHead(ToyHead):
    """Returns NaN outputs for the first `bad_calls` generator calls."""

    def __init__(self, bad_calls: int) -> None:
        self.bad_calls = bad_calls

    def generate(self, generator, sample: Sample) -> torch.Tensor:
        out = generator(sample.inputs)
        if self.bad_calls > 0:
            self.bad_calls -= 1
            return out * float("nan")
        return out


def test_non_finite_steps_are_skipped_without_touching_weights(tmp_path: Path) -> None:
    trainer = toy_trainer(tmp_path, toy_config(steps=1, r1_gamma=0.0), head=_NaNHead(bad_calls=10))
    before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    result = trainer.fit(toy_dataset())
    assert result.history[0].skipped
    after = trainer.generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert trainer.nonfinite_streak == 1


def test_non_finite_guard_stops_after_n_in_a_row(tmp_path: Path) -> None:
    trainer = toy_trainer(tmp_path, toy_config(max_nonfinite_steps=3, r1_gamma=0.0), head=_NaNHead(bad_calls=100))
    with pytest.raises(NonFiniteLossError, match="non-finite for 3 steps in a row"):
        trainer.fit(toy_dataset())


def test_non_finite_streak_resets_after_a_good_step(tmp_path: Path) -> None:
    # G step then D step: the first step's two generator calls are NaN, later ones fine
    trainer = toy_trainer(tmp_path, toy_config(steps=4, max_nonfinite_steps=2, r1_gamma=0.0), head=_NaNHead(2))
    result = trainer.fit(toy_dataset())
    assert [s.skipped for s in result.history] == [True, False, False, False]


def test_discriminator_warmup_freezes_the_generator(tmp_path: Path) -> None:
    trainer = toy_trainer(tmp_path, toy_config(steps=3, discriminator_warmup_steps=3))
    before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    d_before = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
    result = trainer.fit(toy_dataset())
    assert all(torch.equal(before[k], v) for k, v in trainer.generator.state_dict().items())
    assert not all(torch.equal(d_before[k], v) for k, v in trainer.discriminator.state_dict().items())
    assert all(s.generator_loss != s.generator_loss for s in result.history)  # NaN: G did not run


def test_generator_updates_every_kth_step(tmp_path: Path) -> None:
    result = toy_trainer(tmp_path, toy_config(steps=6, discriminator_updates_per_generator_update=3)).fit(
        toy_dataset()
    )
    ran = [s.generator_loss == s.generator_loss for s in result.history]
    assert ran == [False, False, True, False, False, True]


def test_content_only_training_needs_no_discriminator(tmp_path: Path) -> None:
    from gansuite.core import NetworkSpec, Trainer, build_network
    from gansuite.core.config import ContentLossConfig

    config = toy_config(steps=30, adversarial_loss="none", content_losses=(ContentLossConfig("mse"),), ema_decay=0)
    trainer = Trainer(
        generator=build_network(NetworkSpec("generator", "toy-mlp", {"noise_dim": 0})),
        discriminator=None,
        head=ToyHead(),
        config=config,
        run_dir=tmp_path,
    )
    result = trainer.fit(toy_dataset())
    assert result.history[-1].generator_loss < result.history[0].generator_loss
    assert "discriminator" not in load_checkpoint(trainer.latest_checkpoint())


def test_ema_tracks_weights() -> None:
    net = torch.nn.Linear(2, 1)
    ema = ExponentialMovingAverage(net, decay=0.5)
    start = net.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(2.0)
    ema.update(net)
    assert torch.allclose(ema.shadow.weight, start + 1.0)
    with pytest.raises(ConfigError, match="decay"):
        ExponentialMovingAverage(net, decay=1.0)


def test_learning_rate_schedules() -> None:
    warm = toy_config(steps=100, warmup_steps=10, schedule="constant")
    assert learning_rate_factor(warm, 0) == pytest.approx(0.1)
    assert learning_rate_factor(warm, 50) == 1.0
    cosine = toy_config(steps=100, warmup_steps=0, schedule="cosine")
    assert learning_rate_factor(cosine, 0) == 1.0 and learning_rate_factor(cosine, 50) == pytest.approx(0.5)
    multistep = toy_config(steps=100, warmup_steps=0, schedule="multistep", schedule_milestones=(0.5, 0.75))
    assert [learning_rate_factor(multistep, s) for s in (0, 50, 80)] == [1.0, 0.5, 0.25]


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="precision 'fp8'"):
        toy_config(precision="fp8")
    with pytest.raises(ConfigError, match="needs CUDA"):
        toy_trainer(Path("unused"), toy_config(precision="fp16"))
    with pytest.raises(ConfigError, match="unknown trainer settings"):
        TrainerConfig.from_dict({"steps": 1, "batch_size": 1, "learning_rate": 3})
    with pytest.raises(ConfigError, match="at least one content loss"):
        toy_config(adversarial_loss="none")
    for bad, message in (
        (dict(device="mps"), "device 'mps' is not"),
        (dict(device="cuda0"), "device 'cuda0' is not"),
        (dict(ema_decay=1.0), r"ema_decay must be in \[0, 1\)"),
        (dict(ema_decay=-0.1), r"ema_decay must be in \[0, 1\)"),
        (dict(r1_gamma=-1.0), "r1_gamma must be >= 0"),
        (dict(warmup_steps=-5), "warmup_steps must be >= 0"),
        (dict(grad_clip=-1.0), "grad_clip must be >= 0"),
    ):
        with pytest.raises(ConfigError, match=message):
            toy_config(**bad)
    assert toy_config(device="cuda:1").device == "cuda:1"  # only checked against the machine when training


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_device_without_cuda_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`device` cuda: torch sees no CUDA device"):
        toy_trainer(tmp_path / "run", toy_config(device="cuda", precision="fp32"))
    assert not (tmp_path / "run").exists()


def test_export_from_checkpoint_rebuilds_the_ema_generator(tmp_path: Path) -> None:
    from gansuite.core.checkpoint import export_from_checkpoint, load_weights

    trainer = toy_trainer(tmp_path / "run", toy_config(steps=3))
    trainer.fit(toy_dataset())
    out = export_from_checkpoint(trainer.latest_checkpoint(), tmp_path / "g.safetensors")
    model = load_weights(out)
    assert model.card["steps"] == 3 and model.card["weights"] == "EMA of the generator"
    for key, value in trainer.ema.shadow.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)


def test_checkpoint_every_zero_saves_only_at_the_end(tmp_path: Path) -> None:
    trainer = toy_trainer(tmp_path, toy_config(steps=3, checkpoint_every=0))
    trainer.fit(toy_dataset())
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step_00000003.pt"]


def test_train_export_never_replaces_weights_or_a_card_without_overwrite(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gansuite.cli import main

    trainer = toy_trainer(tmp_path / "run", toy_config(steps=1))
    trainer.fit(toy_dataset())
    checkpoint = str(trainer.latest_checkpoint())
    out = tmp_path / "g.safetensors"

    def export(*extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["train", "export", checkpoint, "-o", str(out), *extra])
        return result.exit_code, result.output.strip()

    assert export()[0] == 0
    out.write_bytes(b"earlier weights")
    code, output = export()
    assert code == 1
    assert output == f"Error: -o {out} already exists: pass --overwrite to replace it, or choose another path"
    assert out.read_bytes() == b"earlier weights"
    out.unlink()
    card = out.with_suffix(".json")
    card.write_text('{"name": "mine"}')
    code, output = export()
    assert code == 1 and f"the card beside it, {card}, already exists: pass --overwrite" in output
    assert "\n" not in output and not out.exists() and card.read_text() == '{"name": "mine"}'
    code, output = export("--card", str(card), "--overwrite")  # the input card is never overwritten
    assert code == 1 and f"--card {card} is the card file -o {out} writes" in output
    assert card.read_text() == '{"name": "mine"}'
    assert export("--overwrite")[0] == 0 and json.loads(card.read_text())["steps"] == 1


def test_an_interrupted_fit_says_what_was_kept_and_how_to_resume(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    import gansuite.tasks.upscale as upscale
    from gansuite.cli import main
    from gansuite.errors import RunInterrupted

    trainer = toy_trainer(tmp_path / "run", toy_config(steps=12, checkpoint_every=3))
    step = trainer._step

    def stopped_at_five(sample):
        if trainer.step == 5:
            raise KeyboardInterrupt  # Ctrl-C during the sixth step
        return step(sample)

    monkeypatch.setattr(trainer, "_step", stopped_at_five)
    with pytest.raises(RunInterrupted) as caught:
        trainer.fit(toy_dataset())
    checkpoint = tmp_path / "run" / "checkpoints" / "step_00000003.pt"
    assert str(caught.value) == (
        f"training stopped after step 5 of 12; the last checkpoint is step 3 ({checkpoint}); the 2 steps since are "
        "lost: rerun the same command (fit(resume='auto') in Python) to resume from it"
    )
    assert isinstance(caught.value, KeyboardInterrupt)  # code that catches Ctrl-C still does
    again = toy_trainer(tmp_path / "run", toy_config(steps=12, checkpoint_every=3))
    assert again.fit(toy_dataset(), resume="auto").final_step == 12  # the advice works

    fresh = toy_trainer(tmp_path / "fresh", toy_config(steps=12, checkpoint_every=6))
    monkeypatch.setattr(fresh, "_step", lambda sample: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(RunInterrupted, match="after step 0 of 12, before its first checkpoint: nothing was kept"):
        fresh.fit(toy_dataset())

    def interrupted(*args, **kwargs):
        raise RunInterrupted(str(caught.value))

    monkeypatch.setattr(upscale, "train_upscale", interrupted)
    result = CliRunner().invoke(main, ["train", "upscale", "--recipe", "x2-psnr", "--data", str(tmp_path),
                                       "--out", str(tmp_path / "cli")])
    assert result.exit_code == 130
    assert result.output.strip() == f"interrupted: {caught.value}"
