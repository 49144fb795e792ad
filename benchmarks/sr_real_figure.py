"""The README's real-photo figure: a real-looking LR crop upscaled x4, bicubic | models | peers.

The HR image is scikit-image's bundled `astronaut` (512x512); its LR input is the benchmark's
fixed real-looking degradation (`gansuite benchmark sr --degradation real`: blur, x4 bicubic
downscale, sensor noise, JPEG q60, seed 0). Every method is resolved as the benchmark resolves
``--method`` (shipped names, gansuite weights files, spandrel model files), so the peers come from
``$GANSUITE_BACKBONES/peers``. Writes ``docs/upscale_real_before_after.png``.

Usage::

    GANSUITE_BACKBONES=DIR python benchmarks/sr_real_figure.py [--method x4 --method x4-real ...] [--crop 40,40,60]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch
from skimage import data

import gansuite.bench.gansuite_models  # noqa: F401  (lets methods name shipped models)
from gansuite.bench._sr_degradation import real_degradation
from gansuite.bench._sr_methods import resolve_method
from gansuite.io.image import write_image
from gansuite.tasks.upscale.pretrained import shipped_weights_path

OUT = Path(__file__).resolve().parents[1] / "docs" / "upscale_real_before_after.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", action="append", help="bicubic, shipped name or model file (repeatable)")
    parser.add_argument("--crop", default="40,40,60", help="top,left,size of the crop in LR pixels")
    args = parser.parse_args()
    top, left, size = (int(v) for v in args.crop.split(","))

    low = real_degradation(data.astronaut(), 4, seed=0, name="astronaut.png")
    low_chw = torch.from_numpy(low.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    peers = Path(os.environ.get("GANSUITE_BACKBONES", "")) / "peers" / "RealESRGAN_x4plus.safetensors"
    ours = ["x4", "x4-real", *(["x4-real-gan"] if shipped_weights_path("x4-real-gan").is_file() else [])]
    methods = args.method or ["bicubic", *ours, *([str(peers)] if peers.is_file() else [])]
    panels = []
    for spec in methods:
        method = resolve_method(spec, 4, torch.device("cpu"))
        with torch.inference_mode():
            full = method(low_chw)[0].clamp(0, 1)
        crop = full[:, top * 4 : (top + size) * 4, left * 4 : (left + size) * 4]
        panels.append(crop.permute(1, 2, 0).numpy())
    gap = np.ones((panels[0].shape[0], 8, 3), dtype=np.float32)
    row = [panels[0]]
    for panel in panels[1:]:
        row += [gap, panel]
    write_image(OUT, np.concatenate(row, axis=1), overwrite=True)
    print(f"wrote {OUT}: " + " | ".join(Path(m).stem if os.sep in m else m for m in methods))


if __name__ == "__main__":
    main()
