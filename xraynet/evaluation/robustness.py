"""Exposure stress test: do predictions survive a change of exposure alone?

The same image a little brighter or darker (gamma 0.8 or 1.25, as another scanner or exposure
would give) should get the same diagnosis. In the Kaggle data each class comes from other
sources with other typical brightness, so a model can learn brightness instead of disease; the
share of predictions that change with exposure shows it.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from ..defaults import CONFIDENT  # stress tests count the confident predictions a change moves

__all__ = ["apply_gamma", "changed_predictions", "exposure_check", "EXPOSURE_FLAG",
           "EXPOSURE_GAMMAS", "exposure_scores", "wilson_interval"]

#: exposure changes of the stress test: ``255 * (x / 255) ** gamma``, 0.8 brighter, 1.25 darker
EXPOSURE_GAMMAS = (0.8, 1.25)
#: flag a model when more than this share of its predictions changes with exposure alone
EXPOSURE_FLAG = 0.10


def apply_gamma(images: np.ndarray, gamma: float) -> np.ndarray:
    """Raw 0..255 images with their exposure changed (:func:`xraynet.layers.adjust_gamma`, the
    transform of the training-time gamma jitter), as a NumPy array."""
    from keras import ops

    from ..layers import adjust_gamma

    return np.asarray(ops.convert_to_numpy(adjust_gamma(np.asarray(images, np.float32), gamma)))


def wilson_interval(k: int, n: int, *, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a share ``k / n`` (default 95%): how far the share seen on ``n``
    images may lie from the model's true rate. ``(0, 1)`` for ``n = 0``."""
    if n <= 0:
        return 0.0, 1.0
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * float(np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def changed_predictions(y_true: np.ndarray, predicted: np.ndarray, moved: np.ndarray,
                        class_names: list[str], *, confidence: np.ndarray | None = None) -> dict:
    """Accuracy after a change, the share of predictions it moved (with how many, and the share's
    95% Wilson interval), and where they went; with ``confidence`` (the top probability of each
    unchanged prediction), also how many of the moved ones were confident (at least
    :data:`CONFIDENT`)."""
    changed = moved != predicted
    moves: dict[str, int] = {}
    for a, b in zip(predicted[changed], moved[changed]):
        key = f"{class_names[a]} -> {class_names[b]}"
        moves[key] = moves.get(key, 0) + 1
    n, k = len(y_true), int(np.sum(changed))
    confident = ({"changed_confident": int(np.sum(changed & (np.asarray(confidence) >= CONFIDENT)))}
                 if confidence is not None else {})
    return {"accuracy": float(np.mean(moved == y_true)) if n else float("nan"),
            "changed": k / n if n else 0.0, "n_changed": k,
            "changed_interval": list(wilson_interval(k, n)), **confident, "moves": moves}


def exposure_scores(y_true: np.ndarray, proba: np.ndarray, shifted: dict[float, np.ndarray],
                    class_names: list[str], *, threshold: float = EXPOSURE_FLAG) -> dict:
    """Accuracy at each exposure and how many predictions exposure alone changes.

    Args:
        y_true: true class indices, shape ``(n,)``.
        proba: probabilities of the unchanged images, shape ``(n, classes)``.
        shifted: gamma -> probabilities of the same images at that exposure.
        class_names: names in probability order.
        threshold: flag when the share changed under any gamma exceeds it.
    """
    y_true = np.asarray(y_true)
    predicted = np.asarray(proba).argmax(axis=1)
    per_gamma, changed_any = {}, np.zeros(len(y_true), bool)
    for gamma, p in shifted.items():
        moved = np.asarray(p).argmax(axis=1)
        changed_any |= moved != predicted
        per_gamma[f"{gamma:g}"] = changed_predictions(y_true, predicted, moved, class_names,
                                                      confidence=np.asarray(proba).max(axis=1))
    share = float(np.mean(changed_any)) if len(y_true) else 0.0
    accuracies = [v["accuracy"] for v in per_gamma.values()]
    return {"n": int(len(y_true)), "accuracy": float(np.mean(predicted == y_true)),
            "per_gamma": per_gamma, "worst_accuracy": min(accuracies, default=float("nan")),
            "changed_any": share, "threshold": threshold, "flagged": bool(share > threshold)}


def exposure_check(predict: Callable[[np.ndarray], np.ndarray],
                   x: np.ndarray | Iterable[np.ndarray], y: np.ndarray, class_names: list[str], *,
                   gammas: tuple[float, ...] = EXPOSURE_GAMMAS, proba: np.ndarray | None = None,
                   threshold: float = EXPOSURE_FLAG) -> dict:
    """:func:`exposure_scores` of ``predict`` (raw images -> probabilities) on ``x``: an array,
    or chunks of it in order (e.g. :meth:`~xraynet.data.loaders.SplitDataset.chunks`), so that a
    large split is never held whole; ``proba``: its probabilities on the unchanged images where
    the caller has them already."""
    chunks = [x] if isinstance(x, np.ndarray) else x
    base: list[np.ndarray] = []
    shifted: dict[float, list[np.ndarray]] = {g: [] for g in gammas}
    for chunk in chunks:
        if proba is None:
            base.append(np.asarray(predict(chunk)))
        for g in gammas:
            shifted[g].append(np.asarray(predict(apply_gamma(chunk, g))))
    n_classes = len(class_names)
    joined = {g: np.concatenate(parts) if parts else np.zeros((0, n_classes))
              for g, parts in shifted.items()}
    if proba is None:
        proba = np.concatenate(base) if base else np.zeros((0, n_classes))
    return {"gammas": list(gammas),
            **exposure_scores(y, proba, joined, class_names, threshold=threshold)}
