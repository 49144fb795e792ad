"""DCGAN digits on MNIST: train, measure, ship.

    OMP_NUM_THREADS=1 python benchmarks/digits.py --data $GANSUITE_DATA/video/mnist \
        --run-dir /work/runs/apps/digits --ship

Trains (1) the feature classifier on digits 0–8999, (2) the DCGAN (`DCGANRecipe()`), (3) the same
DCGAN with a discriminator-first warm-up, (4) the VAE baseline, all on digits 0–8999; then
measures, against the held-out digits 9000–9999: the Fréchet distance in the classifier's 128-d
feature space (NOT Inception-FID), class coverage of 2000 samples, and the FD curve during training
with and without the warm-up. The shipped generator is the EMA generator at the last step of a fixed
schedule: no checkpoint or seed is chosen on the held-out digits (the curve is only reported; the
recipe was chosen on a validation split of the training digits, `benchmarks/digits_recipes.py`).
Writes benchmarks/results/digits.{json,md}, docs/digits_samples.png, docs/digits_interpolation.png
and (with --ship) gansuite/apps/weights/digits_dcgan.safetensors.

The two GAN runs can train in two processes first (`--train-only dcgan`, `--train-only
dcgan_warmup`); the final command then resumes the finished runs and measures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from gansuite.apps.digits import (
    ConvVAE,
    DCGANRecipe,
    DigitClassifier,
    DigitGenerator,
    class_coverage,
    frechet_distance,
    image_grid,
    interpolation_strip,
    load_digits,
    train_classifier,
    train_dcgan,
    train_vae,
)
from gansuite.core.checkpoint import export_weights
from gansuite.io.image import write_image

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = 2000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=500, help="D-only steps of the warm-up variant")
    parser.add_argument("--classifier-steps", type=int, default=1500)
    parser.add_argument("--vae-steps", type=int, default=3000)
    parser.add_argument("--warmup-run-steps", type=int, default=None,
                        help="generator steps of the warm-up variant (default: --steps)")
    parser.add_argument("--train-only", choices=("dcgan", "dcgan_warmup"), default=None,
                        help="train that one variant and stop (to train the two in parallel processes)")
    parser.add_argument("--force-resume", action="store_true", help="continue runs whose schedule changed")
    parser.add_argument("--validate-every", type=int, default=1000, help="steps between points of the FD curve")
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    train_x, train_y = load_digits(args.data, "train")
    eval_x, eval_y = load_digits(args.data, "eval")
    args.run_dir.mkdir(parents=True, exist_ok=True)

    classifier_path = args.run_dir / "classifier.pt"
    if classifier_path.is_file():  # a rerun reuses the trained classifier (and resumes finished GAN runs)
        classifier = DigitClassifier().eval()
        classifier.load_state_dict(torch.load(classifier_path, weights_only=True))
    else:
        classifier = train_classifier(train_x, train_y, steps=args.classifier_steps)
        torch.save(classifier.state_dict(), classifier_path)
    with torch.no_grad():
        accuracy = float((classifier(eval_x).argmax(1) == eval_y).float().mean())
    print(f"classifier held-out accuracy {accuracy:.4f}", flush=True)

    def fd_of(generator: torch.nn.Module, step: int) -> dict[str, float]:
        with torch.no_grad():
            fake = generator(torch.randn(1000, generator.latent_dim, generator=torch.Generator().manual_seed(1)))
        value = frechet_distance(classifier, fake, eval_x)
        print(f"  step {step}: FD {value:.2f}", flush=True)
        return {"frechet": value}

    recipe = DCGANRecipe()
    curves: dict[str, list[tuple[int, float]]] = {}
    models = {}
    variants = [("dcgan", 0)] + ([("dcgan_warmup", args.warmup)] if args.warmup else [])
    for name, warmup in variants:
        if args.train_only not in (None, name):
            continue
        t0 = time.perf_counter()
        steps = args.steps if name == "dcgan" else args.warmup_run_steps or args.steps
        trainer = train_dcgan(train_x, args.run_dir / name, steps=steps, warmup_steps=warmup, recipe=recipe,
                              validate=fd_of, validate_every=args.validate_every, force_resume=args.force_resume)
        timing = args.run_dir / name / "train_seconds.txt"  # written by the process that trained the run
        if not timing.is_file():
            timing.write_text(f"{time.perf_counter() - t0:.1f}\n")
        models[name] = (trainer.eval_generator(), float(timing.read_text()))
        log = [json.loads(line) for line in (args.run_dir / name / "log.jsonl").read_text().splitlines()]
        curves[name] = [(r["step"] - warmup, r["frechet"]) for r in log if r.get("kind") == "validation"]
    if args.train_only is not None:
        return
    t0 = time.perf_counter()
    vae_path, vae_timing = args.run_dir / "vae.pt", args.run_dir / "vae_seconds.txt"
    if vae_path.is_file():
        vae = ConvVAE().eval()
        vae.load_state_dict(torch.load(vae_path, weights_only=True))
    else:
        vae = train_vae(train_x, steps=args.vae_steps)
        torch.save(vae.state_dict(), vae_path)
        vae_timing.write_text(f"{time.perf_counter() - t0:.1f}\n")
    vae_seconds = float(vae_timing.read_text()) if vae_timing.is_file() else None

    noise = torch.randn(SAMPLES, recipe.latent_dim, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        sets = {name: module(noise) for name, (module, _) in models.items()}
        sets["vae"] = vae.decode(noise)
    sets["real (train digits)"] = train_x[:SAMPLES]
    rows = []
    for name, images in sets.items():
        coverage = class_coverage(classifier, images)
        rows.append({
            "model": name,
            "frechet_distance": frechet_distance(classifier, images, eval_x),
            "classes_present": coverage.classes_present,
            "smallest_class_fraction": coverage.smallest,
            "total_variation_from_uniform": coverage.total_variation_from_uniform,
            "class_fractions": coverage.fractions,
            "train_seconds": {**{k: v[1] for k, v in models.items()}, "vae": vae_seconds}.get(name),
        })
    real_eval = class_coverage(classifier, eval_x)
    report = {
        "command": "python " + " ".join(sys.argv),
        "feature_space": "128-d penultimate layer of a small CNN trained on MNIST t10k digits 0-8999 "
        "(NOT Inception-FID)",
        "reference": f"held-out digits 9000-9999 ({len(eval_x)})",
        "samples_per_model": SAMPLES,
        "classifier_heldout_accuracy": accuracy,
        "heldout_class_fractions": real_eval.fractions,
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "warmup_run_generator_steps": args.warmup_run_steps or args.steps,
        "recipe": asdict(recipe),
        "selection": "none on the held-out digits: the final EMA generator of a fixed schedule",
        "rows": rows,
        "frechet_during_training": curves,
        "seconds": round(time.perf_counter() - started, 1),
    }
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "digits.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "| model | Fréchet distance (classifier features) ↓ | classes present | smallest class | TV from uniform "
        "| train s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(f"| {row['model']} | {row['frechet_distance']:.2f} | {row['classes_present']} | "
                     f"{row['smallest_class_fraction']:.1%} | {row['total_variation_from_uniform']:.3f} | "
                     f"{'' if row['train_seconds'] is None else round(row['train_seconds'])} |")
    steps_seen = sorted({s for curve in curves.values() for s, _ in curve})
    lines += ["", "| generator steps | " + " | ".join(str(s) for s in steps_seen) + " |",
              "| --- |" + " --- |" * len(steps_seen)]
    for name, curve in curves.items():
        values = dict(curve)
        lines.append(f"| FD, {name} | " + " | ".join(f"{values[s]:.2f}" if s in values else "" for s in steps_seen)
                     + " |")
    lines.append(f"\n`{report['command']}` ({report['seconds']} s, resuming runs already trained by `--train-only` "
                 f"processes; train s: the process that trained, one thread on a shared CPU); classifier held-out "
                 f"accuracy {accuracy:.3f}. Generator steps: dcgan {args.steps}, dcgan_warmup {args.warmup} D-only + "
                 f"{report['warmup_run_generator_steps']}; the curves sample 1000 digits (seed 1), the table 2000 "
                 "(seed 7). "
                 "The shipped model is the dcgan EMA generator at its last step (nothing is selected on these digits).")
    (results / "digits.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    gan = DigitGenerator(models["dcgan"][0])
    docs = ROOT / "docs"
    panels = [image_grid(sets[name][:64], columns=8) for name in ("dcgan", "vae", "real (train digits)")]
    gap = np.ones((panels[0].shape[0], 6, 1), dtype=np.float32)
    write_image(docs / "digits_samples.png", np.concatenate([panels[0], gap, panels[1], gap, panels[2]], 1)[..., 0],
                grayscale=True)
    write_image(docs / "digits_interpolation.png", interpolation_strip(gan, steps=10, rows=4)[..., 0], grayscale=True)
    if args.ship:
        card = {
            "app": "digits (gansuite demo generate)", "paper": "Radford et al. 2016, DCGAN",
            "data": "MNIST t10k digits 0-8999 (research use; not redistributed)", "steps": args.steps,
            "recipe": asdict(recipe), "classes_present": rows[0]["classes_present"],
            "weights": "EMA of the generator", "frechet_distance_classifier_features": rows[0]["frechet_distance"],
            "smallest_class_fraction": rows[0]["smallest_class_fraction"], "benchmark": report["command"],
        }
        export_weights(ROOT / "gansuite" / "apps" / "weights" / "digits_dcgan.safetensors", models["dcgan"][0],
                       card=card)


if __name__ == "__main__":
    main()
