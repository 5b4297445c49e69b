"""Find the files of a Kaggle-layout dataset: ``<root>/<split>/<class>/<file>``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import DatasetError

SPLITS = ("train", "test")


@dataclass(frozen=True)
class FileRecord:
    """One file of the dataset, before decoding."""

    path: Path
    split: str  # "train" or "test"; "" while the data module has not assigned it
    label: str
    size: int
    mtime_ns: int
    group: str = ""  # e.g. a patient id: every file of a group stays on one side of every split
    source: str = ""  # the hospital or collection it comes from ("": the dataset's one source)


def _class_dirs(split_dir: Path) -> list[Path]:
    return sorted((p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def discover(root: str | Path, splits: tuple[str, ...] = SPLITS) -> tuple[list[str], list[FileRecord]]:
    """List class names (sorted folder names) and every file of every split.

    Raises:
        DatasetError: missing root or split, a split without class folders, an empty class
            folder, or class folders that differ between splits.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(
            f"dataset folder not found: {root} (expected <root>/{{{','.join(splits)}}}/<class>/<images>)"
        )
    classes_by_split: dict[str, list[str]] = {}
    records: list[FileRecord] = []
    for split in splits:
        split_dir = root / split
        if not split_dir.is_dir():
            raise DatasetError(f"missing split folder: {split_dir} (expected one folder per class inside)")
        class_dirs = _class_dirs(split_dir)
        if not class_dirs:
            raise DatasetError(f"no class folders in {split_dir} (expected e.g. Covid/, Normal/, ...)")
        classes_by_split[split] = [d.name for d in class_dirs]
        for class_dir in class_dirs:
            files = sorted(p for p in class_dir.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise DatasetError(f"empty class folder: {class_dir} (expected at least one image)")
            for f in files:
                stat = f.stat()
                records.append(FileRecord(f, split, class_dir.name, stat.st_size, stat.st_mtime_ns))
    reference = classes_by_split[splits[0]]
    for split in splits[1:]:
        if classes_by_split[split] != reference:
            raise DatasetError(
                f"class folders differ between splits: {root / splits[0]} has {reference}, "
                f"{root / split} has {classes_by_split[split]}"
            )
    return reference, records


def fingerprint(root: Path, records: list[FileRecord], settings: dict) -> str:
    """A key for the decoded arrays: the file list (paths, sizes, mtimes) plus decode settings."""
    payload = {
        "files": [[str(r.path.relative_to(root)), r.size, r.mtime_ns] for r in records],
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]
