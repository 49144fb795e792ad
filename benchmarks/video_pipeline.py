"""Video upscaling pipeline: frames/s against the model alone, and peak memory against clip length.

Speed: a 854x480 H.264 clip (the first frames of ``$GANSUITE_DATA/video/clips/cockatoo.mp4``,
resized with MATLAB bicubic, or a synthetic pan when the data is absent) is upscaled x2 and x4
(a) by the model alone on frames decoded beforehand (`Upscaler.upscale_frames`, the per-image
rate) and (b) by the whole pipeline, decode → model → encode to H.264 (`upscale_video`). The
difference is what decoding and encoding cost on top of the model.

Memory: a synthetic 1080p clip (a moving pattern, generated frame by frame) of 100 and of 1000
frames is upscaled x2 by `gansuite upscale` in a child process each; the child's peak resident
set size comes from the operating system (``getrusage(RUSAGE_CHILDREN).ru_maxrss``, each child
measured on its own by running it through a fresh ``python -c`` parent). What is measured is the
pipeline (decode, queues, encoder), so by default the model is a tiny compact x2 network
(``--memory-model tiny``: 1 conv of 8 channels, exported to a scratch safetensors file) that
keeps 1000 frames of 1080p within reach of a CPU; the shipped x2 would take about 40 s a frame
here. The output's frame count is read back from the file.

Writes ``benchmarks/results/video_pipeline.{json,md}`` with a manifest.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/video_pipeline.py [--frames 8] [--memory-size 160x120]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from gansuite.bench.manifest import build_manifest
from gansuite.io.imresize import imresize
from gansuite.io.video import iter_video_frames
from gansuite.tasks.upscale.upscaler import Upscaler
from gansuite.tasks.upscale.video import upscale_video

RESULTS = Path(__file__).resolve().parent / "results"


def make_clip(path: Path, frames: Iterable[np.ndarray], rate: Fraction = Fraction(25)) -> Path:
    """H.264 yuv420p crf 18 of float RGB frames (any iterable: frames are encoded as they come)."""
    with av.open(str(path), "w") as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=rate, options={"crf": "18"})
                stream.height, stream.width = frame.shape[:2]
                stream.pix_fmt = "yuv420p"
            image = av.VideoFrame.from_ndarray((np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8), format="rgb24")
            container.mux(stream.encode(image.reformat(format="yuv420p")))
        if stream is not None:
            container.mux(stream.encode(None))
    return path


def synthetic_frames(count: int, height: int, width: int) -> Iterator[np.ndarray]:
    """`count` frames of a pattern panning 4 px a frame, generated one at a time."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rows = 0.5 + 0.4 * np.cos(y / 7)
    for t in range(count):
        yield np.stack([0.5 + 0.4 * np.sin((x + 4 * t) / 9), rows, 0.5 + 0.3 * np.sin((x + y + 2 * t) / 23)], axis=2)


def count_video_frames(path: Path) -> int:
    """Video packets in the file's first video stream (one per frame for H.264), without decoding."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size)


def tiny_model(path: Path) -> Path:
    """A compact x2 network with one 8-channel conv, randomly initialised (seed 0), as safetensors."""
    from gansuite.core.checkpoint import export_weights
    from gansuite.core.networks import NetworkSpec, build_network

    torch.manual_seed(0)
    spec = NetworkSpec("generator", "compact", {"scale": 2, "channels": 8, "num_convs": 1})
    return export_weights(path, build_network(spec).eval(), card={"note": "pipeline memory benchmark stand-in"})


def source_frames(count: int, height: int, width: int) -> list[np.ndarray]:
    """`count` frames of cockatoo.mp4 resized to height x width, or a synthetic pan without the data."""
    data = os.environ.get("GANSUITE_DATA")
    clip = Path(data) / "video" / "clips" / "cockatoo.mp4" if data else None
    if clip is not None and clip.is_file():
        frames = []
        for frame in iter_video_frames(clip, max_frames=count):
            tensor = torch.from_numpy(frame).permute(2, 0, 1)[None]
            frames.append(imresize(tensor, size=(height, width)).clamp(0, 1)[0].permute(1, 2, 0).numpy())
        return frames
    return list(synthetic_frames(count, height, width))


def speed(model: str, clip: Path, frames: int, batch_size: int) -> dict[str, object]:
    upscaler = Upscaler.from_pretrained(model, device="cpu")
    decoded = list(iter_video_frames(clip))
    next(upscaler.upscale_frames(decoded[:1]))  # warm-up
    started = time.perf_counter()
    for _ in upscaler.upscale_frames(decoded, batch_size=batch_size):
        pass
    model_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        report = upscale_video(upscaler, clip, Path(scratch) / "out.mp4", batch_size=batch_size)
    model_rate, pipeline_rate = frames / model_seconds, report.frames / report.seconds
    return {
        "model": model,
        "frames": frames,
        "input": list(report.input_size),
        "output": list(report.output_size),
        "model_only_frames_per_s": round(model_rate, 4),
        "pipeline_frames_per_s": round(pipeline_rate, 4),
        "pipeline_loss_percent": round(100 * (1 - pipeline_rate / model_rate), 1),
        "codec": f"{report.codec} {report.pix_fmt}",
    }


def memory(model: str, frames: int, size: tuple[int, int], scratch: Path) -> dict[str, object]:
    clip = make_clip(scratch / f"clip_{frames}.mp4", synthetic_frames(frames, size[1], size[0]))
    output = scratch / f"out_{frames}"
    code = (
        "import resource, subprocess, sys, time\n"
        f"cmd = [sys.executable, '-m', 'gansuite.cli', 'upscale', {str(clip)!r}, '--model', {model!r}, "
        f"'--device', 'cpu', '-o', {str(output)!r}]\n"
        "t = time.perf_counter(); rc = subprocess.call(cmd); s = time.perf_counter() - t\n"
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, s)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = run.stdout.strip().splitlines()[-1].split()  # the child's own lines come first
    written = sorted(output.glob("*.mp4"))
    row = {
        "model": Path(model).name,
        "frames": frames,
        "size": list(size),
        "exit_code": int(out[0]),
        "output_frames": count_video_frames(written[0]) if written else 0,
        "peak_rss_mib": round(int(out[1]) / 1024, 1),
        "wall_seconds": round(float(out[2]), 1),
    }
    for path in written:  # 1000 frames of 4K H.264 are large; only the count is kept
        path.unlink()
    clip.unlink()
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=8, help="frames of the 480p clip in the speed runs")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--memory-size", default="1920x1080", help="WxH of the clip in the memory runs")
    parser.add_argument(
        "--memory-model",
        default="tiny",
        help="model of the memory runs: 'tiny' (the stand-in above), a shipped name or a file",
    )
    parser.add_argument("--memory-lengths", default="100,1000")
    parser.add_argument("--skip-speed", action="store_true", help="only the memory runs (keeps earlier speed rows)")
    args = parser.parse_args()
    result: dict[str, object] = {"speed": [], "memory": []}
    previous = RESULTS / "video_pipeline.json"
    if args.skip_speed and previous.is_file():  # keep the speed rows of an earlier run
        result["speed"] = json.loads(previous.read_text()).get("speed", [])
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        if not args.skip_speed:
            clip = make_clip(scratch / "clip480.mp4", source_frames(args.frames, 480, 854))
            for model in ("x2", "x4"):
                row = speed(model, clip, args.frames, args.batch_size)
                print(row, file=sys.stderr)
                result["speed"].append(row)  # type: ignore[union-attr]
                _save(result, args)
        width, height = (int(v) for v in args.memory_size.split("x"))
        for length in (int(v) for v in args.memory_lengths.split(",")):
            model = (
                str(tiny_model(scratch / "tiny_x2.safetensors")) if args.memory_model == "tiny" else args.memory_model
            )
            row = memory(model, length, (width, height), scratch)
            print(row, file=sys.stderr)
            result["memory"].append(row)  # type: ignore[union-attr]
            _save(result, args)
    _save(result, args)
    print((RESULTS / "video_pipeline.md").read_text())
    return 0


def _save(result: dict[str, object], args: argparse.Namespace) -> None:
    """Writes the JSON and markdown of what has been measured so far (a long run keeps its finished rows)."""
    result["manifest"] = build_manifest(
        protocol={
            "speed": "854x480 H.264 clip; model alone on decoded frames vs decode→model→encode (H.264 crf 18)",
            "memory": "synthetic clip generated frame by frame, H.264 crf 18; gansuite upscale in a child "
            "process; peak RSS of the child (ru_maxrss); model " + args.memory_model,
            "threads": os.environ.get("OMP_NUM_THREADS", "default"),
        },
        device=torch.device("cpu"),
        seed=0,
        extra={
            "command": " ".join(["python", *sys.argv]),
            "load_average_1_5_15_min": [round(v, 1) for v in os.getloadavg()],
        },
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "video_pipeline.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "| Model | Input | Output | Frames | Model alone (frames/s) | Pipeline with H.264 (frames/s) | Lost to I/O |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in result["speed"]:  # type: ignore[union-attr]
        lines.append(
            f"| {row['model']} | {row['input'][0]}x{row['input'][1]} | {row['output'][0]}x{row['output'][1]} "
            f"| {row['frames']} | {row['model_only_frames_per_s']:.3f} | {row['pipeline_frames_per_s']:.3f} "
            f"| {row['pipeline_loss_percent']:.1f}% |"
        )
    lines += [
        "",
        "| Model | Clip | Frames in | Frames out | Peak RSS (MiB) | Wall (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in result["memory"]:  # type: ignore[union-attr]
        lines.append(
            f"| {row['model']} | {row['size'][0]}x{row['size'][1]} | {row['frames']} "
            f"| {row.get('output_frames', '')} | {row['peak_rss_mib']} | {row['wall_seconds']} |"
        )
    (RESULTS / "video_pipeline.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
