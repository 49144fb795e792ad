"""LDL artifact loss (Liang et al. 2022): the map, its gradient, and the trainer passing the EMA output."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from _upscale_helpers import write_images

from gansuite.core import ContentLossConfig
from gansuite.core.filters import local_variance
from gansuite.core.losses import ArtifactLoss, artifact_map
from gansuite.core.losses import artifact as artifact_module
from gansuite.errors import ConfigError
from gansuite.tasks.upscale import get_recipe, train_upscale


def _images(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(2, 3, 32, 32, generator=generator) * 0.5 + 0.25
    noise = torch.randn(2, 3, 32, 32, generator=generator) * 0.05
    return target, noise


def test_local_variance_is_the_unbiased_window_variance() -> None:
    residual = torch.rand(2, 1, 12, 15)
    padded = F.pad(residual, (3, 3, 3, 3), mode="reflect")
    windows = padded.unfold(2, 7, 1).unfold(3, 7, 1)  # (N, 1, H, W, 7, 7)
    expected = windows.reshape(*windows.shape[:4], -1).var(dim=-1, unbiased=True)
    torch.testing.assert_close(local_variance(residual, 7), expected, atol=1e-6, rtol=1e-5)


def test_the_map_marks_erratic_residuals_where_the_ema_does_better() -> None:
    target, noise = _images()
    noise[..., 16:] = 0.0  # artefacts on the left half only
    prediction = target + noise
    weights = artifact_map(target, prediction, target.clone())
    assert weights.shape == (2, 1, 32, 32) and not weights.requires_grad
    assert (weights[..., :, :12] > 0).float().mean() > 0.95
    assert torch.all(weights[..., :, 20:] == 0)  # no residual there: nothing to penalise
    # a smooth residual (a brightness offset) has no local variance: detail or bias, not an artefact
    assert torch.all(artifact_map(target, target + 0.1, target)[..., 3:-3, 3:-3] < 1e-10)


def test_the_map_is_zero_where_the_ema_is_worse() -> None:
    target, noise = _images(1)
    assert torch.all(artifact_map(target, target + noise, target + 2 * noise) == 0)
    loss = ArtifactLoss()
    assert loss(target + noise, target, target + 2 * noise).item() == 0.0


def test_the_gradient_reaches_only_the_artefact_pixels() -> None:
    target, noise = _images(2)
    noise[..., 16:] = 0.0
    prediction = (target + noise).requires_grad_(True)
    ArtifactLoss(weight=1.0)(prediction, target, target.clone()).backward()
    grad = prediction.grad.abs().sum(1)
    assert grad[..., :12].gt(0).float().mean() > 0.9
    assert torch.all(grad[..., 20:] == 0)
    # and it moves the artefact pixels towards the target
    with torch.no_grad():
        stepped = prediction - 50.0 * prediction.grad
    assert (stepped - target)[..., :12].abs().mean() < (prediction - target)[..., :12].abs().mean()


def test_ldl_without_a_reference_or_an_ema_is_a_config_error(tmp_path: Path) -> None:
    target, noise = _images(3)
    with pytest.raises(ConfigError, match="EMA"):
        ArtifactLoss()(target + noise, target)
    recipe = get_recipe("x4-real-gan")
    losses = (ContentLossConfig("l1", 1.0), ContentLossConfig("ldl", 1.0))
    trainer = recipe.trainer.replace(content_losses=losses, ema_decay=0.0, tensorboard=False)
    write_images(tmp_path / "hr", 2, 48)
    with pytest.raises(ConfigError, match="ema_decay"):
        train_upscale(
            dataclasses.replace(recipe, patch_size=32, trainer=trainer, init_from=None),
            data=[tmp_path / "hr"],
            out=tmp_path / "run",
            steps=1,
            batch_size=2,
            device="cpu",
            progress=False,
        )


def test_a_gan_step_gives_ldl_the_ema_generators_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []
    original = artifact_module.artifact_map

    def spy(target: torch.Tensor, prediction: torch.Tensor, reference: torch.Tensor, **kwargs: int) -> torch.Tensor:
        calls.append((prediction.detach().clone(), reference.clone()))
        return original(target, prediction, reference, **kwargs)

    monkeypatch.setattr(artifact_module, "artifact_map", spy)
    recipe = get_recipe("x4-real-gan")
    losses = (ContentLossConfig("l1", 1.0), ContentLossConfig("ldl", 1.0))
    # EMA decay 0.5: after the first update the shadow differs from the generator, so the two outputs differ
    trainer = recipe.trainer.replace(
        content_losses=losses, ema_decay=0.5, tensorboard=False, sample_every=0, validate_every=0
    )
    write_images(tmp_path / "hr", 2, 48)
    small = dataclasses.replace(recipe, patch_size=32, trainer=trainer, init_from=None, degradation="bicubic")
    train_upscale(
        small, data=[tmp_path / "hr"], out=tmp_path / "run", steps=2, batch_size=2, device="cpu", progress=False
    )
    assert len(calls) == 2
    for prediction, reference in calls:
        assert reference.shape == prediction.shape == (2, 3, 32, 32)
    assert torch.equal(calls[0][0], calls[0][1])  # step 1: the shadow is still a copy of the generator
    assert not torch.equal(calls[1][0], calls[1][1])
