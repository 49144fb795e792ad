"""FramePredictor on OpenCV-style arrays, batches and shipped/file models."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from _predict_helpers import (
    copy_last_model,
    export_tiny,
    moving_square,
    one_thread,  # noqa: F401  (autouse: tiny convolutions on one thread)
    tiny_model,
    write_clip_video,
)

from gansuite.core.checkpoint import export_weights
from gansuite.errors import CheckpointError, ConfigError, InputImageError, InputVideoError
from gansuite.tasks.predict import pretrained
from gansuite.tasks.predict.clip_prediction import predict_clip_file
from gansuite.tasks.predict.predictor import FramePredictor, PredictionResult


def _bgr(dtype: type = np.uint8, frames: int = 3) -> list[np.ndarray]:
    clip = moving_square(frames, 20, 26)  # RGB float
    peak = np.iinfo(dtype).max
    return [np.round(frame[:, :, ::-1] * peak).astype(dtype) for frame in clip]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_bgr_frames_give_bgr_frames_of_the_same_dtype(dtype: type) -> None:
    predictor = FramePredictor(tiny_model(context=2, channels=3), device="cpu")
    result = predictor(_bgr(dtype), future=3)
    assert isinstance(result, PredictionResult) and result.context_frames == 2
    assert len(result.frames) == 3
    assert all(f.shape == (20, 26, 3) and f.dtype == dtype for f in result.frames)
    assert result.float_frames.shape == (3, 20, 26, 3) and result.float_frames.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_gray_frames_give_gray_frames(dtype: type) -> None:
    gray = [frame[:, :, 0] for frame in _bgr(dtype)]
    # a colour model on gray input, and a gray model
    for channels in (3, 1):
        result = FramePredictor(copy_last_model(2, channels), device="cpu")(gray, future=2)
        assert all(f.shape == (20, 26) and f.dtype == dtype for f in result.frames)
        # the copy-last model returns the last frame exactly (up to the uint16 ↔ float32 round trip)
        assert np.abs(result.frames[1].astype(np.int64) - gray[-1].astype(np.int64)).max() <= 1


def test_copy_last_model_reproduces_the_last_bgr_frame() -> None:
    frames = _bgr(np.uint8, frames=4)
    result = FramePredictor(copy_last_model(3, 3), device="cpu")(frames, future=1)
    assert np.array_equal(result.frames[0], frames[-1])


def test_gray_model_on_colour_frames_sees_luma() -> None:
    frames = _bgr(np.uint8)
    result = FramePredictor(copy_last_model(2, 1), device="cpu")(frames)
    out = result.frames[0]
    assert out.shape == (20, 26, 3)
    assert np.array_equal(out[:, :, 0], out[:, :, 1])  # gray, written back as BGR


def test_working_size_resizes_and_returns_the_input_size() -> None:
    predictor = FramePredictor(tiny_model(2, 3), device="cpu", working_size=(16, 16))
    assert predictor.working_shape(20, 26) == (16, 16)
    out = predictor.predict_batch(torch.rand(2, 2, 3, 20, 26), future=2)
    assert out.shape == (2, 2, 3, 20, 26) and float(out.min()) >= 0 and float(out.max()) <= 1


def test_float_frames_on_the_0_255_scale_are_refused() -> None:
    predictor = FramePredictor(copy_last_model(2, 3), device="cpu")
    clip = moving_square(3, 20, 26)  # (T, H, W, C) float in [0, 1]
    expected = r"has float values in \[.*\]; float images must be in \[0, 1\].*divide .* by 255"
    with pytest.raises(ConfigError, match=f"predict_frames: context {expected}"):
        predictor.predict_frames(clip * 255)
    batch = torch.from_numpy(clip.transpose(0, 3, 1, 2).copy())[None]  # (1, T, C, H, W)
    with pytest.raises(ConfigError, match=f"predict_batch: context {expected}"):
        predictor.predict_batch(batch * 255)
    # frames before the k used are not judged; a hair outside passes (and is clamped by the model's rollout)
    batch[:, 0] *= 255
    nudged = batch.clone()
    nudged[:, -1, :, 0, 0] = 1.0015
    out = predictor.predict_batch(nudged)
    assert float(out.max()) <= 1.0 and torch.equal(out[:, 0, :, 1:], batch[:, -1, :, 1:])


def test_calls_are_reentrant() -> None:
    predictor = FramePredictor(tiny_model(2, 3), device="cpu")
    frames = _bgr()
    expected = predictor(frames, future=2).frames
    results: list[list[np.ndarray]] = []
    threads = [threading.Thread(target=lambda: results.append(predictor(frames, future=2).frames)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3 and all(np.array_equal(r[1], expected[1]) for r in results)


def test_too_few_or_mixed_frames_are_reported() -> None:
    predictor = FramePredictor(tiny_model(3, 3), device="cpu")
    with pytest.raises(InputVideoError, match="got 2 frames; this model needs at least 3"):
        predictor(_bgr()[:2])
    frames = _bgr()
    frames[1] = frames[1][:10]
    with pytest.raises(InputVideoError, match="differ in size"):
        predictor(frames)


def test_from_pretrained_file_and_missing_shipped_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = export_tiny(tmp_path / "m.safetensors", context=2, channels=3, card={"max_short_side": 16})
    predictor = FramePredictor.from_pretrained(path, device="cpu")
    assert predictor.context_frames == 2 and predictor.max_short_side == 16 and predictor.name == "m"
    monkeypatch.setattr(pretrained, "_WEIGHTS_DIR", tmp_path / "weights")
    with pytest.raises(CheckpointError, match=r"shipped model 'natural' is not included in this build"):
        FramePredictor.from_pretrained("natural")
    with pytest.raises(CheckpointError, match="neither a shipped name"):
        FramePredictor.from_pretrained("no-such-model")
    (tmp_path / "weights").mkdir()
    export_tiny(tmp_path / "weights" / "predict_natural.safetensors")
    assert FramePredictor.from_pretrained("natural").name == "natural"


def test_a_non_predictor_network_is_refused(tmp_path: Path) -> None:
    from gansuite.core.networks import NetworkSpec, build_network

    net = build_network(NetworkSpec("discriminator", "patchgan", {"base_channels": 4}))
    path = export_weights(tmp_path / "d.safetensors", net)
    with pytest.raises(CheckpointError, match="not a next-frame predictor"):
        FramePredictor.from_pretrained(path)


def test_input_mismatch_names_what_the_model_was_trained_on(tmp_path: Path) -> None:
    colour_clip = moving_square(2, 24, 32)  # (T, H, W, 3) with colour
    gray_as_rgb = np.repeat(moving_square(2, 24, 32, channels=1), 3, axis=3)  # gray content stored as RGB
    gray = FramePredictor(tiny_model(2, 1), device="cpu")
    assert gray.input_mismatch(gray_as_rgb) is None
    assert gray.input_mismatch(colour_clip) == (
        "the model was trained on gray frames, these are colour: it sees only their luma and predicts gray frames; "
        "expect a poor prediction (the shipped natural model is trained on ordinary colour footage)"
    )
    # fixed training size: flagged when the model runs at another size, not when it resizes to its own (Ped2)
    fixed = FramePredictor(tiny_model(2, 3), device="cpu", trained_frame_size=(16, 16))
    assert fixed.input_mismatch(colour_clip).startswith(  # type: ignore[union-attr]
        "the model was trained on 16x16 frames, these are 32x24: it runs at 32x24;"
    )
    assert fixed.input_mismatch(moving_square(2, 16, 16)) is None
    resized = FramePredictor(tiny_model(2, 1), device="cpu", working_size=(16, 16), trained_frame_size=(16, 16))
    assert resized.input_mismatch(gray_as_rgb) is None
    # from a card: a shipped-like gray model whose card names the Moving MNIST recipe, and a frame_size card
    digits = FramePredictor.from_pretrained(
        export_tiny(tmp_path / "digits.safetensors", 2, 1, card={"task": "predict", "recipe": "mmnist"}), device="cpu"
    )
    assert digits.trained_frame_size == (64, 64) and digits.name == "digits"
    assert digits.input_mismatch(colour_clip).startswith(  # type: ignore[union-attr]
        "model digits was trained on 64x64 gray frames, these are 32x24 colour: it runs at 32x24 and it sees only"
    )
    ped = FramePredictor.from_pretrained(
        export_tiny(tmp_path / "ped.safetensors", 2, 1, card={"task": "predict", "frame_size": [20, 20]}), device="cpu"
    )
    assert ped.trained_frame_size == (20, 20) and ped.input_mismatch(gray_as_rgb) is None


def test_predict_clip_file_warns_through_warnings_without_a_callback(tmp_path: Path) -> None:
    clip = write_clip_video(tmp_path / "clip.mkv", frames=4)
    predictor = FramePredictor(tiny_model(2, 1), device="cpu")
    with pytest.warns(UserWarning, match="the model was trained on gray frames, these are colour"):
        predict_clip_file(predictor, clip, future=1, output=tmp_path / "p.mp4")
    lines: list[str] = []
    predict_clip_file(predictor, clip, future=1, output=tmp_path / "q.mp4", on_warning=lines.append)
    assert len(lines) == 1 and lines[0].startswith("the model was trained on gray frames")


@pytest.mark.parametrize("future", [0, -1, True, 1.0, "2", None])
def test_a_future_that_is_not_a_positive_int_is_refused_by_name(future: object) -> None:
    predictor = FramePredictor(copy_last_model(2, 3), device="cpu")
    clip = moving_square(3, 20, 26)
    seen = rf"got {future!r} \({type(future).__name__}\)"
    with pytest.raises(ConfigError, match=rf"predict_frames: future must be a positive integer.*{seen}"):
        predictor.predict_frames(clip, future)  # type: ignore[arg-type]
    batch = torch.from_numpy(clip.transpose(0, 3, 1, 2).copy())[None]
    with pytest.raises(ConfigError, match=rf"predict_batch: future must be a positive integer.*{seen}"):
        predictor.predict_batch(batch, future)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=rf"FramePredictor: future must be a positive integer.*{seen}"):
        predictor(_bgr(), future=future)  # type: ignore[arg-type]
    assert predictor.predict_frames(clip, np.int64(2)).shape == (2, 20, 26, 3)  # a numpy integer is an integer


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"device": 0}, r"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got 0 \(int\)"),
        ({"device": None}, r"device must be .* got None \(NoneType\)"),
        ({"device": "gpu"}, r"device 'gpu' is not a torch device: use auto, cpu, cuda or cuda:N"),
        ({"working_size": 256}, r"working_size must be None or a \(height, width\) pair of positive integers.*256"),
        ({"working_size": (16.5, 16)}, r"working_size must be .* got \(16.5, 16\) \(tuple\)"),
        ({"working_size": (0, 16)}, r"working_size must be .* got \(0, 16\)"),
        ({"trained_frame_size": "64x64"}, r"trained_frame_size must be .* got '64x64' \(str\)"),
        ({"max_short_side": "8"}, r"max_short_side must be None or a positive integer \(pixels\), got '8' \(str\)"),
        ({"max_short_side": 0}, r"max_short_side must be .* got 0 \(int\)"),
        ({"working_size": (16, 16), "max_short_side": 8},
         r"give working_size or max_short_side, not both \(got working_size=\(16, 16\), max_short_side=8\)"),
        ({"batch_size": 0}, r"batch_size must be a positive integer \(windows per forward pass\), got 0 \(int\)"),
        ({"batch_size": 2.0}, r"batch_size must be .* got 2.0 \(float\)"),
        ({"copy_model": "no"}, r"copy_model must be True or False, got 'no' \(str\)"),
    ],
)
def test_constructor_settings_are_checked_by_name(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FramePredictor(tiny_model(2, 3), **settings)


def test_to_and_from_pretrained_check_their_settings(tmp_path: Path) -> None:
    predictor = FramePredictor(tiny_model(2, 3), device="cpu")
    with pytest.raises(ConfigError, match=r"FramePredictor.to: device must be .* got 1.5 \(float\)"):
        predictor.to(1.5)  # type: ignore[arg-type]
    path = export_tiny(tmp_path / "m.safetensors", context=2, channels=3)
    accepted = r"accepted: device, working_size, max_short_side, batch_size, trained_frame_size"
    with pytest.raises(ConfigError, match=r"unknown setting batchsize \(did you mean batch_size\?\); " + accepted):
        FramePredictor.from_pretrained(path, batchsize=4)
    with pytest.raises(ConfigError, match="unknown setting copy_model"):
        FramePredictor.from_pretrained(path, copy_model=True)
    with pytest.raises(ConfigError, match=r"batch_size must be a positive integer.* got '4' \(str\)"):
        FramePredictor.from_pretrained(path, device="cpu", batch_size="4")
    assert FramePredictor.from_pretrained(path, device="cpu", batch_size=np.int64(4)).batch_size == 4


def test_integer_frames_are_refused_by_the_float_api_with_the_conversion() -> None:
    predictor = FramePredictor(copy_last_model(2, 3), device="cpu")
    clip = moving_square(3, 20, 26)
    for dtype in (np.uint8, np.uint16, np.int64, np.bool_):
        frames = (clip * (255 if dtype != np.bool_ else 1)).astype(dtype)
        with pytest.raises(ConfigError, match=rf"predict_frames: context has dtype {np.dtype(dtype)}; frames must be "
                                              r"float in \[0, 1\]: convert 8-bit RGB frames with "
                                              r"x.astype\(np.float32\) / 255"):
            predictor.predict_frames(frames)
        batch = torch.from_numpy(frames.transpose(0, 3, 1, 2).copy())[None]
        with pytest.raises(ConfigError, match=rf"predict_batch: context has dtype {batch.dtype}; frames must be "
                                              r"float in \[0, 1\]: convert 8-bit frames with x.float\(\) / 255"):
            predictor.predict_batch(batch)
    # uint8 frames that happen to lie in 0..1 (a mask) are refused too, not read as floats
    with pytest.raises(ConfigError, match="has dtype uint8"):
        predictor.predict_frames((clip > 0.5).astype(np.uint8))
    # the wrong container names the method to use
    with pytest.raises(ConfigError, match=r"got Tensor: for an \(N, T, C, H, W\) tensor use predict_batch"):
        predictor.predict_frames(torch.from_numpy(clip))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"got list: stack a list of \(H, W, C\) frames with np.stack"):
        predictor.predict_frames(list(clip))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"must be a torch tensor .* got ndarray; .* use predict_frames"):
        predictor.predict_batch(clip[None])  # type: ignore[arg-type]


def test_an_empty_batch_predicts_nothing_and_frames_without_pixels_are_refused() -> None:
    predictor = FramePredictor(copy_last_model(2, 3), device="cpu")
    empty = predictor.predict_batch(torch.rand(0, 2, 3, 5, 7), future=2)
    assert empty.shape == (0, 2, 3, 5, 7) and empty.dtype == torch.float32
    with pytest.raises(ConfigError, match=r"predict_batch expects .*H >= 1, W >= 1.*got \(1, 2, 3, 0, 7\)"):
        predictor.predict_batch(torch.rand(1, 2, 3, 0, 7))
    with pytest.raises(ConfigError, match=r"predict_frames expects .*H >= 1, W >= 1.*got shape \(2, 5, 0, 3\)"):
        predictor.predict_frames(np.zeros((2, 5, 0, 3), np.float32))


def test_a_single_image_or_path_is_not_a_sequence_of_frames(tmp_path: Path) -> None:
    predictor = FramePredictor(copy_last_model(2, 3), device="cpu")
    image = _bgr()[0]  # (20, 26, 3): 20 'frames' of (26, 3) rows if taken as a sequence
    with pytest.raises(InputVideoError, match=r"one array of shape \(20, 26, 3\), which is a single image, not frames: "
                                              r"give a sequence .* of at least 2 frames"):
        predictor(image)
    with pytest.raises(InputVideoError, match=r"one array of shape \(20, 26\)"):
        predictor(image[:, :, 0])
    for path in (str(tmp_path / "clip.mp4"), tmp_path / "clip.mp4"):
        with pytest.raises(InputVideoError, match=r"a single path .*clip.mp4.*, not frames: give a sequence .* of at "
                                                  r"least 2 frames.*predict_frames\(gansuite.io.read_video"):
            predictor(path)  # type: ignore[arg-type]
    with pytest.raises(InputVideoError, match="got int, not frames: give a sequence"):
        predictor(3)  # type: ignore[arg-type]
    with pytest.raises(InputVideoError, match=r"got a tensor of shape \(3, 3, 20, 26\): .* use predict_batch"):
        predictor(torch.rand(3, 3, 20, 26))  # type: ignore[arg-type]
    with pytest.raises(InputImageError, match=r"takes uint8 or uint16 OpenCV frames, got float32 frames: .* "
                                              "use predict_frames"):
        predictor(list(moving_square(3, 20, 26)))
    with pytest.raises(InputVideoError, match="got 1 frame; this model needs at least 2"):
        predictor([image])


def test_any_iterable_of_frames_is_accepted() -> None:
    predictor = FramePredictor(copy_last_model(2, 3), device="cpu")
    frames = _bgr(frames=4)
    expected = predictor(frames).frames[0]
    assert np.array_equal(expected, frames[-1])
    for given in (tuple(frames), (frame for frame in frames), iter(frames), np.stack(frames)):
        assert np.array_equal(predictor(given).frames[0], expected)  # type: ignore[arg-type]
    with pytest.raises(InputVideoError, match="got 1 frame; this model needs at least 2"):
        predictor(frame for frame in frames[:1])


@pytest.mark.parametrize("name", [None, 3, b"natural", ["natural"]])
def test_from_pretrained_of_a_non_name_lists_the_shipped_names(name: object) -> None:
    shipped = ", ".join(pretrained.SHIPPED_MODELS)
    with pytest.raises(CheckpointError, match=rf"model .* \({type(name).__name__}\) is neither a shipped name nor a "
                                              rf"path: give one of {shipped}, or the path"):
        FramePredictor.from_pretrained(name)  # type: ignore[arg-type]
