"""Occlusion sensitivity (Zeiler & Fergus, 2014): forward passes only, any backend.

A grey patch slides over the image; where covering the image lowers the explained class's
log-probability most, the heatmap is hottest (log-probabilities, so a confident model's
near-1 probability still shows its drops).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .heatmap import normalise

Forward = Callable[[np.ndarray], np.ndarray]  # images (n, s, s, 1) 0..255 -> probabilities (n, k)


def occlusion_map(forward: Forward, image: np.ndarray, class_index: int, *,
                  patch: int | None = None, stride: int | None = None,
                  batch_size: int = 64) -> np.ndarray:
    """Heatmap ``(size, size)`` in 0..1: per pixel, the mean drop of the class log-probability
    over the patches covering it.

    Args:
        forward: model forward pass on raw images.
        image: one image ``(size, size)`` or ``(size, size, 1)``, 0..255.
        class_index: the class whose probability is watched.
        patch: side of the occluding square (default: an eighth of the image side).
        stride: step between patches (default: half the patch).
        batch_size: occluded images per forward call.
    """
    image = np.asarray(image, dtype=np.float32).reshape(image.shape[0], image.shape[1], 1)
    size = image.shape[0]
    patch = patch or max(2, size // 8)
    stride = stride or max(1, patch // 2)
    fill = float(image.mean())
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)  # cover the last rows and columns too
    boxes = [(top, left) for top in starts for left in starts]
    baseline = _log_prob(forward(image[None]), class_index)[0]
    drops = []
    for i in range(0, len(boxes), batch_size):
        chunk = boxes[i:i + batch_size]
        batch = np.repeat(image[None], len(chunk), axis=0)
        for k, (top, left) in enumerate(chunk):
            batch[k, top:top + patch, left:left + patch] = fill
        drops.append(baseline - _log_prob(forward(batch), class_index))
    drops = np.concatenate(drops)
    total = np.zeros((size, size), np.float64)
    count = np.zeros((size, size), np.float64)
    for (top, left), drop in zip(boxes, drops):
        total[top:top + patch, left:left + patch] += drop
        count[top:top + patch, left:left + patch] += 1
    return normalise(total / np.maximum(count, 1))


def _log_prob(proba: np.ndarray, class_index: int) -> np.ndarray:
    return np.log(np.clip(np.asarray(proba, dtype=np.float64)[:, class_index], 1e-12, 1.0))
