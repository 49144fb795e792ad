"""The U-Net predictor, the rollout, the task head and the recipes."""

from __future__ import annotations

import pytest
import torch
from _predict_helpers import (
    copy_last_model,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
    tiny_model,
)

from gansuite.core.losses import GradientDifferenceLoss, MSELoss
from gansuite.core.networks import build_network
from gansuite.errors import ConfigError
from gansuite.tasks.predict.head import FrameStackLoss, PredictHead
from gansuite.tasks.predict.models import UNetPredictor, rollout
from gansuite.tasks.predict.recipes import RECIPES, get_recipe, predictor_spec


@pytest.mark.parametrize(("height", "width"), [(17, 23), (1, 1), (32, 32), (9, 40)])
def test_unet_takes_any_size(height: int, width: int) -> None:
    model = tiny_model(context=3, channels=1)
    out = model(torch.rand(2, 3, height, width))
    assert out.shape == (2, 1, height, width)


def test_space_to_depth_runs_at_half_resolution_on_odd_sizes() -> None:
    model = build_network(predictor_spec(context_frames=2, channels=3, base_channels=4, depth=1, space_to_depth=2))
    assert model.multiple == 4
    assert model(torch.rand(1, 6, 13, 7)).shape == (1, 3, 13, 7)


def test_residual_mode_adds_the_last_frame() -> None:
    model = copy_last_model(context=3, channels=3)
    x = torch.rand(2, 9, 11, 13)
    assert torch.equal(model(x), x[:, 6:])
    plain = tiny_model(context=3, channels=3, residual=False)
    assert not torch.allclose(plain(x), x[:, 6:])


def test_wrong_input_channels_are_explained() -> None:
    with pytest.raises(ConfigError, match=r"expects \(N, 6, H, W\) = 2 context frames x 3 channels"):
        tiny_model(context=2, channels=3)(torch.rand(1, 3, 8, 8))
    with pytest.raises(ConfigError, match="channels 1 or 3"):
        UNetPredictor(channels=2)


def test_rollout_feeds_predictions_back() -> None:
    model = copy_last_model(context=2, channels=1)
    context = torch.rand(3, 2, 10, 12)
    out = rollout(model, context, 4, 1)
    assert out.shape == (3, 4, 10, 12)
    # copying the last frame forever: every step equals the last context frame
    assert torch.equal(out, context[:, 1:2].expand(-1, 4, -1, -1))
    shifted = rollout(lambda x: x[:, :1] + 1.0, context, 2, 1)  # "predict" the oldest frame + 1
    assert torch.allclose(shifted[:, 1], context[:, 1] + 1.0)  # step 2 saw step 1's input shifted
    assert torch.all(rollout(lambda x: x[:, :1] + 5.0, context, 2, 1, clamp=True) == 1.0)


def test_head_splits_context_and_future_and_rolls_out() -> None:
    head = PredictHead(context_frames=3, rollout=2, channels=3)
    batch = torch.rand(4, 6, 3, 16, 16)
    sample = head.prepare(batch)
    assert sample.inputs.shape == (4, 9, 16, 16) and sample.target.shape == (4, 6, 16, 16)
    assert torch.equal(sample.condition, sample.inputs)
    assert torch.equal(sample.target[:, :3], batch[:, 3])
    fake = head.generate(tiny_model(context=3, channels=3), sample)
    assert fake.shape == sample.target.shape
    with pytest.raises(ConfigError, match=r"for 3 context \+ 2 future"):
        head.prepare(torch.rand(4, 4, 3, 16, 16))


def test_frame_stack_loss_matches_the_stacked_loss() -> None:
    prediction, target = torch.rand(2, 6, 12, 12), torch.rand(2, 6, 12, 12)
    for loss in (MSELoss(), GradientDifferenceLoss()):
        assert torch.allclose(FrameStackLoss(loss, 3)(prediction, target), loss(prediction, target))


def test_recipes_and_their_mse_twins() -> None:
    names = set(RECIPES.names())
    assert {"natural", "ped2", "mmnist", "natural-mse", "ped2-mse", "mmnist-mse"} <= names
    for name in ("natural", "ped2", "mmnist"):
        gan, mse = get_recipe(name), get_recipe(f"{name}-mse")
        assert gan.trainer.adversarial_loss == "lsgan" and gan.discriminator is not None
        assert mse.trainer.adversarial_loss == "none" and mse.discriminator is None
        pixel_losses = gan.twin_losses or tuple(
            loss for loss in gan.trainer.content_losses if loss.name != "perceptual"
        )
        assert mse.generator == gan.generator and mse.trainer.content_losses == pixel_losses
        assert gan.discriminator.kwargs["condition_channels"] == gan.context_frames * gan.channels
    ped2 = get_recipe("ped2")
    assert (ped2.grayscale, ped2.context_frames, ped2.frame_size) == (True, 4, (256, 256))
    assert {c.name for c in ped2.trainer.content_losses} == {"mse", "gdl"}
    assert get_recipe("mmnist").context_frames == 10
    natural = get_recipe("natural")
    assert (natural.grayscale, natural.context_frames, natural.crop_size) == (False, 4, 128)
