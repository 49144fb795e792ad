"""Super-resolution on real-looking inputs: the README's real-photo table.

Runs `gansuite benchmark sr --degradation real` (a fixed, seeded blur + sensor noise + JPEG q60
degradation of the HR test images; its parameters are in the manifest) for bicubic, every shipped
x4 gansuite model, and the peers under ``$GANSUITE_BACKBONES/peers`` (Real-ESRGAN x4plus and
animevideov3, through spandrel) in one run, and writes ``benchmarks/results/sr_real_x4.json``
and ``.md``: PSNR-Y, SSIM-Y, LPIPS, JPEG-grid strength and CPU seconds per output megapixel.
It is `sr_quality.py --scale 4 --degradation real`.

Usage (from the repository root)::

    GANSUITE_DATA=DIR GANSUITE_BACKBONES=DIR python benchmarks/sr_real.py [--method FILE ...] [--no-peers]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sr_quality import main

if __name__ == "__main__":
    sys.exit(main(["--scale", "4", "--degradation", "real", *sys.argv[1:]]))
