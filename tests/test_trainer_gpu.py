"""The trainer on CUDA: exact resume with CUDA random state, fp16 R1, GradScaler skips, few host syncs.

Skipped without CUDA; `benchmarks/gpu_check.sh` runs them (``pytest -m gpu``) and records the
outcome in docs/GPU.md.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch
from _toy_helpers import toy_config, toy_dataset, toy_trainer

from gansuite.core import NetworkSpec, Sample, Trainer, build_network
from gansuite.core.checkpoint import load_checkpoint

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def _losses(result) -> list[tuple[float, float]]:
    return [(s.discriminator_loss, s.generator_loss) for s in result.history]


def test_resume_on_cuda_restores_the_cuda_random_state_and_continues_exactly(tmp_path: Path) -> None:
    # the toy generator draws its noise on the device: only a restored CUDA RNG reproduces it
    config = toy_config(device="cuda", precision="fp32", steps=12, checkpoint_every=0)
    whole = toy_trainer(tmp_path / "whole", config).fit(toy_dataset())
    first = toy_trainer(tmp_path / "split", config).fit(toy_dataset(), until=5)
    checkpoint = load_checkpoint(tmp_path / "split" / "checkpoints" / "step_00000005.pt")
    assert checkpoint["rng"]["torch"].device.type == "cpu" and "cuda" in checkpoint["rng"]
    torch.cuda.manual_seed_all(12345)  # whatever the CUDA RNG holds now, resume must replace it
    second = toy_trainer(tmp_path / "split", config).fit(toy_dataset(), resume="auto")
    split = _losses(first) + _losses(second)
    for (d_split, g_split), (d_whole, g_whole) in zip(split, _losses(whole), strict=True):
        assert d_split == pytest.approx(d_whole, rel=1e-5, abs=1e-6)
        assert g_split == pytest.approx(g_whole, rel=1e-5, abs=1e-6)


class _ImageHead:
    def prepare(self, batch):
        x, _ = batch
        image = x.view(-1, 1, 1, 1).expand(-1, 3, 32, 32).contiguous().sigmoid()
        return Sample(inputs=image, target=image.flip(-1))

    def generate(self, generator, sample):
        return generator(sample.inputs)


class _ConvGenerator(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(16, 3, 3, padding=1)
        )

    def forward(self, x):
        return self.net(x)


def _image_trainer(run_dir: Path, **overrides) -> Trainer:
    torch.manual_seed(0)
    settings = {"steps": 20, "device": "cuda", "precision": "fp16", "r1_gamma": 1.0, "adversarial_weight": 0.1,
                "content_losses": ({"name": "l1"},), **overrides}
    return Trainer(
        generator=_ConvGenerator(),
        discriminator=build_network(NetworkSpec("discriminator", "patchgan", {"base_channels": 16})),
        head=_ImageHead(),
        config=toy_config(**settings),
        run_dir=run_dir,
    )


def test_fp16_training_with_r1_stays_finite_and_r1_sees_the_loss_scale(tmp_path: Path, monkeypatch) -> None:
    import gansuite.core.objectives as objectives

    penalties: list[float] = []
    real_r1 = objectives.r1_penalty

    def spy(real_logits, real, *, grad_scale=None):
        assert grad_scale is not None and float(grad_scale) > 1.0  # fp16: the gradient is taken of scaled logits
        value = real_r1(real_logits, real, grad_scale=grad_scale)
        penalties.append(float(value.detach()))
        return value

    monkeypatch.setattr(objectives, "r1_penalty", spy)
    trainer = _image_trainer(tmp_path)
    result = trainer.fit(toy_dataset())
    # GradScaler may back off from its initial scale for a few steps; then every step updates
    assert sum(step.skipped for step in result.history) <= 8
    assert not any(step.skipped for step in result.history[-5:])
    # At the initial scale (65536) the scaled input gradient can overflow fp16: the penalty is
    # then inf, the step is skipped and the scale backs off (PyTorch's AMP recipe). Every step
    # that updated had a finite, positive penalty.
    assert len(penalties) == len(result.history)
    kept = [p for p, step in zip(penalties, result.history, strict=True) if not step.skipped]
    assert kept and all(math.isfinite(p) for p in kept) and max(kept) > 0.0
    assert result.history[-1].content_loss < result.history[0].content_loss


def test_an_fp16_overflow_skip_is_not_counted_as_an_update(tmp_path: Path) -> None:
    trainer = _image_trainer(tmp_path, steps=1, r1_gamma=0.0)
    trainer.scaler_g = torch.amp.GradScaler("cuda", init_scale=2.0**120)  # every scaled gradient overflows
    ema_before = {k: v.clone() for k, v in trainer.ema.state_dict().items()}
    result = trainer.fit(toy_dataset())
    assert result.history[0].skipped and trainer.nonfinite_streak == 1
    assert trainer.scaler_g.get_scale() < 2.0**120
    assert all(torch.equal(v, ema_before[k]) for k, v in trainer.ema.state_dict().items())


def test_a_training_step_syncs_with_the_host_at_most_once_per_update(tmp_path: Path) -> None:
    trainer = _image_trainer(tmp_path, precision="bf16", r1_gamma=0.0)
    dataset = toy_dataset()
    batches = [dataset.__getitems__(list(range(16 * k, 16 * (k + 1)))) for k in range(12)]
    for batch in batches[:2]:  # warm-up: cuDNN autotuning and Adam state allocation may sync
        trainer._step(trainer.head.prepare(batch))
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for batch in batches[2:]:  # what fit runs between two log steps
                trainer._step(trainer.head.prepare(batch))
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [str(w.message) for w in caught if "synchroniz" in str(w.message).lower()]
    # one skip decision per update (D and G): 2 per step; the old loop made 6 (float() x4, isfinite x2)
    assert len(syncs) <= 10 * 2 + 2, syncs[:5]
