"""Peak memory and time of a third-party SR model file: gansuite's engine vs spandrel + Real-ESRGAN tiling.

The same model file (by default Real-ESRGAN x4plus, RRDBNet, 16.7 M parameters, given with
``--model``; nothing is downloaded) upscales the same photo three ways, each in its own child
process so that its peak resident memory (``VmHWM``) is its own:

* ``gansuite``: ``Upscaler.from_file(model, tile=...)`` on the decoded photo, then written as PNG
  (tile overlap = the model's probed effective receptive radius, 4-pixel blending band);
* ``realesrgan``: the model loaded by ``spandrel.ModelLoader`` and run with Real-ESRGAN's own
  tiling (``RealESRGANer.tile_process``: tiles of ``--peer-tile`` pixels, ``--peer-pad`` pixels of
  context, pasted without blending; ``pre_pad`` 10), converted to 8 bit as ``RealESRGANer.enhance``
  does, then written as PNG;
* ``untiled``: the same spandrel model on the whole photo, the reference for "equal output".

For every row: peak RSS (MiB, the whole child: interpreter, torch, model, image buffers), the
wall time of the upscale call, and the largest and mean absolute difference of its 8-bit output
from the untiled one. Writes ``benchmarks/results/sr_peer_memory.{json,md}``.

Usage::

    python benchmarks/sr_peer_memory.py --model ../shared/weights/peers/RealESRGAN_x4plus.safetensors \
        --width 2000 --height 1500 --tile auto --peer-tile 400 --peer-pad 10
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
_BORDER = 16  # input pixels left out of the diffs: Real-ESRGAN's pre_pad (10, reflect) changes the border


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tile_process(model, image, scale: int, tile: int, pad: int):
    """Real-ESRGAN's ``RealESRGANer.tile_process`` (realesrgan/utils.py), on a spandrel descriptor."""
    import torch

    batch, channels, height, width = image.shape
    output = image.new_zeros((batch, channels, height * scale, width * scale))
    for y in range(math.ceil(height / tile)):
        for x in range(math.ceil(width / tile)):
            x0, y0 = x * tile, y * tile
            x1, y1 = min(x0 + tile, width), min(y0 + tile, height)
            px0, px1, py0, py1 = max(x0 - pad, 0), min(x1 + pad, width), max(y0 - pad, 0), min(y1 + pad, height)
            with torch.no_grad():
                out = model(image[:, :, py0:py1, px0:px1])
            ox, oy = (x0 - px0) * scale, (y0 - py0) * scale
            output[:, :, y0 * scale : y1 * scale, x0 * scale : x1 * scale] = out[
                :, :, oy : oy + (y1 - y0) * scale, ox : ox + (x1 - x0) * scale
            ]
    return output


def _child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    if args.row == "gansuite":
        from gansuite import Upscaler, read_image, write_image

        loaded_at = time.perf_counter()
        tile = args.tile if args.tile == "auto" else int(args.tile)
        upscaler = Upscaler.from_file(args.model, device="cpu", precision="fp32", tile=tile)
        load_seconds = time.perf_counter() - loaded_at
        image = read_image(args.photo)
        started = time.perf_counter()
        result = upscaler(image)
        seconds = time.perf_counter() - started
        out = result.image
        write_image(args.out, out.color, out.alpha, bit_depth=out.bit_depth, grayscale=out.grayscale)
        extra = {"tile": result.tile_size, "tiles": result.tiles, "overlap": upscaler.tile_overlap,
                 "feather": upscaler.tile_feather, "load_and_probe_seconds": round(load_seconds, 1)}
    else:
        import spandrel

        loaded_at = time.perf_counter()
        model = spandrel.ModelLoader(device="cpu").load_from_file(args.model).eval()
        load_seconds = time.perf_counter() - loaded_at
        bgr = cv2.imread(args.photo, cv2.IMREAD_UNCHANGED)
        started = time.perf_counter()
        # RealESRGANer.enhance: float32 [0, 1] RGB, pre_pad (reflect), tile_process, crop, to 8 bit
        img = cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2RGB)
        tensor = torch.from_numpy(np.transpose(img, (2, 0, 1))).float().unsqueeze(0)
        pre_pad, scale = (0 if args.row == "untiled" else 10), int(model.scale)  # the reference: no pre_pad
        tensor = torch.nn.functional.pad(tensor, (0, pre_pad, 0, pre_pad), "reflect")
        with torch.inference_mode():  # spandrel's call returns inference tensors
            if args.row == "untiled":
                output = model(tensor)
            else:
                output = _tile_process(model, tensor, scale, args.peer_tile, args.peer_pad)
            _, _, h, w = output.size()
            output = output[:, :, 0 : h - pre_pad * scale, 0 : w - pre_pad * scale]
            output_img = output.data.squeeze().float().cpu().clamp_(0, 1).numpy()
        output_img = np.transpose(output_img[[2, 1, 0], :, :], (1, 2, 0))
        result8 = (output_img * 255.0).round().astype(np.uint8)
        seconds = time.perf_counter() - started
        cv2.imwrite(args.out, result8)
        extra = {"load_seconds": round(load_seconds, 1)}
        if args.row == "realesrgan":
            extra.update(tile=args.peer_tile, tile_pad=args.peer_pad, pre_pad=pre_pad)
    print(json.dumps({"row": args.row, "seconds": round(seconds, 1), "peak_rss_mib": round(_peak_rss_mib(), 1),
                      **extra}))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="an SR model file spandrel loads (x4plus by default)")
    parser.add_argument("--width", type=int, default=2000)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--tile", default="auto", help="gansuite's --tile")
    parser.add_argument("--peer-tile", type=int, default=400)
    parser.add_argument("--peer-pad", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", default="untiled,realesrgan,gansuite")
    parser.add_argument("--parallel", action="store_true",
                        help="run the rows at once (each in its own process: peak memory stays per row, times "
                        "share the CPU)")
    parser.add_argument("--note", default="", help="recorded in the manifest (e.g. why the input is smaller)")
    parser.add_argument("--name", default="sr_peer_memory", help="results file stem in benchmarks/results")
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--photo", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row:
        _child(args)
        return 0

    from skimage import data

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "photo.png"
        rgb = cv2.resize(data.astronaut(), (args.width, args.height), interpolation=cv2.INTER_LANCZOS4)
        cv2.imwrite(str(photo), rgb[..., ::-1])
        env = {**os.environ, "GANSUITE_CACHE_DIR": str(Path(scratch) / "cache")}  # the probe runs (and is timed)
        outputs = {}
        started = {}
        for row in args.rows.split(","):
            out = Path(scratch) / f"{row}.png"
            command = [sys.executable, __file__, "--model", args.model, "--row", row, "--photo", str(photo),
                       "--out", str(out), "--tile", args.tile, "--peer-tile", str(args.peer_tile),
                       "--peer-pad", str(args.peer_pad), "--threads", str(args.threads)]
            print("running", row, flush=True)
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            # one row at a time unless asked: their times are then comparable
            started[row] = (out, process, None if args.parallel else process.communicate())
        for row, (out, process, finished) in started.items():
            stdout, stderr = finished or process.communicate()
            if process.returncode != 0:
                print(stderr, file=sys.stderr)
                return process.returncode
            record = json.loads(stdout.strip().splitlines()[-1])
            outputs[row] = cv2.imread(str(out), cv2.IMREAD_UNCHANGED).astype(np.int16)
            rows.append(record)
            print(json.dumps(record), flush=True)
        reference_row = "untiled" if "untiled" in outputs else rows[0]["row"]
        reference = outputs[reference_row]
        for record in rows:
            image = outputs[record["row"]]
            record["output"] = list(image.shape)
            if reference is not None:
                difference = np.abs(image - reference)
                margin = _BORDER * (image.shape[0] // args.height)
                interior = difference[margin:-margin, margin:-margin]
                record["max_diff_vs_reference"] = int(interior.max())
                record["mean_diff_vs_reference"] = round(float(interior.mean()), 4)
                record["pixels_off_vs_reference"] = round(float((interior > 0).any(axis=2).mean()), 5)
                record["max_diff_vs_reference_with_border"] = int(difference.max())
    import torch

    result = {
        "command": " ".join([Path(sys.executable).name, "benchmarks/sr_peer_memory.py", *sys.argv[1:]]),
        "model": {"file": Path(args.model).name, "sha256": _sha256(Path(args.model))},
        "input": [args.height, args.width, 3],
        "rows": rows,
        "protocol": "each row in its own child process; peak_rss_mib = VmHWM of that child (interpreter, torch, "
        "model, image buffers); seconds = the upscale call only (gansuite: Upscaler.__call__; peers: "
        "RealESRGANer.enhance's steps), float32 on the CPU, torch threads as given; diffs in 8-bit levels "
        f"against the {reference_row} row ('untiled': spandrel on the whole image, no pre_pad), leaving out "
        f"{_BORDER} input pixels at the border "
        "(where Real-ESRGAN's pre_pad changes the output); one run each"
        + ("; rows run at the same time, sharing the CPU" if args.parallel else ""),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"torch {torch.__version__}",
        "note": args.note,
        "diff_reference": reference_row,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"{Path(args.model).name} on a {args.width}x{args.height} photo (x{rows[0]['output'][1] // args.width}), "
        "CPU, float32",
        "",
        f"| Row | Tiling | Peak RSS (MiB) | Upscale (s) | Max / mean diff vs {reference_row} (8-bit levels) |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for record in rows:
        if record["row"] == "gansuite":
            tiling = f"tile {record['tile']} + overlap {record['overlap']} (probed) + band {record['feather']}"
        elif record["row"] == "realesrgan":
            tiling = f"Real-ESRGAN tile_process: tile {record['tile']}, tile_pad {record['tile_pad']}"
        else:
            tiling = "none"
        diff = f"{record.get('max_diff_vs_reference', '-')} / {record.get('mean_diff_vs_reference', '-')}"
        memory, seconds = record["peak_rss_mib"], record["seconds"]
        lines.append(f"| {record['row']} | {tiling} | {memory:.0f} | {seconds:.1f} | {diff} |")
    if args.note:
        lines += ["", args.note]
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
