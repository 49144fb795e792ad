"""apps.digits: the DCGAN digit generator, its measures, the shipped weights and `gansuite demo generate`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from gansuite.apps.digits import (
    DCGANDiscriminator,
    DCGANGenerator,
    DCGANRecipe,
    DigitGenerator,
    class_coverage,
    frechet_distance,
    image_grid,
    load_digits,
    train_classifier,
    train_dcgan,
)
from gansuite.apps.digits.evaluation import frechet_from_features
from gansuite.apps.digits.models import MinibatchStdDev
from gansuite.cli import main
from gansuite.core.checkpoint import export_weights
from gansuite.errors import ConfigError
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


def test_minibatch_std_groups_consecutive_samples_so_real_and_fake_halves_do_not_mix() -> None:
    """The trainer sends D cat([real, fake]); a strided grouping would mix the halves."""
    constant = torch.ones(4, 3, 5, 5)  # no variation across this half
    varied = torch.randn(4, 3, 5, 5)
    out = MinibatchStdDev(group_size=4)(torch.cat([constant, varied]))
    assert out.shape == (8, 4, 5, 5) and torch.equal(out[:, :3], torch.cat([constant, varied]))
    assert float(out[:4, 3].max()) < 1e-3  # sqrt(1e-8) for the constant group
    expected = varied.var(dim=0, unbiased=False).add(1e-8).sqrt().mean()
    assert torch.allclose(out[4:, 3], expected.expand(4, 5, 5), atol=1e-5)
    assert MinibatchStdDev(group_size=4)(torch.randn(6, 2, 3, 3)).shape == (6, 3, 3, 3)  # group falls back to 3


def test_dcgan_discriminator_gives_one_logit_per_image_and_sees_batch_variety() -> None:
    torch.manual_seed(0)
    discriminator = DCGANDiscriminator(width=8, minibatch_std_group=4, use_spectral_norm=False)
    batch = torch.rand(8, 1, 28, 28)
    assert discriminator(batch).shape == (8, 1)
    copies = batch[:1].expand(8, 1, 28, 28)  # a collapsed batch: the same image 8 times
    alone = discriminator(copies)[0]
    assert not torch.allclose(alone, discriminator(torch.cat([batch[:1], batch[1:]]))[0])  # std channel differs
    with pytest.raises(ConfigError, match="unconditional"):
        discriminator(batch, torch.rand(8, 1, 7, 7))


@pytest.mark.parametrize("discriminator", ["dcgan-digits", "patchgan"])
def test_dcgan_trains_through_the_core_trainer_and_round_trips(tmp_path, discriminator: str) -> None:
    digits = torch.zeros(32, 1, 28, 28)
    digits[:, :, 8:20, 12:16] = 1.0  # a bar: the "digit"
    recipe = DCGANRecipe(latent_dim=8, width=8, discriminator=discriminator, discriminator_width=8, batch_size=8,
                         r1_gamma=1.0, generator_lr=1e-4)
    trainer = train_dcgan(digits, tmp_path / "run", steps=4, warmup_steps=2, recipe=recipe)
    assert trainer.step == 6 and trainer.latest_checkpoint() is not None
    assert trainer.config.r1_gamma == 1.0 and trainer.config.batch_size == 8
    assert trainer.optimizer_g.param_groups[0]["lr"] == pytest.approx(1e-4)
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


def test_cli_demo_generate_names_a_model_of_another_application_or_an_unknown_name(tmp_path) -> None:
    for model, expected in (
        ("sketch_pix2pix", "--model sketch_pix2pix holds a 'pix2pix-unet' network, not a digit generator"),
        ("no_such_model", "--model no_such_model: no shipped model of that name (digits_dcgan, sketch_pix2pix)"),
    ):
        result = CliRunner().invoke(main, ["demo", "generate", "--model", model, "-o", str(tmp_path / "g.png")])
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [f"Error: {expected} and no such file" if "no_such" in model
                                                      else f"Error: {expected} ('dcgan-digits')"]
    from gansuite.io.image import write_image

    write_image(tmp_path / "d.png", np.zeros((16, 16), dtype=np.float32), grayscale=True)
    result = CliRunner().invoke(main, ["demo", "sketch", str(tmp_path / "d.png"), "--model", "digits_dcgan",
                                       "-o", str(tmp_path / "p.png")])
    assert result.exit_code == 1 and "not a sketch-to-photo generator ('pix2pix-unet')" in result.output
    assert not (tmp_path / "g.png").exists()


def test_shipped_generator_is_deterministic_per_seed(shipped: DigitGenerator) -> None:
    first = shipped.sample(8, seed=5)
    assert torch.equal(first, shipped.sample(8, seed=5))
    assert torch.equal(first[:4], shipped.sample(4, seed=5))  # batch i's noise does not depend on n
    assert not torch.equal(first, shipped.sample(8, seed=6))


@pytest.mark.slow
def test_shipped_generator_covers_all_ten_digits_and_beats_real_digit_spread(shipped: DigitGenerator,
                                                                             data_dir) -> None:
    """The acceptance of issue 18 on the shipped weights: every digit >= 5% of 2000 samples (by a
    classifier trained here on digits 0-8999), and a classifier-feature Fréchet distance to the
    held-out digits 9000-9999 within a few times that of real training digits."""
    from _data import require

    mnist = require(data_dir / "video" / "mnist", "the MNIST IDX files")
    train_x, train_y = load_digits(mnist, "train")
    eval_x, _ = load_digits(mnist, "eval")
    classifier = train_classifier(train_x, train_y, steps=1500)
    fake = shipped.sample(2000, seed=7)
    coverage = class_coverage(classifier, fake)
    assert coverage.classes_present == 10 and coverage.smallest >= 0.05, coverage.fractions
    real = frechet_distance(classifier, train_x[:2000], eval_x)
    assert frechet_distance(classifier, fake, eval_x) < 3 * real


def test_cli_demo_generate_refuses_a_grid_its_format_cannot_hold_before_drawing(tmp_path, monkeypatch) -> None:
    """Was: 100000 digits drawn, then 'OpenCV could not encode .png (libpng error: Invalid IHDR data); try .png'."""
    from gansuite.apps.digits import generate

    monkeypatch.setattr(generate.DigitGenerator, "from_pretrained", lambda *a: pytest.fail("drawn before the check"))
    for args, expected in (
        (["--interpolate", "3000", "-o", "strip.jpg"],
         "-o {}: the image would be 90002x32 pixels and .jpg images are at most 65,500 pixels a side; use a smaller "
         "--n or --interpolate or write .png, .tif"),
        (["--n", "10000", "-o", "grid.gif"], "-o {}: cannot write image format '.gif'"),
    ):
        out = tmp_path / args[-1]
        result = CliRunner().invoke(main, ["demo", "generate", *args[:-1], str(out)])
        assert result.exit_code == 1, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith("Error: " + expected.format(out)) and not out.exists()
    result = CliRunner().invoke(main, ["demo", "generate", "--interpolate", "100000", "-o", str(tmp_path / "s.png")])
    assert result.exit_code == 2 and "2<=x<=10000" in result.output


def test_grid_size_is_the_size_of_the_grid() -> None:
    from gansuite.apps.digits.generate import grid_size

    for count, columns in ((1, None), (7, None), (16, None), (12, 5), (3, 8)):
        assert image_grid(torch.zeros(count, 1, 28, 28), columns=columns).shape[:2] == grid_size(count, columns=columns)
