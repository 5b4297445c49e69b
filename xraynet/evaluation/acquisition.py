"""Acquisition-shift stress suite: do predictions survive how another hospital acquires,
stores and sends its X-rays?

Each test file is decoded again through the model's own decoding path after one change of
acquisition: squeezed to 224 x 224 (as public re-encodes are), re-compressed as a low-quality
JPEG, blurred, given sensor noise, or cut by a tighter frame. For each variant the suite gives
the accuracy and the share of predictions that the change alone moves; a variant that moves
more than :data:`ACQUISITION_FLAG` of them is flagged. A model that reads the disease should
barely move; one that reads the source's resolution, compression or framing will.

Changes other than the squeeze are made at twice the model's input resolution (the resolution
decoding reads large JPEGs at), so each has the same strength on every file whatever its size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageFilter

from ..data.decode import DecodeSettings, ImageDecodeError, fit_to_square, load_grayscale
from .robustness import changed_predictions

__all__ = ["acquisition_check", "ACQUISITION_CHUNK", "ACQUISITION_FLAG", "at_scale", "blur",
           "border_crop", "jpeg", "load_grays", "noise", "squeeze", "stressed_images",
           "stressed_inputs", "Variant", "VARIANTS"]

#: flag a variant when it changes more than this share of the predictions
ACQUISITION_FLAG = 0.10
#: files the suite decodes and changes at once
ACQUISITION_CHUNK = 64


@dataclass(frozen=True)
class Variant:
    """One change of acquisition: ``apply(gray image, model input size, rng) -> gray image``."""

    name: str
    description: str
    apply: Callable[[Image.Image, int, np.random.Generator], Image.Image]


def at_scale(gray: Image.Image, short_side: int) -> Image.Image:
    """``gray`` resized so that its shorter side is ``short_side`` (never enlarged)."""
    width, height = gray.size
    factor = short_side / min(width, height)
    if factor >= 1:
        return gray
    return gray.resize((max(1, round(width * factor)), max(1, round(height * factor))),
                       Image.Resampling.BILINEAR, reducing_gap=2.0)


def squeeze(gray: Image.Image, size: int, rng: np.random.Generator, *,
            side: int = 224) -> Image.Image:
    return gray.resize((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)


def jpeg(gray: Image.Image, size: int, rng: np.random.Generator, *,
         quality: int = 20) -> Image.Image:
    buffer = io.BytesIO()
    at_scale(gray, 2 * size).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as img:
        return img.convert("L")


def blur(gray: Image.Image, size: int, rng: np.random.Generator, *,
         radius: float = 3.0) -> Image.Image:
    return at_scale(gray, 2 * size).filter(ImageFilter.GaussianBlur(radius))


def noise(gray: Image.Image, size: int, rng: np.random.Generator, *,
          sigma: float = 10.0) -> Image.Image:
    pixels = np.asarray(at_scale(gray, 2 * size), dtype=np.float32)
    noisy = pixels + rng.normal(0.0, sigma, pixels.shape)
    return Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8), mode="L")


def border_crop(gray: Image.Image, size: int, rng: np.random.Generator, *,
                share: float = 0.05) -> Image.Image:
    width, height = gray.size
    dx, dy = round(width * share), round(height * share)
    return gray.crop((dx, dy, width - dx, height - dy))


#: The suite's variants, in report order.
VARIANTS = (
    Variant("squeeze_224", "downscaled and squeezed to 224 x 224, as public re-encodes", squeeze),
    Variant("jpeg_q20", "re-compressed as JPEG at quality 20", jpeg),
    Variant("blur", "Gaussian blur, radius 1.5 pixels of the model's input", blur),
    Variant("noise", "Gaussian noise, 10 grey levels at twice the input resolution", noise),
    Variant("border_crop_5", "5% cut from every side (a tighter frame)", border_crop),
)


def load_grays(paths: list[str | Path],
               settings: DecodeSettings) -> tuple[list[Image.Image], list[int]]:
    """Each readable file of ``paths`` opened once as a grayscale image (the model's decoding,
    before the square), and the indices of those files; unreadable ones are left out (the
    caller's unchanged decoding reports them)."""
    grays, kept = [], []
    for i, path in enumerate(paths):
        try:
            grays.append(load_grayscale(path, settings))
        except ImageDecodeError:
            continue
        kept.append(i)
    return grays, kept


def stressed_inputs(grays: list[Image.Image], settings: DecodeSettings, variant: Variant, *,
                    seed: int = 0, rng: np.random.Generator | None = None) -> np.ndarray:
    """The model inputs ``(n, size, size)`` of ``grays`` after ``variant``; random changes draw
    from ``rng`` (default: a new generator seeded with ``seed``)."""
    rng = np.random.default_rng(seed) if rng is None else rng
    size = settings.image_size
    images = [fit_to_square(variant.apply(gray, size, rng), settings) for gray in grays]
    return np.stack(images) if images else np.zeros((0, size, size), np.uint8)


def stressed_images(paths: list[str | Path], settings: DecodeSettings, variant: Variant, *,
                    seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """The model inputs ``(n, size, size)`` of ``paths`` after ``variant``, and the indices of
    the files that could be read."""
    grays, kept = load_grays(paths, settings)
    return stressed_inputs(grays, settings, variant, seed=seed), kept


def acquisition_check(predict: Callable[[np.ndarray], np.ndarray], paths: list[str | Path],
                      y_true: np.ndarray, class_names: list[str], settings: DecodeSettings, *,
                      proba: np.ndarray | None = None, split: str = "test_leak_free",
                      variants: tuple[Variant, ...] = VARIANTS,
                      threshold: float = ACQUISITION_FLAG, seed: int = 0,
                      chunk: int = ACQUISITION_CHUNK) -> dict:
    """Run every variant on the files ``paths`` (labels ``y_true``) through ``predict`` (raw
    0..255 images ``(n, size, size, 1)`` -> probabilities); the content of ``trust.json``'s
    ``acquisition`` entry. Files are opened once each, ``chunk`` at a time, so memory does not
    grow with the number of files. ``proba``: the probabilities of the unchanged files (one row
    per path) where the caller has them already."""
    y_true = np.asarray(y_true)
    rngs = {v.name: np.random.default_rng(seed) for v in variants}
    kept: list[int] = []
    base: list[np.ndarray] = []
    moved: dict[str, list[np.ndarray]] = {v.name: [] for v in variants}
    for start in range(0, len(paths), chunk):
        grays, found = load_grays(paths[start:start + chunk], settings)
        if not grays:
            continue
        kept += [start + i for i in found]
        if proba is None:
            inputs = np.stack([fit_to_square(g, settings) for g in grays])
            base.append(np.asarray(predict(inputs[..., None].astype(np.float32))))
        for variant in variants:
            images = stressed_inputs(grays, settings, variant, rng=rngs[variant.name])
            moved[variant.name].append(
                np.asarray(predict(images[..., None].astype(np.float32))).argmax(axis=1))
    y_kept = y_true[kept]
    if proba is None:
        proba = np.concatenate(base) if base else np.zeros((0, len(class_names)))
    else:
        proba = np.asarray(proba)[kept]
    predicted = proba.argmax(axis=1)
    out = {}
    for variant in variants:
        parts = moved[variant.name]
        scores = changed_predictions(y_kept, predicted,
                                     np.concatenate(parts) if parts else np.zeros(0, int),
                                     class_names, confidence=proba.max(axis=1))
        out[variant.name] = {"description": variant.description, **scores,
                             "flagged": bool(scores["changed"] > threshold)}
    return {"split": split, "n": int(len(kept)),
            "accuracy": float(np.mean(predicted == y_kept)) if len(kept) else float("nan"),
            "threshold": threshold, "variants": out,
            "worst_accuracy": min((v["accuracy"] for v in out.values()), default=float("nan")),
            "max_changed": max((v["changed"] for v in out.values()), default=0.0),
            "flagged": [name for name, v in out.items() if v["flagged"]]}
