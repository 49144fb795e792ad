"""`gansuite calibrate` and `gansuite monitor`: calibrated live anomaly alerts (the app: `gansuite.apps.monitor`)."""

from __future__ import annotations

from pathlib import Path

import click

from gansuite.cli._base import given, json_line, main
from gansuite.errors import count_of


@main.command("calibrate")
@click.argument("normal", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Calibration JSON to write.")
@click.option("--model", default="ped2", show_default=True, help="Shipped predict model or gansuite weights file.")
@click.option("--false-alarm-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.01,
              show_default=True, help="Share of the normal frames allowed to alert.")
@click.option("--features", default="patch_psnr,motion", show_default=True,
              help="Evidence combined: any of frame_psnr, patch_psnr, motion (comma-separated).")
@click.option("--smoothing", type=click.IntRange(min=1), default=1, show_default=True,
              help="Causal mean over the last N frames' scores.")
@click.option("--baseline-frames", type=click.IntRange(min=2), help="Slow running baseline time constant (frames).")
@click.option("--patch-size", type=click.IntRange(min=2), default=32, show_default=True,
              help="Patch side at the model's working resolution.")
@click.option("--flow", type=click.Choice(["dis", "farneback"]), default="dis", show_default=True,
              help="Optical flow of the motion term (Farneback: what calibrations made before DIS used).")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), help="Folder caching per-clip evidence.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing --out file (otherwise it is refused up front).")
def calibrate_command(
    normal: tuple[Path, ...], out: Path, model: str, false_alarm_rate: float, features: str, smoothing: int,
    baseline_frames: int | None, patch_size: int, flow: str, cache: Path | None, device: str, overwrite: bool,
) -> None:
    """Fix the score normalisation and alert threshold on clips known to be NORMAL (videos or frame folders)."""
    from dataclasses import replace

    from gansuite.bench.anomaly_causal import check_clip_lengths, clips_evidence, probe_clips
    from gansuite.bench.manifest import file_sha256
    from gansuite.io import check_not_input, check_output_path
    from gansuite.tasks.predict.calibration import CausalConfig, calibrate
    from gansuite.tasks.predict.data import find_clips
    from gansuite.tasks.predict.evidence import EvidenceConfig
    from gansuite.tasks.predict.predictor import FramePredictor

    for clip in normal:  # the calibration and its cache never go over an input or into its frame folder
        check_not_input(out, clip, option="--out")
        if cache is not None:
            check_not_input(cache, clip, option="--cache")
    check_output_path(out, overwrite=overwrite, option="--out", writable=True)
    causal = CausalConfig(features=tuple(f.strip() for f in features.split(",") if f.strip()), smoothing=smoothing,
                          baseline_frames=baseline_frames)  # a bad --features is refused before the model loads
    config = EvidenceConfig(patch_size=patch_size, motion="motion" in causal.features, flow=flow)
    clips = find_clips(list(normal))
    counts = probe_clips(clips)  # a missing, audio-only or empty clip is refused before the model loads
    predictor = FramePredictor.from_pretrained(model, device=device)
    check_clip_lengths(clips, counts, predictor)  # and a frame folder too short for the model's context
    evidence, _ = clips_evidence(predictor, clips, config, cache_dir=cache,
                                 progress=lambda line: click.echo(line, err=True))
    calibration = calibrate(
        evidence, false_alarm_rate=false_alarm_rate, evidence_config=config, causal=causal,
        calibration_data=", ".join(str(p.resolve()) for p in normal), model=predictor.name or model,
    )
    if predictor.source is not None:
        calibration = replace(calibration, extra={"model_sha256": file_sha256(predictor.source)})
    calibration.save(out)
    click.echo(f"wrote {out}: {calibration.calibration_frames} normal frames from {count_of(len(clips), 'clip')}, "
               f"threshold {calibration.threshold:.4f} for {false_alarm_rate:.2%} false alarms")


@main.command("monitor")
@click.argument("source")
@click.option("--calibration", "calibration_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON from `gansuite calibrate` (default: the shipped model's own, e.g. ped2's, made on its "
              "normal training clips).")
@click.option("--model", default="ped2", show_default=True, help="The predict model the calibration was made with.")
@click.option("--threshold", type=float, help="Alert threshold (default: the calibration's).")
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the heat-map overlay video with the score curve here (.mp4, .mkv, .avi).")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path),
              help="Write scores.png, report.md, summary.json and scores.jsonl into this folder.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="0/1 frame labels .npy for the report (1 = anomalous).")
@click.option("--labels-offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Index of the source's first frame in --labels (e.g. a test clip's offset in Ped2's file).")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), help="Source frame rate (default: probed).")
@click.option("--quiet", is_flag=True, help="No JSON lines on stdout (events still go to the report).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--overwrite", is_flag=True,
              help="Replace an existing --video and an earlier report in --report (the input is never overwritten).")
def monitor_command(
    source: str, calibration_file: Path | None, model: str, threshold: float | None, max_frames: int | None,
    video: Path | None, report: Path | None, labels: Path | None, labels_offset: int, fps: float | None, quiet: bool,
    device: str, overwrite: bool,
) -> None:
    """Score SOURCE (camera index, stream URL, video file or frame folder) live: JSON lines, alerts, video, report.

    \b
    One JSON line per frame, with the same keys on every line:
      {"frame", "score", "threshold", "alert", "psnr", "patch_psnr", "motion"}
    score, psnr, patch_psnr and motion are null on the first frames (the model's context, no
    prediction yet). Alerts add {"event": "alert_start", ...} and {"event": "alert_end", ...} lines.
    """
    from gansuite.apps.monitor import check_outputs, labels_for_source, probe_source, run_monitor
    from gansuite.apps.monitor_report import write_report
    from gansuite.bench.anomaly import load_frame_labels
    from gansuite.core.arguments import check_finite_number
    from gansuite.errors import ConfigError, InputVideoError
    from gansuite.tasks.predict.calibration import load_calibration, shipped_calibration_path
    from gansuite.tasks.predict.live import check_calibration_predictor
    from gansuite.tasks.predict.predictor import FramePredictor
    from gansuite.tasks.predict.pretrained import SHIPPED_MODELS

    if threshold is not None:  # click's float takes nan and inf; refused before the model loads
        check_finite_number(threshold, "--threshold", advice=", or leave it out for the calibration's")
    # every cheap check comes before the model loads and before any output exists: the calibration, the
    # labels, the source (a missing path, an audio-only file, an empty folder), then the outputs
    if calibration_file is None:
        shipped = shipped_calibration_path(model) if model in SHIPPED_MODELS else None
        if shipped is None or not shipped.is_file():
            raise ConfigError(f"--calibration is needed for model {model} (no shipped calibration): make one on normal "
                              "footage with `gansuite calibrate NORMAL_CLIPS --model ... --out calibration.json`")
        calibration_file = shipped
    try:
        calibration = load_calibration(calibration_file)
    except ConfigError as exc:  # the library's message names no flag
        raise ConfigError(f"--calibration: {exc}" if given("calibration_file") else str(exc)) from None
    truth = load_frame_labels(labels) if labels is not None else None
    probed = probe_source(source)  # a camera or stream is opened once here, before the model loads
    frame_count = probed.frames
    if truth is not None and labels is not None:
        truth = labels_for_source(truth, labels, offset=labels_offset, frames=frame_count, max_frames=max_frames)
    check_outputs(source, video=video, report=report, overwrite=overwrite)
    predictor = FramePredictor.from_pretrained(model, device=device)
    try:
        check_calibration_predictor(predictor, calibration)  # the check `CalibratedAnomalyScorer` makes, with flags
    except ConfigError as exc:
        raise ConfigError(f"--calibration {calibration_file} does not fit --model {model}: {exc}") from None
    context = predictor.context_frames  # frames before the first score: a run that cannot reach one is refused
    name = predictor.name or model
    if max_frames is not None and max_frames <= context:
        raise ConfigError(f"--max-frames {max_frames}: {name} predicts each frame from the {context} before it, so no "
                          f"frame would be scored; give at least {context + 1}")
    if frame_count is not None and frame_count <= context:
        raise InputVideoError(f"{source}: {count_of(frame_count, 'frame')}, but {name} predicts each frame from the "
                              f"{context} before it, so none would be scored; give at least {context + 1} frames")
    result = run_monitor(
        source, predictor, calibration, threshold=threshold, max_frames=max_frames, video=video, fps=fps or probed.fps,
        emit=None if quiet else lambda record: click.echo(json_line(record)), keep_records=report is not None,
        overwrite=overwrite,
    )
    if result.frames <= context:  # a video file shorter than the context (its length is known only once read)
        click.echo(f"warning: {source}: no frame scored: {count_of(result.frames, 'frame')} read, {name} needs "
                   f"{context} context frames before the first score", err=True)
    if report is not None:
        summary = write_report(report, result, calibration, source=source, model=predictor.name or model,
                               labels=truth, overwrite=overwrite)
        click.echo(f"report in {report}: {summary['alert_frames']} alerting frames, {len(result.events)} events, "
                   f"real-time factor {summary['realtime_factor']}", err=True)
