"""The library front door: short imports, batched tensors, inference objects that leave the caller's
module alone, and `Trainer.fit` on any map-style dataset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from _toy_helpers import toy_config, toy_trainer
from _upscale_helpers import tiny_generator
from torch.utils.data import Subset, TensorDataset

import gansuite
from gansuite.core.sampling import SeededIndex, SeededSampler, accepts_seeded_keys
from gansuite.errors import ConfigError
from gansuite.tasks.predict.models import UNetPredictor
from gansuite.tasks.toy.data import LineData, LinePointsDataset


def test_the_short_imports_give_the_classes_and_functions() -> None:
    from gansuite import (
        FramePredictor,
        GansuiteError,
        StreamingAnomalyScorer,
        Trainer,
        TrainerConfig,
        Upscaler,
        imresize,
        psnr,
        read_image,
        ssim,
        write_image,
    )
    from gansuite.core.trainer import Trainer as DeepTrainer
    from gansuite.io import imresize as io_imresize
    from gansuite.io.imresize import imresize as deep_imresize
    from gansuite.tasks.upscale.upscaler import Upscaler as DeepUpscaler

    assert Upscaler is DeepUpscaler and Trainer is DeepTrainer
    assert imresize is io_imresize is deep_imresize and callable(io_imresize)  # the function, not the module
    assert issubclass(TrainerConfig, object) and issubclass(GansuiteError, Exception)
    for thing in (FramePredictor, StreamingAnomalyScorer, read_image, write_image, psnr, ssim):
        assert thing.__module__.startswith("gansuite.")
    assert {"Upscaler", "UpscaleResult", "PredictionResult", "StreamScore", "TrainingResult"} <= set(gansuite.__all__)
    for name in gansuite.__all__:
        assert getattr(gansuite, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Upscalr'"):
        gansuite.Upscalr  # noqa: B018


def test_the_front_door_gives_what_a_video_or_metrics_pipeline_needs() -> None:
    # FramePredictor's own messages send callers to read_video; LPIPS is the third SR metric beside psnr/ssim
    from gansuite import LPIPSMetric, iter_video_frames, read_video, write_video
    from gansuite.io.video import read_video as deep_read_video
    from gansuite.metrics import LPIPSMetric as deep_lpips

    assert read_video is deep_read_video and LPIPSMetric is deep_lpips
    assert callable(iter_video_frames) and callable(write_video)


def test_importing_gansuite_does_not_load_the_optional_heavy_packages() -> None:
    code = (
        "import sys, gansuite; heavy = {'lpips', 'spandrel', 'onnxruntime', 'matplotlib', 'tensorboard', 'sklearn'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


# ---------------------------------------------------------------------------- Upscaler.upscale_tensor


def test_upscale_tensor_returns_every_image_of_a_batch() -> None:
    upscaler = gansuite.Upscaler(tiny_generator("compact", 2, seed=1), device="cpu", tile=0)
    batch = torch.rand(4, 3, 10, 12, generator=torch.Generator().manual_seed(0))
    out = upscaler.upscale_tensor(batch)
    assert out.shape == (4, 3, 20, 24) and out.dtype == torch.float32 and out.device == batch.device
    for index in range(4):  # each image equals the one-image path
        single = upscaler(batch[index]).image.color
        np.testing.assert_allclose(out[index].permute(1, 2, 0).numpy(), single, atol=1e-6)
    assert not torch.allclose(out[0], out[1])


def test_upscale_tensor_tiles_a_batch_like_the_untiled_pass() -> None:
    model = tiny_generator("compact", 4, seed=2)
    batch = torch.rand(3, 3, 19, 23, generator=torch.Generator().manual_seed(1))
    whole = gansuite.Upscaler(model, device="cpu", tile=0).upscale_tensor(batch)
    tiles = []
    tiled = gansuite.Upscaler(model, device="cpu", tile=8).upscale_tensor(batch, on_tile=lambda *p: tiles.append(p))
    assert tiles[-1] == (9, 9)  # a 3x3 grid of tiles, each running the whole batch
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=0)


def test_upscale_tensor_keeps_dtype_and_handles_gray_and_rgba() -> None:
    upscaler = gansuite.Upscaler(tiny_generator("compact", 2, seed=3), device=torch.device("cpu"), tile=0)
    rgb = torch.rand(2, 3, 6, 5, generator=torch.Generator().manual_seed(2))
    alpha = torch.rand(2, 1, 6, 5, generator=torch.Generator().manual_seed(3))
    rgba = upscaler.upscale_tensor(torch.cat([rgb, alpha], dim=1).double())
    assert rgba.shape == (2, 4, 12, 10) and rgba.dtype == torch.float64
    torch.testing.assert_close(rgba[:, :3].float(), upscaler.upscale_tensor(rgb))
    gray_alpha = upscaler.upscale_tensor(alpha)  # alpha goes through the same gray path
    torch.testing.assert_close(rgba[:, 3:].float(), gray_alpha)
    assert gray_alpha.shape == (2, 1, 12, 10)
    torch.testing.assert_close(gray_alpha, upscaler.upscale_tensor(alpha.expand(-1, 3, -1, -1)).mean(1, keepdim=True))


def test_upscale_tensor_refuses_what_it_cannot_upscale() -> None:
    upscaler = gansuite.Upscaler(tiny_generator("compact", 2), device="cpu")
    for bad in (torch.rand(3, 6, 6), torch.rand(1, 2, 6, 6), torch.zeros(1, 3, 6, 6, dtype=torch.uint8)):
        with pytest.raises(ConfigError, match=r"upscale_tensor expects \(N, 1\|3\|4, H, W\) float"):
            upscaler.upscale_tensor(bad)
    with pytest.raises(ConfigError, match=r"a batch of 4 images .*use upscale_tensor"):
        upscaler(torch.rand(4, 3, 6, 6))


# ---------------------------------------------------------------------------- the caller's module


def _state(module: torch.nn.Module) -> tuple:
    return (
        module.training,
        [p.requires_grad for p in module.parameters()],
        [p.is_contiguous() for p in module.parameters()],
        [p.device for p in module.parameters()],
    )


def test_inference_objects_never_change_the_callers_module() -> None:
    model = tiny_generator("compact", 2).train()
    before = _state(model)
    upscaler = gansuite.Upscaler(model, device="cpu")
    upscaler.upscale_tensor(torch.rand(1, 3, 5, 5))
    assert _state(model) == before and model.training
    assert upscaler.model is not model and not upscaler.model.training
    assert not any(p.requires_grad for p in upscaler.model.parameters())

    predictor_model = UNetPredictor(context_frames=2, channels=1, base_channels=4, depth=1).train()
    before = _state(predictor_model)
    predictor = gansuite.FramePredictor(predictor_model, device=torch.device("cpu"))
    predictor.predict_batch(torch.rand(1, 2, 1, 8, 8))
    assert _state(predictor_model) == before and predictor.model is not predictor_model


def test_to_moves_the_inference_objects_and_accepts_torch_devices() -> None:
    upscaler = gansuite.Upscaler(tiny_generator("compact", 2), device="cpu", precision="auto")
    assert upscaler.to(torch.device("cpu")) is upscaler and upscaler.device == torch.device("cpu")
    assert upscaler.to("cpu").dtype == torch.float32
    predictor = gansuite.FramePredictor(UNetPredictor(context_frames=2, channels=1, base_channels=4, depth=1))
    assert predictor.to("cpu") is predictor and predictor.device.type == "cpu"
    with pytest.raises(ConfigError, match="`device` must be auto, cpu or cuda, got 'tpu'"):
        upscaler.to("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA"):
            upscaler.to(torch.device("cuda"))
        with pytest.raises(ConfigError, match="CUDA"):
            predictor.to("cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_upscale_tensor_on_cuda_returns_on_cuda_and_matches_the_cpu() -> None:
    model = tiny_generator("compact", 2, seed=4)
    batch = torch.rand(4, 3, 20, 18, generator=torch.Generator().manual_seed(5))
    on_cpu = gansuite.Upscaler(model, device="cpu", tile=8).upscale_tensor(batch)
    upscaler = gansuite.Upscaler(model, device="cuda", precision="fp32", tile=8)
    on_cuda = upscaler.upscale_tensor(batch.cuda())
    assert on_cuda.device.type == "cuda" and on_cuda.shape == (4, 3, 40, 36)
    torch.testing.assert_close(on_cuda.cpu(), on_cpu, atol=1e-4, rtol=0)
    assert next(model.parameters()).device.type == "cpu"  # the caller's module stayed put
    assert upscaler.to("cpu").upscale_tensor(batch).device.type == "cpu"


# ---------------------------------------------------------------------------- Trainer.fit on any dataset


def test_the_sampler_gives_plain_indices_to_datasets_that_take_ints() -> None:
    seeded = list(zip(range(6), SeededSampler(dataset_size=5, batch_size=2, seed=1), strict=False))
    plain = list(zip(range(6), SeededSampler(dataset_size=5, batch_size=2, seed=1, seeded=False), strict=False))
    assert all(isinstance(k, SeededIndex) for _, k in seeded)
    assert [type(k) for _, k in plain] == [int] * 6
    assert [k for _, k in plain] == [k.index for _, k in seeded]  # same order, seeds dropped
    tensors = TensorDataset(torch.zeros(3))
    assert accepts_seeded_keys(LinePointsDataset(LineData(size=8, seed=0)))
    assert not accepts_seeded_keys(tensors) and not accepts_seeded_keys(Subset(tensors, [0, 1]))


def test_trainer_fit_takes_a_tensor_dataset(tmp_path: Path) -> None:
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    dataset = TensorDataset(x, 1.5 * x + 0.5)
    result = toy_trainer(tmp_path / "tensors", toy_config(steps=4)).fit(dataset)
    assert result.final_step == 4 and all(np.isfinite(s.generator_loss) for s in result.history)
    subset = Subset(dataset, list(range(0, 64, 2)))
    assert toy_trainer(tmp_path / "subset", toy_config(steps=2)).fit(subset).final_step == 2
