"""Safe decoding of one image file to a square grayscale uint8 array.

Handles every PIL mode (16-bit, RGBA, palette, CMYK, 1-bit) and DICOM (:mod:`.dicom`), refuses
decompression bombs and truncated files, and uses JPEG draft mode so large scans decode at
reduced scale.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from .body_box import crop_to_body
from .dicom import DicomError, is_dicom, load_dicom
from ..defaults import DEFAULT_IMAGE_SIZE, DEFAULT_MAX_PIXELS, DEFAULT_RESIZE, RESIZE_MODES

# Pillow's global settings stay as they are (no import-time side effects): truncated files are
# errors by Pillow's default; its decompression-bomb warning is silenced around each open, since
# the pixel limit of DecodeSettings (default DEFAULT_MAX_PIXELS, 8x the largest scan of the Kaggle
# set) is checked before any pixel is decoded, and Pillow still refuses files above twice its own.


class ImageDecodeError(ValueError):
    """An image file could not be decoded (corrupt, truncated, not an image, too large)."""




@dataclass(frozen=True)
class DecodeSettings:
    """How files become arrays; part of the cache key.

    Attributes:
        image_size: side of the square output, in pixels.
        max_pixels: files with more pixels than this are refused as decompression bombs
            (at most ``DEFAULT_MAX_PIXELS``, where Pillow's own guard applies).
        resize: ``"body"`` (default) cuts the dark background away first (:mod:`.body_box`)
            and squeezes the body's box into the square, so that neither a looser frame nor a
            squeezed re-encode changes what the model sees (docs/studies/BODYBOX.md);
            ``"crop"`` keeps the central square, so every image keeps its proportions but a
            wide scan shows less of its chest; ``"stretch"`` squeezes the whole image into the
            square, which turns the scanner's framing (the aspect ratio, which differs per
            class and source in this dataset) into a shape cue.
    """

    image_size: int = DEFAULT_IMAGE_SIZE
    max_pixels: int = DEFAULT_MAX_PIXELS
    resize: str = DEFAULT_RESIZE

    def __post_init__(self) -> None:
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, got {self.resize!r}")


def _to_grayscale(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit grayscale ('L'), stretching high bit depths."""
    mode = img.mode
    if mode == "L":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8), mode="L")
    if mode in ("RGBA", "LA", "PA", "P", "La", "RGBa"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return img.convert("RGB").convert("L")
    return img.convert("L")


def center_aspect(img: Image.Image, aspect: float) -> Image.Image:
    """The largest central region of ``img`` whose width / height is ``aspect``."""
    width, height = img.size
    new_width, new_height = min(width, round(height * aspect)), min(height, round(width / aspect))
    left, top = (width - new_width) // 2, (height - new_height) // 2
    return img.crop((left, top, left + new_width, top + new_height))


def fit_to_square(gray: Image.Image, settings: DecodeSettings = DecodeSettings()) -> np.ndarray:
    """A grayscale image as the model's ``(size, size)`` uint8 input: its central square
    (``resize="crop"``), all of it squeezed (``"stretch"``) or its body's box squeezed
    (``"body"``), resized bilinearly."""
    size = settings.image_size
    if settings.resize == "crop":
        gray = center_aspect(gray, 1.0)
    elif settings.resize == "body":
        gray = crop_to_body(gray)
    gray = gray.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(gray, dtype=np.uint8).copy()


@dataclass(frozen=True)
class ImageFacts:
    """What decoding learns about a file before it becomes grayscale (for the quality gate).

    Attributes:
        width, height: the stored size, in pixels.
        mode: Pillow's mode of the file (``"L"``, ``"RGB"``, ``"I;16"``, ...).
        colourfulness: mean over pixels of the largest difference between colour channels, in
            grey levels 0..255 (0 for a grayscale file, or a colour file whose channels agree).
    """

    width: int
    height: int
    mode: str
    colourfulness: float = 0.0


#: side of the thumbnail on which colourfulness is measured
_COLOUR_THUMB = 64


def colourfulness(img: Image.Image) -> float:
    """Mean largest channel difference of ``img`` (grey levels), on a small thumbnail."""
    if img.mode in ("L", "1", "I", "F", "LA", "La") or img.mode.startswith("I;16"):
        return 0.0
    side = min(_COLOUR_THUMB, img.width), min(_COLOUR_THUMB, img.height)
    rgb = np.asarray(img.resize(side, Image.Resampling.NEAREST).convert("RGB"), dtype=np.int16)
    return float((rgb.max(axis=2) - rgb.min(axis=2)).mean())


def load_grayscale(path: str | Path | BinaryIO, settings: DecodeSettings = DecodeSettings()) -> Image.Image:
    """Open ``path`` (a file name or a binary file object) as an 8-bit grayscale image, checked
    against the pixel limit before any pixel is decoded; large JPEGs are decoded at reduced
    scale (no smaller than twice the model's input).

    Raises:
        ImageDecodeError: not a readable image, truncated, or above ``settings.max_pixels``.
    """
    return _load(path, settings, want_facts=False)[0]


def load_with_facts(path: str | Path | BinaryIO, settings: DecodeSettings = DecodeSettings(),
                    ) -> tuple[Image.Image, ImageFacts]:
    """:func:`load_grayscale`, and the file's :class:`ImageFacts` (its colour measured before
    the conversion to grayscale)."""
    return _load(path, settings, want_facts=True)


def _jpeg_colourfulness(path: str | Path | BinaryIO) -> float:
    """Colourfulness of a colour JPEG, decoded at 1/8 scale."""
    if hasattr(path, "seek"):
        path.seek(0)
    with Image.open(path) as img:
        img.draft("RGB", (_COLOUR_THUMB, _COLOUR_THUMB))
        return colourfulness(img)


def _load(path: str | Path | BinaryIO, settings: DecodeSettings, *,
          want_facts: bool) -> tuple[Image.Image, ImageFacts | None]:
    size = settings.image_size
    if is_dicom(path):
        try:
            gray, info = load_dicom(path, settings.max_pixels)
        except DicomError as exc:
            raise ImageDecodeError(str(exc)) from exc
        return gray, ImageFacts(info["width"], info["height"], info["mode"]) if want_facts else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width * height > settings.max_pixels:
                    raise ImageDecodeError(
                        f"{width}x{height} pixels exceeds the limit of {settings.max_pixels} "
                        "(possible decompression bomb)"
                    )
                mode, is_jpeg = img.mode, img.format == "JPEG"
                if is_jpeg:
                    img.draft("L", (size * 2, size * 2))  # decode at reduced scale: much faster
                img.load()
                facts = None
                if want_facts:  # a JPEG's colour is gone once drafted to L: read a small copy
                    colour = _jpeg_colourfulness(path) if is_jpeg and mode != "L" else colourfulness(img)
                    facts = ImageFacts(width, height, mode, colour)
                gray = _to_grayscale(img)
                return (gray if gray is not img else gray.copy()), facts
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"refused as a decompression bomb ({exc})") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageDecodeError("not a readable image (unknown or corrupt format)") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageDecodeError(message) from exc


def decode_image(path: str | Path | BinaryIO, settings: DecodeSettings = DecodeSettings()) -> np.ndarray:
    """Decode ``path`` (a file name or a binary file object) to a ``(size, size)`` uint8 array:
    :func:`load_grayscale`, then :func:`fit_to_square`. The one decoding path of xraynet.

    Raises:
        ImageDecodeError: the file is not a readable image, is truncated, or exceeds
            ``settings.max_pixels`` (checked from the header, before any pixel is decoded).
    """
    return fit_to_square(load_grayscale(path, settings), settings)


def decode_with_facts(path: str | Path | BinaryIO, settings: DecodeSettings = DecodeSettings(),
                      ) -> tuple[np.ndarray, ImageFacts]:
    """:func:`decode_image`, and the file's :class:`ImageFacts`."""
    gray, facts = load_with_facts(path, settings)
    return fit_to_square(gray, settings), facts


def decode_files_with_facts(paths: list[str | Path], settings: DecodeSettings = DecodeSettings(),
                            *, workers: int = 1,
                            ) -> tuple[np.ndarray, list[int], list[tuple[str, str]], list[ImageFacts]]:
    """Decode many files (``workers`` threads): the images ``(n, size, size)`` uint8 of the
    readable ones, their indices in ``paths``, ``(path, reason)`` for the others, and the
    :class:`ImageFacts` of each readable file."""
    from concurrent.futures import ThreadPoolExecutor

    def work(path):
        try:
            return decode_with_facts(path, settings), None
        except ImageDecodeError as exc:  # missing files and folders arrive as this too
            return None, str(exc)

    images, kept, failed, facts = [], [], [], []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for i, (decoded, reason) in enumerate(pool.map(work, paths)):
            if decoded is None:
                failed.append((str(paths[i]), reason))
            else:
                images.append(decoded[0])
                facts.append(decoded[1])
                kept.append(i)
    size = settings.image_size
    stacked = np.stack(images) if images else np.zeros((0, size, size), np.uint8)
    return stacked, kept, failed, facts
