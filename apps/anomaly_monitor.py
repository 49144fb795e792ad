"""Live anomaly scores from next-frame prediction error, for a camera, a stream or a file.

Liu et al.'s detector (CVPR 2018) scores a recorded clip after the fact: its min-max
normalisation needs the whole clip. This monitor scores each frame as it arrives, normalising
over a sliding window of recent frames (`StreamingAnomalyScorer`), and prints one JSON line per
frame, so it can sit behind a camera and feed an alerting pipe:

    python apps/anomaly_monitor.py 0 --model ped2                # webcam 0
    python apps/anomaly_monitor.py rtsp://host/stream --window 300 --threshold 0.8
    python apps/anomaly_monitor.py clip.mp4 --max-frames 500 > scores.jsonl

Each line: ``{"frame": i, "psnr": dB, "anomaly": 0..1, "alert": bool}``; frames before the
model's context is full are not scored. Built only on gansuite's public API.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import cv2
import numpy as np

from gansuite.errors import GansuiteError, InputVideoError
from gansuite.io import decode_array
from gansuite.tasks.predict import FramePredictor, StreamingAnomalyScorer


def capture_frames(source: str, *, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Frames of a camera index, stream URL or video file as `(H, W, 3) float32 in [0, 1]`, RGB.

    Raises:
        InputVideoError: the source cannot be opened or yields no frame.
    """
    capture = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not capture.isOpened():
        raise InputVideoError(f"{source}: cannot open it as a camera index, stream URL or video file")
    count = 0
    try:
        while max_frames is None or count < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            count += 1
            yield decode_array(frame).color
    finally:
        capture.release()
    if count == 0:
        raise InputVideoError(f"{source}: opened, but no frame could be read")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="camera index (0), stream URL or video file")
    parser.add_argument("--model", default="ped2", help="shipped predict model or gansuite weights file")
    parser.add_argument("--window", type=int, default=300, help="frames in the running normalisation")
    parser.add_argument("--threshold", type=float, default=0.8, help="anomaly score that raises an alert")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = parser.parse_args(argv)
    try:
        scorer = StreamingAnomalyScorer(FramePredictor.from_pretrained(args.model, device=args.device),
                                        window=args.window)
        for score in scorer.score_stream(capture_frames(args.source, max_frames=args.max_frames)):
            line = {"frame": score.frame_index, "psnr": round(score.psnr, 3), "anomaly": round(score.anomaly, 4),
                    "alert": score.anomaly >= args.threshold}
            print(json.dumps(line), flush=True)
    except GansuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
