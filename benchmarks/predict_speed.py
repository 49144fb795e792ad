"""Next-frame prediction speed at 640x360 on this machine: predicted frames per second.

Two figures per model, both at 640x360 RGB:

- ``model``: `FramePredictor.predict_frames` on 4 context frames, `--future` frames rolled out,
  timed after one warm-up call (median of `--repeats`); frames/s = future / seconds.
- ``cli``: the whole ``gansuite predict-frames CLIP --future N`` command (process start, model
  load, decoding the clip, prediction, encoding the video) as a user runs it; frames/s =
  future / wall seconds, so it includes the fixed start-up costs.

The clip is the first 24 frames of ``video/clips/cockatoo.mp4`` resized to 640x360 when
GANSUITE_DATA is set, else a synthetic pan over a smooth random texture. Writes
``benchmarks/results/predict_speed.json`` and ``.md`` with a manifest.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 GANSUITE_DATA=DIR python benchmarks/predict_speed.py --model natural --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"
SIZE = (360, 640)  # height, width


def _clip_frames(count: int) -> tuple[np.ndarray, str]:
    """(T, 360, 640, 3) float32 RGB in [0, 1] and where they came from."""
    from gansuite.io.video import iter_video_frames

    data = os.environ.get("GANSUITE_DATA")
    source = Path(data) / "video" / "clips" / "cockatoo.mp4" if data else None
    if source is not None and source.is_file():
        frames = [
            cv2.resize(frame, (SIZE[1], SIZE[0]), interpolation=cv2.INTER_AREA)
            for frame in iter_video_frames(source, max_frames=count)
        ]
        return np.stack(frames).astype(np.float32), "cockatoo.mp4, first frames resized to 640x360"
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.random((SIZE[0] + 8, SIZE[1] + 4 * count, 3)).astype(np.float32), (0, 0), 3.0)
    texture = (texture - texture.min()) / np.ptp(texture)
    frames = [texture[4 : 4 + SIZE[0], 3 * t : 3 * t + SIZE[1]] for t in range(count)]
    return np.stack(frames), "synthetic pan (3 px/frame) over a smooth random texture"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=None, help="shipped name or weights file (repeatable)")
    parser.add_argument("--future", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (OMP_NUM_THREADS for the CLI run)")
    parser.add_argument("--name", default="predict_speed")
    args = parser.parse_args()

    from gansuite.bench.manifest import build_manifest
    from gansuite.io.video import write_video
    from gansuite.tasks.predict.predictor import FramePredictor

    torch.set_num_threads(args.threads)
    frames, source = _clip_frames(24)
    rows = []
    sources: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_video(Path(tmp) / "clip640x360.mkv", frames, 20.0)
        for model in args.model or ["natural"]:
            predictor = FramePredictor.from_pretrained(model, device="cpu")
            if predictor.source is not None:
                sources[predictor.name] = str(predictor.source)
            context = frames[-predictor.context_frames :]
            predictor.predict_frames(context, 1)  # warm-up
            times, cpu_times = [], []
            for _ in range(args.repeats):
                started, cpu_started = time.perf_counter(), time.process_time()
                predictor.predict_frames(context, args.future)
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu_started)
            seconds, cpu_seconds = statistics.median(times), statistics.median(cpu_times)
            env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
            command = [sys.executable, "-m", "gansuite.cli", "predict-frames", str(clip), "--model", model,
                       "--future", str(args.future), "-o", str(Path(tmp) / "out.mp4"), "--overwrite", "--device", "cpu"]
            started = time.perf_counter()
            subprocess.run(command, check=True, env=env, capture_output=True)
            wall = time.perf_counter() - started
            rows.append({
                "model": predictor.name, "future": args.future, "model_seconds": seconds,
                "model_frames_per_second": args.future / seconds, "model_cpu_seconds": cpu_seconds,
                "model_frames_per_cpu_second": args.future / cpu_seconds, "cli_seconds": wall,
                "cli_frames_per_second": args.future / wall,
            })
            print(json.dumps(rows[-1]), file=sys.stderr)
    manifest = build_manifest(
        protocol={"size": "640x360 RGB", "context": "4 frames", "future": args.future, "repeats": args.repeats,
                  "threads": args.threads, "clip": source,
                  "timing": "model: median predict_frames wall time after a warm-up; cli: whole predict-frames run"},
        device=torch.device("cpu"), seed=0,
        model_files=sources,
        extra={"command": " ".join(sys.argv)},
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / args.name
    out.with_suffix(".json").write_text(json.dumps({"manifest": manifest, "results": rows}, indent=2) + "\n")
    lines = [
        f"### Next-frame prediction speed, 640x360, {args.threads} thread(s), {args.future} frames ahead", "",
        "| Model | predict_frames (s) | frames/s | frames per CPU-second | whole CLI run (s) "
        "| frames/s incl. start-up |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['model']} | {r['model_seconds']:.3f} | {r['model_frames_per_second']:.1f} | "
        f"{r['model_frames_per_cpu_second']:.1f} | {r['cli_seconds']:.2f} | {r['cli_frames_per_second']:.1f} |"
        for r in rows
    ]
    load = os.getloadavg()[0]
    lines += [
        "", f"Clip: {source}. Device: {manifest['device']}; 1-minute load average {load:.1f} when written "
        f"(frames per CPU-second is what an idle core would give). Created {manifest['created']}.", "",
    ]
    out.with_suffix(".md").write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
