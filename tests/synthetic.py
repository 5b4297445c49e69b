"""Tiny synthetic chest-X-ray-like datasets whose classes are learnable from shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("Alpha", "Beta", "Gamma")


def shape_image(label: int, rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """A noisy grey image with a class-dependent bright shape: square, disk or bars."""
    img = rng.normal(70, 12, (size, size))
    yy, xx = np.mgrid[:size, :size]
    jitter = rng.integers(-3, 4, 2)
    if label == 0:  # square, upper left
        y0, x0 = size // 6 + jitter[0], size // 6 + jitter[1]
        img[y0:y0 + size // 3, x0:x0 + size // 3] += 120
    elif label == 1:  # disk, centre
        cy, cx = size // 2 + jitter[0], size // 2 + jitter[1]
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < (size // 6) ** 2] += 120
    else:  # horizontal bars, lower half
        for k in range(3):
            y = size // 2 + 4 + 6 * k + jitter[0]
            img[y:y + 2, size // 6:size - size // 6] += 120
    return np.clip(img, 0, 255).astype(np.uint8)


def make_dataset(root: Path, *, n_train: int = 24, n_test: int = 8, size: int = 48,
                 seed: int = 0, classes: tuple[str, ...] = CLASSES) -> Path:
    """Write ``root/{train,test}/<class>/*.png``; returns ``root``."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                Image.fromarray(shape_image(label % 3, rng, size)).save(folder / f"{split}_{i:03d}.png")
    return root
