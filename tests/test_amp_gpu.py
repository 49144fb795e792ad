"""CUDA mixed precision: fp16 with GradScaler and bf16 autocast (skipped without CUDA)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _toy_helpers import toy_config, toy_dataset, toy_trainer

from gansuite.core import NetworkSpec, Sample, Trainer, build_network

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


class _ImageHead:
    """Generator maps a 3-channel image to itself; D judges 32x32 crops."""

    def prepare(self, batch):
        x, _ = batch
        image = x.view(-1, 1, 1, 1).expand(-1, 3, 32, 32).contiguous()
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


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_amp_training_runs_and_stays_finite(tmp_path: Path, precision: str) -> None:
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("bf16 not supported on this GPU")
    trainer = Trainer(
        generator=_ConvGenerator(),
        discriminator=build_network(NetworkSpec("discriminator", "patchgan", {"base_channels": 16})),
        head=_ImageHead(),
        config=toy_config(steps=20, device="cuda", precision=precision, r1_gamma=0.0, adversarial_weight=0.1,
                          content_losses=({"name": "l1"},)),
        run_dir=tmp_path,
    )
    assert trainer.precision == (torch.float16 if precision == "fp16" else torch.bfloat16)
    assert trainer.scaler_g.is_enabled() == (precision == "fp16")
    result = trainer.fit(toy_dataset())
    assert not any(step.skipped for step in result.history)
    assert result.history[-1].content_loss < result.history[0].content_loss


def test_toy_gan_resume_on_cuda(tmp_path: Path) -> None:
    dataset = toy_dataset()
    trainer = toy_trainer(tmp_path, toy_config(device="cuda", precision="fp32"))
    trainer.fit(dataset, until=6)
    resumed = toy_trainer(tmp_path, toy_config(device="cuda", precision="fp32"))
    result = resumed.fit(dataset, resume="auto")
    assert result.final_step == 12
