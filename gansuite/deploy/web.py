"""`gansuite serve`: a local web page (Gradio) to upscale an image or predict the frames of a clip.

Upscale tab: upload an image, pick a model (every shipped upscaler present) and a realism (x4:
blends towards x4-gan, ESRGAN's network interpolation), get a before/after slider (bicubic |
gansuite at the output size) and the full result to download (PNG, same bit depth and alpha as
the upload). Predict tab: upload a clip, pick a next-frame model and how many frames to predict;
the last frames of the clip are the ground truth, so the result is a side-by-side video and
gallery (last context frame | prediction | true frame) and, for the surveillance model (ped2),
the anomaly-score curve of the whole clip (1 − min-max normalised prediction PSNR, Liu et al. 2018).

An upload is read by gansuite itself (Gradio's own decoding is skipped), and an image whose
result would not fit in memory is refused from its header, by `gansuite upscale`'s rule. Results
are written inside Gradio's cache and deleted with it (`RESULT_LIFETIME_S`).

Errors reach the page as one readable line (a `gr.Error`), never a traceback: a
`GansuiteError` with its own message, anything else as "internal error: ...", with the
traceback only in the server's log. The handlers are plain functions (`upscale_upload`,
`predict_upload`) that the tests call without a browser.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from gansuite._extras import require_extra
from gansuite.deploy._serve_checks import check_serve_settings
from gansuite.errors import ConfigError, GansuiteError, InputImageError, InputVideoError, count_of

__all__ = [
    "PredictOutput", "UpscaleOutput", "build_app", "check_serve_settings", "predict_upload", "serve", "upscale_upload",
]

MAX_CLIP_FRAMES = 240
"""Frames read from an uploaded clip (8 s at 30 fps)."""

RESULT_LIFETIME_S = 3600
"""How long the page keeps a result (download, previews, video) on disk: Gradio deletes its cached
files older than this every 10 minutes, and all of them when the server stops."""

MAX_CLIP_SIDE = 384
"""Frames of an uploaded clip are shrunk (area resize) to at most this long side as they are read,
so a long 4K upload costs at most MAX_CLIP_FRAMES x 384 x 384 x 3 floats (the models run at 256 or less)."""

_log = logging.getLogger("gansuite.serve")
_T = TypeVar("_T")


@dataclass(frozen=True)
class UpscaleOutput:
    """What the upscale tab shows.

    Attributes:
        before: (H', W', 3) uint8 RGB, the upload resized by bicubic to the output size.
        after: (H', W', 3) uint8 RGB preview of the result.
        download: the full result as a PNG (input's bit depth, alpha and gray kept).
        message: one line: sizes, model, time.
    """

    before: np.ndarray
    after: np.ndarray
    download: Path
    message: str


@dataclass(frozen=True)
class PredictOutput:
    """What the predict tab shows.

    Attributes:
        video: side-by-side mp4 (H.264), last context frame | prediction | true frame.
        frames: the same frames as (H, 3·W, 3) uint8 RGB with a caption each.
        curve: {"frame": [...] (int), "anomaly score": [...] in [0, 1]} for the surveillance model, else None.
        message: one line.
    """

    video: Path
    frames: list[tuple[np.ndarray, str]]
    curve: dict[str, list[Any]] | None
    message: str


def upscale_models() -> list[str]:
    """Shipped upscalers present in this build, e.g. ["x4", "x4-gan", "x2"]."""
    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS, shipped_weights_path

    return [name for name in SHIPPED_WEIGHTS if shipped_weights_path(name).is_file()]


def predict_models() -> list[str]:
    """Shipped next-frame models present in this build, e.g. ["natural", "ped2", "mmnist"]."""
    from gansuite.tasks.predict.pretrained import SHIPPED_MODELS, shipped_weights_path

    return [name for name in SHIPPED_MODELS if shipped_weights_path(name).is_file()]


@functools.lru_cache(maxsize=8)
def _upscaler(model: str, realism: float | None, device: str) -> Any:
    from gansuite.tasks.upscale.upscaler import Upscaler

    return Upscaler.from_pretrained(model, realism=realism, device=device)


@functools.lru_cache(maxsize=4)
def _predictor(model: str, device: str) -> Any:
    from gansuite.tasks.predict.predictor import FramePredictor

    return FramePredictor.from_pretrained(model, device=device)


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) float in [0, 1] → uint8 (round half up, as gansuite's writers)."""
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def upscale_upload(
    path: str | os.PathLike[str] | None, model: str, realism: float = 0.0, *, device: str = "cpu",
    workdir: str | os.PathLike[str] | None = None,
) -> UpscaleOutput:
    """Upscale an uploaded image file.

    Args:
        path: the uploaded file (any format gansuite reads: 8/16-bit, gray, RGB, RGBA).
        model: a shipped upscaler name.
        realism: 0..1; used where the model has a GAN twin (x4 → x4-gan), else ignored (said so).
        device: "auto", "cpu" or "cuda".
        workdir: where the download is written (default: a new temporary folder).

    Raises:
        InputImageError: no file, or a file gansuite cannot read.
        ConfigError, CheckpointError: a bad model or realism.
    """
    from gansuite.io.image import read_image, write_image
    from gansuite.tasks.upscale.pretrained import SHIPPED_WEIGHTS

    if not path:
        raise InputImageError("no image: drop an image on the upload box first")
    if not 0.0 <= realism <= 1.0:
        raise ConfigError(f"realism must be between 0 and 1, got {realism}")
    has_twin = f"{model}-gan" in SHIPPED_WEIGHTS
    blend = round(float(realism), 3) if has_twin and realism > 0 else None
    upscaler = _upscaler(model, blend, device)
    _check_fits(Path(path), upscaler.outscale or upscaler.scale)  # before the pixels are decoded
    loaded = read_image(Path(path))
    result = upscaler(loaded)
    image = result.image
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="gansuite-serve-"))
    target = folder / f"{Path(path).stem}_{model}{'' if blend is None else f'_r{blend:g}'}.png"
    write_image(target, image.color, image.alpha, bit_depth=image.bit_depth, grayscale=image.grayscale)
    height, width = image.color.shape[:2]
    before = cv2.resize(loaded.color, (width, height), interpolation=cv2.INTER_CUBIC)
    note = ""
    if realism > 0 and not has_twin:
        base = model.removesuffix("-gan")
        note = (f" (realism blends {base} towards {model}; pick {base} to use it)" if base != model
                and base in SHIPPED_WEIGHTS else f" (realism applies to models with a GAN twin; {model} has none)")
    message = (
        f"{loaded.width}x{loaded.height} → {width}x{height} with {model}"
        f"{'' if blend is None else f' at realism {blend:g}'} in {result.seconds:.2f} s{note}"
    )
    return UpscaleOutput(before=_to_uint8(before), after=_to_uint8(image.color), download=target, message=message)


PREVIEW_BYTES_PER_OUTPUT_PIXEL = 28
"""Host bytes per output pixel the page holds beside the result: the bicubic preview as float32
(12), both previews as uint8 (6) and the PNG encoding of each for the slider (about 10)."""


def _check_fits(path: Path, scale: float) -> None:
    """Refuse an upload whose result (and previews) would not fit in this machine's memory, before decoding it.

    The rule of `gansuite upscale` (`memory_problem`): `GANSUITE_MAX_PIXELS` in the server's
    environment sets the limit, else 80% of the available memory does.

    Raises:
        InputImageError: naming the upload, its size, the memory needed and what is available.
    """
    from gansuite.io.image import probe_image
    from gansuite.tasks.upscale.preflight import MAX_PIXELS_ENV, available_memory, memory_problem

    limit = os.environ.get(MAX_PIXELS_ENV, "").replace("_", "")
    problem = memory_problem(
        probe_image(path), final_scale=scale, max_pixels=int(limit) if limit.isdigit() and int(limit) > 0 else None,
        memory=available_memory(), extra_bytes_per_output_pixel=PREVIEW_BYTES_PER_OUTPUT_PIXEL,
        raise_hint=f"{MAX_PIXELS_ENV} in the environment of `gansuite serve`",
    )
    if problem:
        raise InputImageError(problem)


def _shrink(frame: np.ndarray) -> np.ndarray:
    """(H, W, C) float32 → at most `MAX_CLIP_SIDE` on the long side (area resize), C kept."""
    height, width = frame.shape[:2]
    factor = MAX_CLIP_SIDE / max(height, width)
    if factor >= 1:
        return frame
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    shrunk = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return shrunk.reshape(*shrunk.shape[:2], frame.shape[2])


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad to even sides (edge pixels) so the H.264 video is 4:2:0, which every browser plays."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge") if pad_h or pad_w else frame


def predict_upload(
    path: str | os.PathLike[str] | None, model: str, future: int = 4, *, device: str = "cpu",
    workdir: str | os.PathLike[str] | None = None,
) -> PredictOutput:
    """Predict the last `future` frames of an uploaded clip from the k before them.

    Args:
        path: the uploaded video (or frame folder); its first `MAX_CLIP_FRAMES` frames are used,
            shrunk to `MAX_CLIP_SIDE` pixels on the long side.
        model: a shipped next-frame model name.
        future: frames to predict, 1..16 (fewer if the clip is short).
        device: "auto", "cpu" or "cuda".
        workdir: where the video is written (default: a new temporary folder).

    Raises:
        InputVideoError: no file, an unreadable clip, or fewer than k + 1 frames.
        ConfigError, CheckpointError: a bad model or `future`.
    """
    from gansuite.io.video import iter_video_frames, probe_video, write_video
    from gansuite.tasks.predict.anomaly import regularity, score_clip

    if not path:
        raise InputVideoError("no clip: drop a video on the upload box first")
    if not 1 <= future <= 16:
        raise ConfigError(f"frames to predict must be 1..16, got {future}")
    predictor = _predictor(model, device)
    fps = probe_video(Path(path)).fps
    frames = np.stack([_shrink(frame) for frame in iter_video_frames(Path(path), max_frames=MAX_CLIP_FRAMES)])
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    k = predictor.context_frames
    if len(frames) < k + 1:
        raise InputVideoError(
            f"{Path(path).name}: {count_of(len(frames), 'frame')}; model {model} needs at least {k + 1} "
            f"({k} of context and one to predict); upload a longer clip or pick a model with fewer context frames"
        )
    future = min(future, len(frames) - k)
    start = len(frames) - k - future
    context, truth = frames[start : start + k], frames[start + k :]
    predicted = predictor.predict_frames(context, future)
    side_by_side = [
        _to_uint8(np.concatenate([context[-1], frame, true], axis=1))
        for frame, true in zip(predicted, truth, strict=True)
    ]
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="gansuite-serve-"))
    video = write_video(folder / f"{Path(path).stem}_{model}_predicted.mp4",
                        [_even(frame).astype(np.float32) / 255.0 for frame in side_by_side], fps)
    curve = None
    if model.startswith("ped2"):
        psnr = score_clip(predictor, frames)
        anomaly = 1.0 - regularity(psnr)
        curve = {"frame": [k + i for i in range(len(anomaly))], "anomaly score": [float(v) for v in anomaly]}
    message = (
        f"frames {start + k}..{len(frames) - 1} of {len(frames)} predicted from the {k} before them with {model} "
        "(left: last context frame, middle: prediction, right: true frame)"
    )
    captions = [(frame, f"t+{step}") for step, frame in enumerate(side_by_side, start=1)]
    return PredictOutput(video=video, frames=captions, curve=curve, message=message)


def _upload_path(upload: Any) -> str | None:
    """The server path of an upload as the page sends it (unpreprocessed: a FileData dict), or None."""
    if isinstance(upload, dict):
        return upload.get("path") or None
    return str(upload) if upload else None


def _readable(fn: Callable[..., _T]) -> Callable[..., _T]:
    """Run a handler; any failure becomes a one-line `gr.Error` on the page (traceback in the log only)."""
    gr = require_extra("web", "gradio", feature="gansuite serve")

    @functools.wraps(fn)
    def wrapper(*args: Any) -> _T:
        try:
            return fn(*args)
        except GansuiteError as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise gr.Error(message, print_exception=False) from None
        except Exception as exc:
            _log.exception("internal error in %s", fn.__name__)
            message = str(exc).splitlines()[0] if str(exc) else ""
            raise gr.Error(f"internal error: {type(exc).__name__}: {message}", print_exception=False) from None

    return wrapper


def build_app(*, device: str = "auto") -> Any:
    """The Gradio `Blocks` app (not started); `serve` launches it.

    Raises:
        MissingExtraError: gradio is not installed (`pip install 'gansuite[web]'`).
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    gr = require_extra("web", "gradio", feature="gansuite serve")
    import pandas as pd  # a gradio dependency

    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    upscalers, predictors = upscale_models(), predict_models()
    # results are written inside Gradio's cache: served from there without a copy, and deleted with it
    # (`RESULT_LIFETIME_S`); a folder of their own would keep every result until the disk is full
    cache = Path(gr.utils.get_upload_folder())

    def in_result_folder(handler: Callable[[Path], _T]) -> _T:
        cache.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="gansuite-", dir=cache))
        try:
            return handler(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # a refused upload leaves nothing behind
            raise

    def run_upscale(upload: Any, model: str, realism: float) -> tuple[Any, ...]:
        out = in_result_folder(lambda folder: upscale_upload(
            _upload_path(upload), model, float(realism), device=device, workdir=folder))
        return (out.before, out.after), str(out.download), out.message

    def run_predict(path: str | None, model: str, future: float) -> tuple[Any, ...]:
        out = in_result_folder(lambda folder: predict_upload(path, model, int(future), device=device, workdir=folder))
        plot = gr.update(visible=False, value=None)
        if out.curve is not None:
            plot = gr.update(visible=True, value=pd.DataFrame(out.curve))
        return str(out.video), out.frames, plot, out.message

    with gr.Blocks(title="gansuite", analytics_enabled=False,
                   delete_cache=(RESULT_LIFETIME_S // 6, RESULT_LIFETIME_S)) as app:
        gr.Markdown("# gansuite\nSuper-resolution and next-frame prediction, running on this machine.")
        with gr.Tab("Upscale"):
            with gr.Row():
                with gr.Column(scale=1):
                    image = gr.Image(type="filepath", label="Image", elem_id="upscale-input", image_mode=None)
                    model = gr.Dropdown(upscalers, value=upscalers[0] if upscalers else None, label="Model",
                                        elem_id="upscale-model")
                    realism = gr.Slider(0, 1, value=0, step=0.05, label="Realism (x4: 0 faithful … 1 most detail)",
                                        elem_id="upscale-realism")
                    button = gr.Button("Upscale", variant="primary", elem_id="upscale-button")
                with gr.Column(scale=2):
                    slider = gr.ImageSlider(label="bicubic | gansuite", format="png", elem_id="upscale-result",
                                            max_height=720)
                    info = gr.Textbox(label="Result", interactive=False, elem_id="upscale-info")
                    download = gr.File(label="Download", elem_id="upscale-download")
            # preprocess=False: the upload reaches gansuite's reader as it is; Gradio's own decoding (PIL)
            # would answer a non-image or an empty file with a multi-line validation dump
            button.click(_readable(run_upscale), [image, model, realism], [slider, download, info], preprocess=False)
        with gr.Tab("Predict frames"):
            with gr.Row():
                with gr.Column(scale=1):
                    clip = gr.Video(label="Clip", elem_id="predict-input", sources=["upload"])
                    clip_model = gr.Dropdown(predictors, value=predictors[0] if predictors else None,
                                             label="Model (ped2: surveillance, with anomaly scores)",
                                             elem_id="predict-model")
                    future = gr.Slider(1, 16, value=4, step=1, label="Frames to predict", elem_id="predict-future")
                    go = gr.Button("Predict", variant="primary", elem_id="predict-button")
                with gr.Column(scale=2):
                    video = gr.Video(label="last context | prediction | truth", elem_id="predict-video")
                    gallery = gr.Gallery(label="Frames", columns=4, elem_id="predict-frames")
                    plot = gr.LinePlot(x="frame", y="anomaly score", y_lim=[0, 1], visible=False,
                                       label="Anomaly score per frame", elem_id="predict-curve")
                    predict_info = gr.Textbox(label="Result", interactive=False, elem_id="predict-info")
            go.click(_readable(run_predict), [clip, clip_model, future], [video, gallery, plot, predict_info])
    return app


def serve(*, host: str = "127.0.0.1", port: int = 7860, device: str = "auto", open_browser: bool = False) -> None:
    """Start the web page and block until interrupted.

    Raises:
        ConfigError: a device torch cannot use, or an address that cannot be listened on (`check_serve_settings`).
        MissingExtraError: gradio is not installed.
    """
    check_serve_settings(host=host, port=port, device=device)
    gr = require_extra("web", "gradio", feature="gansuite serve")
    app = build_app(device=device)
    # system fonts only: the page must not fetch anything from the internet
    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    app.queue(default_concurrency_limit=1).launch(
        server_name=host, server_port=port, inbrowser=open_browser, show_error=True, quiet=False,
        ssr_mode=False, theme=theme, max_file_size="200mb", footer_links=[],
    )
