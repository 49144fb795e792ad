"""Live anomaly alerts for a camera, a stream, a file or a frame folder: `gansuite monitor` as a script.

The application lives in `gansuite/apps/monitor.py` (calibrated causal scores from next-frame prediction
error: worst-patch PSNR and fastest-patch optical flow, a threshold for a chosen false-alarm rate
fixed on normal footage, JSON lines, alert events, heat-map video, report). This script takes
the same arguments as ``gansuite monitor``:

    python gansuite/apps/anomaly_monitor.py 0                                    # webcam 0, ped2's shipped calibration
    python gansuite/apps/anomaly_monitor.py rtsp://host/stream --calibration cam.json --model cam-model.safetensors
    python gansuite/apps/anomaly_monitor.py clip.mp4 --video overlay.mp4 --report report/ > scores.jsonl
"""

from __future__ import annotations

import sys

from gansuite.cli import main as gansuite_main


def main(argv: list[str] | None = None) -> int:
    """Run ``gansuite monitor ARGS``; returns the exit status."""
    try:
        gansuite_main.main(["monitor", *(sys.argv[1:] if argv is None else argv)], prog_name="anomaly_monitor.py")
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
