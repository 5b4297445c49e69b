"""Bootstrap confidence intervals for classification metrics, as pure functions."""

from __future__ import annotations

import numpy as np

#: Resamples of a bootstrap (the percentile interval's tails need at least 1000).
N_RESAMPLES = 1000


def confusion_matrices(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int,
                       indices: np.ndarray) -> np.ndarray:
    """Confusion matrices ``(r, k, k)`` (rows = truth) of the resamples ``indices`` ``(r, n)``."""
    cells = np.asarray(y_true)[indices] * n_classes + np.asarray(y_pred)[indices]
    offsets = np.arange(len(indices))[:, None] * n_classes * n_classes
    counts = np.bincount((cells + offsets).ravel(), minlength=len(indices) * n_classes ** 2)
    return counts.reshape(len(indices), n_classes, n_classes)


def metrics_from_confusion(cm: np.ndarray,
                           macro_classes: list[int] | None = None) -> dict[str, np.ndarray]:
    """Accuracy, macro-F1 and per-class sensitivity and specificity of confusion matrices
    ``(..., k, k)``; undefined ratios are NaN except F1's, which is 0 (as scikit-learn's
    ``zero_division=0``). ``macro_classes``: the classes macro-F1 averages over (default: all)."""
    cm = np.asarray(cm, dtype=np.float64)
    total = cm.sum(axis=(-2, -1))
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    fn = cm.sum(axis=-1) - tp
    fp = cm.sum(axis=-2) - tp
    tn = total[..., None] - tp - fn - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        macro = f1 if macro_classes is None else f1[..., list(macro_classes)]
        return {"accuracy": tp.sum(axis=-1) / total, "macro_f1": macro.mean(axis=-1),
                "sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp)}


def bootstrap_intervals(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str], *,
                        n_resamples: int = N_RESAMPLES, seed: int = 0, level: float = 0.95,
                        macro_classes: list[int] | None = None) -> dict:
    """Percentile bootstrap intervals of accuracy, macro-F1 and per-class sensitivity and
    specificity: ``{metric: {"estimate", "low", "high"}}``, per-class metrics keyed
    ``sensitivity/<class>``. Images are resampled with replacement, seeded. ``macro_classes``:
    the class indices macro-F1 averages over (default: all; an external set may lack a class)."""
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    k, n = len(class_names), len(y_true)
    if n == 0:
        return {}
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n, size=(n_resamples, n))
    point = metrics_from_confusion(confusion_matrices(y_true, y_pred, k, np.arange(n)[None]),
                                   macro_classes)
    boot = metrics_from_confusion(confusion_matrices(y_true, y_pred, k, indices), macro_classes)
    tail = (1.0 - level) / 2.0 * 100.0

    def interval(estimate: float, samples: np.ndarray) -> dict:
        samples = samples[~np.isnan(samples)]
        low, high = (np.percentile(samples, [tail, 100.0 - tail]) if len(samples)
                     else (np.nan, np.nan))
        return {"estimate": float(estimate), "low": float(low), "high": float(high)}

    out = {"accuracy": interval(point["accuracy"][0], boot["accuracy"]),
           "macro_f1": interval(point["macro_f1"][0], boot["macro_f1"])}
    for metric in ("sensitivity", "specificity"):
        for c, name in enumerate(class_names):
            out[f"{metric}/{name}"] = interval(point[metric][0, c], boot[metric][:, c])
    out["_settings"] = {"n": n, "n_resamples": n_resamples, "seed": seed, "level": level}
    return out
