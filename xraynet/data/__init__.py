"""Data: discovery, safe decoding, caching, duplicate audit and splits."""

from .audit import AuditResult, DuplicatePair
from .datamodule import XRayDataModule
from .decode import DecodeSettings, ImageDecodeError, decode_image
from .loaders import SplitArrays, SplitDataset

__all__ = ["AuditResult", "DecodeSettings", "DuplicatePair", "ImageDecodeError", "SplitArrays",
           "SplitDataset", "XRayDataModule", "decode_image"]
