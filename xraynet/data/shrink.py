"""Bringing a decoded image down to the size the model needs, one strip of rows at a time.

A 16-bit or colour scan is never copied whole: each strip of rows is read from the decoded image,
turned to grey levels and averaged over ``factor x factor`` blocks, so the only full-resolution
buffer is the decoded image itself (2 bytes per pixel for 16-bit grey, 1 for 8-bit grey, 4 for
colour, Pillow's own storage) and a strip adds a few copies of :data:`STRIP_PIXELS` pixels.
The factor keeps the shorter side at least twice the model's input, as JPEG draft mode does.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

#: pixels per strip (a strip of an 11,800-pixel-wide scan is 84 rows)
STRIP_PIXELS = 1_000_000


def reduce_factor(width: int, height: int, image_size: int) -> int:
    """The largest whole factor that keeps the shorter side at least ``2 * image_size``."""
    return max(1, min(width, height) // (2 * image_size))


def strips(width: int, height: int, factor: int) -> Iterator[tuple[int, int]]:
    """``(top, bottom)`` row ranges covering the first ``height // factor * factor`` rows, each a
    multiple of ``factor`` rows and about :data:`STRIP_PIXELS` pixels."""
    rows = max(factor, STRIP_PIXELS // max(width, 1) // factor * factor)
    usable = height // factor * factor
    for top in range(0, usable, rows):
        yield top, min(top + rows, usable)


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """``values`` ``(rows, width)`` averaged over ``factor x factor`` blocks (float32); rows are a
    multiple of ``factor``, and the last ``width % factor`` columns are dropped."""
    values = np.asarray(values, np.float32)
    if factor == 1:
        return values
    rows, width = values.shape
    cols = width // factor
    return values[:, :cols * factor].reshape(rows // factor, factor, cols, factor).mean(axis=(1, 3))


def value_range(read: Callable[[int, int], np.ndarray], width: int, height: int) -> tuple[float, float]:
    """The smallest and largest value over all rows, strip by strip (``read(top, bottom)`` gives
    the rows as an array)."""
    lo, hi = np.inf, -np.inf
    for top, bottom in strips(width, height, 1):
        part = read(top, bottom)
        lo, hi = min(lo, float(part.min())), max(hi, float(part.max()))
    return lo, hi


def shrink_to_uint8(read: Callable[[int, int], np.ndarray], width: int, height: int, factor: int,
                    scale: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """The image ``(height // factor, width // factor)`` as uint8: each strip read, mapped to grey
    levels 0..255 by ``scale`` (identity when None), block-averaged and rounded."""
    out = np.empty((height // factor, width // factor), np.uint8)
    for top, bottom in strips(width, height, factor):
        part = read(top, bottom)
        grey = scale(part) if scale is not None else part
        out[top // factor:bottom // factor] = np.clip(block_mean(grey, factor) + 0.5, 0, 255)
    return out


def stretch(lo: float, hi: float) -> Callable[[np.ndarray], np.ndarray]:
    """A map of values ``lo..hi`` onto grey levels ``0..255`` (all 0 when the image is flat)."""
    if hi <= lo:
        return lambda part: np.zeros(part.shape, np.float32)
    gain = 255.0 / (hi - lo)
    return lambda part: (np.asarray(part, np.float32) - np.float32(lo)) * np.float32(gain)
