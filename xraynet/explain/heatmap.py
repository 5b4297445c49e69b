"""Heatmap arithmetic shared by the explanation methods: resizing, normalising, mass shares."""

from __future__ import annotations

import numpy as np
from PIL import Image

#: Width of the image border (share of the side) where text markers and burned-in labels sit.
BORDER_FRACTION = 0.10


def upsample(heatmap: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of a 2-D map to ``size`` x ``size``."""
    heatmap = np.asarray(heatmap, dtype=np.float32)
    if heatmap.shape == (size, size):
        return heatmap
    resized = Image.fromarray(heatmap, mode="F").resize((size, size), Image.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def normalise(heatmap: np.ndarray) -> np.ndarray:
    """Non-negative part, min-max scaled to 0..1 (a constant map becomes zeros).

    Subtracting the minimum drops the even floor that background texture adds everywhere, as
    pytorch-grad-cam's ``scale_cam_image`` does.
    """
    heatmap = np.maximum(np.asarray(heatmap, dtype=np.float32), 0.0)
    if not heatmap.size:
        return heatmap
    heatmap = heatmap - heatmap.min()
    peak = float(heatmap.max())
    return heatmap / peak if peak > 0 else heatmap


def mass_share(heatmap: np.ndarray, mask: np.ndarray) -> float:
    """Share of the heatmap's (non-negative) mass inside the boolean ``mask``; NaN if no mass."""
    heatmap = np.maximum(np.asarray(heatmap, dtype=np.float64), 0.0)
    total = heatmap.sum()
    return float(heatmap[np.asarray(mask, bool)].sum() / total) if total > 0 else float("nan")


def border_mask(size: int, fraction: float = BORDER_FRACTION) -> np.ndarray:
    """True on the outer ``fraction`` of the side on every edge of a ``size`` square."""
    width = max(1, int(round(size * fraction)))
    mask = np.ones((size, size), bool)
    mask[width:size - width, width:size - width] = False
    return mask


def border_share(heatmap: np.ndarray, fraction: float = BORDER_FRACTION) -> float:
    """Share of the heatmap's mass in the outer border (where markers and text live)."""
    return mass_share(heatmap, border_mask(heatmap.shape[0], fraction))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two maps of the same shape (NaN when one is constant)."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])
