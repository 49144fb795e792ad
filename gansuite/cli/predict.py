"""`gansuite predict-frames`: next-frame prediction on a clip."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gansuite.cli._base import json_line, lpips_or_note, main
from gansuite.errors import count_of

if TYPE_CHECKING:
    from gansuite.tasks.predict.clip_prediction import ClipPredictionReport


@main.command("predict-frames")
@click.argument("clip", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Output video, .mp4/.mov/.mkv/.avi/.webm (default: <clip stem>_predicted.mp4 beside the clip; "
              "with --evaluate, no video unless -o is given).")
@click.option("--model", default="natural", show_default=True,
              help="Shipped model (natural, ped2, mmnist, or their -mse twins) or a gansuite .safetensors/.pt file.")
@click.option("--context", type=click.IntRange(min=1), help="Context frames; must equal the model's (its default).")
@click.option("--future", type=click.IntRange(min=1), default=8, show_default=True, help="Frames to predict.")
@click.option("--start", type=click.IntRange(min=0),
              help="First context frame (default: the clip's last frames, predicting past its end).")
@click.option("--side-by-side", is_flag=True, help="Write last context | prediction | ground truth side by side.")
@click.option("--frames-dir", type=click.Path(file_okay=False, path_type=Path), help="Also write the PNG frames here.")
@click.option("--evaluate", is_flag=True,
              help="Per-horizon PSNR/SSIM/LPIPS against the clip, beside copy-last and optical-flow extrapolation.")
@click.option("--stride", type=click.IntRange(min=1), default=1, show_default=True,
              help="Frames between evaluated windows (all start positions, without --start).")
@click.option("--backbones", type=click.Path(path_type=Path),
              help="Folder or file of the AlexNet backbone for LPIPS (default: GANSUITE_BACKBONES).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing output (the input is never overwritten).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def predict_frames(
    clip: Path, out: Path | None, model: str, context: int | None, future: int, start: int | None,
    side_by_side: bool, frames_dir: Path | None, evaluate: bool, stride: int, backbones: Path | None, device: str,
    overwrite: bool, as_json: bool,
) -> None:
    """Predict the next frames of a video clip (file or frame folder) and write them as a video."""
    from gansuite.errors import ConfigError
    from gansuite.io.video import probe_video
    from gansuite.tasks.predict.clip_prediction import predict_clip_file
    from gansuite.tasks.predict.predictor import FramePredictor

    probed = probe_video(clip)  # a missing, audio-only or empty clip is refused before the model loads
    predictor = FramePredictor.from_pretrained(model, device=device)
    if context is not None and context != predictor.context_frames:
        raise ConfigError(
            f"--context {context}: model {predictor.name} takes {count_of(predictor.context_frames, 'context frame')}; "
            f"omit --context or pass {predictor.context_frames}"
        )
    info = probed if evaluate else None
    min_side = min(info.height, info.width) if info is not None else None
    notes: list[str] = []  # said after success: on a bad clip the error is the only line
    report = predict_clip_file(
        predictor, clip, output=out, future=future, start=start, side_by_side=side_by_side, frames_dir=frames_dir,
        evaluate=evaluate, stride=stride,
        lpips=lpips_or_note(backbones, device, min_side, notes=notes) if evaluate else None,
        overwrite=overwrite, write_output=out is not None or not evaluate,
        on_warning=lambda line: click.echo(f"warning: {line}", err=True),
    )
    _print_report(report, predictor.name, as_json)
    for line in notes:
        click.echo(line, err=True)


def _span(first: int, last: int) -> str:
    """'frames a..b', or 'frame a' for one."""
    return f"frame {first}" if first == last else f"frames {first}..{last}"


def _print_report(report: ClipPredictionReport, model: str, as_json: bool) -> None:
    """The result on stdout: JSON, or a line per video/evaluation and one per step ahead."""
    if as_json:
        payload: dict[str, Any] = {
            "output": None if report.output is None else str(report.output),
            "frames_dir": None if report.frames_dir is None else str(report.frames_dir),
            "model": model, "start": report.start, "context_frames": report.context_frames,
            "future": report.future, "clip_frames": report.clip_frames, "fps": report.fps,
            "width": report.size[0], "height": report.size[1],
        }
        if report.per_horizon is not None:
            payload.update(_windows_json(report))
            payload["per_horizon"] = report.per_horizon
        click.echo(json_line(payload))
        return
    size = f"{report.size[0]}x{report.size[1]} at {report.fps:g} fps"
    if report.start is not None:
        written = ", ".join(str(path) for path in (report.output, report.frames_dir) if path is not None)
        context = _span(report.start, report.start + report.context_frames - 1)
        click.echo(
            f"wrote {written}: {count_of(report.future, 'predicted frame')} after {context} of "
            f"{report.clip_frames}, {size}"
        )
    if report.per_horizon is not None:
        click.echo(_windows_line(report) + ("" if report.start is not None else f", {size} (no video: -o not given)"))
    for row in report.per_horizon or []:
        lpips = "" if row["lpips"] is None else (
            f", LPIPS {row['lpips']:.4f} (copy-last {row['baseline_lpips']:.4f}, flow {row['flow_lpips']:.4f})"
        )
        click.echo(
            f"  t+{row['step']}: PSNR {row['psnr']:.2f} dB (copy-last {row['baseline_psnr']:.2f}, "
            f"flow {row['flow_psnr']:.2f}), SSIM {row['ssim']:.4f} (copy-last {row['baseline_ssim']:.4f}, "
            f"flow {row['flow_ssim']:.4f}){lpips}"
        )


def _windows_json(report: ClipPredictionReport) -> dict[str, Any]:
    """The windows scored: how many, the frames between their starts, the frames of the first and last."""
    starts = report.window_starts
    first, last = (report.window_frames(starts[i]) for i in (0, -1))
    return {
        "windows": len(starts), "window_stride": starts[1] - starts[0] if len(starts) > 1 else None,
        "first_window": {"context": list(first[0]), "target": list(first[1])},
        "last_window": {"context": list(last[0]), "target": list(last[1])},
    }


def _windows_line(report: ClipPredictionReport) -> str:
    """'evaluated N windows of the T-frame clip ...: frames a..b predicting c..d[, through ...]'."""
    starts = report.window_starts

    def window(first: int) -> str:
        (a, b), (c, d) = report.window_frames(first)
        return f"{_span(a, b)} predicting {c if c == d else f'{c}..{d}'}"

    if len(starts) == 1:
        return f"evaluated 1 window of the {report.clip_frames}-frame clip: {window(starts[0])}"
    stride = starts[1] - starts[0]
    every = "every frame" if stride == 1 else f"every {stride} frames"
    return (
        f"evaluated {len(starts)} windows of the {report.clip_frames}-frame clip, one starting {every}: "
        f"{window(starts[0])}, through {window(starts[-1])}"
    )
