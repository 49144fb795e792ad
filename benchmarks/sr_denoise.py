"""The `--denoise` strength of `x4-real` (or `x4-real-gan`): quality on clean and real-looking inputs.

`gansuite upscale --model x4-real --denoise D` blends the weights (1 − D)·θ_x4 + D·θ_x4-real
(Real-ESRGAN's ``-dn`` for realesr-general-x4v3); `--model x4-real-gan` blends with `x4-gan`. This
writes the blended weights for D = 0.25, 0.5 and 0.75 into a temporary folder (D = 0 and 1 are the
clean twin and the model itself), runs
`gansuite benchmark sr` on Set5 and Set14 twice — with the papers' bicubic degradation and with
the fixed seeded real-looking one (blur + sensor noise + JPEG q60) — and writes
``benchmarks/results/sr_denoise.json`` and ``.md`` (``sr_denoise_x4_real_gan.*`` for
``--model x4-real-gan``): PSNR-Y, SSIM-Y, LPIPS and JPEG-grid strength
per strength and input kind, bicubic beside them. It measures what the knob trades; it does not
choose a default (these are the acceptance test sets).

Usage (from the repository root)::

    GANSUITE_DATA=DIR GANSUITE_BACKBONES=DIR python benchmarks/sr_denoise.py [--model x4-real-gan]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
STRENGTHS = (0.25, 0.5, 0.75)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("x4-real", "x4-real-gan"), default="x4-real")
    model_name = parser.parse_args().model
    data = os.environ.get("GANSUITE_DATA")
    if not data:
        print("GANSUITE_DATA is unset: point it at the datasets folder (sr/Set5, sr/Set14)", file=sys.stderr)
        return 2
    from gansuite.core.checkpoint import export_weights
    from gansuite.tasks.upscale.settings import clean_twin
    from gansuite.tasks.upscale.upscaler import Upscaler

    clean = clean_twin(model_name)

    RESULTS.mkdir(exist_ok=True)
    reports = {}
    with tempfile.TemporaryDirectory() as tmp:
        methods = ["bicubic", clean]
        for strength in STRENGTHS:
            model = Upscaler.from_pretrained(model_name, denoise=strength, device="cpu").model
            name = f"{model_name} denoise {strength:g}"
            file = export_weights(Path(tmp) / f"denoise_{strength:g}.safetensors", model,
                                  card={"task": "upscale", "name": name, "scale": 4})
            methods.append(str(file))
        methods.append(model_name)
        for degradation in ("real", "bicubic"):
            out = Path(tmp) / degradation
            command = [sys.executable, "-m", "gansuite.cli", "benchmark", "sr", "--device", "cpu", "--scale", "4",
                       "--degradation", degradation, "--json", str(out.with_suffix(".json")),
                       "--markdown", str(out.with_suffix(".md"))]
            for dataset in ("Set5", "Set14"):
                command += ["--dataset", f"{dataset}={Path(data) / 'sr' / dataset / 'HR'}"]
            for method in methods:
                command += ["--method", method]
            print("$", " ".join(command), file=sys.stderr)
            code = subprocess.call(command)
            if code:
                return code
            reports[degradation] = json.loads(out.with_suffix(".json").read_text())
    _write(reports, model_name, clean)
    return 0


def _label(method: str, model_name: str, clean: str) -> str:
    stem = Path(method).stem if method.endswith(".safetensors") else method
    if stem.startswith("denoise_"):
        return f"{model_name} --denoise {stem.removeprefix('denoise_')}"
    return {clean: f"{clean} (= --denoise 0)", model_name: f"{model_name} (= --denoise 1)"}.get(method, method)


def _write(reports: dict, model_name: str, clean: str) -> None:
    lines = [f"### `{model_name} --denoise D` on Set5 / Set14, clean and real-looking inputs", ""]
    for degradation, title in (("real", "real-looking inputs (blur + noise + JPEG q60)"),
                               ("bicubic", "clean inputs (MATLAB bicubic, the papers' protocol)")):
        lines += [f"**{title}**", "", "| Method | Set5 PSNR-Y | Set5 LPIPS | Set5 grid | Set14 PSNR-Y | Set14 LPIPS "
                  "| Set14 grid |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        rows: dict[str, dict[str, dict]] = {}
        for row in reports[degradation]["results"]:
            rows.setdefault(row["method"], {})[row["dataset"]] = row
        for method, by in rows.items():
            cells = []
            for dataset in ("Set5", "Set14"):
                r = by[dataset]
                cells += [f"{r['psnr_y']:.2f}", f"{r['lpips_alex']:.3f}", f"{r['jpeg_grid']:.2f}"]
            lines.append(f"| {_label(method, model_name, clean)} | " + " | ".join(cells) + " |")
        lines.append("")
    manifest = reports["real"]["manifest"]
    lines.append(f"Protocol: `gansuite benchmark sr` ({manifest.get('protocol', {}).get('summary', '')}); "
                 f"the blended weights are (1 − D)·{clean} + D·{model_name}.")
    stem = "sr_denoise" if model_name == "x4-real" else f"sr_denoise_{model_name.replace('-', '_')}"
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{stem}.json").write_text(json.dumps(reports, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
