"""The data module: discovery, decoding with a disk cache, duplicate audit and splits."""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import io
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

from ..config import DataConfig, seed_or_default
from ..errors import DatasetError
from ..config_schema import ConfigError, ConfigView, configure
from .audit import AuditResult, audit, duplicate_groups, file_hash
from .cache import default_cache_dir
from .description import DatasetDescription, describe_dataset
from .decode import DecodeSettings, fit_to_square, load_grayscale
from .discovery import FileRecord, fingerprint
from .layouts import DatasetFiles, find_files
from .split_record import SPLITS_FILE, read_splits, record_key, write_splits
from .store import ImageStore, StoredImages
from .loaders import SplitImages, SplitDataset
from .sources import set_name
from .split_data import EVALUATION_SPLITS, SplitData
from .split import stratified_group_folds, stratified_group_split

__all__ = ["balanced_weights", "CACHE_FORMAT", "PreparedData", "SETUP_STAGES", "SPLITS",
           "XRayDataModule"]

log = logging.getLogger("xraynet")
#: the splits a set-up data module holds (:meth:`XRayDataModule.split`)
SPLITS = ("train", "val", "test", "test_leak_free")
#: what :meth:`XRayDataModule.setup` may be told it sets up for (Lightning's stages)
SETUP_STAGES = (None, "fit", "validate", "test", "predict")


@dataclasses.dataclass(frozen=True)
class PreparedData:
    """What :meth:`XRayDataModule.prepare_data` leaves: the files found (layout, classes,
    records) and their decoded store, and whether the store came from the cache."""

    found: DatasetFiles
    stored: StoredImages
    cache_hit: bool
CACHE_FORMAT = 4  # bump when the cached layout or decoding changes (3: high-depth and colour files
# block-averaged strip by strip; 4: the audit's hash taken at HASH_IMAGE_SIZE whatever the model's)


def _decode_one(path: Path, *, settings: DecodeSettings) -> tuple[np.ndarray, str, np.ndarray]:
    """One file's image decoded with ``settings``, its digest and the audit's hash
    (:func:`~.audit.file_hash`: the same whatever the model's input, so the leak-free test split
    is too)."""
    data = path.read_bytes()  # read once: hashed for the audit, then decoded
    gray = load_grayscale(io.BytesIO(data), settings)
    image = fit_to_square(gray, settings)
    return image, hashlib.sha256(data).hexdigest(), file_hash(data, settings, gray=gray, image=image)


def balanced_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Class index -> balanced weight, ``len(y) / (n_classes * count)`` (inverse frequency)."""
    classes = np.arange(n_classes)
    weights = compute_class_weight("balanced", classes=classes, y=np.asarray(y))
    return {int(c): float(w) for c, w in zip(classes, weights)}


class XRayDataModule(ConfigView):
    """Owns everything about the data: files, decoding, cache, audit, splits, class weights.

    Args:
        config: what to read and how (:class:`~xraynet.config.DataConfig`, where each setting's
            default, range and meaning is declared); its ``root`` is the dataset: split folders
            ``<root>/{train,test}/<class>/<images>`` (the Kaggle layout), class folders
            ``<root>/<class>/<images>``, or a CSV manifest ``path,label[,group][,split]``
            (:mod:`~xraynet.data.layouts`).
        cache_dir: where decoded arrays are cached (default ``~/.cache/xraynet``).
        use_cache: read and write the cache (default True).
        workers: decoding threads (default: number of CPU cores).
        splits_file: a run's recorded split (``splits.csv``) to reuse for data without a split
            of its own.
        **overrides: any :class:`~xraynet.config.DataConfig` setting by name (``root``,
            ``image_size``, ``resize``, ``val_fraction``, ``test_fraction``, ``seed``,
            ``max_pixels``, ``dup_max_distance``, ``describe``), validated as the config
            validates itself; ``root`` is required here or in ``config``.
    """

    def __init__(self, *, config: DataConfig | None = None, cache_dir: str | Path | None = None,
                 use_cache: bool = True, workers: int | None = None,
                 splits_file: str | Path | None = None, **overrides) -> None:
        if "root" in overrides:
            overrides["root"] = str(Path(overrides["root"]).expanduser())
        if "describe" in overrides:
            overrides["describe"] = str(overrides["describe"] or "")
        self.config = configure(DataConfig, config, overrides, section="data")
        if not self.config.root:
            raise ConfigError(["data.root: no dataset given (a folder or a CSV manifest)"])
        self.splits_file = Path(splits_file) if splits_file else None
        self.layout: str | None = None
        self._base: Path | None = None
        self._groups: dict[str, str] = {}
        self._sources: dict[str, str] = {}  # after setup: each file's source
        self._split_rows: list[tuple[str, str, str, str]] = []
        self.cache_dir = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) if use_cache else None
        self.in_memory: bool | None = None  # after setup: whether the images are held in memory
        self.workers = workers or os.cpu_count() or 1
        self.decode_settings = DecodeSettings.of(self.config)
        self.class_names: list[str] = []
        self.description = DatasetDescription()  # after setup: the data's description
        self.skipped: list[tuple[str, str]] = []
        self.cache_hit = False
        self.audit_result: AuditResult | None = None
        self.train: SplitImages | None = None
        self.val: SplitImages | None = None
        self.test: SplitImages | None = None
        self.test_leak_free: SplitImages | None = None
        self._train_folder: tuple[SplitImages, np.ndarray] | None = None
        self._records: list[FileRecord] = []
        self._other: tuple | None = None  # the other view's store: images, row of each path
        self._prepared: PreparedData | None = None  # prepare_data's result, kept

    @property
    def root(self) -> Path:
        """The folder the files' relative paths start from (a manifest's folder)."""
        return self._base if self._base is not None else Path(self.config.root)

    @property
    def source(self) -> Path:
        """The dataset as given: a folder or a CSV manifest."""
        return Path(self.config.root)

    @classmethod
    def from_config(cls, config: DataConfig, *, root: str | Path | None = None,
                    cache_dir: str | Path | None = None, use_cache: bool = True,
                    workers: int | None = None,
                    splits_file: str | Path | None = None) -> "XRayDataModule":
        """The data module of a :class:`~xraynet.config.DataConfig` (``root`` overrides its
        folder, e.g. a dataset moved since the run; ``splits_file``: a run's recorded split)."""
        return cls(config=config, **({"root": root} if root else {}), cache_dir=cache_dir,
                   use_cache=use_cache, workers=workers, splits_file=splits_file)

    # -- public API ---------------------------------------------------------------------------
    def prepare_data(self) -> PreparedData:
        """Stage 1 (Lightning's ``prepare_data``): discover the files and decode every image into
        the store (from the cache when it is complete; an interrupted decode resumes). Returns
        what it found and decoded, and sets nothing of the module's (:meth:`setup` does); the
        result is kept, so that decoding runs once."""
        if self._prepared is None:
            found = find_files(self.source)
            stored, hit = self._open_store(found.records, self.decode_settings, base=found.base,
                                           class_names=found.class_names)
            for path, reason in stored.skipped:
                log.warning("warning: skipped %s: %s", path, reason)
            if stored.skipped:
                log.warning("warning: %d file(s) skipped as unreadable", len(stored.skipped))
            self._prepared = PreparedData(found, stored, hit)
        return self._prepared

    def setup(self, stage: str | None = None, *, seed: int | None = None) -> "XRayDataModule":
        """Stage 2 (Lightning's ``setup``): the data's description, the duplicate audit and the
        splits (train, validation, test, leak-free test) of the prepared images
        (:meth:`prepare_data` first, if it has not run). Idempotent.

        ``stage``: Lightning's ``"fit"``, ``"validate"``, ``"test"`` or ``"predict"`` (or None);
        every stage sets up every split, because the leak-free test split is what the audit of
        all files leaves. ``seed``: the run's seed (the trainer's), which splits the data where
        its config leaves the seed to the run (``DataConfig.seed`` None; the default seed
        without one). A module set up already keeps its split."""
        if stage not in SETUP_STAGES:
            raise ValueError(f"setup stage {stage!r}: one of {', '.join(map(str, SETUP_STAGES))}")
        if self.train is not None:
            return self
        if self.config.seed is None:
            self.config = dataclasses.replace(self.config, seed=seed_or_default(seed))
        prepared = self.prepare_data()
        found, stored = prepared.found, prepared.stored
        self.layout, self._base, self.class_names = found.layout, found.base, found.class_names
        self._records = found.records
        self.cache_hit, self.in_memory = prepared.cache_hit, stored.in_memory
        self.skipped = [tuple(s) for s in stored.skipped]
        self.description = describe_dataset(self.source, self.layout, self.class_names,
                                            describe=self.config.describe or None)
        paths = stored.paths
        # labels, splits and groups come from the files as listed now (a manifest may change
        # them); the cache holds only what decoding gave
        by_path = {str(r.path.relative_to(self.root)): r for r in found.records}
        labels = np.array([self.class_names.index(by_path[p].label) for p in paths], np.int32)
        splits = [by_path[p].split for p in paths]
        self._groups = {p: by_path[p].group for p in paths if by_path[p].group}
        own = set_name(self.source)  # a layout without sources is one, named as evaluate names it
        self._sources = {p: by_path[p].source or own for p in paths}
        self.audit_result = audit(paths, splits, stored.sha256, stored.dhash,
                                  max_distance=self.dup_max_distance)
        record = None
        if not found.has_split:  # class folders, or a manifest without a split column
            splits, record = self._assign_splits(paths, labels)
            self.audit_result = self.audit_result.with_splits(dict(zip(paths, splits)))
        self._split_rows = [(p, self.class_names[y], self._groups.get(p, ""), s)
                            for p, y, s in zip(paths, labels, splits)]
        if record is not None:
            write_splits(record, self._split_rows)
        for split in ("train", "test"):
            for ci, name in enumerate(self.class_names):
                if not np.any((labels == ci) & (np.array(splits) == split)):
                    where = (self.root / split / name if found.layout == "split-folders"
                             else f"class {name} of {self.source}")
                    raise DatasetError(f"no readable {split} image in {where}")
        self._make_splits(stored, labels, np.array(splits))
        return self

    def write_splits(self, directory: str | Path) -> Path:
        """Record every file's split as ``splits.csv`` in ``directory`` (a run directory)."""
        return write_splits(Path(directory) / SPLITS_FILE, self._split_rows)

    def _assign_splits(self, paths: list[str], labels: np.ndarray) -> tuple[list[str], Path | None]:
        """Every file's split: a recorded one where there is (``splits_file``, else this
        dataset's record in the cache), else a seeded, stratified test split that keeps
        duplicates and groups on one side. Also returns where the result should be recorded
        (None: the cache's record already says it)."""
        record = (self.cache_dir / "splits" / f"{record_key(self.source, self.seed, self.test_fraction)}.csv"
                  if self.cache_dir is not None else None)
        recorded, source = {}, None
        for candidate in (self.splits_file, record):
            if candidate is not None and candidate.is_file():
                recorded, source = read_splits(candidate), candidate
                log.info("split: %d of %d files as recorded in %s", sum(p in recorded for p in paths),
                         len(paths), candidate)
                break
        splits = [recorded.get(p, "") for p in paths]
        missing = [i for i, s in enumerate(splits) if not s]
        if missing:  # files without a recorded side (all of them the first time)
            try:
                _, test_idx = stratified_group_split(labels, self._group_ids(paths, self.audit_result),
                                                     val_fraction=self.test_fraction, seed=self.seed)
            except ValueError as exc:
                raise DatasetError(f"cannot make a test split of {self.source}: {exc}") from exc
            fresh = np.full(len(paths), "train", dtype=object)
            fresh[test_idx] = "test"
            for i in missing:
                splits[i] = fresh[i]
        up_to_date = source == record and not missing
        return splits, None if up_to_date else record

    def _group_ids(self, paths: list[str], result: AuditResult) -> np.ndarray:
        """One id per file: duplicates and files of one group (patient) share it."""
        position = {p: i for i, p in enumerate(paths)}
        links = [(position[p.a], position[p.b]) for p in result.pairs
                 if p.a in position and p.b in position]
        first_of: dict[str, int] = {}
        for i, p in enumerate(paths):
            group = self._groups.get(p)
            if group:
                links.append((first_of.setdefault(group, i), i))
        return duplicate_groups(len(paths), links)

    def train_folder(self) -> tuple[SplitImages, np.ndarray]:
        """Every image of the train folder (train and validation together) and its duplicate
        group id: what cross-validation splits. Call :meth:`setup` first."""
        self._require(self.train)
        return self._train_folder

    def fold(self, index: int, *, n_folds: int, seed: int, val_seed: int | None = None,
             ) -> tuple["XRayDataModule", np.ndarray]:
        """Outer fold ``index`` of the train folder's cross-validation: a copy of this data
        module whose train and validation splits come from the other folds (validation: the
        usual stratified share, seeded by ``val_seed``, default the module's seed), and the
        fold's held-out rows of :meth:`train_folder`. The folds are ``n_folds`` stratified group
        folds (duplicate clusters never split, shuffled by ``seed``), or, where the train folder
        holds several sources (:meth:`source_folds`), one fold per source. The test splits are
        the module's own, untouched; nothing here reads them."""
        folder, groups = self.train_folder()
        by_source = self.source_folds()
        if by_source:
            rest, held_out = by_source[index]
        else:
            rest, held_out = stratified_group_folds(folder.y, groups, n_splits=n_folds, seed=seed)[index]
        tr, va = stratified_group_split(folder.y[rest], groups[rest], val_fraction=self.val_fraction,
                                        seed=self.seed if val_seed is None else val_seed)
        fold = copy.copy(self)
        fold.train, fold.val = folder.subset(rest[tr]), folder.subset(rest[va])
        return fold, held_out

    def source_folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Leave-one-source-out folds of :meth:`train_folder` where it holds several sources:
        ``(rest, held_out)`` row indices per source, sorted by name; the rest leaves out every
        duplicate of a held-out image. An empty list for data of one source."""
        folder, groups = self.train_folder()
        names = self._source_names(folder.paths)
        if len(set(names.tolist())) < 2:
            return []
        folds = []
        for name in sorted(set(names.tolist())):
            held = names == name
            rest = ~held & ~np.isin(groups, groups[held])
            folds.append((np.flatnonzero(rest), np.flatnonzero(held)))
        return folds

    def cross_validation(self, n_splits: int, *, seed: int
                         ) -> list[tuple["XRayDataModule", SplitImages]]:
        """Every :meth:`fold` of the train folder: the fold's data module and its held-out
        images (``n_splits`` folds, or one per source where it holds several)."""
        folder, _ = self.train_folder()
        n = len(self.source_folds()) or n_splits
        if n != n_splits:
            log.info("cross-validation: %d sources in the train folder, one fold per source "
                     "(leave one source out)", n)
        folds = [self.fold(k, n_folds=n, seed=seed) for k in range(n)]
        return [(fold, folder.subset(held_out)) for fold, held_out in folds]

    def sources(self, split: str | None = None) -> dict[str, dict[str, int]]:
        """Images per source and class: of one split (``train``, ``val``, ...), or of the
        train folder (train and validation) where ``split`` is None. Call :meth:`setup` first."""
        names = ("train", "val") if split is None else (split,)
        counts: dict[str, dict[str, int]] = {}
        for name in names:
            images = self.split(name)
            for path, y in zip(images.paths, images.y):
                per_class = counts.setdefault(self._sources.get(path, ""),
                                              dict.fromkeys(self.class_names, 0))
                per_class[self.class_names[int(y)]] += 1
        return dict(sorted(counts.items()))

    def split(self, name: str) -> SplitImages:
        """The images of the split ``name``: ``train``, ``val``, ``test`` or ``test_leak_free``
        (the test split without the duplicates of training images). Call :meth:`setup` first."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; known: {', '.join(SPLITS)}")
        return self._require(getattr(self, name))

    def dataset(self, split: str, *, batch_size: int = 32, shuffle: bool = False,
                seed: int = 0, **kwargs) -> SplitDataset:
        """The split named ``split`` (see :meth:`split`) as a Keras
        :class:`~xraynet.data.loaders.SplitDataset` (``kwargs``: PyDataset's workers)."""
        return SplitDataset(self.split(split), n_classes=len(self.class_names),
                            batch_size=batch_size, shuffle=shuffle, seed=seed, **kwargs)

    def train_dataset(self, *, batch_size: int, seed: int, **kwargs) -> SplitDataset:
        """The training split, reshuffled every epoch (seeded)."""
        return self.dataset("train", batch_size=batch_size, shuffle=True, seed=seed, **kwargs)

    def fit_datasets(self, *, batch_size: int, seed: int, devices: int = 1,
                     mixup: float = 0.0, resize_mix: float = 0.0,
                     shard: tuple[int, int] = (0, 1)) -> tuple[SplitDataset, SplitDataset]:
        """What ``model.fit`` takes: the training split (reshuffled every epoch, seeded; blended
        by ``mixup``, see :class:`SplitDataset`) and the validation split (at least 32 images a
        batch: it is only predicted). With ``resize_mix`` = P > 0 each training image is read,
        with probability P anew every epoch, fitted to the square the other way (the central square
        where the model is fed the whole image or the body's box, the whole image squeezed in
        where it is fed the central square; validation, test and prediction
        keep the model's own way). For ``devices`` > 1 (data parallelism) every batch is
        padded to a multiple of it with zero-weight images and the class weights travel as
        per-image weights; across processes each reads its ``shard`` (index, count) of every
        batch."""
        padded = {"pad_to": devices, "shard": shard} if devices > 1 else {}
        weighted = {"class_weight": self.class_weights()} if devices > 1 else {}
        other = ({"alternate": self._other_view(self._require(self.train)), "alternate_rate": resize_mix}
                 if resize_mix > 0 else {})
        return (self.train_dataset(batch_size=batch_size, seed=seed, mixup=mixup, **padded,
                                   **weighted, **other),
                self.dataset("val", batch_size=max(32, batch_size), **padded))

    def evaluation_datasets(self, *, batch_size: int = 32) -> dict[str, SplitDataset]:
        """The splits every evaluation scores: ``val``, ``test`` and ``test_leak_free``."""
        return {name: self.dataset(name, batch_size=batch_size) for name in EVALUATION_SPLITS}

    def split_data(self) -> SplitData:
        """The splits as plain data (:class:`~.split_data.SplitData`): what calibration, the
        gate, evaluation and the report take. Call :meth:`setup` first."""
        return SplitData({name: self.split(name) for name in SPLITS}, list(self.class_names),
                         self.root, self.decode_settings, self.summary())

    def class_weights(self) -> dict[int, float]:
        """Balanced class weights from the training split (inverse class frequency)."""
        return balanced_weights(self._require(self.train).y, len(self.class_names))

    def summary(self) -> dict:
        """Counts per split and class, skipped files and cache state."""
        n = len(self.class_names)
        splits = {name: dict(zip(self.class_names, s.counts(n)))
                  for name, s in (("train", self.train), ("val", self.val), ("test", self.test),
                                  ("test_leak_free", self.test_leak_free)) if s is not None}
        return {"root": str(self.source), "layout": self.layout, "classes": self.class_names,
                "description": self.description.to_dict(),
                "splits": splits,
                **({"sources": self.sources(), "val_source": self.val_source}
                   if self.train is not None else {}),
                "skipped": [list(s) for s in self.skipped], "cache_hit": self.cache_hit}

    # -- internals ----------------------------------------------------------------------------
    @staticmethod
    def _require(split: SplitImages | None) -> SplitImages:
        if split is None:
            raise RuntimeError("call setup() first")
        return split

    def _open_store(self, records: list[FileRecord], settings: DecodeSettings, *,
                    base: Path | None = None, class_names: list[str] | None = None
                    ) -> tuple[StoredImages, bool]:
        """The images of ``records`` (relative to ``base``, default :attr:`root`) decoded with
        ``settings``, and whether the store was complete already: from the store when complete,
        else decoded into it (resuming an interrupted decode). Without a cache, into a temporary
        store."""
        base = self.root if base is None else base
        key = fingerprint(base, records, {"size": settings.image_size,
                                          "max_pixels": settings.max_pixels,
                                          "resize": settings.resize,
                                          "format": CACHE_FORMAT,
                                          "classes": self.class_names if class_names is None
                                          else class_names})
        if self.cache_dir is not None:
            directory = self.cache_dir / f"images-{key}"
        else:
            import tempfile
            import weakref

            directory = Path(tempfile.mkdtemp(prefix="xraynet-images-"))
            weakref.finalize(self, shutil.rmtree, directory, True)
        store = ImageStore(directory, n=len(records), size=settings.image_size)
        stored = store.load()
        if stored is not None and not stored.in_memory:
            log.info("images streamed from %s (too large to hold in memory)", directory)
        if stored is not None:
            log.info("cache hit: %d decoded images loaded from %s (decoding skipped)",
                     len(stored.paths), directory)
            return stored, True
        log.info("cache miss: decoding %d files at %dx%d (%s) with %d threads into %s",
                 len(records), settings.image_size, settings.image_size, settings.resize,
                 self.workers, directory)
        start = time.perf_counter()
        rel = [str(r.path.relative_to(base)) for r in records]
        store.build(rel, [r.path for r in records], functools.partial(_decode_one, settings=settings),
                    workers=self.workers)
        log.info("decoded %d files in %.1fs", len(records), time.perf_counter() - start)
        stored = store.load()
        if stored is None:
            raise DatasetError(f"the decoded-image store {directory} could not be written")
        if not stored.in_memory:
            log.info("images streamed from %s (too large to hold in memory)", directory)
        return stored, False

    def _other_view(self, split: SplitImages) -> SplitImages:
        """``split``'s images fitted to the square the other way (the whole image squeezed in
        where the data module keeps the central square, and the reverse), decoded into their own
        store the first time they are asked for."""
        if self._other is None:
            other = "stretch" if self.resize == "crop" else "crop"
            settings = dataclasses.replace(self.decode_settings, resize=other)
            stored, _ = self._open_store(self._records, settings)
            self._other = (stored.images, dict(zip(stored.paths, stored.rows.tolist())))
        return split.in_store(*self._other)

    def _source_names(self, paths: list[str]) -> np.ndarray:
        """The source of each of ``paths`` (relative paths of set-up images)."""
        return np.array([self._sources.get(p, "") for p in paths])

    def _source_split(self, full_train: SplitImages, groups: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """``(train, val)`` rows of the train folder where whole sources validate
        (``val_source``): the named sources' images validate; the others train, less any
        duplicate of a validation image."""
        wanted = [n.strip() for n in self.val_source.split(",") if n.strip()]
        names = self._source_names(full_train.paths)
        unknown = [n for n in wanted if n not in set(names.tolist())]
        if unknown:
            raise DatasetError(f"--val-source {', '.join(unknown)}: no such source in the training "
                               f"images of {self.source} (sources: {', '.join(sorted(set(names.tolist())))}; "
                               "a manifest's source column names them)")
        held = np.isin(names, wanted)
        train = ~held & ~np.isin(groups, groups[held])
        if not train.any():
            raise DatasetError(f"--val-source {self.val_source}: no training image is left")
        dropped = int((~held & ~train).sum())
        if dropped:
            log.info("split: %d training image(s) left out as duplicates of validation images", dropped)
        missing = [c for i, c in enumerate(self.class_names) if not np.any(full_train.y[train] == i)]
        if missing:
            raise DatasetError(f"--val-source {self.val_source}: no training image of {', '.join(missing)} "
                               "is left in the other sources")
        return np.flatnonzero(train), np.flatnonzero(held)

    def _make_splits(self, stored: StoredImages, y: np.ndarray, splits: np.ndarray):
        paths = stored.paths
        train_idx = np.flatnonzero(splits == "train")
        test_idx = np.flatnonzero(splits == "test")
        full_train = SplitImages(stored.images, y[train_idx], [paths[i] for i in train_idx],
                                 rows=stored.rows[train_idx])
        groups = self._group_ids(full_train.paths, self.audit_result)
        if self.val_source:
            tr, va = self._source_split(full_train, groups)
        else:
            try:
                tr, va = stratified_group_split(full_train.y, groups, val_fraction=self.val_fraction,
                                                seed=self.seed)
            except ValueError as exc:
                raise DatasetError(f"cannot split the training images of {self.source}: {exc}") from exc
        self.train, self.val = full_train.subset(tr), full_train.subset(va)
        self._train_folder = (full_train, groups)
        self.test = SplitImages(stored.images, y[test_idx], [paths[i] for i in test_idx],
                                rows=stored.rows[test_idx])
        leaked = set(self.audit_result.leaked_test)
        keep = np.array([i for i, p in enumerate(self.test.paths) if p not in leaked], dtype=int)
        self.test_leak_free = self.test.subset(keep)
