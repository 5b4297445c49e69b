"""PNG figures of explanations: the X-ray beside its heatmap overlay, with the diagnosis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
# Figures are drawn on matplotlib.figure.Figure, never through pyplot: no global backend
# is chosen and no window can open, whatever the user's matplotlib settings.
from matplotlib.figure import Figure

METHOD_TITLES = {"gradcam": "Grad-CAM", "occlusion": "Occlusion sensitivity"}


def save_overlay(image: np.ndarray, heatmap: np.ndarray, path: str | Path, *, method: str,
                 label: str, probability: float, true_label: str | None = None,
                 source: str | None = None) -> Path:
    """Two panels: the X-ray as the model saw it, and the heatmap over it (red = most weight).

    The title names the method, the predicted class and its probability, and the true class
    where it is known.
    """
    image = np.asarray(image, dtype=np.float32).squeeze()
    fig = Figure(figsize=(8.4, 4.5))
    axes = fig.subplots(1, 2)
    for ax in axes:
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.set_xticks([])
        ax.set_yticks([])
    shown = axes[1].imshow(heatmap, cmap="jet", alpha=0.45, vmin=0, vmax=1)
    axes[0].set_title("X-ray (model input)")
    axes[1].set_title(METHOD_TITLES.get(method, method))
    fig.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.04, label="relative weight")
    title = f"predicted {label} (p = {probability:.2f})"
    if true_label is not None:
        title += f"; true {true_label}" + ("" if true_label == label else " (WRONG)")
    fig.suptitle(title + (f"\n{source}" if source else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return Path(path)
