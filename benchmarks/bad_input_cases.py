"""Runs `gansuite upscale` on the shared failing-input cases and checks each against what its README asks.

Usage:
    python benchmarks/bad_input_cases.py CASES_DIR [--model x2]

CASES_DIR is the folder of the shared cases (`../shared/cases/inputs`), given on the command line,
never assumed. Writes `benchmarks/results/bad_input_cases.md` (a table: case, command, exit status,
what was checked, pass/fail) and a `.json` beside it with a manifest. The image cases of the
upscale head only (animated, EXIF, collisions, gray, alpha fringe, format limits, planar TIFF,
opaque alpha, model files, the 100-megapixel PNG); the read-only folder needs a private mount
namespace and is run when `unshare` works.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gansuite", "upscale", *args], capture_output=True, text=True)


def _frames(path: Path) -> tuple[str, int, set[int]]:
    from PIL import Image

    with Image.open(path) as image:
        durations = set()
        for index in range(image.n_frames):
            image.seek(index)
            image.load()
            durations.add(int(image.info.get("duration", 0)))
        return image.format, image.n_frames, durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=Path)
    parser.add_argument("--model", default="x2", help="upscale model (x2 is the fastest shipped one)")
    args = parser.parse_args()
    cases: Path = args.cases
    work = Path(tempfile.mkdtemp(prefix="gansuite-cases-"))
    model = ["--model", args.model]
    scale = 2 if args.model.startswith("x2") else 4
    rows: list[dict[str, object]] = []

    def check(
        name: str, argv: list[str], expect: str, verdict: Callable[[subprocess.CompletedProcess[str], Path], bool]
    ) -> None:
        out = work / name
        started = time.perf_counter()
        run = _run(*argv, "-o", str(out), *([] if "--model" in argv else model))
        try:
            ok = bool(verdict(run, out))
        except Exception as error:  # a failed check is a row, not a crash
            ok, expect = False, f"{expect} (check raised {type(error).__name__}: {error})"
        command = "gansuite upscale " + " ".join(a.replace(str(cases), "$CASES") for a in argv)
        rows.append({"case": name, "command": command,
                     "exit": run.returncode, "expect": expect, "pass": ok,
                     "seconds": round(time.perf_counter() - started, 1),
                     "stderr": run.stderr.strip().splitlines()[-1:] if run.stderr.strip() else []})

    exif = cases / "exif_orientation_png_webp"
    check("exif_orientation_png_webp", [str(exif / "orient6.png"), str(exif / "orient6.webp")],
          "outputs portrait (32 wide, 48 high before scaling)",
          lambda r, o: all(cv2.imread(str(o / f"orient6_x{scale}.{e}")).shape[:2] == (48 * scale, 32 * scale)
                           for e in ("png", "webp")))
    check("name_collision", [str(cases / "name_collision" / "in"), "--ext", "png"],
          "three distinct outputs, a note says so",
          lambda r, o: len(list(o.glob("*.png"))) == 3 and "note:" in r.stderr)
    check("gray_stored_as_rgb", [str(cases / "gray_stored_as_rgb" / "gray3ch.png")], "output channels equal",
          lambda r, o: (lambda a: np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 0], a[..., 2]))(
              cv2.imread(str(o / f"gray3ch_x{scale}.png"))))
    check("alpha_fringe", [str(cases / "alpha_fringe" / "logo_white_on_transparent.png")],
          "composited over white: no pixel darker than 250",
          lambda r, o: (lambda a: (a[..., :3] * (a[..., 3:] / 255) + 255 * (1 - a[..., 3:] / 255)).min() >= 250)(
              cv2.imread(str(o / f"logo_white_on_transparent_x{scale}.png"), cv2.IMREAD_UNCHANGED).astype(float)))
    wide_scale = ["--model", "x4"]
    for name, file, limit in (("webp_too_wide", "wide_4100x6.webp", "16383"),
                              ("jpeg_too_wide", "pano_16400x4.jpg", "65500")):
        check(name, [str(cases / name / file), *wide_scale], f"refused before compute naming {limit} and --ext png",
              lambda r, o, limit=limit: r.returncode == 1 and limit in r.stderr and "--ext png" in r.stderr
              and not o.exists())
    check("tiff16_planar", [str(cases / "tiff16_planar")], "planar outputs equal the chunky one, 16-bit",
          lambda r, o: (lambda a, b, c: a.dtype == np.uint16 and np.array_equal(a, b) and np.array_equal(a, c))(
              *(cv2.imread(str(o / f"{n}_x{scale}.png"), cv2.IMREAD_UNCHANGED)
                for n in ("rgb16", "planar_u16_None", "rgb16_lzw_planar"))))
    anim = cases / "animated_inputs"
    check("animated_inputs", [str(anim / "anim.gif"), str(anim / "anim.png"), str(anim / "anim.webp")],
          "three animated files of the same kinds, 16 frames, delays kept (70 ms)",
          lambda r, o: [_frames(o / f"anim_x{scale}.{e}") for e in ("gif", "png", "webp")]
          == [("GIF", 16, {70}), ("PNG", 16, {70}), ("WEBP", 16, {70})])
    opaque = cases / "opaque_alpha_to_jpeg" / "screenshot_opaque_alpha.png"
    check("opaque_alpha_to_jpeg", [str(opaque), "--ext", "jpg"],
          "written as JPEG, alpha dropped silently",
          lambda r, o: r.returncode == 0 and (o / f"screenshot_opaque_alpha_x{scale}.jpg").is_file())
    for file in sorted((cases / "model_files").glob("*.safetensors")):
        check(f"model_files/{file.name}", [str(cases / "gray_stored_as_rgb" / "gray3ch.png"), "--model", str(file)],
              "one line naming the file", lambda r, o, file=file: r.returncode == 1
              and len(r.stderr.strip().splitlines()) == 1 and str(file) in r.stderr
              and "internal error" not in r.stderr)
    check("large_and_truncated/huge_allowed.png", [str(cases / "large_and_truncated" / "huge_allowed.png"), "--model",
                                                   "x4"],
          "refused up front with the memory it needs, naming --max-pixels",
          lambda r, o: r.returncode == 1 and "GB of memory" in r.stderr and "--max-pixels" in r.stderr)
    if shutil.which("unshare"):
        target = work / "readonly"
        target.mkdir()
        script = (f"mount -t tmpfs -o ro tmpfs {target} && {sys.executable} -m gansuite upscale "
                  f"{cases / 'readonly_output' / 'in'} -o {target} --model {args.model}")
        run = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
        if "unshare:" not in run.stderr and "mount:" not in run.stderr:
            rows.append({"case": "readonly_output", "command": "gansuite upscale $CASES/readonly_output/in -o RO_TMPFS",
                         "exit": run.returncode, "expect": "refused before compute: folder not writable",
                         "pass": run.returncode == 1 and "is not writable" in run.stderr, "seconds": None,
                         "stderr": run.stderr.strip().splitlines()[-1:]})
    RESULTS.mkdir(exist_ok=True)
    lines = ["| case | command | exit | expected | pass |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['case']} | `{r['command']}` | {r['exit']} | {r['expect']} | {'yes' if r['pass'] else 'NO'} |"
              for r in rows]
    table = "\n".join(lines) + "\n"
    (RESULTS / "bad_input_cases.md").write_text(table)
    manifest = {"command": " ".join(["python", "benchmarks/bad_input_cases.py", "$CASES", *sys.argv[2:]]),
                "python": sys.version.split()[0], "opencv": cv2.__version__, "rows": rows}
    (RESULTS / "bad_input_cases.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(table)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if all(r["pass"] for r in rows) else 1)


if __name__ == "__main__":
    main()
