"""The README's before/after figure: a crop of the sample photo upscaled x4, bicubic | gansuite.

The LR image is scikit-image's bundled `astronaut` (512x512) downscaled x4 with the
MATLAB-compatible bicubic resize; the crop is shown at x4 with MATLAB bicubic on the left and the
models, in the order given, to its right. Writes ``docs/upscale_before_after.png``.

Usage::

    python benchmarks/sr_crop_figure.py [--model x4 --model x4-gan] [--crop 20,38,44]   # top,left,size in LR pixels
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from skimage import data

from gansuite.io.image import write_image
from gansuite.io.imresize import imresize, imresize_array
from gansuite.tasks.upscale.upscaler import Upscaler

OUT = Path(__file__).resolve().parents[1] / "docs" / "upscale_before_after.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help="shipped name or file (repeatable; default: x4, x4-gan)")
    parser.add_argument("--crop", default="20,38,44", help="top,left,size of the crop in LR pixels")
    args = parser.parse_args()
    top, left, size = (int(v) for v in args.crop.split(","))

    low = imresize_array(data.astronaut(), scale=0.25)[top : top + size, left : left + size]
    low_chw = torch.from_numpy(low.astype(np.float32) / 255.0).permute(2, 0, 1)
    models = args.model or ["x4", "x4-gan"]
    panels = [Upscaler.from_pretrained(model, device="cpu", tile=0)(low_chw).image.color for model in models]
    bicubic = imresize(low_chw[None], scale=4)[0].clamp(0, 1)
    bicubic = bicubic.permute(1, 2, 0).numpy()
    gap = np.ones((bicubic.shape[0], 8, 3), dtype=np.float32)
    row = [bicubic]
    for panel in panels:
        row += [gap, panel]
    write_image(OUT, np.concatenate(row, axis=1))
    print(f"wrote {OUT}: bicubic | " + " | ".join(models))


if __name__ == "__main__":
    main()
