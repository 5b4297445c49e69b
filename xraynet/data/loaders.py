"""The data seam: each split reaches Keras as a :class:`keras.utils.PyDataset` (batches for
``fit``, ``evaluate`` and ``predict`` on every backend), never as bare arrays.

The data module's source is :class:`SplitImages`: rows of the image store, in memory or streamed
from disk. Another source plugs in by offering what :class:`ImageSource` names: ``len()``,
``y``, ``paths`` and ``images(indices)``.
"""

from __future__ import annotations

import math
from typing import Iterator, Protocol, Sequence

import keras
import numpy as np

from .store import read_rows

__all__ = ["ImageSource", "SplitDataset", "SplitImages"]


class ImageSource(Protocol):
    """What a split dataset reads from: its images by index, and every label and path."""

    y: np.ndarray
    paths: list[str]

    def __len__(self) -> int: ...

    def images(self, indices: Sequence[int] | np.ndarray) -> np.ndarray: ...


class SplitImages:
    """The images of one split, as rows of an image store (an in-memory array, or a
    :class:`~.store.RowReader` streaming from disk), with their integer labels ``y`` and
    relative ``paths``.

    ``SplitImages(x, y, paths)`` with an array ``x`` ``(n, size, size[, 1])`` is an in-memory
    split; :meth:`images` reads any rows, :attr:`x` all of them (a copy: for small splits).
    """

    def __init__(self, x, y, paths: list[str], rows: np.ndarray | None = None) -> None:
        self.store = x
        self.y = np.asarray(y)
        self.paths = list(paths)
        self.rows = np.arange(len(self.y)) if rows is None else np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def x(self) -> np.ndarray:
        """Every image of the split, ``(n, size, size, 1)`` uint8, in memory."""
        return self.images(np.arange(len(self)))

    def counts(self, n_classes: int) -> list[int]:
        return np.bincount(self.y, minlength=n_classes).tolist()

    def subset(self, indices: np.ndarray) -> "SplitImages":
        indices = np.asarray(indices, dtype=int)
        return SplitImages(self.store, self.y[indices], [self.paths[i] for i in indices],
                           rows=self.rows[indices])

    def concat(self, other: "SplitImages") -> "SplitImages":
        """This split's images followed by ``other``'s (rows of the same store)."""
        if other.store is not self.store:
            raise ValueError("only splits of one image store can be joined")
        return SplitImages(self.store, np.concatenate([self.y, other.y]), self.paths + other.paths,
                           rows=np.concatenate([self.rows, other.rows]))

    def in_store(self, store, rows_by_path: dict[str, int]) -> "SplitImages":
        """The same files, labels and order read from another store of them (``rows_by_path``:
        each file's row there), e.g. the same images decoded another way."""
        missing = [p for p in self.paths if p not in rows_by_path]
        if missing:
            raise ValueError(f"{len(missing)} file(s) are not in the other store, e.g. {missing[0]}")
        return SplitImages(store, self.y, self.paths, rows=np.array([rows_by_path[p] for p in self.paths]))

    def images(self, indices) -> np.ndarray:
        """The images at ``indices``, ``(k, size, size, 1)`` uint8 (an
        :class:`~xraynet.data.loaders.ImageSource`)."""
        found = read_rows(self.store, self.rows[np.asarray(indices, dtype=int)])
        return found if found.ndim == 4 else found[..., None]


class SplitDataset(keras.utils.PyDataset):
    """One split as Keras batches: ``(images, one-hot labels)`` of ``batch_size`` images, in a new
    seeded order every epoch with ``shuffle``. ``len()`` is the number of batches (PyDataset's
    meaning); :attr:`n_images`, :attr:`labels`, :attr:`paths` and :meth:`images` describe the
    split for evaluation and reports. ``kwargs`` go to PyDataset (``workers``,
    ``use_multiprocessing``, ``max_queue_size``).

    With ``mixup`` = A > 0 (training only) each image of a batch is blended with another image of
    the same batch, ``lam * x_i + (1 - lam) * x_j`` with ``lam ~ Beta(A, A)`` drawn per image, and
    so are its one-hot label and its weight; the draws depend only on the seed, the epoch and the
    batch index, so a batch read twice is the same batch.

    With ``alternate`` (the same images in the same order, seen another way, e.g. fitted to the
    square differently) and ``alternate_rate`` = P > 0, each image of a batch is read from
    ``alternate`` with probability P instead (drawn like mixup's weights: per seed, epoch and
    batch), before any mixup.
    """

    def __init__(self, source: ImageSource, *, n_classes: int, batch_size: int = 32,
                 shuffle: bool = False, seed: int = 0, pad_to: int = 1,
                 class_weight: dict[int, float] | None = None, mixup: float = 0.0,
                 alternate: ImageSource | None = None, alternate_rate: float = 0.0,
                 shard: tuple[int, int] = (0, 1), **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0 <= shard[0] < shard[1] or pad_to % shard[1]:
            raise ValueError(f"shard must be (index, count) with index below count and pad_to a "
                             f"multiple of count, got {shard} with pad_to {pad_to}")
        self.shard = shard
        if batch_size < 1 or pad_to < 1:
            raise ValueError(f"batch_size and pad_to must be at least 1, got {batch_size}, {pad_to}")
        if mixup < 0:
            raise ValueError(f"mixup must be at least 0, got {mixup}")
        if not 0 <= alternate_rate <= 1 or (alternate_rate > 0 and alternate is None):
            raise ValueError(f"alternate_rate must be within 0..1 and needs an alternate source, "
                             f"got {alternate_rate}")
        if alternate is not None and len(alternate) != len(source):
            raise ValueError(f"the alternate source holds {len(alternate)} images, not {len(source)}")
        self.alternate, self.alternate_rate = alternate, alternate_rate
        self.mixup, self._seed, self._epoch = mixup, seed, 0
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
        batch to a multiple of ``pad_to`` (data parallelism needs batches that divide evenly).
        With a ``shard`` (index, count), this process's rows of that global batch."""
        if not 0 <= index < self.num_batches:
            raise IndexError(f"batch {index} out of range (0..{self.num_batches - 1})")
        chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        labels = np.asarray(self.source.y)[chosen]
        images, onehot = self.source.images(chosen), np.eye(self.n_classes, dtype=np.float32)[labels]
        if self.alternate_rate > 0:
            swap = np.random.default_rng([self._seed, self._epoch, index, 1]).random(len(chosen))
            swap = swap < self.alternate_rate
            if swap.any():
                images[swap] = self.alternate.images(chosen[swap])
        if self.pad_to == 1 and self.class_weight is None:
            weights = None  # the batch carries no weights
        elif self.class_weight:
            weights = np.array([self.class_weight[int(c)] for c in labels], np.float32)
        else:
            weights = np.ones(len(labels), np.float32)
        if self.mixup > 0:
            images, onehot, weights = self._blend(index, images, onehot, weights)
        if weights is None:
            return self._own_share(images, onehot)
        missing = (-len(chosen)) % self.pad_to
        if missing:
            repeat = np.arange(missing) % len(chosen)
            images = np.concatenate([images, images[repeat]])
            onehot = np.concatenate([onehot, onehot[repeat]])
            weights = np.concatenate([weights, np.zeros(missing, np.float32)])
        return self._own_share(images, onehot, weights)

    def _own_share(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        """This process's consecutive share of a (padded) global batch (``shard``): training
        across processes, each feeds its own rows and Keras assembles the global batch."""
        index, count = self.shard
        if count == 1:
            return arrays
        size = len(arrays[0]) // count
        return tuple(a[index * size:(index + 1) * size] for a in arrays)

    def _blend(self, index: int, images: np.ndarray, onehot: np.ndarray,
               weights: np.ndarray | None):
        """Mixup of one batch (see the class): float32 images, soft labels, blended weights
        (``None`` stays ``None``)."""
        rng = np.random.default_rng([self._seed, self._epoch, index])
        partner = rng.permutation(len(images))
        lam = rng.beta(self.mixup, self.mixup, len(images)).astype(np.float32)
        x = images.astype(np.float32)
        return (lam[:, None, None, None] * x + (1 - lam[:, None, None, None]) * x[partner],
                lam[:, None] * onehot + (1 - lam[:, None]) * onehot[partner],
                None if weights is None else lam * weights + (1 - lam) * weights[partner])

    def on_epoch_end(self) -> None:
        self._epoch += 1
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

    def chunks(self, size: int = 256) -> Iterator[np.ndarray]:
        """Every image in the split's order, ``size`` at a time: a large split is never held
        whole."""
        for start in range(0, self.n_images, size):
            yield self.images(np.arange(start, min(start + size, self.n_images)))
