"""Checks an upscaled video against its source, as ffprobe and a frame-by-frame comparison would.

Run after ``gansuite upscale SOURCE --model MODEL -o OUT_DIR``: compares the streams (types and
codecs), video frame count, average frame rate, duration and per-frame timestamps of SOURCE and
the output, checks that every audio/subtitle packet was copied unchanged, and compares sampled
output frames with the same frames upscaled one by one (`Upscaler` on the decoded source frame),
as PSNR (RGB, 8-bit) of the H.264 output against that reference. Writes
``benchmarks/results/video_acceptance.json``.

Usage::

    python benchmarks/video_acceptance.py SOURCE OUTPUT --model x2 [--frames 0,140,279]
"""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from gansuite.bench.manifest import build_manifest
from gansuite.io.video import iter_video_frames, probe_video
from gansuite.tasks.upscale.upscaler import Upscaler

RESULTS = Path(__file__).resolve().parent / "results"


def describe(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        times = [float(f.pts * f.time_base) for f in container.decode(video=0)]
    info = probe_video(path)
    with av.open(str(path)) as container:
        streams = [(s.type, s.codec_context.name) for s in container.streams]
        copied = {s.index: [bytes(p) for p in container.demux(s) if p.size] for s in container.streams
                  if s.type in ("audio", "subtitle")}
    return {
        "streams": streams, "frames_decoded": len(times), "frames_in_container": video.frames or None,
        "rate": str(info.rate), "duration_s": info.duration, "size": [info.width, info.height],
        "first_times": times[:3], "last_time": times[-1], "times": times, "packets": copied,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--model", default="x2")
    parser.add_argument("--frames", default="0,140,279")
    args = parser.parse_args()
    before, after = describe(args.source), describe(args.output)
    frame_period = 1 / float(Fraction(str(before["rate"])))
    times_equal = len(before["times"]) == len(after["times"]) and bool(
        np.allclose(before["times"], after["times"], atol=1e-3))
    audio_equal = [b == a for b, a in zip(before["packets"].values(), after["packets"].values(), strict=False)]
    upscaler = Upscaler.from_pretrained(args.model, device="cpu")
    wanted = sorted(int(v) for v in args.frames.split(","))
    reference = {}
    for index, frame in enumerate(iter_video_frames(args.source, max_frames=wanted[-1] + 1)):
        if index in wanted:
            reference[index] = np.rint(next(upscaler.upscale_frames([frame])) * 255)
    comparisons = []
    for index, frame in enumerate(iter_video_frames(args.output, max_frames=wanted[-1] + 1)):
        if index in reference:
            mse = float(np.mean((np.rint(frame * 255) - reference[index]) ** 2))
            comparisons.append({"frame": index, "psnr_rgb_db": round(10 * np.log10(255**2 / mse), 2) if mse else None,
                                "mean_abs_8bit": round(float(np.mean(np.abs(np.rint(frame * 255) - reference[index]))),
                                                       3)})
    for side in (before, after):
        side.pop("times")
        side["packets"] = {str(k): len(v) for k, v in side["packets"].items()}
    result = {
        "source": before, "output": after, "same_timestamps": times_equal,
        "duration_difference_frames": round(abs(after["duration_s"] - before["duration_s"]) / frame_period, 3),
        "audio_subtitle_packets_identical": audio_equal, "frames_vs_per_frame_upscaling": comparisons,
        "manifest": build_manifest(protocol={"reference": f"Upscaler({args.model}) on each decoded source frame",
                                             "compare": "PSNR over RGB, 8-bit"},
                                   device=torch.device("cpu"), seed=0,
                                   extra={"command": " ".join(["python", *sys.argv])}),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "video_acceptance.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "manifest"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
