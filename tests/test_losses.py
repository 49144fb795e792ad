"""Known values of the adversarial losses, content losses, GDL and the perceptual loss."""

from __future__ import annotations

import math
import socket

import pytest
import torch

from gansuite.core.backbones import load_backbone_features, resolve_backbone_file
from gansuite.core.losses import (
    ADVERSARIAL_LOSSES,
    CharbonnierLoss,
    GradientDifferenceLoss,
    L1Loss,
    LowPassL1Loss,
    MSELoss,
    PerceptualLoss,
    get_adversarial_loss,
    r1_penalty,
)
from gansuite.errors import BackboneNotFoundError, ConfigError

LOG2 = math.log(2.0)


@pytest.mark.parametrize(
    ("name", "real", "fake", "d_expected", "g_expected"),
    [
        # logits 0 everywhere: D outputs 1/2 for both
        ("bce", 0.0, 0.0, 2 * LOG2, LOG2),
        # confident and right: D loss ≈ 2·log(1 + e^-10), G loss ≈ 10
        ("bce", 10.0, -10.0, 2 * math.log1p(math.exp(-10)), 10.0 + math.log1p(math.exp(-10))),
        # least squares: targets met → 0; G wants fake = 1
        ("lsgan", 1.0, 0.0, 0.0, 0.5),
        ("lsgan", 0.0, 1.0, 1.0, 0.0),
        # hinge: margins met → 0; G loss = -mean(fake)
        ("hinge", 1.0, -1.0, 0.0, 1.0),
        ("hinge", 0.0, 0.0, 2.0, 0.0),
        # relativistic average with real = fake: every term is log 2
        ("relativistic", 0.5, 0.5, LOG2, LOG2),
    ],
)
def test_adversarial_loss_known_values(name, real, fake, d_expected, g_expected) -> None:
    loss = get_adversarial_loss(name)
    r, f = torch.full((4, 1), real), torch.full((4, 1), fake)
    assert loss.discriminator(r, f).item() == pytest.approx(d_expected, abs=1e-5)
    assert loss.generator(r, f).item() == pytest.approx(g_expected, abs=1e-5)


def test_relativistic_uses_real_logits_in_the_generator_loss() -> None:
    loss = get_adversarial_loss("relativistic")
    fake = torch.zeros(3, 1)
    assert loss.generator_uses_real
    assert loss.generator(torch.zeros(3, 1), fake) != loss.generator(torch.full((3, 1), 4.0), fake)
    # relativistic D: real 2 above fake → -log σ(2) per side
    expected = math.log1p(math.exp(-2.0))
    assert loss.discriminator(torch.full((3, 1), 2.0), fake).item() == pytest.approx(expected, abs=1e-6)


def test_all_four_adversarial_losses_are_registered() -> None:
    assert set(ADVERSARIAL_LOSSES.names()) == {"bce", "lsgan", "hinge", "relativistic"}


def test_adversarial_losses_pull_the_right_way() -> None:
    for name in ADVERSARIAL_LOSSES.names():
        loss = get_adversarial_loss(name)
        fake = torch.zeros(8, 1, requires_grad=True)
        loss.generator(torch.zeros(8, 1), fake).backward()
        assert (fake.grad < 0).all(), f"{name}: G's loss must decrease as fake logits rise"


def test_r1_penalty_of_a_linear_discriminator() -> None:
    # D(x) = sum(w · x) has gradient w everywhere: the penalty is ||w||²
    w = torch.tensor([1.0, -2.0, 3.0])
    x = torch.randn(5, 3, requires_grad=True)
    assert r1_penalty((x * w).sum(1), x).item() == pytest.approx(14.0)


def test_content_losses_values_weights_and_reductions() -> None:
    pred, target = torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)
    target[1] = 3.0
    assert L1Loss()(pred, target).item() == pytest.approx(2.0)
    assert MSELoss(weight=0.5)(pred, target).item() == pytest.approx(0.5 * 5.0)
    assert L1Loss(reduction="sum")(pred, target).item() == pytest.approx(16.0)
    assert L1Loss(reduction="none")(pred, target).tolist() == pytest.approx([1.0, 3.0])
    assert CharbonnierLoss(eps=0.0)(pred, target).item() == pytest.approx(2.0)
    assert CharbonnierLoss(eps=1e-3)(pred, pred).item() == pytest.approx(1e-3)
    with pytest.raises(ConfigError, match="differ in shape"):
        L1Loss()(pred, target[:, :, :1])
    with pytest.raises(ConfigError, match="reduction 'avg'"):
        L1Loss(reduction="avg")


def test_gradient_difference_loss() -> None:
    image = torch.rand(2, 3, 16, 16)
    assert GradientDifferenceLoss()(image, image).item() == 0.0
    # a constant offset has the same gradients: still zero
    assert GradientDifferenceLoss()(image + 0.3, image).item() == pytest.approx(0.0, abs=1e-6)
    # a blurred image has weaker gradients: positive loss
    blurred = torch.nn.functional.avg_pool2d(image, 3, stride=1, padding=1)
    assert GradientDifferenceLoss()(blurred, image).item() > 0.05
    # known value: a vertical step of height 1 against a flat image, alpha = 2
    step = torch.zeros(1, 1, 3, 3)
    step[..., 2:, :] = 1.0
    flat = torch.zeros(1, 1, 3, 3)
    # vertical gradient map (2x3) has a row of ones at row 1; cropped to 2x2 → two ones of four
    assert GradientDifferenceLoss(alpha=2.0)(flat, step).item() == pytest.approx(2 / 4)


def test_lowpass_l1_sees_coarse_content_and_ignores_fine_detail() -> None:
    # a pixel checkerboard against its flat mean: plain L1 0.5, almost nothing once both are blurred
    checker = (torch.arange(32).view(1, -1) + torch.arange(32).view(-1, 1)) % 2
    checker = checker.float().expand(1, 3, 32, 32)
    grey = torch.full_like(checker, 0.5)
    assert L1Loss()(checker, grey).item() == pytest.approx(0.5)
    assert LowPassL1Loss(sigma=2.0)(checker, grey).item() < 0.01
    # a coarse difference (a constant offset) passes the blur whole
    image = torch.rand(2, 3, 24, 24)
    assert LowPassL1Loss(sigma=2.0)(image + 0.25, image).item() == pytest.approx(0.25, abs=1e-5)
    # weight scales, and sigma must be positive
    assert LowPassL1Loss(weight=2.0)(image + 0.25, image).item() == pytest.approx(0.5, abs=1e-5)
    with pytest.raises(ConfigError, match="sigma"):
        LowPassL1Loss(sigma=0.0)


def test_missing_local_backbone_says_both_ways(tmp_path) -> None:
    with pytest.raises(BackboneNotFoundError, match=r"does not exist.*GANSUITE_BACKBONES.*torchvision"):
        load_backbone_features("vgg16", tmp_path / "nope")
    with pytest.raises(BackboneNotFoundError, match="does not exist"):
        resolve_backbone_file("alexnet", tmp_path)


def test_torchvision_failure_is_a_clear_error(monkeypatch) -> None:
    from torchvision import models

    monkeypatch.delenv("GANSUITE_BACKBONES", raising=False)

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(models, "vgg16", offline)
    monkeypatch.setenv("TORCH_HOME", "/nonexistent-torch-home")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [])  # the download host resolves
    with pytest.raises(BackboneNotFoundError, match="torchvision could not provide vgg16"):
        load_backbone_features("vgg16")


def test_offline_without_a_local_backbone_says_so_before_any_download(monkeypatch) -> None:
    import gansuite.core.backbones as backbones

    monkeypatch.delenv("GANSUITE_BACKBONES", raising=False)
    monkeypatch.setenv("TORCH_HOME", "/nonexistent-torch-home")

    def offline(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    def no_download(name):
        raise AssertionError("torchvision was asked for the weights: a download was tried")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    monkeypatch.setattr(backbones, "_torchvision_features", no_download)
    with pytest.raises(BackboneNotFoundError, match=r"no local vgg16 backbone.*cannot reach download\.pytorch\.org"):
        load_backbone_features("vgg16")


def test_perceptual_loss_with_local_vgg(backbones_dir) -> None:
    loss = PerceptualLoss(layers={"relu2_2": 0.5, "conv3_3": 0.5}, backbones=backbones_dir)
    image = torch.rand(2, 3, 32, 32)
    assert loss(image, image).item() == 0.0
    noisy = (image + 0.1 * torch.randn_like(image)).clamp(0, 1)
    small, large = loss(noisy, image).item(), loss(torch.rand_like(image), image).item()
    assert 0 < small < large
    prediction = noisy.clone().requires_grad_(True)
    loss(prediction, image).backward()
    assert prediction.grad is not None and prediction.grad.abs().sum() > 0
    assert all(not p.requires_grad for p in loss.features.parameters())
    assert loss(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32)).item() > 0  # gray input


def test_perceptual_loss_rejects_unknown_layers(backbones_dir) -> None:
    with pytest.raises(ConfigError, match="unknown VGG16 layers"):
        PerceptualLoss(layers={"conv5_4": 1.0}, backbones=backbones_dir)


def test_perceptual_window_compares_one_matching_window(backbones_dir) -> None:
    full = PerceptualLoss(layers={"relu1_2": 1.0}, backbones=backbones_dir)
    windowed = PerceptualLoss(layers={"relu1_2": 1.0}, backbones=backbones_dir, window=16)
    image = torch.rand(1, 3, 48, 40)
    assert windowed(image, image).item() == 0.0  # the same window of prediction and target
    # a difference confined to one corner: most random windows miss it, the full frame never does
    changed = image.clone()
    changed[..., :8, :8] = 1.0 - changed[..., :8, :8]
    values = [windowed(changed, image).item() for _ in range(30)]
    assert min(values) == 0.0 < max(values) and full(changed, image).item() > 0
    # frames no larger than the window are compared whole
    small = torch.rand(1, 3, 16, 16)
    assert windowed(small, 1 - small).item() == pytest.approx(full(small, 1 - small).item())
    with pytest.raises(ConfigError, match="window"):
        PerceptualLoss(layers={"relu1_2": 1.0}, backbones=backbones_dir, window=8)
