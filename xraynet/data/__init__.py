"""Data: discovery, safe decoding, caching, duplicate audit and splits."""

from .audit import AuditResult, DuplicatePair
from .datamodule import XRayDataModule
from .decode import DecodeSettings, ImageDecodeError, decode_image
from .loaders import SplitImages, SplitDataset
from .sources import SourcedSet, sourced_set
from .split_data import SplitData

__all__ = ["AuditResult", "DecodeSettings", "DuplicatePair", "ImageDecodeError", "SplitImages",
           "SplitData", "SplitDataset", "SourcedSet", "XRayDataModule", "decode_image", "sourced_set"]
