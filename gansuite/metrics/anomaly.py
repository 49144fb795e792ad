"""Frame-level anomaly detection scores: ROC-AUC and equal error rate.

The protocol of video anomaly detection on UCSD Ped2 and Avenue (Mahadevan et al., CVPR 2010;
Liu et al., "Future Frame Prediction for Anomaly Detection", CVPR 2018): every test frame gets
a score, all test clips are concatenated, and the frame-level ground truth (1 = anomalous) is
compared with the scores through the ROC curve. Scores here are *anomaly* scores: larger means
more anomalous. A regularity score such as per-clip min-max normalised PSNR of the predicted
frame is the opposite, so pass its negation (or ``1 - regularity``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gansuite.errors import ConfigError

__all__ = ["equal_error_rate", "frame_auc"]


def _check(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel()
    if s.shape != y.shape:
        raise ConfigError(
            f"{s.size} scores and {y.size} labels: give one score per labelled frame (concatenate the "
            "test clips in the order of the ground truth)"
        )
    if not np.all(np.isfinite(s)):
        raise ConfigError(f"{int((~np.isfinite(s)).sum())} of the scores are NaN or infinite; clip or drop them")
    if not np.isin(y, (0, 1)).all():
        raise ConfigError(f"labels must be 0 (normal) or 1 (anomalous); got values {np.unique(y)[:10]}")
    if y.min() == y.max():
        raise ConfigError(
            f"all {y.size} labels are {int(y[0])}: ROC needs both normal and anomalous frames; score the whole test set"
        )
    return s, y.astype(np.int64)


def frame_auc(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    """Area under the frame-level ROC curve (scikit-learn's ``roc_auc_score``).

    Args:
        scores: one anomaly score per frame, larger = more anomalous, any shape (flattened).
        labels: ground truth per frame, 1 = anomalous, 0 = normal, same number as `scores`.

    Returns:
        AUC in [0, 1]; 0.5 is chance, 1 is perfect separation.

    Raises:
        ConfigError: different lengths, non-finite scores, labels other than 0/1 or of one class.
    """
    from gansuite._extras import require_extra

    roc_auc_score = require_extra("bench", "sklearn.metrics", feature="frame-level AUC").roc_auc_score

    s, y = _check(scores, labels)
    return float(roc_auc_score(y, s))


def equal_error_rate(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    """Equal error rate: where the false-positive rate equals the miss rate (1 - TPR).

    The ROC curve is taken as the piecewise-linear curve through scikit-learn's ``roc_curve``
    points (every threshold kept), and the crossing of FPR with FNR is interpolated on the
    segment where it happens.

    Args:
        scores: one anomaly score per frame, larger = more anomalous, any shape (flattened).
        labels: ground truth per frame, 1 = anomalous, 0 = normal, same number as `scores`.

    Returns:
        EER in [0, 1]; 0 is perfect separation, 0.5 is chance.

    Raises:
        ConfigError: different lengths, non-finite scores, labels other than 0/1 or of one class.
    """
    from gansuite._extras import require_extra

    roc_curve = require_extra("bench", "sklearn.metrics", feature="the equal error rate").roc_curve

    s, y = _check(scores, labels)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    gap = (1.0 - tpr) - fpr  # starts at 1 (threshold +inf), ends at -1, never increases
    i = int(np.argmax(gap <= 0))
    if gap[i] == 0 or i == 0:
        return float(fpr[i])
    t = gap[i - 1] / (gap[i - 1] - gap[i])
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))
