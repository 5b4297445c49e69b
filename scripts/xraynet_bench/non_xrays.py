"""Images that are not chest X-rays, for measuring the input-quality gate's detection rate:
natural images that ship inside installed packages (scikit-image's sample images, matplotlib's
sample data) and synthetic ones (uniform, noise, gradients, patterns, text, colour). Nothing is
downloaded."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".tif", ".bmp")


def _packaged() -> list[tuple[str, bytes]]:
    found = []
    try:
        import skimage.data

        folder = Path(skimage.data.__file__).parent
        found += [(f"skimage/{p.name}", p.read_bytes()) for p in sorted(folder.iterdir())
                  if p.suffix.lower() in IMAGE_SUFFIXES]
    except ImportError:  # scikit-image is a dev extra; matplotlib is always there
        pass
    import matplotlib

    sample = Path(matplotlib.get_data_path()) / "sample_data"
    found += [(f"matplotlib/{p.name}", p.read_bytes()) for p in sorted(sample.iterdir())
              if p.suffix.lower() in IMAGE_SUFFIXES]
    return found


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _synthetic(size: int = 512, seed: int = 0) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / (size - 1)
    text = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(text)
    for row in range(0, size, 24):
        draw.text((10, row), "Lorem ipsum dolor sit amet, consectetur adipiscing elit " * 2, fill=0)
    blobs = np.zeros((size, size, 3))
    for _ in range(12):
        cy, cx, r = rng.integers(0, size, 2).tolist() + [int(rng.integers(20, 120))]
        blobs[(yy * size - cy) ** 2 + (xx * size - cx) ** 2 < r * r] = rng.integers(0, 256, 3)
    images = {
        "black_1x1": np.zeros((1, 1)),
        "red_photo": np.stack([np.full((size, size), 200), rng.normal(30, 8, (size, size)),
                               rng.normal(30, 8, (size, size))], axis=-1),
        "uniform_black": np.zeros((size, size)),
        "uniform_white": np.full((size, size), 255),
        "uniform_grey": np.full((size, size), 128),
        "noise_uniform": rng.integers(0, 256, (size, size)),
        "noise_gaussian": np.clip(rng.normal(128, 40, (size, size)), 0, 255),
        "gradient_horizontal": 255 * xx,
        "gradient_radial": 255 * np.clip(1 - np.hypot(yy - 0.5, xx - 0.5) * 2, 0, 1),
        "checkerboard": 255 * ((np.floor(yy * 8) + np.floor(xx * 8)) % 2),
        "stripes": 255 * (np.floor(xx * 20) % 2),
        "text_page": np.asarray(text),
        "colour_blobs": blobs,
        "colour_noise": rng.integers(0, 256, (size, size, 3)),
    }
    return [(f"synthetic/{name}.png", _png(np.clip(a, 0, 255))) for name, a in images.items()]


def non_xray_images() -> list[tuple[str, bytes]]:
    """``(name, file bytes)`` of every non-X-ray image, packaged first, then synthetic."""
    return _packaged() + _synthetic()
