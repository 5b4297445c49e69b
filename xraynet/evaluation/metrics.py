"""Classification metrics as pure functions of labels and probabilities."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix, f1_score,
                             roc_auc_score)


def sensitivity_specificity(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class sensitivity (recall) and specificity from a confusion matrix (rows = truth)."""
    cm = np.asarray(cm, dtype=float)
    total = cm.sum()
    tp = np.diag(cm)
    fn = cm.sum(axis=1) - tp
    fp = cm.sum(axis=0) - tp
    tn = total - tp - fn - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        sens = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        spec = np.where(tn + fp > 0, tn / (tn + fp), np.nan)
    return sens, spec


def macro_auc_ovr(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Macro one-vs-rest ROC AUC; NaN when a class is absent from ``y_true``."""
    n_classes = proba.shape[1]
    if len(np.unique(y_true)) < n_classes:
        return math.nan
    return float(roc_auc_score(y_true, proba, multi_class="ovr", average="macro",
                               labels=list(range(n_classes))))


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, class_names: list[str]) -> dict:
    """Accuracy, macro-F1, macro AUC, per-class sensitivity/specificity, confusion matrix and
    scikit-learn's classification report (dict and text)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(proba).argmax(axis=1)
    labels = list(range(len(class_names)))
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    sens, spec = sensitivity_specificity(cm)
    report_kwargs = dict(labels=labels, target_names=class_names, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "macro_auc_ovr": macro_auc_ovr(y_true, proba),
        "sensitivity": {c: float(v) for c, v in zip(class_names, sens)},
        "specificity": {c: float(v) for c, v in zip(class_names, spec)},
        "confusion_matrix": cm.tolist(),
        "classification_report": classification_report(y_true, y_pred, output_dict=True,
                                                       **report_kwargs),
        "classification_report_text": classification_report(y_true, y_pred, digits=3,
                                                            **report_kwargs),
    }
