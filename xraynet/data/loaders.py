"""The data seam: each split reaches Keras as a :class:`keras.utils.PyDataset` (batches for
``fit``, ``evaluate`` and ``predict`` on every backend), never as bare arrays.

The in-memory source (:class:`~xraynet.data.datamodule.SplitArrays`) is the default; a streaming
source plugs in by offering what :class:`ImageSource` names: ``len()``, ``y``, ``paths`` and
``images(indices)``.
"""

from __future__ import annotations

import math
from typing import Protocol, Sequence

import keras
import numpy as np


class ImageSource(Protocol):
    """What a split dataset reads from: its images by index, and every label and path."""

    y: np.ndarray
    paths: list[str]

    def __len__(self) -> int: ...

    def images(self, indices: Sequence[int] | np.ndarray) -> np.ndarray: ...


class SplitDataset(keras.utils.PyDataset):
    """One split as Keras batches: ``(images, one-hot labels)`` of ``batch_size`` images, in a new
    seeded order every epoch with ``shuffle``. ``len()`` is the number of batches (PyDataset's
    meaning); :attr:`n_images`, :attr:`labels`, :attr:`paths` and :meth:`images` describe the
    split for evaluation and reports. ``kwargs`` go to PyDataset (``workers``,
    ``use_multiprocessing``, ``max_queue_size``).
    """

    def __init__(self, source: ImageSource, *, n_classes: int, batch_size: int = 32,
                 shuffle: bool = False, seed: int = 0, pad_to: int = 1,
                 class_weight: dict[int, float] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if batch_size < 1 or pad_to < 1:
            raise ValueError(f"batch_size and pad_to must be at least 1, got {batch_size}, {pad_to}")
        self.source = source
        self.n_classes = n_classes
        self.batch_size = batch_size
        self.pad_to = pad_to
        self.class_weight = class_weight
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = self._new_order()

    def _new_order(self) -> np.ndarray:
        n = len(self.source)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    @property
    def num_batches(self) -> int:
        return math.ceil(len(self.source) / self.batch_size)

    def __len__(self) -> int:
        return self.num_batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        """``(images, one-hot labels)``; with ``pad_to`` > 1 or class weights, also per-image
        weights: the class weight of each image, and 0 for the images repeated to pad the
        batch to a multiple of ``pad_to`` (data parallelism needs batches that divide evenly)."""
        if not 0 <= index < self.num_batches:
            raise IndexError(f"batch {index} out of range (0..{self.num_batches - 1})")
        chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        labels = np.asarray(self.source.y)[chosen]
        images, onehot = self.source.images(chosen), np.eye(self.n_classes, dtype=np.float32)[labels]
        if self.pad_to == 1 and self.class_weight is None:
            return images, onehot
        weights = (np.array([self.class_weight[int(c)] for c in labels], np.float32)
                   if self.class_weight else np.ones(len(labels), np.float32))
        missing = (-len(chosen)) % self.pad_to
        if missing:
            repeat = np.arange(missing) % len(chosen)
            images = np.concatenate([images, images[repeat]])
            onehot = np.concatenate([onehot, onehot[repeat]])
            weights = np.concatenate([weights, np.zeros(missing, np.float32)])
        return images, onehot, weights

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._new_order()

    # -- what evaluation reads -------------------------------------------------------------
    @property
    def n_images(self) -> int:
        return len(self.source)

    @property
    def labels(self) -> np.ndarray:
        """Every image's class index, in the split's order (not the shuffled one)."""
        return np.asarray(self.source.y)

    @property
    def paths(self) -> list[str]:
        """Every image's path relative to the dataset folder, in the split's order."""
        return list(self.source.paths)

    def images(self, indices: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Images ``(n, size, size, 1)`` uint8 in the split's order (all, or ``indices``)."""
        return self.source.images(np.arange(len(self.source)) if indices is None else indices)
