"""Digits from noise: a DCGAN (Radford et al. 2016) on MNIST, trained with gansuite's `Trainer`.

`gansuite demo generate --n 64 -o grid.png` samples the shipped generator; `benchmarks/digits.py`
trains it and measures it (Fréchet distance in a small MNIST classifier's feature space, class
coverage, the discriminator-first warm-up).
"""

from gansuite.apps.digits.data import DIGITS_EVAL, DIGITS_TRAIN, load_digits
from gansuite.apps.digits.evaluation import ClassCoverage, class_coverage, frechet_distance
from gansuite.apps.digits.generate import DigitGenerator, image_grid, interpolation_strip
from gansuite.apps.digits.models import ConvVAE, DCGANDiscriminator, DCGANGenerator, DigitClassifier
from gansuite.apps.digits.training import DCGANRecipe, DigitsHead, train_classifier, train_dcgan, train_vae

__all__ = [
    "DIGITS_EVAL",
    "DIGITS_TRAIN",
    "ClassCoverage",
    "ConvVAE",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DCGANRecipe",
    "DigitClassifier",
    "DigitGenerator",
    "DigitsHead",
    "class_coverage",
    "frechet_distance",
    "image_grid",
    "interpolation_strip",
    "load_digits",
    "train_classifier",
    "train_dcgan",
    "train_vae",
]
