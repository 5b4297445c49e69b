"""A set-up data module's splits as plain data: what calibration, the input-quality gate,
evaluation and the model report read. They take a :class:`SplitData`, never the data module, so
that they can be called on any images and labels (MONAI's metrics on arrays, in spirit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .decode import DecodeSettings
from .loaders import SplitDataset, SplitImages

__all__ = ["EVALUATION_SPLITS", "SplitData"]

#: the splits every evaluation scores
EVALUATION_SPLITS = ("val", "test", "test_leak_free")


@dataclass(frozen=True)
class SplitData:
    """Each split's images and labels, the class names, and where the files are and how they
    were decoded (the acquisition check and the gate re-read test files as ``predict`` does).

    Attributes:
        splits: split name (``train``, ``val``, ``test``, ``test_leak_free``) -> its images.
        class_names: the label of each class index.
        root: the folder the splits' relative paths start from.
        decode_settings: how the files became the images.
        summary: the data's description and counts, as ``metrics.json`` records them.
    """

    splits: Mapping[str, SplitImages]
    class_names: list[str]
    root: Path
    decode_settings: DecodeSettings = field(default_factory=DecodeSettings)
    summary: dict = field(default_factory=dict)

    def split(self, name: str) -> SplitImages:
        if name not in self.splits:
            raise ValueError(f"no split {name!r}; these data hold {', '.join(self.splits)}")
        return self.splits[name]

    def dataset(self, name: str, *, batch_size: int = 32) -> SplitDataset:
        """The split ``name`` as a Keras dataset, in order (no shuffling)."""
        return SplitDataset(self.split(name), n_classes=len(self.class_names), batch_size=batch_size)

    def evaluation_datasets(self, *, batch_size: int = 32) -> dict[str, SplitDataset]:
        """The splits every evaluation scores: ``val``, ``test`` and ``test_leak_free``."""
        return {name: self.dataset(name, batch_size=batch_size) for name in EVALUATION_SPLITS}

    def files(self, name: str) -> list[Path]:
        """The files of the split ``name``."""
        return [self.root / p for p in self.split(name).paths]
