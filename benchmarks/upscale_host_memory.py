"""Peak host memory of reading, upscaling and writing one image, per output pixel.

The pre-flight check (`gansuite.tasks.upscale.preflight.BYTES_PER_OUTPUT_PIXEL`) refuses inputs
whose output would not fit in memory; this measures the constant it uses. Each measurement runs
in a fresh process (the peak resident set, VmHWM, cannot be reset), with a tiny x4 network so
that the image buffers, not the weights, dominate; the tile working set is measured apart.

Usage:
    python benchmarks/upscale_host_memory.py [--sizes 400 600]

Writes `benchmarks/results/upscale_host_memory.md` and `.json` (with a manifest). Linux only
(reads /proc/self/status).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

_CHILD = r"""
import re, sys, tempfile
import numpy as np, cv2, torch
torch.set_num_threads(1)
import gansuite.tasks.upscale  # registers the generators
from gansuite.core.networks import NetworkSpec, build_network
from gansuite.io.image import read_image, write_image
from gansuite.tasks.upscale.upscaler import Upscaler

def status(key):
    return int(re.search(key + r":\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024

size, channels = int(sys.argv[1]), int(sys.argv[2])
folder = tempfile.mkdtemp()
rng = np.random.default_rng(0)
image = rng.integers(0, 256, (size, size, channels), dtype=np.uint8)
cv2.imwrite(f"{folder}/in.png", image)
model = build_network(NetworkSpec("generator", "compact", {"scale": 4, "channels": 8, "num_convs": 2}))
upscaler = Upscaler(model, device="cpu", tile="auto")
upscaler(np.zeros((8, 8, 3), np.uint8))  # warm-up: allocator and kernels
before = max(status("VmRSS"), status("VmHWM"))
loaded = read_image(f"{folder}/in.png")
result = upscaler(loaded).image
write_image(f"{folder}/out.png", result.color, result.alpha, bit_depth=8)
print((status("VmHWM") - before) / (size * size * 16))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 600])
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        for channels in (3, 4):
            run = subprocess.run([sys.executable, "-c", _CHILD, str(size), str(channels)], capture_output=True,
                                 text=True, check=True, env={"OMP_NUM_THREADS": "1", **_env()})
            value = float(run.stdout.strip().splitlines()[-1])
            rows.append({"input": f"{size}x{size}", "channels": channels, "output_pixels": size * size * 16,
                         "peak_bytes_per_output_pixel": round(value, 1)})
    from gansuite.tasks.upscale.preflight import BYTES_PER_OUTPUT_PIXEL

    lines = ["| input | channels | output pixels | peak host bytes per output pixel |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['input']} | {r['channels']} | {r['output_pixels']:,} | {r['peak_bytes_per_output_pixel']} |"
              for r in rows]
    lines.append(f"\nConstant used by the pre-flight check: {BYTES_PER_OUTPUT_PIXEL[False]} (RGB), "
                 f"{BYTES_PER_OUTPUT_PIXEL[True]} (RGBA) bytes per output pixel.")
    table = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "upscale_host_memory.md").write_text(table)
    manifest = {"command": "python benchmarks/upscale_host_memory.py " + " ".join(sys.argv[1:]),
                "python": platform.python_version(), "machine": platform.machine(), "rows": rows,
                "constant": {"rgb": BYTES_PER_OUTPUT_PIXEL[False], "rgba": BYTES_PER_OUTPUT_PIXEL[True]}}
    (RESULTS / "upscale_host_memory.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(table)


def _env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if not re.match(r"OMP_NUM_THREADS$", key)}


if __name__ == "__main__":
    main()
