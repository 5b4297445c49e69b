"""DICOM files (``.dcm``, or any file with the ``DICM`` preamble): one grayscale frame as an
8-bit image, read with pydicom (the ``dicom`` extra).

The modality LUT (rescale slope and intercept) is applied, then the VOI LUT or the window the
file names (what a radiologist's viewer would show); without one, the full range. MONOCHROME1
(white is low) is inverted so that bone is bright, as in MONOCHROME2 and every other format.
A multi-frame file is refused with one line: export the frame to analyse as its own file.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from .shrink import reduce_factor, shrink_to_uint8, stretch, value_range

DICOM_SUFFIXES = (".dcm", ".dicom")
GRAYSCALE = ("MONOCHROME1", "MONOCHROME2")


class DicomError(ValueError):
    """A DICOM file xraynet cannot use (its message is one line for the user)."""


def is_dicom(source: str | Path | BinaryIO) -> bool:
    """True for a DICOM suffix, or the ``DICM`` marker after the 128-byte preamble."""
    if isinstance(source, (str, Path)):
        if Path(source).suffix.lower() in DICOM_SUFFIXES:
            return True
        try:
            with open(source, "rb") as fh:
                head = fh.read(132)
        except OSError:
            return False
    else:
        position = source.tell()
        head = source.read(132)
        source.seek(position)
    return len(head) == 132 and head[128:132] == b"DICM"


def load_dicom(source: str | Path | BinaryIO, max_pixels: int, *,
               image_size: int | None = None) -> tuple[Image.Image, dict]:
    """The file's frame as an 8-bit grayscale image, and ``{"width", "height", "mode"}``.

    With ``image_size``, the frame is block-averaged down while it is read, strip by strip
    (:mod:`.shrink`), so that the shorter side stays at least ``2 * image_size``; uncompressed
    pixel data is read in place, so one file takes about 2 bytes per pixel.

    Raises:
        DicomError: pydicom missing, not readable, more pixels than ``max_pixels``, several
            frames, colour pixels, or compressed pixel data without a decoder.
    """
    try:
        import pydicom  # noqa: F401
        from pydicom.pixels import apply_modality_lut, apply_voi_lut
    except ImportError as exc:
        raise DicomError("reading DICOM needs pydicom: pip install 'xraynet[dicom]'") from exc
    try:
        ds = pydicom.dcmread(source, force=True)
        rows, cols = int(ds.Rows), int(ds.Columns)
    except Exception as exc:  # pydicom raises many kinds for a damaged file
        raise DicomError(f"not a readable DICOM file ({type(exc).__name__}: {exc})".splitlines()[0]) from exc
    if rows * cols > max_pixels:
        raise DicomError(f"{cols}x{rows} pixels exceeds the limit of {max_pixels} "
                         "(possible decompression bomb)")
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        raise DicomError(f"multi-frame DICOM ({frames} frames): export the frame to analyse as "
                         "its own file")
    photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2"))
    if photometric not in GRAYSCALE:
        raise DicomError(f"DICOM with {photometric} pixels: only grayscale X-rays "
                         f"({' or '.join(GRAYSCALE)}) are read")
    try:
        stored = _stored_pixels(ds, rows, cols)
    except Exception as exc:
        raise DicomError(f"cannot decode the DICOM pixel data ({exc})".splitlines()[0]) from exc
    windowed = "VOILUTSequence" in ds or "WindowCenter" in ds

    def read(top: int, bottom: int) -> np.ndarray:
        values = apply_modality_lut(stored(top, bottom), ds)
        return apply_voi_lut(values, ds, index=0) if windowed else values

    factor = reduce_factor(cols, rows, image_size) if image_size else 1
    lo, hi = value_range(read, cols, rows)
    gray = shrink_to_uint8(read, cols, rows, factor, stretch(lo, hi))
    if photometric == "MONOCHROME1":
        gray = 255 - gray
    return Image.fromarray(gray, mode="L"), {"width": cols, "height": rows,
                                             "mode": f"DICOM {photometric}"}


def _stored_pixels(ds, rows: int, cols: int):
    """``read(top, bottom)``: the stored values of rows ``top..bottom``. Uncompressed unsigned
    little-endian data is viewed in place (no copy of the frame); anything else goes through
    pydicom's decoders once."""
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    bits, stored_bits = int(getattr(ds, "BitsAllocated", 0)), int(getattr(ds, "BitsStored", 0) or 0)
    in_place = (syntax is not None and not syntax.is_compressed and syntax.is_little_endian
                and bits in (8, 16) and int(getattr(ds, "PixelRepresentation", 0)) == 0
                and int(getattr(ds, "SamplesPerPixel", 1)) == 1 and "PixelData" in ds)
    if not in_place:
        pixels = ds.pixel_array
        return lambda top, bottom: pixels[top:bottom]
    data = np.frombuffer(ds.PixelData, np.dtype("<u2" if bits == 16 else "u1"), count=rows * cols)
    pixels = data.reshape(rows, cols)
    mask = (1 << stored_bits) - 1 if 0 < stored_bits < bits else None
    return lambda top, bottom: pixels[top:bottom] & mask if mask else pixels[top:bottom]
