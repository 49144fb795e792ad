"""apps.digits: the DCGAN digit generator, its measures, the shipped weights and `gansuite demo generate`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from apps.digits import DCGANGenerator, DigitGenerator, class_coverage, image_grid, train_dcgan
from apps.digits.evaluation import frechet_from_features
from gansuite.cli import main
from gansuite.core.checkpoint import export_weights
from gansuite.io.image import read_image


def test_frechet_distance_matches_the_closed_form_for_shifted_gaussians() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3))
    b = a * 2.0 + np.array([1.0, 0.0, -2.0])  # covariance exactly 4·Σ, so (Σ·4Σ)^½ = 2Σ
    cov = np.cov(a, rowvar=False)
    shift = ((b.mean(0) - a.mean(0)) ** 2).sum()
    expected = shift + np.trace(cov + 4 * cov - 2 * 2 * cov)  # = |Δμ|² + Tr(Σ)
    assert frechet_from_features(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_from_features(a, a) == pytest.approx(0.0, abs=1e-6)


class _ByBrightness(nn.Module):
    """A fake classifier: class = mean brightness bucket."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bucket = (x.mean(dim=(1, 2, 3)) * 10).long().clamp(0, 9)
        return nn.functional.one_hot(bucket, 10).float()


def test_class_coverage_counts_each_class_share() -> None:
    images = torch.cat([torch.full((3, 1, 28, 28), 0.05), torch.full((1, 1, 28, 28), 0.95)])
    coverage = class_coverage(_ByBrightness(), images)
    assert coverage.fractions[0] == pytest.approx(0.75) and coverage.fractions[9] == pytest.approx(0.25)
    assert coverage.classes_present == 2 and coverage.smallest == 0.0
    assert coverage.total_variation_from_uniform == pytest.approx(0.5 * (0.65 + 0.15 + 8 * 0.1))


def test_generator_shape_range_and_grid() -> None:
    generator = DCGANGenerator(latent_dim=8, width=8)
    out = generator(torch.randn(5, 8)).detach()
    assert out.shape == (5, 1, 28, 28) and float(out.min()) >= 0 and float(out.max()) <= 1
    grid = image_grid(out, columns=3, padding=2)
    assert grid.shape == (2 * 30 + 2, 3 * 30 + 2, 1)
    assert np.array_equal(grid[2:30, 32:60, 0], out[1, 0].detach().numpy())


def test_dcgan_trains_through_the_core_trainer_and_round_trips(tmp_path) -> None:
    digits = torch.zeros(32, 1, 28, 28)
    digits[:, :, 8:20, 12:16] = 1.0  # a bar: the "digit"
    trainer = train_dcgan(digits, tmp_path / "run", steps=4, warmup_steps=2, latent_dim=8, width=8)
    assert trainer.step == 6 and trainer.latest_checkpoint() is not None
    weights = export_weights(tmp_path / "g.safetensors", trainer.eval_generator())
    loaded = DigitGenerator.from_pretrained(weights)
    assert torch.equal(loaded.sample(3, seed=1), DigitGenerator(trainer.eval_generator()).sample(3, seed=1))
    assert not torch.equal(loaded.sample(3, seed=1), loaded.sample(3, seed=2))


@pytest.fixture(scope="module")
def shipped() -> DigitGenerator:
    return DigitGenerator.from_pretrained()


def test_shipped_generator_draws_digit_like_images(shipped: DigitGenerator) -> None:
    """MNIST digits are ~13% ink on black, nearly binary; an untrained generator gives mid-gray noise."""
    images = shipped.sample(256, seed=3)
    ink = float(images.mean())
    near_binary = float(((images < 0.15) | (images > 0.85)).float().mean())
    assert 0.06 < ink < 0.25
    assert near_binary > 0.85
    assert float(images[:, :, :3, :].mean()) < 0.02  # background borders are black, as in MNIST
    assert float(images.std(dim=0).mean()) > 0.12  # samples differ from each other (no single-image collapse)


def test_cli_demo_generate_writes_a_grid(shipped: DigitGenerator, tmp_path) -> None:
    out = tmp_path / "grid.png"
    result = CliRunner().invoke(main, ["demo", "generate", "--n", "16", "-o", str(out)])
    assert result.exit_code == 0, result.output
    image = read_image(out)
    assert image.color.shape[:2] == (4 * 30 + 2, 4 * 30 + 2)
    again = CliRunner().invoke(main, ["demo", "generate", "--n", "16", "-o", str(out)])
    assert again.exit_code != 0 and "grid.png" in again.output  # no silent overwrite
