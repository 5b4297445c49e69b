"""Matplotlib figures saved as PNG: training curves and confusion matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
# Figures are drawn on matplotlib.figure.Figure, never through pyplot: no global backend
# is chosen and no window can open, whatever the user's matplotlib settings.
from matplotlib.figure import Figure

from .calibration import expected_calibration_error, reliability_bins


def plot_history(history: dict[str, list[float]], path: str | Path) -> Path:
    """Train/validation loss and AUC per epoch: one figure, two panels."""
    return plot_histories({"": history}, path)


def plot_histories(histories: dict[str, dict[str, list[float]]], path: str | Path) -> Path:
    """Loss and AUC per epoch of one or several runs (an ensemble's members), labelled by key."""
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    for ax, metric, title in ((axes[0], "loss", "Loss"), (axes[1], "auc", "AUC")):
        for i, (run, history) in enumerate(histories.items()):
            epochs = np.arange(1, len(history.get(metric, [])) + 1)
            for key, label, style in ((metric, "train", "-"), (f"val_{metric}", "validation", "--")):
                if key in history and len(history[key]):
                    ax.plot(epochs, history[key], style, marker="o", markersize=3,
                            color=f"C{2 * i + (style == '--')}",
                            label=f"{run} {label}".strip())
        ax.set_title(f"{title} per epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8 if len(histories) > 1 else 10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)


def plot_confusion_matrix(cm: list[list[int]] | np.ndarray, class_names: list[str],
                          path: str | Path, title: str = "Confusion matrix") -> Path:
    """Counts with row-normalised shading (rows = true class)."""
    cm = np.asarray(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    fig = Figure(figsize=(5.2, 4.6))
    ax = fig.subplots()
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=20, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if share[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)


def plot_reliability(y_true: np.ndarray, curves: dict[str, np.ndarray], path: str | Path, *,
                     n_bins: int = 15, title: str = "Reliability diagram") -> Path:
    """Accuracy against confidence per bin for each set of probabilities in ``curves`` (e.g.
    before and after calibration), with the diagonal of perfect calibration and the ECE."""
    fig = Figure(figsize=(5.4, 6.2))
    ax, hist = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    for i, (name, proba) in enumerate(curves.items()):
        bins = reliability_bins(y_true, proba, n_bins)
        centres = (bins["edges"][:-1] + bins["edges"][1:]) / 2
        filled = bins["count"] > 0
        ece = expected_calibration_error(y_true, proba, n_bins)
        ax.plot(bins["confidence"][filled], bins["accuracy"][filled], "o-", color=f"C{i}",
                label=f"{name} (ECE {ece:.3f})")
        hist.bar(centres + (i - 0.5) * 0.025, bins["count"], width=0.025, color=f"C{i}", label=name)
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    hist.set_xlabel(f"confidence of the predicted class ({n_bins} bins)")
    hist.set_ylabel("images")
    hist.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)
