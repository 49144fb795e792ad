"""`gansuite benchmark ...`: quality and speed benchmarks with a recorded protocol."""

from __future__ import annotations

from pathlib import Path

import click

from gansuite.cli._base import (
    SEED,
    SHIPPED_UPSCALERS,
    Group,
    check_report_paths,
    lpips_or_note,
    main,
    write_reports,
)


@main.group(cls=Group)
def benchmark() -> None:
    """Quality and speed benchmarks with a recorded protocol."""


@benchmark.command("sr")
@click.option("--method", "methods", multiple=True, required=True,
              help=f"bicubic, a shipped model ({SHIPPED_UPSCALERS}), "
              "a gansuite weights/checkpoint file, or a model file "
              "spandrel loads (repeatable).")
@click.option("--dataset", "datasets", multiple=True, required=True, help="NAME=HR_DIR (repeatable).")
@click.option("--scale", type=click.IntRange(2, 8), default=4, show_default=True)
@click.option("--lr-dir", "lr_dirs", multiple=True, help="NAME=LR_DIR of ready-made LR images for a dataset.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--backbones", type=click.Path(path_type=Path), help="Folder or file of the AlexNet backbone for LPIPS.")
@click.option("--no-lpips", is_flag=True, help="Skip LPIPS.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
@click.option("--save-images", type=click.Path(file_okay=False, path_type=Path), help="Save every SR output here.")
@click.option("--degradation", type=click.Choice(["bicubic", "real"]), default="bicubic", show_default=True,
              help="LR made by MATLAB bicubic (the papers' protocol) or a fixed seeded blur + noise + JPEG q60.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the run (and of --degradation real).")
def benchmark_sr(
    methods: tuple[str, ...], datasets: tuple[str, ...], scale: int, lr_dirs: tuple[str, ...], device: str,
    backbones: Path | None, no_lpips: bool, json_out: Path | None, markdown_out: Path | None,
    save_images: Path | None, degradation: str, seed: int,
) -> None:
    """Super-resolution quality: PSNR-Y, SSIM-Y and LPIPS with the papers' protocol."""
    check_report_paths({"--json": json_out, "--markdown": markdown_out})
    import gansuite.bench.gansuite_models  # noqa: F401  (lets --method name gansuite models)
    from gansuite.bench.sr import parse_named_paths, run_sr_benchmark

    report = run_sr_benchmark(
        methods, parse_named_paths(datasets, "--dataset"), scale=scale,
        lr_dirs=parse_named_paths(lr_dirs, "--lr-dir"), device=device, save_images=save_images,
        backbones=backbones, compute_lpips=not no_lpips, degradation=degradation, seed=seed,
        progress=lambda line: click.echo(line, err=True),
    )
    click.echo(write_reports(report, json_out, markdown_out))


@benchmark.command("speed")
@click.option("--model", "models", multiple=True,
              help=f"Shipped model ({SHIPPED_UPSCALERS}) "
              "or gansuite .safetensors file (repeatable); with neither --model "
              "nor --arch, every shipped model present.")
@click.option("--arch", "archs", multiple=True,
              help="Randomly initialised generator NAME[:k=v,...] (repeatable), e.g. "
              "compact:scale=4,channels=48,num_convs=16,activation=lrelu.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="auto: the CPU, and CUDA when present.")
@click.option("--precision", help="Comma-separated fp32,fp16,bf16 (default: fp32 on the CPU, all three on CUDA).")
@click.option("--size", type=click.IntRange(min=8), default=256, show_default=True, help="Side of the square LR input.")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True, help="Timed runs (median).")
@click.option("--warmup", type=click.IntRange(min=0), default=2, show_default=True, help="Untimed runs before them.")
@click.option("--no-training", is_flag=True, help="Skip the GAN training-step measurement.")
@click.option("--train-batch", type=click.IntRange(min=1), default=4, show_default=True, help="Training batch size.")
@click.option("--train-patch", type=click.IntRange(min=8), default=128, show_default=True, help="Training HR patch.")
@click.option("--backbones", type=click.Path(path_type=Path), help="VGG16 weights: adds the perceptual loss.")
@click.option("--note", help="A line recorded with the results (e.g. that the machine was loaded).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
def benchmark_speed(
    models: tuple[str, ...], archs: tuple[str, ...], device: str, precision: str | None, size: int, repeats: int,
    warmup: int, no_training: bool, train_batch: int, train_patch: int, backbones: Path | None, note: str | None,
    json_out: Path | None, markdown_out: Path | None,
) -> None:
    """Speed: inference megapixels/s and peak memory, GAN training it/s, and the fraction of a conv peak."""
    check_report_paths({"--json": json_out, "--markdown": markdown_out})
    from gansuite.bench.speed import run_speed_benchmark

    report = run_speed_benchmark(
        models, archs, device=device, precisions=precision, size=size, repeats=repeats, warmup=warmup,
        training=not no_training, train_batch=train_batch, train_patch=train_patch, backbones=backbones, note=note,
        progress=lambda line: click.echo(line, err=True),
    )
    click.echo(write_reports(report, json_out, markdown_out))


@benchmark.command("predict")
@click.option("--model", "models", multiple=True,
              help="Shipped model (mmnist, natural, ...-mse) or gansuite weights/checkpoint file (repeatable); "
              "copy-last-frame and optical-flow extrapolation are always scored.")
@click.option("--mnist", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the MNIST IDX files (t10k-images-idx3-ubyte.gz): Moving MNIST 10 → 10.")
@click.option("--clips", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Video files, frame folders or folders of clips (repeatable).")
@click.option("--sequences", type=click.IntRange(1, 2000), default=2000, show_default=True,
              help="How many of the 2000 fixed Moving-MNIST test sequences to score.")
@click.option("--future", type=click.IntRange(min=1), default=4, show_default=True, help="Steps ahead on clips.")
@click.option("--stride", type=click.IntRange(min=1), default=8, show_default=True, help="Frames between clip windows.")
@click.option("--max-short-side", type=click.IntRange(min=16), default=256, show_default=True,
              help="Downscale clips to this short side at most.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--backbones", type=click.Path(path_type=Path), help="Folder or file of the AlexNet backbone for LPIPS.")
@click.option("--no-lpips", is_flag=True, help="Skip LPIPS.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
def benchmark_predict(
    models: tuple[str, ...], mnist: Path | None, clips: tuple[Path, ...], sequences: int, future: int, stride: int,
    max_short_side: int, device: str, backbones: Path | None, no_lpips: bool, json_out: Path | None,
    markdown_out: Path | None,
) -> None:
    """Next-frame prediction quality per step ahead, beside copy-last and optical flow (Moving MNIST, clips)."""
    check_report_paths({"--json": json_out, "--markdown": markdown_out})
    from gansuite.bench.predict import run_predict_benchmark

    lpips = lpips_or_note(backbones, device) if clips and not no_lpips else None
    report = run_predict_benchmark(
        models, mnist=mnist, clips=clips, sequences=sequences, future=future, stride=stride,
        max_short_side=max_short_side, device=device, lpips=lpips, progress=lambda line: click.echo(line, err=True),
    )
    click.echo(write_reports(report, json_out, markdown_out))


@benchmark.command("anomaly")
@click.option("--frames", "frames_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Test clips: one folder of frames per clip, in the labels' order (ped2/testing).")
@click.option("--labels", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Frame-level labels .npy, all clips concatenated (ped2/labels/frame_labels_ped2.npy).")
@click.option("--model", default="ped2", show_default=True, help="Shipped model or gansuite weights/checkpoint file.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
@click.option("--calibration-frames", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Normal clips (ped2/training): adds the causal calibrated protocol beside the offline one, with "
              "localised scores (patch PSNR, motion).")
@click.option("--false-alarm-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.01,
              show_default=True, help="With --calibration-frames: alert threshold's false-alarm rate on them.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path),
              help="With --calibration-frames: folder caching per-clip evidence (skips the network next time).")
@click.option("--calibration-out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --calibration-frames: write the default score's calibration JSON here.")
def benchmark_anomaly(
    frames_dir: Path, labels: Path, model: str, device: str, json_out: Path | None, markdown_out: Path | None,
    calibration_frames: Path | None, false_alarm_rate: float, cache: Path | None, calibration_out: Path | None,
) -> None:
    """Frame-level anomaly detection AUC/EER: Liu et al.'s offline protocol, and causal calibrated scores."""
    check_report_paths({"--json": json_out, "--markdown": markdown_out, "--calibration-out": calibration_out})
    from gansuite.bench.anomaly import run_anomaly_benchmark

    if calibration_frames is not None:
        from gansuite.bench.anomaly_causal import run_causal_anomaly_benchmark

        report = run_causal_anomaly_benchmark(
            frames_dir, labels, calibration_frames, model=model, device=device, false_alarm_rate=false_alarm_rate,
            cache_dir=cache, calibration_out=calibration_out, progress=lambda line: click.echo(line, err=True),
        )
        click.echo(write_reports(report, json_out, markdown_out))
        return
    report = run_anomaly_benchmark(
        frames_dir, labels, model=model, device=device, progress=lambda line: click.echo(line, err=True)
    )
    click.echo(write_reports(report, json_out, markdown_out))


@benchmark.command("video-sr")
@click.option("--method", "methods", multiple=True, required=True,
              help=f"bicubic, a shipped model ({SHIPPED_UPSCALERS}), "
              "a gansuite weights file, or a model file spandrel loads "
              "(repeatable).")
@click.option("--clip", "clips", multiple=True, required=True, type=click.Path(exists=True, path_type=Path),
              help="Video file or frame folder (repeatable).")
@click.option("--scale", type=click.IntRange(2, 8), default=4, show_default=True)
@click.option("--max-frames", type=click.IntRange(min=2), default=30, show_default=True,
              help="Frames from the start of each clip.")
@click.option("--max-short-side", type=click.IntRange(min=16), default=240, show_default=True,
              help="Ground-truth frames are downscaled to this short side at most.")
@click.option("--temporal-blend", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Also score each model with the flicker fix: blend with the previous flow-warped output.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--backbones", type=click.Path(path_type=Path), help="Folder or file of the AlexNet backbone for LPIPS.")
@click.option("--no-lpips", is_flag=True, help="Skip LPIPS.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="JSON report file.")
@click.option("--markdown", "markdown_out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
def benchmark_video_sr(
    methods: tuple[str, ...], clips: tuple[Path, ...], scale: int, max_frames: int, max_short_side: int,
    temporal_blend: float | None, device: str, backbones: Path | None, no_lpips: bool, json_out: Path | None,
    markdown_out: Path | None,
) -> None:
    """Video SR: per-frame PSNR-Y/LPIPS and flicker (warping error against ground-truth optical flow)."""
    check_report_paths({"--json": json_out, "--markdown": markdown_out})
    import sys

    import gansuite.bench.gansuite_models  # noqa: F401  (lets --method name gansuite models)
    from gansuite.bench.video_sr import run_video_sr_benchmark

    lpips = None if no_lpips else lpips_or_note(backbones, device)
    report = run_video_sr_benchmark(
        methods, clips, scale=scale, max_frames=max_frames, max_short_side=max_short_side, device=device, lpips=lpips,
        temporal_blend=temporal_blend, progress=lambda line: click.echo(line, err=True),
        command=" ".join(["gansuite", *sys.argv[1:]]),
    )
    click.echo(write_reports(report, json_out, markdown_out))
