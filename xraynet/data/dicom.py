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


def load_dicom(source: str | Path | BinaryIO, max_pixels: int) -> tuple[Image.Image, dict]:
    """The file's frame as an 8-bit grayscale image, and ``{"width", "height", "mode"}``.

    Raises:
        DicomError: pydicom missing, not readable, more pixels than ``max_pixels``, several
            frames, colour pixels, or compressed pixel data without a decoder.
    """
    try:
        import pydicom
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
        pixels = ds.pixel_array
    except Exception as exc:
        raise DicomError(f"cannot decode the DICOM pixel data ({exc})".splitlines()[0]) from exc
    values = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
    if "VOILUTSequence" in ds or "WindowCenter" in ds:
        values = np.asarray(apply_voi_lut(values, ds, index=0), dtype=np.float64)
    lo, hi = float(values.min()), float(values.max())
    scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    gray = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
    if photometric == "MONOCHROME1":
        gray = 255 - gray
    return Image.fromarray(gray, mode="L"), {"width": cols, "height": rows,
                                             "mode": f"DICOM {photometric}"}
