"""DCGAN recipe comparison on a VALIDATION split of the training digits (never the held-out ones).

    OMP_NUM_THREADS=1 python benchmarks/digits_recipes.py --data $GANSUITE_DATA/video/mnist \\
        --run-dir /work/runs/digits-recipes --name w32b64 --steps 8000 --recipe '{"width": 32}'

Trains one DCGAN (`DCGANRecipe(**recipe)`) on MNIST t10k digits 0–7999 and measures it against
digits 8000–8999 with a feature classifier trained on 0–7999 only: the Fréchet distance in the
classifier's features (NOT Inception-FID) of 2000 samples, their class coverage, and the curve of
both every `--every` steps. Digits 9000–9999, the held-out set of `benchmarks/digits.py`, are not
read. Appends one row to benchmarks/results/digits_recipes.jsonl and rewrites digits_recipes.md
from all rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from gansuite.apps.digits import (
    DCGANRecipe,
    DigitClassifier,
    class_coverage,
    frechet_distance,
    load_digits,
    train_classifier,
)
from gansuite.apps.digits.training import train_dcgan

ROOT = Path(__file__).resolve().parents[1]
TRAIN, VALIDATION = slice(0, 8000), slice(8000, 9000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--name", required=True, help="row name (also the run folder)")
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--warmup", type=int, default=0, help="discriminator-only steps first")
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--recipe", default="{}", help="JSON of DCGANRecipe fields that differ from the defaults")
    parser.add_argument("--force-resume", action="store_true",
                        help="continue the run --name to a longer --steps (constant learning rates)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    images, labels = load_digits(args.data, "train")  # digits 0-8999 only
    train_x, train_y, val_x = images[TRAIN], labels[TRAIN], images[VALIDATION]
    args.run_dir.mkdir(parents=True, exist_ok=True)
    classifier_path = args.run_dir / "validation_classifier.pt"
    if classifier_path.is_file():
        classifier = DigitClassifier().eval()
        classifier.load_state_dict(torch.load(classifier_path, weights_only=True))
    else:
        classifier = train_classifier(train_x, train_y)
        torch.save(classifier.state_dict(), classifier_path)
    recipe = DCGANRecipe(**json.loads(args.recipe))
    started = time.perf_counter()

    def measure(generator: torch.nn.Module, count: int, seed: int) -> tuple[float, object]:
        with torch.no_grad():
            fake = generator(torch.randn(count, recipe.latent_dim, generator=torch.Generator().manual_seed(seed)))
        return frechet_distance(classifier, fake, val_x), class_coverage(classifier, fake)

    def validate(generator: torch.nn.Module, step: int) -> dict[str, float]:
        fd, coverage = measure(generator, 1000, 1)
        print(f"{args.name} step {step}: FD {fd:.1f}, smallest class {coverage.smallest:.3f}, "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        return {"frechet": fd, "smallest_class_fraction": coverage.smallest}

    trainer = train_dcgan(train_x, args.run_dir / args.name, steps=args.steps, warmup_steps=args.warmup,
                          recipe=recipe, validate=validate, validate_every=args.every, force_resume=args.force_resume)
    seconds = time.perf_counter() - started
    fd, coverage = measure(trainer.eval_generator(), 2000, 7)
    log = [json.loads(line) for line in (args.run_dir / args.name / "log.jsonl").read_text().splitlines()]
    row = {
        "name": args.name, "recipe": asdict(recipe), "steps": args.steps, "warmup": args.warmup,
        "validation_frechet": fd, "class_fractions": coverage.fractions, "smallest_class_fraction": coverage.smallest,
        "total_variation_from_uniform": coverage.total_variation_from_uniform,
        "real_train_vs_validation_frechet": frechet_distance(classifier, train_x[:2000], val_x),
        "curve": sorted({(r["step"] - args.warmup, r["frechet"], r["smallest_class_fraction"])
                         for r in log if r.get("kind") == "validation"}),
        "seconds": round(seconds, 1), "command": "python " + " ".join(sys.argv),
    }
    print(json.dumps(row), flush=True)
    results = ROOT / "benchmarks" / "results"
    with (results / "digits_recipes.jsonl").open("a") as f:
        f.write(json.dumps(row) + "\n")
    render(results)


def render(results: Path) -> None:
    """Rewrite digits_recipes.md from all rows of digits_recipes.jsonl."""
    rows = [json.loads(line) for line in (results / "digits_recipes.jsonl").read_text().splitlines() if line]
    lines = [
        "Recipes compared on a validation split: trained on MNIST t10k digits 0–7999, measured against 8000–8999 "
        "(classifier trained on 0–7999; Fréchet distance in its features, NOT Inception-FID; 2000 samples). "
        "The held-out digits 9000–9999 are not used here. A run continued to more steps with --force-resume "
        "(constant learning rates) lists the seconds of the continuation only.",
        "",
        "| run | G width | D | D width | minibatch-std group | batch | lr G / D | R1 γ | EMA | steps | FD ↓ "
        "| smallest class | TV from uniform | s |",
        "| --- |" + " --- |" * 13,
    ]
    for r in rows:
        c = r["recipe"]
        steps = f"{r['warmup']}+{r['steps']}" if r["warmup"] else str(r["steps"])
        lines.append(f"| {r['name']} | {c['width']} | {c['discriminator']} | {c['discriminator_width']} | "
                     f"{c['minibatch_std_group']} | {c['batch_size']} | "
                     f"{c['generator_lr']:g} / {c['discriminator_lr']:g} | {c['r1_gamma']:g} | {c['ema_decay']:g} | "
                     f"{steps} | {r['validation_frechet']:.1f} | "
                     f"{r['smallest_class_fraction']:.1%} | {r['total_variation_from_uniform']:.3f} | "
                     f"{r['seconds']:.0f} |")
    lines.append(f"\nReal training digits vs validation: FD {rows[-1]['real_train_vs_validation_frechet']:.1f}. "
                 "Commands: benchmarks/results/digits_recipes.jsonl.")
    (results / "digits_recipes.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
