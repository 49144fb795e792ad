"""pix2pix sketch to photo: train the GAN and its L1-only twin, compare them with LPIPS, ship the GAN.

    OMP_NUM_THREADS=1 python benchmarks/sketch.py --data $GANSUITE_DATA/sr \
        --run-dir /work/runs/apps/sketch --steps 2000 --weights raw --ship

Training: Canny edges of random 64x64 crops of sr/train (T91 + BSD200). Evaluation: the central
256x256 of each Set5/Set14 HR image as four 128x128 crops (the central 128x128 when the image is
smaller), edges → photo, LPIPS (alex, v0.1) and PSNR (RGB) to the real crop. Writes
benchmarks/results/sketch.{json,md}, docs/sketch_results.png, docs/sketch_drawing.png and (with
--ship) gansuite/apps/weights/sketch_pix2pix.safetensors (float16).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from gansuite.apps.sketch import EdgePhotoCrops, SketchToPhoto, edges_of, train_pix2pix
from gansuite.apps.sketch.data import list_images
from gansuite.core.checkpoint import export_weights
from gansuite.io.image import read_image, write_image
from gansuite.metrics import LPIPSMetric

ROOT = Path(__file__).resolve().parents[1]
CROP = 128


def evaluation_crops(folder: Path) -> list[tuple[str, np.ndarray]]:
    """(name, (128, 128, 3) float32 RGB crop) from the centre of each image in `folder`."""
    crops = []
    for path in list_images([folder]):
        photo = read_image(path).color
        height, width = photo.shape[:2]
        if min(height, width) >= 2 * CROP:
            top, left = height // 2 - CROP, width // 2 - CROP
            corners = [(top, left), (top, left + CROP), (top + CROP, left), (top + CROP, left + CROP)]
        else:
            corners = [(height // 2 - CROP // 2, width // 2 - CROP // 2)]
        crops += [(f"{folder.parent.name}/{path.stem}@{y},{x}", photo[y:y + CROP, x:x + CROP]) for y, x in corners]
    return crops


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12)))


def house_drawing(size: int = 192) -> np.ndarray:
    """A hand-drawn-style line drawing (dark strokes on white), as a user would make: (H, W) in [0, 1]."""
    canvas = np.ones((size, size), np.uint8) * 255
    cv2.rectangle(canvas, (40, 90), (150, 170), 0, 2)
    cv2.polylines(canvas, [np.array([[30, 95], [95, 35], [160, 95]])], False, 0, 2)
    cv2.rectangle(canvas, (80, 120), (110, 170), 0, 2)
    cv2.rectangle(canvas, (120, 110), (142, 132), 0, 2)
    cv2.circle(canvas, (160, 30), 14, 0, 2)
    cv2.line(canvas, (0, 172), (size, 172), 0, 2)
    return canvas.astype(np.float32) / 255


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True, help="the sr datasets folder (train/, Set5/, Set14/)")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--weights", choices=("ema", "raw"), default="ema",
                        help="evaluate and ship the EMA generator or the raw one (an EMA of decay 0.999 lags "
                             "behind a run of a few thousand steps)")
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    dataset = EdgePhotoCrops(list_images([args.data / "train" / "T91", args.data / "train" / "BSD200"]), crop=64)
    models, seconds = {}, {}
    for name, adversarial in (("l1", False), ("gan", True)):
        t0 = time.perf_counter()
        trainer = train_pix2pix(dataset, args.run_dir / name, adversarial=adversarial, steps=args.steps)
        models[name] = SketchToPhoto(trainer.eval_generator() if args.weights == "ema" else trainer.generator.eval())
        seconds[name] = time.perf_counter() - t0
        print(f"trained {name} in {seconds[name]:.0f} s", flush=True)

    crops = evaluation_crops(args.data / "Set5" / "HR") + evaluation_crops(args.data / "Set14" / "HR")
    edges = [edges_of(photo) for _, photo in crops]
    real = torch.from_numpy(np.stack([photo for _, photo in crops])).permute(0, 3, 1, 2)
    lpips = LPIPSMetric(net="alex", backbones=os.environ.get("GANSUITE_BACKBONES"), device="cpu")
    outputs, per_model = {}, {}
    for name, model in models.items():
        outputs[name] = np.stack([model.from_edges(e) for e in edges])
        distances = lpips(torch.from_numpy(outputs[name]).permute(0, 3, 1, 2), real).numpy()
        per_model[name] = {
            "lpips": float(distances.mean()),
            "psnr": float(np.mean([psnr(o, p) for o, (_, p) in zip(outputs[name], crops, strict=True)])),
            "per_crop_lpips": [float(d) for d in distances],
        }
    gan_crops, l1_crops = (np.array(per_model[k]["per_crop_lpips"]) for k in ("gan", "l1"))
    gan_better = float(np.mean(gan_crops < l1_crops))
    report = {
        "command": "python " + " ".join(sys.argv),
        "train_data": "Canny edges of random 64x64 crops of sr/train T91 + BSD200",
        "eval_data": f"{len(crops)} crops of {CROP}x{CROP} from Set5 + Set14 HR",
        "lpips": "alex, v0.1 (lower is closer)",
        "steps": args.steps,
        "weights": args.weights,
        "models": {k: {**v, "train_seconds": round(seconds[k], 1)} for k, v in per_model.items()},
        "gan_lower_lpips_fraction_of_crops": gan_better,
        "crops": [name for name, _ in crops],
        "seconds": round(time.perf_counter() - started, 1),
    }
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "sketch.json").write_text(json.dumps(report, indent=2) + "\n")
    table = [
        f"| model ({args.steps} steps) | LPIPS (alex) ↓ | PSNR (RGB) | train seconds |",
        "| --- | --- | --- | --- |",
        *(f"| {name} | {v['lpips']:.3f} | {v['psnr']:.2f} | {seconds[name]:.0f} |" for name, v in per_model.items()),
        "",
        f"{len(crops)} crops of {CROP}x{CROP} (Set5 + Set14); the GAN's LPIPS is lower on {gan_better:.0%} of them. "
        f"`{report['command']}` ({report['seconds']} s).",
    ]
    (results / "sketch.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    firsts = {name.split("@")[0]: i for i, (name, _) in reversed(list(enumerate(crops)))}  # first crop per image
    picks = [i for key, i in sorted(firsts.items()) if key.split("/")[1] in
             ("butterfly", "bird", "zebra", "flowers", "monarch", "pepper")][:5] or list(range(5))
    figure, axes = plt.subplots(len(picks), 4, figsize=(8, 2 * len(picks)), dpi=100)
    for row, index in enumerate(picks):
        panels = [edges[index], outputs["l1"][index], outputs["gan"][index], crops[index][1]]
        for col, (panel, title) in enumerate(zip(panels, ("edges (Canny)", "L1 only", "pix2pix GAN", "real"),
                                                 strict=True)):
            axes[row, col].imshow(panel, cmap="gray" if panel.ndim == 2 else None, vmin=0, vmax=1)
            axes[row, col].set_axis_off()
            if row == 0:
                axes[row, col].set_title(title)
    figure.tight_layout()
    figure.savefig(ROOT / "docs" / "sketch_results.png")
    plt.close(figure)

    drawing = house_drawing()
    photo = models["gan"].from_drawing(drawing)
    side = np.repeat(drawing[..., None], 3, axis=2)
    write_image(ROOT / "docs" / "sketch_drawing.png", np.concatenate([side, np.ones((side.shape[0], 8, 3)), photo], 1))
    if args.ship:
        module = models["gan"].module
        card = {
            "app": "sketch (gansuite demo sketch)", "paper": "Isola et al. 2017, pix2pix",
            "data": "Canny edges of 64x64 crops of T91 + BSD200 (research use; not redistributed)",
            "weights": f"{'EMA of the generator' if args.weights == 'ema' else 'raw generator'}, stored as float16",
            "steps": args.steps,
            "lpips_set5_set14_crops": per_model["gan"]["lpips"], "l1_twin_lpips": per_model["l1"]["lpips"],
            "benchmark": report["command"],
        }
        export_weights(ROOT / "gansuite" / "apps" / "weights" / "sketch_pix2pix.safetensors", module.half(), card=card)


if __name__ == "__main__":
    main()
