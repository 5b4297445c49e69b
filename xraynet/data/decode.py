"""Safe decoding of one image file to a square grayscale uint8 array.

Handles every PIL mode (16-bit, RGBA, palette, CMYK, 1-bit) and DICOM (:mod:`.dicom`), refuses
decompression bombs and truncated files, and decodes straight down to the size the model needs:
JPEG draft mode, and any other mode but 8-bit grey block-averaged strip by strip
(:mod:`.shrink`). Memory for one decode is about the file's decoded pixels: 1 byte per pixel
(8-bit grey, and any JPEG), 2 (16-bit grey, uncompressed DICOM), 4 (colour PNG or TIFF: Pillow
stores RGB in 4 bytes), plus a few MB of strips; never a float copy at full resolution.
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
from .shrink import reduce_factor, shrink_to_uint8, stretch, value_range
from ..defaults import DEFAULT_IMAGE_SIZE, DEFAULT_MAX_PIXELS, DEFAULT_RESIZE, RESIZE_MODES

__all__ = ["center_aspect", "colourfulness", "decode_cost", "decode_files_with_facts",
           "decode_image", "decode_with_facts", "DecodeSettings", "fit_to_square",
           "HIGH_DEPTH_MODES", "ImageDecodeError", "ImageFacts", "load_grayscale",
           "load_with_facts"]

# Pillow's global settings stay as they are (no import-time side effects): truncated files are
# errors by Pillow's default; its decompression-bomb warning is silenced around each open, since
# the pixel limit of DecodeSettings (default DEFAULT_MAX_PIXELS, 8x the largest scan of the Kaggle
# set) is checked before any pixel is decoded, and Pillow still refuses files above twice its own.


class ImageDecodeError(ValueError):
    """An image file could not be decoded (corrupt, truncated, not an image, too large)."""




@dataclass(frozen=True)
class DecodeSettings:
    """How files become arrays; part of the cache key. The decoding part of
    :class:`~xraynet.config.DataConfig` (``image_size``, ``max_pixels``, ``resize``: declared,
    documented and validated there; :meth:`of` takes them from it), or of a bundle's metadata
    (``predict``, ``serve``). ``resize`` modes: ``"body"`` cuts the dark background away
    (:mod:`.body_box`) and squeezes the body's box into the square (docs/studies/BODYBOX.md);
    ``"crop"`` keeps the central square; ``"stretch"`` squeezes the whole image in.
    """

    image_size: int = DEFAULT_IMAGE_SIZE
    max_pixels: int = DEFAULT_MAX_PIXELS
    resize: str = DEFAULT_RESIZE

    @classmethod
    def of(cls, config) -> "DecodeSettings":
        """The decoding settings of a :class:`~xraynet.config.DataConfig`."""
        return cls(image_size=config.image_size, max_pixels=config.max_pixels, resize=config.resize)

    def __post_init__(self) -> None:
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, got {self.resize!r}")


#: Pillow modes with more than 8 bits of grey, stretched from their own range to 0..255
HIGH_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def _to_grayscale(img: Image.Image) -> Image.Image:
    """Convert an 8-bit PIL mode to grayscale ('L'); transparency is composited onto black."""
    mode = img.mode
    if mode == "L":
        return img
    if mode in ("RGBA", "LA", "PA", "P", "La", "RGBa"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return img.convert("RGB").convert("L")
    return img.convert("L")


def _shrunk_grayscale(img: Image.Image, image_size: int) -> Image.Image:
    """A loaded image of any mode as 8-bit grayscale, block-averaged strip by strip down to
    twice ``image_size`` (:mod:`.shrink`): no full-resolution copy is made. High bit depths are
    stretched from their own range (found in a first pass) to 0..255. Every format takes this
    path (a JPEG after draft mode), so one X-ray stored as PNG, 16-bit PNG or DICOM decodes alike."""
    width, height = img.size
    factor = reduce_factor(width, height, image_size)
    if img.mode == "L" and factor == 1:
        return img

    def rows(top: int, bottom: int) -> Image.Image:
        return img.crop((0, top, width, bottom))

    if img.mode in HIGH_DEPTH_MODES:
        def read(top: int, bottom: int) -> np.ndarray:
            return np.asarray(rows(top, bottom))

        pixels = shrink_to_uint8(read, width, height, factor, stretch(*value_range(read, width, height)))
    else:
        pixels = shrink_to_uint8(lambda top, bottom: np.asarray(_to_grayscale(rows(top, bottom))),
                                 width, height, factor)
    return Image.fromarray(pixels, mode="L")


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
            gray, info = load_dicom(path, settings.max_pixels, image_size=size)
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
                return _shrunk_grayscale(img, size), facts
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"refused as a decompression bomb ({exc})") from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageDecodeError("not a readable image (unknown or corrupt format)") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageDecodeError(message) from exc


#: bytes per decoded pixel, by Pillow mode (Pillow stores 3-channel images in 4 bytes)
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2,
                    "LA": 4, "I": 4, "F": 4}


def decode_cost(path: str | Path | BinaryIO, settings: DecodeSettings = DecodeSettings()) -> int:
    """Bytes that decoding ``path`` takes at most, read from its header alone (no pixel is
    decoded): its decoded pixels at Pillow's storage size, after JPEG draft mode, or 2 bytes per
    pixel for DICOM. 0 for a file whose header cannot be read (decoding will refuse it)."""
    try:
        if is_dicom(path):
            import pydicom

            ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
            return int(ds.Rows) * int(ds.Columns) * 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                per_pixel = _BYTES_PER_PIXEL.get(img.mode, 4)
                if img.format == "JPEG":
                    scale = 1
                    while scale < 8 and min(width, height) // (scale * 2) >= 2 * settings.image_size:
                        scale *= 2
                    per_pixel = 4 if img.mode == "CMYK" else 1  # drafted straight to grey
                    return -(-width // scale) * -(-height // scale) * per_pixel
                return width * height * per_pixel
    except Exception:  # any unreadable header: decoding gives the user's error
        return 0
    finally:
        if hasattr(path, "seek"):
            path.seek(0)


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
