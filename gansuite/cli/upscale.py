"""`gansuite upscale`: super-resolution of files, folders and globs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gansuite.cli._base import SHIPPED_UPSCALERS, given, in_flags, main, parse_tile


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o", "--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: beside each input)."
)
@click.option("--scale", type=click.Choice(["2", "4"]), default="4", show_default=True,
              help="Picks the shipped model. With --model the model's own scale is used; a --scale given must match.")
@click.option(
    "--model",
    help=f"Shipped model name ({SHIPPED_UPSCALERS}), "
    "a gansuite .safetensors file, or any SR model file spandrel "
    "recognises (ESRGAN/Real-ESRGAN, SwinIR, HAT, DAT, OmniSR, SPAN...; .pth/.safetensors/.ckpt, weights only).",
)
@click.option("--realism", type=click.FloatRange(0, 1),
              help="0 = most faithful … 1 = most detail: blends a model with its GAN twin (x4 … x4-gan, x4-real … "
              "x4-real-gan).")
@click.option("--denoise", type=click.FloatRange(0, 1), metavar="D",
              help="Models trained on realistic degradations: how much noise and JPEG to remove, 0 (the clean-protocol "
              "twin: x4 for x4-real, x4-gan for x4-real-gan) … 1 (as trained).")
@click.option("--outscale", type=float, help="Final scale after the network (high-quality resize).")
@click.option("--tile", default="auto", show_default=True, help="auto, 0 (no tiling) or a tile size in input pixels.")
@click.option("--tile-overlap", type=click.IntRange(min=0), help="Context around each tile (default: receptive field).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(["auto", "fp32", "fp16", "bf16"]), default="auto", show_default=True)
@click.option("--suffix", help="Added to output names (default: _x<scale>).")
@click.option("--ext", type=click.Choice(["auto", "png", "jpg", "webp"]), default="auto", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace existing outputs (inputs are never overwritten).")
@click.option("--max-pixels", type=click.IntRange(min=1), envvar="GANSUITE_MAX_PIXELS", show_envvar=True,
              help="Largest input image in pixels (default: what this machine's free memory allows for the output).")
@click.option("--codec", default="h264", show_default=True,
              help="Video inputs: h264, h265, vp9, av1, ffv1 (lossless), mjpeg, prores or mpeg4.")
@click.option("--crf", type=int, help="Video inputs: constant rate factor, lower is better (h264 default 18).")
@click.option("--pix-fmt", help="Video inputs: encoder pixel format, e.g. yuv420p10le for 10-bit (default yuv420p).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Video inputs: frames per forward pass "
              "(default 1 on the CPU, 4 on CUDA).")
@click.option("--temporal-blend", type=click.FloatRange(0, 1, min_open=True, max_open=True), metavar="A",
              help="Video inputs: blend each frame with the previous output warped by optical flow, weight A "
              "(0.5 cuts GAN flicker; see benchmark video-sr).")
@click.option("--engine", type=click.Choice(["torch", "onnxruntime"]), default="torch", show_default=True,
              help="onnxruntime: run an .onnx --model, or the model exported to a cache once (pip extra [onnx]).")
def upscale(
    inputs: tuple[str, ...], out: Path | None, scale: str, model: str | None, realism: float | None,
    denoise: float | None, outscale: float | None, tile: str, tile_overlap: int | None, device: str, precision: str,
    suffix: str | None, ext: str, overwrite: bool, max_pixels: int | None, engine: str, codec: str, crf: int | None,
    pix_fmt: str | None, batch_size: int | None, temporal_blend: float | None,
) -> None:
    """Upscale images x2/x4: files, folders or glob patterns; and videos (mp4, mkv, mov, ...), keeping their sound.

    Under `torchrun --nproc_per_node N -m gansuite upscale ...` the files are shared out among the
    ranks (one GPU each, or gloo processes on the CPU) and rank 0 prints one summary.
    """
    from tqdm import tqdm

    from gansuite.cli._video_upscale import (
        VideoCounts,
        split_video_inputs,
        upscale_video_inputs,
        warn_unused_image_options,
        warn_unused_video_options,
    )
    from gansuite.core.atomic import missing_folders, remove_empty_folders
    from gansuite.deploy.distributed import finish, gather_count, gather_reports, init_distributed, shard
    from gansuite.errors import ConfigError
    from gansuite.io.video import check_codec
    from gansuite.tasks.upscale.batch import expand_inputs, upscale_files
    from gansuite.tasks.upscale.pretrained import default_model
    from gansuite.tasks.upscale.settings import check_model_scale
    from gansuite.tasks.upscale.upscaler import Upscaler

    own_outputs = (suffix,) if suffix else ()  # earlier outputs in an input folder or pattern are never inputs
    videos, inputs = split_video_inputs(inputs, own_outputs)  # video files: decode → model → encode, with their sound
    if videos:
        check_codec(codec, pix_fmt, crf)  # before any model is loaded
    made = missing_folders(out) if out is not None else []
    context = init_distributed(device)  # a single process unless started by torchrun
    if made and context.is_main:  # when every input fails, no empty -o folder stays behind (ranks are done by then)
        click.get_current_context().call_on_close(lambda: remove_empty_folders(made))
    if not videos and context.is_main:
        warn_unused_video_options()
    if videos and not inputs and context.is_main:
        warn_unused_image_options()
    files = shard(expand_inputs(inputs, skip_suffixes=own_outputs), context.rank, context.world_size) if inputs else []
    device = str(context.device) if context.enabled and engine == "torch" else device
    name = model or default_model(int(scale), realism=realism is not None)
    # an explicit --scale must agree with --model; a default --scale yields to the model
    asked_scale = int(scale) if model and given("scale") else None
    if asked_scale:
        check_model_scale(model, asked_scale)  # shipped names and gansuite files: from the metadata, before loading
    settings = dict(device=device, precision=precision, tile=parse_tile(tile), tile_overlap=tile_overlap,
                    outscale=outscale)
    if engine == "onnxruntime":
        from gansuite.deploy.onnx import onnx_upscaler

        if denoise is not None:
            raise ConfigError("--denoise blends torch weights; use it with --engine torch")
        upscaler = onnx_upscaler(name, realism=realism, rank=context.rank, world_size=context.world_size, **settings)
    else:
        upscaler = Upscaler.from_pretrained(name, realism=realism, denoise=denoise, **settings)
    if asked_scale:
        check_model_scale(model, asked_scale, found=upscaler.scale)  # third-party and .onnx files, once loaded
    final_scale = outscale or upscaler.scale
    suffix = suffix if suffix is not None else f"_x{final_scale:g}"
    if videos and files:  # the image batch's problems are found before the videos are computed
        from gansuite.tasks.upscale.preflight import plan_batch

        plan_batch(files, scale=upscaler.scale, outscale=upscaler.outscale, out_dir=out, suffix=suffix, ext=ext,
                   max_pixels=max_pixels)
    counts = VideoCounts()
    own_videos = shard(videos, context.rank, context.world_size)  # under torchrun: whole videos per rank
    if own_videos:
        counts = upscale_video_inputs(
            upscaler, own_videos, out=out, suffix=suffix, codec=codec, crf=crf, pix_fmt=pix_fmt, overwrite=overwrite,
            batch_size=batch_size or (4 if upscaler.device.type == "cuda" else 1), temporal_blend=temporal_blend,
            batch=videos,
        )
    if not inputs and not context.enabled:
        sys.exit(1 if counts.failed else 0)
    bar = tqdm(total=len(files), unit="image", disable=not sys.stderr.isatty() or not context.is_main)

    def on_file(path: Path, status: str) -> None:
        bar.update(1)
        if status not in ("written", "skipped") and not context.enabled:
            status = in_flags(status)
            tqdm.write(f"error: {status}" if str(path) in status else f"error: {path}: {status}", file=sys.stderr)

    report = upscale_files(
        upscaler, files, out_dir=out, suffix=suffix, ext=ext, overwrite=overwrite, on_file=on_file,
        max_pixels=max_pixels, on_note=lambda line: tqdm.write(f"note: {line}", file=sys.stderr),
    )
    bar.close()
    report = gather_reports(report, context)  # every rank's files; rank 0 reports them
    counts = VideoCounts(*(gather_count(n, context) for n in (counts.written, counts.skipped, counts.failed)))
    finish(context)
    if not context.is_main or not inputs:
        sys.exit(1 if report.failed or counts.failed else 0)
    for path, status in report.failed if context.enabled else ():
        status = in_flags(status)
        click.echo(f"error: {status}" if str(path) in status else f"error: {path}: {status}", err=True)
    ranks = f" by {context.world_size} processes" if context.enabled else ""
    click.echo(  # images and videos alike (each video has had its own line above)
        f"{len(report.written) + counts.written} written, {len(report.skipped) + counts.skipped} skipped (exist; "
        f"--overwrite to replace), {len(report.failed) + counts.failed} failed{ranks}"
    )
    if report.failed or counts.failed:
        sys.exit(1)
