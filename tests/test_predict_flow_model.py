"""The motion-aware ``flow-unet`` predictor and the recipes that use it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from _predict_helpers import one_thread  # noqa: F401  (autouse: tiny convolutions on one thread)
from safetensors.torch import load_file

from gansuite.core.checkpoint import load_transferable_weights
from gansuite.core.filters import gaussian_blur
from gansuite.core.networks import build_network
from gansuite.errors import ConfigError
from gansuite.tasks.predict.baselines import backward_warp, dis_flow, flow_extrapolation
from gansuite.tasks.predict.flow_models import FlowUNetPredictor
from gansuite.tasks.predict.models import rollout
from gansuite.tasks.predict.recipes import flow_predictor_spec, get_recipe, mse_twin


def _moving_texture(frames: int, height: int, width: int, velocity: tuple[int, int] = (2, 1)) -> torch.Tensor:
    """(1, T·3, H, W): a smooth RGB texture translating `velocity` pixels per frame, stacked along channels."""
    noise = np.random.default_rng(0).random((height + 64, width + 64, 3)).astype(np.float32)
    big = cv2.GaussianBlur(noise, (0, 0), 2.0)
    big = (big - big.min()) / np.ptp(big)
    dx, dy = velocity
    clip = [big[32 - t * dy : 32 - t * dy + height, 32 - t * dx : 32 - t * dx + width] for t in range(frames)]
    return torch.from_numpy(np.concatenate(clip, axis=2).transpose(2, 0, 1).copy())[None]


@pytest.mark.parametrize(("height", "width"), [(17, 23), (2, 2), (64, 64), (9, 70)])
def test_any_size_gives_a_frame_in_range(height: int, width: int) -> None:
    model = FlowUNetPredictor(context_frames=3, channels=3, base_channels=4, depth=2).eval()
    torch.manual_seed(0)
    for p in model.head.parameters():  # a non-zero head, so the learned corrections are exercised
        p.data.normal_(0, 0.5)
    with torch.no_grad():
        out = model(torch.rand(2, 9, height, width))
    assert out.shape == (2, 3, height, width) and out.dtype == torch.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_an_untrained_model_is_the_flow_extrapolation_baseline_lightly_blended() -> None:
    """The zero-initialised head leaves the classical flow and the blend prior (0.948, 0.017, 0.017, 0.017)."""
    model = FlowUNetPredictor(context_frames=4, channels=3, base_channels=4, depth=2, max_flow_side=512).eval()
    x = _moving_texture(4, 48, 64)
    with torch.no_grad():
        out = model(x)
    frames = x.view(1, 4, 3, 48, 64)
    last, previous = frames[:, -1], frames[:, -2]
    flow = dis_flow(last, previous)
    w = torch.softmax(torch.tensor([4.0, 0.0, 0.0, 0.0]), dim=0)
    bicubic = backward_warp(last, flow, mode="bicubic").clamp(0, 1)
    warped, warped_previous = backward_warp(last, flow), backward_warp(previous, 2 * flow)
    expected = w[0] * warped + w[1] * bicubic + w[2] * warped_previous + w[3] * last
    assert (out - expected.clamp(0, 1)).abs().mean() < 2e-3
    baseline = flow_extrapolation(frames, 1)[:, 0]
    assert (out - baseline).abs().mean() < 0.1 * (last - baseline).abs().mean()


def test_gray_model_and_rollout_keep_shapes() -> None:
    model = FlowUNetPredictor(context_frames=2, channels=1, base_channels=4, depth=1, classical_flow="none")
    out = rollout(model, torch.rand(2, 2, 20, 24), 3, 1)
    assert out.shape == (2, 3, 20, 24)
    out.mean().backward()
    assert model.head.weight.grad is not None and model.head.weight.grad.abs().sum() > 0


def test_working_size_is_reduced_and_bounded() -> None:
    model = FlowUNetPredictor(internal_scale=4, max_internal_side=256)
    assert model.working_size(128, 128) == (32, 32)
    assert model.working_size(360, 640) == (90, 160)
    assert model.working_size(2160, 3840) == (256, 455)  # large frames: short side capped


def test_bad_settings_and_inputs_are_explained() -> None:
    with pytest.raises(ConfigError, match="context_frames >= 2"):
        FlowUNetPredictor(context_frames=1)
    with pytest.raises(ConfigError, match="classical_flow"):
        FlowUNetPredictor(classical_flow="raft")
    with pytest.raises(ConfigError, match=r"expects \(N, 12, H >= 2, W >= 2\)"):
        FlowUNetPredictor(base_channels=4)(torch.rand(1, 9, 16, 16))


def test_natural_recipes_use_the_flow_model_and_differ_only_in_the_adversarial_term() -> None:
    gan, mse = get_recipe("natural"), get_recipe("natural-mse")
    assert gan.generator.name == "flow-unet" and gan.full_resolution
    assert gan.generator == mse.generator and gan.trainer.steps == mse.trainer.steps
    assert gan.trainer.uses_discriminator and not mse.trainer.uses_discriminator
    assert gan.motion is not None and gan.motion.max_brightness_change > 0
    assert get_recipe("natural-unet").generator.name == "unet-predictor"
    assert build_network(flow_predictor_spec(context_frames=4, channels=3)).context_frames == 4


def test_the_recipe_generator_runs_a_640x360_frame() -> None:
    """Full resolution in, full resolution out (its speed is measured by benchmarks/predict_speed.py)."""
    model = build_network(get_recipe("natural").generator).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 12, 360, 640))
    assert out.shape == (1, 3, 360, 640) and 0.0 <= float(out.min()) <= float(out.max()) <= 1.0


def _accelerating_texture(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Context frames of a texture at x = 0, 1, 3, 6 (speeds 1, 2, 3: constant acceleration); the next is at 10."""
    noise = np.random.default_rng(3).random((height, width + 40, 3)).astype(np.float32)
    big = cv2.GaussianBlur(noise, (0, 0), 2.5)
    big = (big - big.min()) / np.ptp(big)
    frames = [big[:, 20 - x : 20 - x + width] for x in (0, 1, 3, 6, 10)]
    stack = torch.from_numpy(np.stack(frames).transpose(0, 3, 1, 2).copy())  # (5, 3, H, W)
    return stack[:4].reshape(1, 12, height, width), stack[4:]


def _only_candidate(model: FlowUNetPredictor, index: int) -> FlowUNetPredictor:
    with torch.no_grad():
        model.head.bias[2 + index] = 40.0  # this blend logit dominates the softmax
    return model.eval()


def test_the_acceleration_candidate_follows_a_constant_acceleration() -> None:
    """x = 0, 1, 3, 6 → 10: constant velocity predicts 9, F + 1.0·(F − F₂) predicts 10."""
    context, target = _accelerating_texture(48, 64)
    errors = {}
    for name, index in (("velocity", 0), ("acceleration", 4)):
        model = FlowUNetPredictor(context_frames=4, channels=3, base_channels=4, depth=1, max_flow_side=512,
                                  accelerations=(1.0,))
        with torch.no_grad():
            out = _only_candidate(model, index)(context)
        errors[name] = float((out - target)[..., 8:-8, 12:-12].abs().mean())  # away from the repeated borders
    assert errors["acceleration"] < 0.4 * errors["velocity"], errors


def test_a_flow_scale_candidate_is_the_last_frame_warped_by_that_multiple() -> None:
    x = _moving_texture(4, 32, 40)
    model = _only_candidate(FlowUNetPredictor(context_frames=4, channels=3, base_channels=4, depth=1,
                                              max_flow_side=512, flow_scales=(0.5, 1.2)), 5)
    frames = x.view(1, 4, 3, 32, 40)
    expected = backward_warp(frames[:, -1], 1.2 * dis_flow(frames[:, -1], frames[:, -2])).clamp(0, 1)
    with torch.no_grad():
        assert (model(x) - expected).abs().max() < 1e-4
    with pytest.raises(ConfigError, match="accelerations need"):
        FlowUNetPredictor(context_frames=2, accelerations=(1.0,))


def test_hedge_candidates_are_the_motion_average_and_the_blurred_warp() -> None:
    x = _moving_texture(4, 32, 40)
    frames = x.view(1, 4, 3, 32, 40)
    flow = dis_flow(frames[:, -1], frames[:, -2])
    settings = {"context_frames": 4, "channels": 3, "base_channels": 4, "depth": 1, "max_flow_side": 512,
                "hedge_scales": (0.5, 1.0, 1.5), "blur_sigmas": (1.2,)}
    average = sum(backward_warp(frames[:, -1], s * flow) for s in (0.5, 1.0, 1.5)) / 3
    sharp = backward_warp(frames[:, -1], flow)
    with torch.no_grad():
        hedged = _only_candidate(FlowUNetPredictor(**settings), 4)(x)
        blurred = _only_candidate(FlowUNetPredictor(**settings), 5)(x)
    assert (hedged - average.clamp(0, 1)).abs().max() < 1e-4
    # the blur keeps the mean and removes detail: less high-frequency energy than the sharp warp
    inner = (..., slice(6, -6), slice(6, -6))
    assert abs(float(blurred[inner].mean() - sharp[inner].mean())) < 2e-3
    lap = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3).expand(3, 1, 3, 3)
    detail = [float(torch.nn.functional.conv2d(img, lap, groups=3)[inner].abs().mean()) for img in (blurred, sharp)]
    assert detail[0] < 0.75 * detail[1], detail
    with pytest.raises(ConfigError, match="hedge_scales needs at least 2"):
        FlowUNetPredictor(hedge_scales=(1.0,))
    with pytest.raises(ConfigError, match="blur_sigmas positive"):
        FlowUNetPredictor(blur_sigmas=(0.0,))


def test_gaussian_blur_is_normalised_and_matches_opencv() -> None:
    image = torch.rand(1, 2, 40, 50)
    blurred = gaussian_blur(image, 1.5)
    reference = cv2.GaussianBlur(image[0, 0].numpy(), (11, 11), 1.5, borderType=cv2.BORDER_REPLICATE)
    assert blurred.shape == image.shape
    assert np.abs(blurred[0, 0].numpy() - reference)[5:-5, 5:-5].max() < 1e-4
    assert torch.allclose(gaussian_blur(torch.full((1, 1, 9, 9), 0.3), 0.8), torch.full((1, 1, 9, 9), 0.3))


def test_the_natural_recipe_trains_and_its_card_runs_at_full_resolution(tmp_path) -> None:
    import dataclasses
    import json

    from _predict_helpers import write_clip_folder

    from gansuite.tasks.predict import FramePredictor, train_predict
    from gansuite.tasks.predict.synthetic import MotionRanges

    write_clip_folder(tmp_path / "clip", frames=10, height=24, width=32)
    recipe = get_recipe("natural")
    quiet = {"progress": False, "tensorboard": False, "log_every": 1, "checkpoint_every": 0, "sample_every": 0,
             "validate_every": 0, "batch_size": 2}
    tiny = dataclasses.replace(
        recipe,
        generator=flow_predictor_spec(context_frames=4, channels=3, base_channels=4, depth=1),
        # the VGG perceptual term needs ImageNet weights, which CI does not have: the pixel losses train here
        trainer=recipe.trainer.replace(**quiet, content_losses=mse_twin(recipe).trainer.content_losses),
        crop_size=16,
        motion=MotionRanges(max_pan=2.0, max_acceleration=0.3, max_layer_zoom=0.05, max_brightness_change=0.05),
    )
    stills = tmp_path / "stills"
    stills.mkdir()
    cv2.imwrite(str(stills / "a.png"), (np.random.default_rng(0).random((40, 48, 3)) * 255).astype(np.uint8))
    train_predict(tiny, data=[tmp_path / "clip"], stills=[stills], out=tmp_path / "run", steps=2, device="cpu")
    card = json.loads((tmp_path / "run" / "generator_ema.json").read_text())
    assert card["max_short_side"] is None and card["train_max_short_side"] == 256
    predictor = FramePredictor.from_pretrained(tmp_path / "run" / "generator_ema.safetensors")
    assert predictor.max_short_side is None and predictor.working_shape(720, 1280) == (720, 1280)
    out = predictor.predict_frames(np.random.default_rng(1).random((4, 20, 30, 3)).astype(np.float32), 2)
    assert out.shape == (2, 20, 30, 3)
    assert card["init_fresh_tensors"] == []

    # a variant with more blend candidates starts from these weights: all but the head (and, with
    # accelerations, the first convolution, which gets the motion change as input) carry over
    wider = dataclasses.replace(tiny, generator=flow_predictor_spec(
        context_frames=4, channels=3, base_channels=4, depth=1, flow_scales=(0.5,), accelerations=(1.0,)))
    first = load_file(str(tmp_path / "run" / "generator_ema.safetensors"))
    train_predict(wider, data=[tmp_path / "clip"], stills=[stills], out=tmp_path / "wider", steps=1, device="cpu",
                  init=tmp_path / "run" / "generator_ema.safetensors")
    wider_card = json.loads((tmp_path / "wider" / "generator_ema.json").read_text())
    assert wider_card["init_fresh_tensors"] == ["encoders.0.0.weight", "head.weight", "head.bias"]
    config = json.loads((tmp_path / "wider" / "config.json").read_text())
    assert config["init_fresh_tensors"] == wider_card["init_fresh_tensors"]
    model = build_network(wider.generator)
    load_transferable_weights(model, tmp_path / "run" / "generator_ema.safetensors")
    assert torch.equal(model.state_dict()["decoders.0.0.weight"], first["decoders.0.0.weight"])


def test_the_mse_twin_is_trained_with_mse_alone() -> None:
    gan, twin = get_recipe("natural"), get_recipe("natural-mse")
    assert {loss.name for loss in gan.trainer.content_losses} == {"l1", "gdl", "perceptual"}
    assert gan.trainer.uses_discriminator and not twin.trainer.uses_discriminator
    assert [(loss.name, loss.weight) for loss in twin.trainer.content_losses] == [("mse", 1.0)]
    assert gan.generator.kwargs["hedge_scales"] and gan.generator.kwargs["blur_sigmas"]
    assert gan.motion is not None and gan.motion.max_shake > 0
    # a recipe without `twin_losses` keeps its own pixel losses
    ped2_twin = get_recipe("ped2-mse")
    assert [loss.name for loss in ped2_twin.trainer.content_losses] == ["mse", "gdl"]
    assert (twin.trainer.steps, twin.trainer.batch_size, twin.crop_size) == (gan.trainer.steps, gan.trainer.batch_size,
                                                                             gan.crop_size)


def test_bicubic_warping_keeps_more_detail_than_bilinear() -> None:
    """A half-pixel shift of a fine texture: bilinear averages neighbours, bicubic keeps more contrast."""
    noise = np.random.default_rng(1).random((32, 32)).astype(np.float32)
    texture = torch.from_numpy(cv2.GaussianBlur(noise, (0, 0), 0.8))[None, None]
    fine = texture - texture.mean()
    flow = torch.zeros(1, 2, 32, 32)
    flow[:, 0] = 0.5
    energy = {mode: float(backward_warp(fine, flow, mode=mode)[..., 4:-4, 4:-4].abs().mean())
              for mode in ("bilinear", "bicubic")}
    assert energy["bicubic"] > 1.05 * energy["bilinear"]  # the same sampler twice would give 1.0
    assert torch.allclose(backward_warp(texture, torch.zeros_like(flow), mode="bicubic"), texture, atol=1e-5)


def _random_blend(model: FlowUNetPredictor) -> FlowUNetPredictor:
    """Random blend logits per pixel; no flow correction, no residual (so each candidate is known exactly)."""
    blends = model.candidates
    with torch.no_grad():
        torch.manual_seed(3)
        model.head.weight.normal_(0.0, 0.5)
        model.head.weight[:2] = 0.0
        model.head.weight[2 + blends :] = 0.0
        model.head.bias.zero_()
    return model


def _base_candidates(x: torch.Tensor, interpolation: str = "bilinear") -> torch.Tensor:
    """(4, 1, 3, H, W): warp(F), bicubic warp(F), previous warped by 2F, the last frame."""
    frames = x.view(1, 4, 3, *x.shape[-2:])
    last, previous = frames[:, -1], frames[:, -2]
    flow = dis_flow(last, previous)
    bicubic = backward_warp(last, flow, mode="bicubic").clamp(0, 1)
    warped = bicubic if interpolation == "bicubic" else backward_warp(last, flow)
    later = (backward_warp(previous, 2 * flow, mode="bicubic").clamp(0, 1) if interpolation == "bicubic"
             else backward_warp(previous, 2 * flow))
    return torch.stack([warped, bicubic, later, last]).clamp(0, 1)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_a_hard_blend_takes_each_pixel_whole_from_one_candidate(interpolation: str) -> None:
    x = _moving_texture(4, 32, 40)
    settings = {"context_frames": 4, "channels": 3, "base_channels": 4, "depth": 1, "max_flow_side": 512,
                "interpolation": interpolation}
    candidates = _base_candidates(x, interpolation)
    distance = {}
    for blend in ("soft", "hard"):
        model = _random_blend(FlowUNetPredictor(**settings, blend=blend)).eval()
        with torch.no_grad():
            out = model(x)
        # per pixel, how far the output is from the nearest candidate (all channels together)
        distance[blend] = (out[None] - candidates).abs().amax(dim=2).amin(dim=0)
    assert float(distance["hard"].max()) < 1e-4
    assert float(distance["soft"].mean()) > 1e-3  # a soft blend mixes: the check above can fail


def test_a_hard_blend_still_trains_its_blend_logits() -> None:
    """Straight-through: the argmax has no gradient, the softmax under it does."""
    x = _moving_texture(4, 32, 40)
    model = _random_blend(FlowUNetPredictor(context_frames=4, channels=3, base_channels=4, depth=1,
                                            max_flow_side=512, blend="hard"))
    target = x.view(1, 4, 3, 32, 40)[:, -1]
    (model(x) - target).abs().mean().backward()
    blends = model.candidates
    assert float(model.head.weight.grad[2 : 2 + blends].abs().sum()) > 0.0


def test_blend_and_interpolation_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="blend must be"):
        FlowUNetPredictor(blend="max")
    with pytest.raises(ConfigError, match="interpolation must be"):
        FlowUNetPredictor(interpolation="nearest")
    spec = flow_predictor_spec(context_frames=4, channels=3, blend="hard", interpolation="bicubic")
    model = build_network(spec)
    assert (model.blend, model.interpolation) == ("hard", "bicubic")
    assert "blend" not in flow_predictor_spec(context_frames=4, channels=3).kwargs  # old weights' specs unchanged


def test_a_refined_model_starts_as_the_model_without_refinement() -> None:
    """The refinement's last layer starts at zero: the weights of a model without it give the same frames."""
    x = _moving_texture(4, 32, 40)
    settings = {"context_frames": 4, "channels": 3, "base_channels": 4, "depth": 1, "max_flow_side": 512}
    plain = _random_blend(FlowUNetPredictor(**settings)).eval()
    refined = FlowUNetPredictor(**settings, refine_channels=6).eval()
    missing, unexpected = refined.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(name.startswith("refine.") for name in missing)
    with torch.no_grad():
        assert torch.allclose(refined(x), plain(x), atol=1e-6)


def test_the_refinement_corrects_the_blend_per_pixel_at_full_resolution() -> None:
    x = _moving_texture(4, 32, 40)
    model = FlowUNetPredictor(context_frames=4, channels=3, base_channels=4, depth=1, max_flow_side=512,
                              refine_channels=6)
    last_layer = model.refine[-1]
    with torch.no_grad():
        out_before = model(x)
    frames = x.view(1, 4, 3, 32, 40)
    mask = torch.zeros(1, 1, 32, 40)
    mask[..., :20] = 1.0
    correction = torch.zeros(1, model.candidates + 3, 32, 40)
    correction[:, 3:4] = 30.0 * mask  # a large logit for candidate 3 (the last frame, unwarped), left half only
    model.refine.register_forward_hook(lambda module, args, output: output + correction)
    with torch.no_grad():
        out = model(x)
    assert torch.allclose(out[..., :20], frames[:, -1, :, :, :20], atol=1e-5)  # copied where corrected
    assert torch.allclose(out[..., 21:], out_before[..., 21:], atol=1e-5)  # untouched elsewhere
    (model(x) - frames[:, -2]).abs().mean().backward()
    assert float(model.refine[0].weight.grad.abs().sum()) == 0.0  # the zero last layer blocks it ...
    assert float(last_layer.weight.grad.abs().sum()) > 0.0  # ... but itself learns


def test_refine_channels_are_checked_and_recorded_in_the_spec() -> None:
    with pytest.raises(ConfigError, match="refine_channels"):
        FlowUNetPredictor(refine_channels=-1)
    assert build_network(flow_predictor_spec(context_frames=4, channels=3, refine_channels=8)).refine_channels == 8
    assert "refine_channels" not in flow_predictor_spec(context_frames=4, channels=3).kwargs


def test_min_flow_zeroes_only_the_short_classical_flow_vectors() -> None:
    x = _moving_texture(4, 48, 64, velocity=(2, 0)).view(1, 4, 3, 48, 64)
    x[..., :, :24] = x[:, -1:, :, :, :24]  # the left part is static: DIS reports small spurious motion there
    last, previous = x[:, -1], x[:, -2]
    kwargs = {"context_frames": 4, "channels": 3, "base_channels": 4, "depth": 1, "max_flow_side": 512}
    plain = FlowUNetPredictor(**kwargs)._classical_flow(last, previous)
    snapped = FlowUNetPredictor(**kwargs, min_flow=0.5)._classical_flow(last, previous)
    length = plain.pow(2).sum(1, keepdim=True).sqrt().expand_as(plain)
    short = length < 0.5
    assert bool(short.any()) and bool((~short).any()) and float(plain[short].abs().max()) > 0
    assert torch.equal(snapped[~short], plain[~short])
    assert bool((snapped[short] == 0).all())


def test_min_flow_copies_a_static_scene_instead_of_resampling_it() -> None:
    """A static texture with sensor noise: spurious sub-pixel flow blurs the warp; snapped, the last frame is kept."""
    rng = np.random.default_rng(1)
    still = _moving_texture(1, 48, 64, velocity=(0, 0))
    x = torch.cat([(still + torch.from_numpy(rng.normal(0, 0.02, still.shape).astype(np.float32))).clamp(0, 1)
                   for _ in range(4)], dim=1)
    last = x[:, -3:]
    kwargs = {"context_frames": 4, "channels": 3, "base_channels": 4, "depth": 1, "max_flow_side": 512}
    with torch.no_grad():
        errors = {m: float((FlowUNetPredictor(**kwargs, min_flow=m).eval()(x) - last).abs().mean()) for m in (0, 0.5)}
    assert errors[0.5] < 0.5 * errors[0], errors


def test_min_flow_is_checked_and_recorded_in_the_spec() -> None:
    with pytest.raises(ConfigError, match="min_flow"):
        FlowUNetPredictor(min_flow=-0.1)
    assert build_network(flow_predictor_spec(context_frames=4, channels=3, min_flow=0.5)).min_flow == 0.5
    assert "min_flow" not in flow_predictor_spec(context_frames=4, channels=3).kwargs
    recipe = get_recipe("natural")
    assert recipe.generator.kwargs["min_flow"] == 0.5 == mse_twin(recipe).generator.kwargs["min_flow"]
