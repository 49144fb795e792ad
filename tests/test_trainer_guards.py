"""Trainer guards for CUDA and mixed precision, checked on the CPU.

Resume reads checkpoints onto the CPU, GradScaler skips are not counted as updates, R1 keeps its
gradient under fp16, losses stay on the device between log steps, resume refuses changed
settings, a lock keeps two trainers out of one run folder, and a full disk is one line.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _toy_helpers import toy_config, toy_dataset, toy_trainer

from gansuite.core.checkpoint import load_checkpoint, save_checkpoint
from gansuite.core.losses import r1_penalty
from gansuite.core.run_folder import LOCK_NAME, RunLock
from gansuite.core.run_log import RunLog
from gansuite.errors import ConfigError, OutputError
from gansuite.tasks.toy.data import LineData, LinePointsDataset

# ----------------------------------------------------------------------------- resume on any device


def test_resume_reads_the_checkpoint_onto_the_cpu_whatever_the_trainer_device(tmp_path: Path) -> None:
    toy_trainer(tmp_path, toy_config()).fit(toy_dataset(), until=6)
    checkpoint = tmp_path / "checkpoints" / "step_00000006.pt"
    resumed = toy_trainer(tmp_path, toy_config())
    # a CUDA trainer: loading the checkpoint onto its device would put the RNG state on the GPU,
    # where torch.set_rng_state refuses it (and on this CPU-only machine torch.load fails outright)
    resumed.device = torch.device("cuda")
    resumed.resume(checkpoint)
    assert resumed.step == 6
    assert torch.equal(torch.get_rng_state(), load_checkpoint(checkpoint)["rng"]["torch"])


# ----------------------------------------------------------------------------- GradScaler skips


class _SkippingScaler:
    """Behaves as an fp16 GradScaler that found inf gradients: skips optimizer.step, halves its scale."""

    def __init__(self) -> None:
        self.value = 2.0**16

    def is_enabled(self) -> bool:
        return True

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        return loss * self.value

    def unscale_(self, optimizer: torch.optim.Optimizer) -> None:
        pass

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        pass  # found inf: the real GradScaler does not call optimizer.step()

    def update(self) -> None:
        self.value /= 2

    def get_scale(self) -> float:
        return self.value

    def state_dict(self) -> dict[str, float]:
        return {"scale": self.value}


def test_a_step_the_grad_scaler_skips_is_not_counted_as_an_update(tmp_path: Path) -> None:
    trainer = toy_trainer(tmp_path, toy_config(steps=6, checkpoint_every=0))
    trainer.fit(toy_dataset(), until=2)  # two real updates: the EMA now lags the raw weights
    ema_before = {k: v.clone() for k, v in trainer.ema.state_dict().items()}
    weights_before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    assert any(not torch.equal(ema_before[k], weights_before[k]) for k in ema_before)

    trainer.scaler_g = _SkippingScaler()
    result = trainer.fit(toy_dataset())  # continues from step 2 in memory
    assert [s.skipped for s in result.history] == [True] * 4
    assert trainer.nonfinite_streak == 4  # a skipped step never resets the streak
    for key, value in trainer.ema.state_dict().items():
        assert torch.equal(value, ema_before[key]), f"EMA moved on a skipped step ({key})"
    for key, value in trainer.generator.state_dict().items():
        assert torch.equal(value, weights_before[key])


def test_a_real_grad_scaler_overflow_is_skipped_and_lowers_the_scale(tmp_path: Path) -> None:
    # a loss of ~1e5 whose scaled gradients overflow float32: GradScaler finds inf and skips the step
    trainer = toy_trainer(tmp_path, toy_config(steps=1, r1_gamma=0.0, grad_clip=0.0, adversarial_weight=1e5))
    trainer.scaler_g = torch.amp.GradScaler("cpu", init_scale=2e38)
    ema_before = {k: v.clone() for k, v in trainer.ema.state_dict().items()}
    weights_before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    result = trainer.fit(toy_dataset())
    assert result.history[0].skipped and trainer.nonfinite_streak == 1
    assert trainer.scaler_g.get_scale() < 2e38  # GradScaler backed off
    assert all(torch.equal(v, ema_before[k]) for k, v in trainer.ema.state_dict().items())
    assert all(torch.equal(v, weights_before[k]) for k, v in trainer.generator.state_dict().items())


# ----------------------------------------------------------------------------- R1 under fp16


class _TinyScaleCritic(torch.nn.Module):
    """D(x) = sum(x · a · b) in float16, with a = b = 1e-4: ∂D/∂x = 1e-8, below fp16's smallest number."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.half() * 1e-4) * 1e-4).float().flatten(1).sum(1)


def test_r1_keeps_a_gradient_that_unscaled_fp16_would_flush_to_zero() -> None:
    real = torch.rand(2, 3, 4, 4, requires_grad=True)
    critic = _TinyScaleCritic()
    assert r1_penalty(critic(real), real).item() == 0.0  # the fp16 backward underflowed
    scaled = r1_penalty(critic(real), real, grad_scale=torch.tensor(2.0**14))
    expected = 48 * (1e-4 * 1e-4) ** 2  # 48 inputs per sample, each with gradient 1e-8
    assert scaled.dtype == torch.float32
    assert scaled.item() == pytest.approx(expected, rel=1e-2)


def test_the_trainer_hands_r1_the_discriminator_loss_scale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gansuite.core.objectives as objectives

    seen: list[object] = []
    real_r1 = objectives.r1_penalty

    def spy(real_logits, real, *, grad_scale=None):
        seen.append(grad_scale)
        return real_r1(real_logits, real, grad_scale=grad_scale)

    monkeypatch.setattr(objectives, "r1_penalty", spy)
    trainer = toy_trainer(tmp_path, toy_config(steps=1, r1_gamma=1.0))
    trainer.scaler_d = torch.amp.GradScaler("cpu", init_scale=1024.0)
    trainer.fit(toy_dataset())
    assert len(seen) == 1 and float(seen[0]) == 1024.0


# ----------------------------------------------------------------------------- host syncs


def test_losses_stay_tensors_between_log_steps_and_the_log_still_holds_the_right_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"float": 0}
    real_float = torch.Tensor.__float__

    def counting_float(self: torch.Tensor) -> float:
        calls["float"] += 1
        return real_float(self)

    monkeypatch.setattr(torch.Tensor, "__float__", counting_float)
    trainer = toy_trainer(tmp_path, toy_config(log_every=5, checkpoint_every=0))
    result = trainer.fit(toy_dataset())
    monkeypatch.undo()
    assert calls["float"] == 0  # the old loop called float() on 4 losses every step

    assert [s.step for s in result.history] == list(range(1, 13))
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [5, 10]
    for record in records:
        step = result.history[record["step"] - 1]
        assert record["discriminator_loss"] == step.discriminator_loss
        assert record["generator_loss"] == step.generator_loss
        assert record["content_loss"] == step.content_loss and record["skipped"] is False

    # the values are those a step-by-step train_step gives
    again = toy_trainer(tmp_path / "again", toy_config(log_every=1, checkpoint_every=0)).fit(toy_dataset())
    assert [(s.discriminator_loss, s.generator_loss) for s in again.history] == [
        (s.discriminator_loss, s.generator_loss) for s in result.history
    ]


# ----------------------------------------------------------------------------- resume refuses changes


def test_resume_refuses_a_changed_batch_size_naming_it(tmp_path: Path) -> None:
    toy_trainer(tmp_path, toy_config()).fit(toy_dataset(), until=6)
    with pytest.raises(ConfigError, match=r"batch_size \(--batch-size\) changed: was 16, now 8.*--force-resume"):
        toy_trainer(tmp_path, toy_config(batch_size=8)).fit(toy_dataset(), resume="auto")
    assert not (tmp_path / LOCK_NAME).exists()  # the refused trainer let the folder go
    forced = toy_trainer(tmp_path, toy_config(batch_size=8)).fit(toy_dataset(), resume="auto", force_resume=True)
    assert forced.history[0].step == 7


def test_resume_refuses_changed_data_and_recipe_settings(tmp_path: Path) -> None:
    toy_trainer(tmp_path, toy_config()).fit(toy_dataset(), until=6)
    with pytest.raises(ConfigError, match=r"data \(--data\) changed: 200 items then, 150 now"):
        toy_trainer(tmp_path, toy_config()).fit(LinePointsDataset(LineData(size=150, seed=1)), resume="auto")
    with pytest.raises(ConfigError, match="generator_lr changed"):
        toy_trainer(tmp_path, toy_config(generator_lr=5e-3)).fit(toy_dataset(), resume="auto")
    trainer = toy_trainer(tmp_path, toy_config())
    trainer.extra_config = {"recipe": "other"}
    save_path = trainer.latest_checkpoint()
    payload = load_checkpoint(save_path)
    payload["extra_config"] = json.dumps({"recipe": "x4-psnr"})
    save_checkpoint(save_path, payload)
    with pytest.raises(ConfigError, match=r"recipe \(--recipe\) changed: was \"x4-psnr\", now \"other\""):
        trainer.fit(toy_dataset(), resume="auto")


def test_resume_accepts_runtime_changes_and_checkpoints_of_older_versions(tmp_path: Path) -> None:
    toy_trainer(tmp_path, toy_config()).fit(toy_dataset(), until=6)
    path = tmp_path / "checkpoints" / "step_00000006.pt"
    payload = load_checkpoint(path)
    # as gansuite wrote them before: no dataset size, no per-rank RNG, fewer trainer settings
    del payload["dataset_size"]
    config = json.loads(payload["config"])
    del config["max_nonfinite_steps"]
    payload["config"] = json.dumps(config)
    save_checkpoint(path, payload)
    runtime = toy_config(log_every=3, checkpoint_every=4, num_workers=0, progress=False, keep_checkpoints=5,
                         max_nonfinite_steps=4)
    result = toy_trainer(tmp_path, runtime).fit(toy_dataset(), resume="auto")
    assert result.final_step == 12


# ----------------------------------------------------------------------------- the run-folder lock


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_second_trainer_is_refused_while_the_first_holds_the_folder(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": sleeper.pid, "host": os.uname().nodename}))
        with pytest.raises(ConfigError, match=f"in use by another trainer \\(PID {sleeper.pid}"):
            toy_trainer(tmp_path, toy_config(steps=2)).fit(toy_dataset())
        assert not (tmp_path / "checkpoints").exists()
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == sleeper.pid  # not taken from its owner
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over_and_released(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": _dead_pid(), "host": os.uname().nodename}))
    result = toy_trainer(tmp_path, toy_config(steps=2)).fit(toy_dataset())
    assert result.final_step == 2
    assert not (tmp_path / LOCK_NAME).exists()


def test_the_lock_is_exclusive_and_survives_pid_reuse_checks(tmp_path: Path) -> None:
    first = RunLock(tmp_path)
    first.acquire()
    with pytest.raises(ConfigError, match=f"PID {os.getpid()}"):
        RunLock(tmp_path).acquire()
    first.release()
    assert not (tmp_path / LOCK_NAME).exists()
    # this PID, but recorded for a process that started at another time: the PID was reused
    record = {"pid": os.getpid(), "host": os.uname().nodename, "process_start": -1}
    (tmp_path / LOCK_NAME).write_text(json.dumps(record))
    with RunLock(tmp_path) as lock:
        assert lock.held


# ----------------------------------------------------------------------------- a full disk


def test_a_full_disk_while_checkpointing_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(obj, f, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OutputError, match=r"^disk full: .*step_00000002\.pt could not be written") as caught:
        toy_trainer(tmp_path, toy_config(steps=2, checkpoint_every=2)).fit(toy_dataset())
    assert "\n" not in str(caught.value)
    assert not (tmp_path / LOCK_NAME).exists()
    assert not [p for p in (tmp_path / "checkpoints").iterdir()]  # no temp file left


def test_a_full_disk_while_logging_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(self, kind, step, values):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    monkeypatch.setattr(RunLog, "write", full_disk)
    with pytest.raises(OutputError, match=r"^disk full: .*log\.jsonl could not be written"):
        toy_trainer(tmp_path, toy_config(steps=2)).fit(toy_dataset())
