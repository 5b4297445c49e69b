"""The body's bounding box in a chest X-ray: the frame without the dark background around it.

Scanners frame patients differently: in this dataset the Viral Pneumonia scans are wider (median
width/height 1.38 against 1.18) because more dark background is left beside the child's chest.
A model that sees the whole frame, or its central square, can read how much of the chest a frame
shows as a class cue; re-encoding (squeezing to 224 x 224) or a tighter crop then changes its
answer. Cutting each image to the body's box first makes the frame a property of the patient, not
of the scanner: a squeezed copy yields the same box, squeezed, and the square it is stretched to
is the same picture.

The box is found on a small thumbnail, from how many pixels of each column (and row) are brighter
than the background: columns (rows) whose bright share is at least half the median bright share
of the image belong to the body. A box narrower than :data:`MIN_SHARE` of a side (a bright label
on an empty frame, a blank image) is not trusted: that side keeps its full extent.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

#: side of the thumbnail the box is measured on, pixels
THUMB_SIDE = 256
#: a pixel is body where it is brighter than the background by this share of the way from the
#: background (5th percentile) to the median intensity
BRIGHT_SHARE = 0.35
#: a column (row) is body where its bright share reaches this share of the median column's (row's)
LINE_SHARE = 0.5
#: boxes narrower than this share of a side are not trusted (that side is kept whole)
MIN_SHARE = 0.5


def _extent(bright: np.ndarray, length: int) -> tuple[float, float]:
    """First and one-past-last line of the body along one axis, as shares of ``length`` lines
    (``bright``: the bright share of each line)."""
    lit = bright[bright > 0]
    if not len(lit):
        return 0.0, 1.0
    on = np.flatnonzero(bright >= LINE_SHARE * float(np.median(lit)))
    start, stop = int(on[0]), int(on[-1]) + 1
    if stop - start < MIN_SHARE * length:
        return 0.0, 1.0
    return start / length, stop / length


def body_box(gray: Image.Image) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` of the body in a grayscale (``"L"``) image, in its pixels;
    the whole image where no background is found."""
    thumb = gray.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(thumb, dtype=np.float32)
    background, median = np.percentile(pixels, [5, 50])
    bright = pixels > background + BRIGHT_SHARE * (median - background)
    (x0, x1), (y0, y1) = (_extent(bright.mean(axis=0), pixels.shape[1]),
                          _extent(bright.mean(axis=1), pixels.shape[0]))
    width, height = gray.size
    return (round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height))


def crop_to_body(gray: Image.Image) -> Image.Image:
    """``gray`` cut to :func:`body_box`."""
    box = body_box(gray)
    return gray if box == (0, 0, *gray.size) else gray.crop(box)
