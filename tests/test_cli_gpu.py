"""The command line on CUDA with the shipped models gives what it gives on the CPU.

Skipped without CUDA; `benchmarks/gpu_check.sh` runs them (``pytest -m gpu``) and records the
outcome in docs/GPU.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _predict_helpers import moving_square, write_clip_video
from _video_helpers import make_clip, pattern
from click.testing import CliRunner

from gansuite.cli import main
from gansuite.io.video import probe_video, write_video
from gansuite.metrics import psnr_array

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def _invoke(*args: str | Path) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB over every channel of two uint8 images of one shape."""
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    return psnr_array(a, b, channel="rgb")


def test_upscale_an_image_on_cuda_matches_the_cpu(tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), pattern(3, 40, 56)[:, :, ::-1])
    outputs = {}
    for device, precision in (("cpu", "fp32"), ("cuda", "fp32"), ("cuda", "auto")):
        out = tmp_path / f"{device}-{precision}"
        _invoke("upscale", source, "--device", device, "--precision", precision, "-o", out)
        outputs[device, precision] = cv2.imread(str(out / "photo_x4.png"), cv2.IMREAD_UNCHANGED)
    reference = outputs["cpu", "fp32"]
    assert reference.shape == (160, 224, 3)
    assert _psnr(outputs["cuda", "fp32"], reference) > 45.0  # TF32 convolutions differ in the last bits
    assert _psnr(outputs["cuda", "auto"], reference) > 35.0  # half precision on CUDA by default


def test_upscale_a_video_on_cuda_keeps_frames_size_and_sound(tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    make_clip(source, width=48, height=32, frames=6)
    _invoke("upscale", source, "--device", "cuda", "-o", tmp_path / "out")
    (output,) = (tmp_path / "out").iterdir()
    info = probe_video(output)
    assert (info.frame_count, info.width, info.height) == (6, 192, 128)
    import av

    with av.open(str(output)) as container:
        assert len(container.streams.audio) == 1


def test_predict_frames_on_cuda_matches_the_cpu(tmp_path: Path) -> None:
    clip = write_clip_video(tmp_path / "clip.mkv", frames=10, height=48, width=64)
    frames = {}
    for device in ("cpu", "cuda"):
        folder = tmp_path / f"frames-{device}"
        _invoke("predict-frames", clip, "--future", "2", "--device", device, "--frames-dir", folder,
                "-o", tmp_path / f"{device}.mp4")
        frames[device] = [cv2.imread(str(p)) for p in sorted(folder.glob("*.png"))]
    assert len(frames["cpu"]) == len(frames["cuda"]) == 2
    for on_cpu, on_cuda in zip(frames["cpu"], frames["cuda"], strict=True):
        assert on_cpu.shape == (48, 64, 3)
        assert _psnr(on_cuda, on_cpu) > 40.0


def test_calibrate_on_cuda_gives_the_cpu_threshold(tmp_path: Path) -> None:
    normal = tmp_path / "normal"
    normal.mkdir()
    for i in range(3):
        write_video(normal / f"{i}.mkv", moving_square(16 + 4 * i, 48, 64), 10.0)
    thresholds = {}
    for device in ("cpu", "cuda"):
        target = tmp_path / f"{device}.json"
        _invoke("calibrate", normal, "--out", target, "--smoothing", "1", "--device", device)
        thresholds[device] = json.loads(target.read_text())["threshold"]
    assert np.isfinite(thresholds["cpu"])
    assert thresholds["cuda"] == pytest.approx(thresholds["cpu"], rel=0.02, abs=0.02)
