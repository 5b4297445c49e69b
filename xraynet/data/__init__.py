"""Data: discovery, safe decoding, caching, duplicate audit and splits."""

from .audit import AuditResult, DuplicatePair
from .datamodule import SplitArrays, XRayDataModule
from .decode import DecodeSettings, ImageDecodeError, decode_image

__all__ = ["AuditResult", "DecodeSettings", "DuplicatePair", "ImageDecodeError", "SplitArrays",
           "XRayDataModule", "decode_image"]
