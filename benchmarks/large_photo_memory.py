"""Peak memory and wall time of `gansuite upscale` on a 2000x1500 photo (x4 → 8000x6000), CPU.

Makes the photo from scikit-image's bundled `astronaut` sample (resized with OpenCV's Lanczos
filter to 2000x1500), runs the CLI in a child process and reads the child's peak resident set
size from the operating system (``getrusage(RUSAGE_CHILDREN).ru_maxrss``). Writes
``benchmarks/results/large_photo_memory.json``.

Usage::

    python benchmarks/large_photo_memory.py [--model NAME|FILE] [--tile auto]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
from skimage import data

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="x4")
    parser.add_argument("--tile", default="auto")
    parser.add_argument("--width", type=int, default=2000)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--label", help="how to name the model in the results (default: --model)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "photo.png"
        rgb = cv2.resize(data.astronaut(), (args.width, args.height), interpolation=cv2.INTER_LANCZOS4)
        cv2.imwrite(str(photo), rgb[..., ::-1])
        command = [
            sys.executable, "-m", "gansuite.cli", "upscale", str(photo), "--model", args.model,
            "--tile", args.tile, "--device", "cpu", "-o", str(Path(scratch) / "out"),
        ]
        started = time.perf_counter()
        code = subprocess.call(command)
        seconds = time.perf_counter() - started
        out = next((Path(scratch) / "out").glob("*"), None)
        out_shape = list(cv2.imread(str(out), cv2.IMREAD_UNCHANGED).shape) if out else None
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "command": f"gansuite upscale photo.png --model {args.label or args.model} --tile {args.tile} --device cpu",
        "input": [args.height, args.width, 3],
        "output": out_shape,
        "exit_code": code,
        "peak_rss_mib": round(peak_mib, 1),
        "wall_seconds": round(seconds, 1),
        "protocol": "one run; peak RSS of the child process (the whole CLI, image decode/encode included); "
        "wall time includes start-up and PNG encoding",
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "large_photo_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main())
