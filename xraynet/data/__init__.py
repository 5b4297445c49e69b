"""Data: discovery, safe decoding, caching, duplicate audit and splits."""

from .audit import AuditResult, DuplicatePair
from .datamodule import XRayDataModule
from .decode import DecodeSettings, ImageDecodeError, decode_image
from .loaders import SplitImages, SplitDataset

__all__ = ["AuditResult", "DecodeSettings", "DuplicatePair", "ImageDecodeError", "SplitImages",
           "SplitDataset", "XRayDataModule", "decode_image"]
