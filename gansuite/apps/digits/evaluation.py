"""Measures of generated digits: a Fréchet distance in a small MNIST classifier's feature space
and class coverage.

The Fréchet distance is FID's formula (Heusel et al. 2017), ||μ₁ − μ₂||² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½),
on the 128 penultimate activations of `DigitClassifier` trained on digits 0–8999 — it is NOT
Inception-FID and its values are not comparable with published FIDs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from gansuite.apps.digits.models import DigitClassifier

__all__ = ["ClassCoverage", "class_coverage", "frechet_distance", "frechet_from_features"]


def frechet_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two (N, D) feature sets (float64 arithmetic)."""
    from scipy import linalg  # the `train` extra: a sampling-only install does without it

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # dead ReLU features make the covariances singular; sqrtm still converges
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = np.real(linalg.sqrtm(cov_a @ cov_b))  # tiny imaginary parts from round-off are dropped
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


@torch.no_grad()
def _features(classifier: DigitClassifier, images: torch.Tensor) -> np.ndarray:
    return torch.cat([classifier.features(part) for part in images.split(500)]).numpy()


def frechet_distance(classifier: DigitClassifier, images_a: torch.Tensor, images_b: torch.Tensor) -> float:
    """Classifier-feature Fréchet distance between two sets of (N, 1, 28, 28) digits in [0, 1]."""
    return frechet_from_features(_features(classifier, images_a), _features(classifier, images_b))


@dataclass(frozen=True)
class ClassCoverage:
    """Fractions of samples the classifier assigns to each digit 0–9."""

    fractions: tuple[float, ...]

    @property
    def classes_present(self) -> int:
        return sum(f > 0 for f in self.fractions)

    @property
    def smallest(self) -> float:
        return min(self.fractions)

    @property
    def total_variation_from_uniform(self) -> float:
        """½ Σ |f_c − 0.1|: 0 for a uniform mix, 0.9 for a single class."""
        return 0.5 * sum(abs(f - 0.1) for f in self.fractions)


@torch.no_grad()
def class_coverage(classifier: DigitClassifier, images: torch.Tensor) -> ClassCoverage:
    """Classify (N, 1, 28, 28) digits in [0, 1] and count each class's share."""
    predicted = torch.cat([classifier(part).argmax(1) for part in images.split(500)])
    counts = torch.bincount(predicted, minlength=10).double() / len(predicted)
    return ClassCoverage(tuple(float(c) for c in counts))
