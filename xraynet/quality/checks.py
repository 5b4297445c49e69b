"""Pixel checks of the input-quality gate: what a file alone says about being an X-ray.

Limits, measured on the 314 original files of the Kaggle set: their colourfulness is at most 4.5
grey levels (JPEG chroma noise), their shorter side at least 341 px, and the standard deviation
of their model input at least 28 grey levels. Public re-encodes are 224 x 224, so the size limit
stays well below that.
"""

from __future__ import annotations

import numpy as np

from ..data.decode import ImageFacts

__all__ = ["COLOUR_LIMIT", "MIN_SIDE", "pixel_reasons", "UNIFORM_STD_LIMIT"]

#: a file whose colour channels differ by more than this (mean, grey levels) is a colour image
COLOUR_LIMIT = 15.0
#: a file whose shorter side is below this (pixels) is too small to show lungs in detail
MIN_SIDE = 128
#: a model input whose standard deviation is below this (grey levels) is near-uniform
UNIFORM_STD_LIMIT = 12.0


def pixel_reasons(facts: ImageFacts | None, image: np.ndarray) -> list[str]:
    """Plain-language reasons why a file does not look like a chest X-ray (none: it may).

    Args:
        facts: what decoding learnt about the file (None for an image given as an array: its
            colour and stored size are unknown, so only uniformity is checked).
        image: the model input it became, ``(size, size[, 1])`` in 0..255.
    """
    reasons = []
    if facts is not None:
        if facts.colourfulness > COLOUR_LIMIT:
            reasons.append(f"colour image (channels differ by {facts.colourfulness:.0f} grey "
                           "levels on average); X-rays are grey")
        if min(facts.width, facts.height) < MIN_SIDE:
            reasons.append(f"very small image ({facts.width}x{facts.height} px; at least "
                           f"{MIN_SIDE} px a side expected)")
    spread = float(np.asarray(image, dtype=np.float32).std())
    if spread < UNIFORM_STD_LIMIT:
        reasons.append(f"near-uniform image (grey-level spread {spread:.1f}; X-rays show at least "
                       f"{UNIFORM_STD_LIMIT:.0f})")
    return reasons
