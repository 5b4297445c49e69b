"""Calibration as pure functions: temperature scaling, expected calibration error, Brier score."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

#: Bins of the expected calibration error and the reliability diagram.
ECE_BINS = 15
#: Temperatures searched by default: calibration only softens (T >= 1). The validation split
#: that calibrates also chose the checkpoint, so it flatters the model; sharpening on its
#: evidence makes the model surer than it has shown it deserves on unseen images.
TEMPERATURE_BOUNDS = (1.0, 20.0)
#: Bounds of the unconstrained fit that is reported beside it (a validation split without a
#: single error would drive T to 0).
FREE_TEMPERATURE_BOUNDS = (0.25, 20.0)


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Rescale softmax probabilities as if their logits were divided by ``temperature``.

    ``log p`` differs from the logits by a per-row constant, which the softmax removes, so the
    probabilities alone suffice.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if temperature == 1.0:
        return proba
    logits = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def negative_log_likelihood(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Mean cross-entropy of the true classes."""
    proba = np.asarray(proba, dtype=np.float64)
    picked = proba[np.arange(len(proba)), np.asarray(y_true, dtype=int)]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))


def fit_temperature(y_true: np.ndarray, proba: np.ndarray, *,
                    bounds: tuple[float, float] = TEMPERATURE_BOUNDS) -> float:
    """The temperature in ``bounds`` that minimises the negative log-likelihood of ``y_true``
    (Guo et al., 2017), searched on a log scale.

    Fit it on validation data, never on test. The default bounds only soften (T >= 1).
    """
    if len(y_true) == 0:
        return 1.0
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    result = minimize_scalar(lambda t: negative_log_likelihood(y_true, apply_temperature(proba, np.exp(t))),
                             bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    best = float(np.exp(result.x))
    # never worse on the fitting data than leaving the model alone, where T = 1 is allowed
    if bounds[0] <= 1.0 <= bounds[1] and (negative_log_likelihood(y_true, apply_temperature(proba, best))
                                          > negative_log_likelihood(y_true, proba)):
        return 1.0
    return best


def reliability_bins(y_true: np.ndarray, proba: np.ndarray, n_bins: int = ECE_BINS) -> dict:
    """Top-label confidence binned into ``n_bins`` equal-width bins: count, mean confidence and
    accuracy per bin (NaN in empty bins)."""
    proba = np.asarray(proba, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(which, weights=confidence, minlength=n_bins) / count
        acc = np.bincount(which, weights=correct.astype(float), minlength=n_bins) / count
    return {"edges": edges, "count": count, "confidence": conf, "accuracy": acc}


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over the bins."""
    if len(y_true) == 0:
        return float("nan")
    bins = reliability_bins(y_true, proba, n_bins)
    filled = bins["count"] > 0
    gaps = np.abs(bins["accuracy"][filled] - bins["confidence"][filled])
    return float(np.sum(gaps * bins["count"][filled]) / len(y_true))


def brier_score(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Multi-class Brier score: mean over images of the squared distance to the one-hot truth."""
    proba = np.asarray(proba, dtype=np.float64)
    onehot = np.eye(proba.shape[1])[np.asarray(y_true, dtype=int)]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def calibration_summary(y_true: np.ndarray, proba: np.ndarray, temperature: float) -> dict:
    """ECE, Brier score and NLL before and after applying ``temperature``."""
    after = apply_temperature(proba, temperature)
    return {
        "n": int(len(y_true)),
        "ece_before": expected_calibration_error(y_true, proba),
        "ece_after": expected_calibration_error(y_true, after),
        "brier_before": brier_score(y_true, proba),
        "brier_after": brier_score(y_true, after),
        "nll_before": negative_log_likelihood(y_true, proba),
        "nll_after": negative_log_likelihood(y_true, after),
    }
