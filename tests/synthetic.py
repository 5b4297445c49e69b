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
                 seed: int = 0, classes: tuple[str, ...] = CLASSES, draw=None) -> Path:
    """Write ``root/{train,test}/<class>/*.png`` drawn by ``draw(label, rng, size)`` (default
    :func:`shape_image`); returns ``root``."""
    draw = draw or shape_image
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                Image.fromarray(draw(label % 3, rng, size)).save(folder / f"{split}_{i:03d}.png")
    return root


#: Where the class-deciding shape of :func:`place_image` sits: the upper-left quadrant.
def place_mask(size: int) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[:size // 2, :size // 2] = True
    return mask


def place_image(label: int, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """Noise everywhere; the class is decided only by a bright shape in the upper-left
    quadrant (:func:`place_mask`): a block, a horizontal bar or a vertical bar. Every shape has
    the same number of bright pixels, so image-wide statistics (per-image standardisation) carry
    no class information; only the place does."""
    img = rng.normal(70, 12, (size, size))
    cy, cx = size // 4 + rng.integers(-1, 2, 2)
    n = 3 * size // 8  # bar length (12 px at size 32); bars are 2 px wide
    if label == 0:
        h, w = 4, n // 2  # 4 x 6 block: 24 px, as a 2 x 12 bar
    elif label == 1:
        h, w = 2, n
    else:
        h, w = n, 2
    img[cy - h // 2:cy - h // 2 + h, cx - w // 2:cx - w // 2 + w] += 110
    return np.clip(img, 0, 255).astype(np.uint8)


def make_place_dataset(root: Path, *, n_train: int = 30, n_test: int = 6, size: int = 32,
                       seed: int = 0) -> Path:
    """A dataset of :func:`place_image` images in Kaggle layout; returns ``root``."""
    return make_dataset(root, n_train=n_train, n_test=n_test, size=size, seed=seed, draw=place_image)


def make_sourced_manifest(root: Path, sources: dict[str, int], *, size: int = 32, seed: int = 0,
                          classes: tuple[str, ...] = CLASSES, split: str = "train",
                          test_per_class: int = 3) -> Path:
    """Images of several sources (``{source: images per class}``) under ``root/<source>/`` and
    a manifest ``root/manifest.csv`` (``path,label,split,source``): every source's images are
    ``split``, plus ``test_per_class`` test images per class of the first source. Returns the
    manifest."""
    rng = np.random.default_rng(seed)
    rows = ["path,label,split,source"]
    for si, (source, n) in enumerate(sources.items()):
        for label, name in enumerate(classes):
            for i in range(n + (test_per_class if si == 0 else 0)):
                rel = f"{source}/{name}_{i:03d}.png"
                (root / source).mkdir(parents=True, exist_ok=True)
                Image.fromarray(shape_image(label % 3, rng, size)).save(root / rel)
                rows.append(f"{rel},{name},{'test' if i >= n else split},{source}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root / "manifest.csv"
