"""The handlers behind `gansuite serve`, without a browser (tests/test_deploy_browser.py drives the page)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _upscale_helpers import install_shipped, random_array

from gansuite.core.checkpoint import export_weights
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.deploy import web
from gansuite.errors import CheckpointError, ConfigError, InputImageError, InputVideoError
from gansuite.io.video import write_video
from gansuite.tasks.predict import pretrained as predict_pretrained


@pytest.fixture(autouse=True)
def _fresh_models() -> Iterator[None]:
    web._upscaler.cache_clear()
    web._predictor.cache_clear()
    yield
    web._upscaler.cache_clear()
    web._predictor.cache_clear()


@pytest.fixture()
def shipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """Tiny stand-ins for the shipped x4, x4-gan, x2 and ped2 models."""
    paths = install_shipped(monkeypatch, tmp_path / "weights", ("x4", "x4-gan", "x2"))
    monkeypatch.setattr(predict_pretrained, "_WEIGHTS_DIR", tmp_path / "weights")
    torch.manual_seed(0)
    spec = NetworkSpec("generator", "unet-predictor", {"context_frames": 4, "channels": 1, "base_channels": 4,
                                                       "depth": 2})
    paths["ped2"] = export_weights(tmp_path / "weights" / "predict_ped2.safetensors", build_network(spec),
                                   card={"recipe": "ped2", "frame_size": [32, 32]})
    return paths


def test_upscale_keeps_16_bit_and_alpha_in_the_download_and_shows_same_size_previews(
    shipped: dict[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), random_array(13, 17, channels=4, dtype=np.uint16))
    out = web.upscale_upload(source, "x4", 0.0, workdir=tmp_path)
    assert out.before.shape == out.after.shape == (52, 68, 3) and out.after.dtype == np.uint8
    written = cv2.imread(str(out.download), cv2.IMREAD_UNCHANGED)
    assert written.shape == (52, 68, 4) and written.dtype == np.uint16
    assert out.message.startswith("17x13 → 68x52 with x4 in ")
    assert web.upscale_models() == ["x4", "x4-gan", "x2"]


def test_realism_blends_towards_the_gan_twin_and_is_ignored_without_one(
    shipped: dict[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), random_array(9, 11))
    faithful = web.upscale_upload(source, "x4", 0.0, workdir=tmp_path).after
    detailed = web.upscale_upload(source, "x4-gan", 0.0, workdir=tmp_path).after
    blended = web.upscale_upload(source, "x4", 1.0, workdir=tmp_path)
    assert np.array_equal(blended.after, detailed) and not np.array_equal(faithful, detailed)
    assert "realism 1" in blended.message
    plain = web.upscale_upload(source, "x2", 0.5, workdir=tmp_path)
    assert "x2 has none" in plain.message
    twin = web.upscale_upload(source, "x4-gan", 0.5, workdir=tmp_path)  # said 'x4-gan has none' (it is the twin)
    assert twin.message.endswith("(realism blends x4 towards x4-gan; pick x4 to use it)")


def test_upscale_errors_are_gansuite_errors(shipped: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputImageError, match="no image"):
        web.upscale_upload(None, "x4")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(InputImageError, match=r"notes\.png"):
        web.upscale_upload(bad, "x4", workdir=tmp_path)
    with pytest.raises(ConfigError, match="realism"):
        web.upscale_upload(bad, "x4", 2.0)
    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), random_array(9, 11))
    with pytest.raises(CheckpointError, match="neither a shipped name"):
        web.upscale_upload(source, "x8", workdir=tmp_path)


def test_predict_shows_last_context_prediction_and_truth_and_the_anomaly_curve(
    shipped: dict[str, Path], tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    frames = [rng.random((20, 27, 3), dtype=np.float32) for _ in range(9)]
    clip = write_video(tmp_path / "clip.mkv", frames, 10.0)  # lossless
    out = web.predict_upload(clip, "ped2", 3, workdir=tmp_path)
    assert [caption for _, caption in out.frames] == ["t+1", "t+2", "t+3"]
    first = out.frames[0][0]
    assert first.shape == (20, 81, 3)
    # left: the last context frame (frame 5), right: the true frame 6
    assert np.abs(first[:, :27].astype(int) - np.round(frames[5] * 255).astype(int)).max() <= 1
    assert np.abs(first[:, 54:].astype(int) - np.round(frames[6] * 255).astype(int)).max() <= 1
    assert out.video.is_file() and out.video.suffix == ".mp4"
    assert out.curve is not None and out.curve["frame"] == [4, 5, 6, 7, 8]
    assert min(out.curve["anomaly score"]) == 0.0 and max(out.curve["anomaly score"]) == 1.0
    with pytest.raises(InputVideoError, match=r"at least 5 \(4 of context and one to predict\); upload a longer clip"):
        web.predict_upload(write_video(tmp_path / "short.mkv", frames[:4], 10.0), "ped2", workdir=tmp_path)
    with pytest.raises(InputVideoError, match=r"one\.mkv: 1 frame; model ped2 needs at least 5"):
        web.predict_upload(write_video(tmp_path / "one.mkv", frames[:1], 10.0), "ped2", workdir=tmp_path)
    with pytest.raises(InputVideoError, match="no clip"):
        web.predict_upload(None, "ped2")


def test_failures_reach_the_page_as_one_line_never_a_traceback() -> None:
    gr = pytest.importorskip("gradio")

    def fails_with(exc: Exception):
        def handler() -> None:
            raise exc

        return web._readable(handler)

    with pytest.raises(gr.Error) as caught:
        fails_with(InputImageError("photo.png: not a recognised image format\nmore"))()
    assert caught.value.message == "photo.png: not a recognised image format"
    with pytest.raises(gr.Error) as caught:
        fails_with(RuntimeError("boom"))()
    assert caught.value.message == "internal error: RuntimeError: boom"


def test_serve_without_gradio_names_the_web_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from click.testing import CliRunner

    from gansuite.cli import main

    monkeypatch.setitem(sys.modules, "gradio", None)
    result = CliRunner().invoke(main, ["serve", "--port", "7999"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: gansuite serve needs the optional package 'gradio': pip install 'gansuite[web]'"
    )


def test_large_clip_frames_are_shrunk_to_the_long_side_limit_as_they_are_read() -> None:
    big = np.random.default_rng(0).random((500, 800, 3), dtype=np.float32)
    assert web._shrink(big).shape == (240, web.MAX_CLIP_SIDE, 3)
    gray = np.zeros((1000, 10, 1), np.float32)
    assert web._shrink(gray).shape == (web.MAX_CLIP_SIDE, 4, 1)
    small = np.zeros((20, 27, 3), np.float32)
    assert web._shrink(small) is small


def _serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> object:
    from click.testing import CliRunner

    from gansuite.cli import main

    monkeypatch.setattr(web, "build_app", lambda **kwargs: pytest.fail("the app was built before the check"))
    return CliRunner().invoke(main, ["serve", *args])


def test_serve_refuses_cuda_where_there_is_none_before_building_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = _serve(monkeypatch, "--device", "cuda", "--port", "1")
    assert result.exit_code == 1
    assert result.output == "Error: --device cuda: torch sees no CUDA device here; use --device cpu or auto\n"


def test_serve_names_a_busy_port_and_an_unknown_host_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _serve(monkeypatch, "--port", str(port), "--device", "cpu")
    assert result.exit_code == 1 and "internal error" not in result.output
    assert f"--port {port}: 127.0.0.1:{port} is already in use" in result.output
    assert len(result.output.splitlines()) == 1
    result = _serve(monkeypatch, "--host", "no-such-host.invalid", "--device", "cpu")
    assert result.exit_code == 1 and "--host no-such-host.invalid: not an address to listen on" in result.output
    result = _serve(monkeypatch, "--host", "::1", "--device", "cpu")  # was 'internal error: InvalidURL' after start
    assert result.exit_code == 1 and result.output.strip() == (
        "Error: --host ::1: IPv6 addresses are not supported by the web page; use 127.0.0.1 or 0.0.0.0")


def test_an_upload_that_is_no_image_reaches_the_page_as_gansuite_s_one_line(
    shipped: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gradio's own decoding (PIL) answered a non-image or empty upload with a multi-line validation dump."""
    import asyncio

    gr = pytest.importorskip("gradio")
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    app = web.build_app(device="cpu")
    handler = next(fn for fn in app.fns.values() if fn.name == "run_upscale")
    for name, content in (("notes.png", b"not an image"), ("blank.png", b"")):
        upload = tmp_path / name
        upload.write_bytes(content)
        payload = {"path": str(upload), "orig_name": name, "meta": {"_type": "gradio.FileData"}}
        with pytest.raises(gr.Error) as caught:
            asyncio.run(app.process_api(block_fn=handler, inputs=[payload, "x2", 0.0], state=None))
        assert name in caught.value.message and "\n" not in caught.value.message
        assert "not a recognised image format" in caught.value.message or "file is empty" in caught.value.message
    assert not list((tmp_path / "gradio").glob("gansuite-*"))  # a refused upload leaves no result folder
    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), random_array(9, 11, channels=4, dtype=np.uint16))
    payload = {"path": str(source), "orig_name": "photo.png", "meta": {"_type": "gradio.FileData"}}
    out = asyncio.run(app.process_api(block_fn=handler, inputs=[payload, "x2", 0.0], state=None))
    assert out["data"][2].startswith("11x9 → 22x18 with x2")
    # the result is written inside Gradio's cache, whose files the page deletes after an hour and at shutdown
    # (it was a folder of its own in /tmp for every request, never deleted)
    download = Path(out["data"][1]["path"])
    assert download.is_relative_to(Path(gr.utils.get_upload_folder()).resolve()) and download.is_file()
    assert app.delete_cache == (web.RESULT_LIFETIME_S // 6, web.RESULT_LIFETIME_S)


def test_an_image_too_large_for_this_machine_is_refused_before_it_is_decoded(
    shipped: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gansuite.io import image as image_io
    from gansuite.tasks.upscale import preflight

    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), random_array(30, 40))
    monkeypatch.setattr(image_io, "read_image", lambda *a, **k: pytest.fail("decoded before the memory check"))
    monkeypatch.setattr(preflight, "available_memory", lambda: 600 * 2**20)
    with pytest.raises(InputImageError, match=r"photo\.png: 40x30 \(1,200 pixels\): its x4 output \(160x120\) needs "
                       r"about .* GB of memory; about 0\.6 GB is available here.*GANSUITE_MAX_PIXELS in the "
                       r"environment of `gansuite serve`"):
        web.upscale_upload(source, "x4", workdir=tmp_path)
    monkeypatch.setenv("GANSUITE_MAX_PIXELS", "1000")
    with pytest.raises(InputImageError, match=r"over the 1,000-pixel limit set by GANSUITE_MAX_PIXELS"):
        web.upscale_upload(source, "x2", workdir=tmp_path)
