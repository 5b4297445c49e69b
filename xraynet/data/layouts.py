"""Dataset layouts: where the files are, their classes and, when the data says so, their split
and group (e.g. a patient id).

- **split folders** (the Kaggle layout): ``<root>/{train,test}/<class>/<images>``;
- **class folders**: ``<root>/<class>/**/<images>`` without a split (the data module makes a
  seeded, stratified, duplicate- and group-aware test split and records it);
- **manifest**: a CSV file ``path,label[,group][,split][,source]``, paths relative to the CSV's
  folder; ``source`` names the hospital or collection of each file (other columns are ignored).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import DatasetError
from .discovery import SPLITS, FileRecord, discover
from .folders import IMAGE_SUFFIXES, list_images

log = logging.getLogger("xraynet")
LAYOUTS = ("split-folders", "class-folders", "manifest")
#: how each layout is named to readers
LAYOUT_NAMES = {"split-folders": "train/test folders of classes", "class-folders": "folders of classes",
                "manifest": "CSV manifest"}
#: columns a manifest must have, and those it may have
MANIFEST_REQUIRED = ("path", "label")
MANIFEST_OPTIONAL = ("group", "split", "source")


@dataclass(frozen=True)
class DatasetFiles:
    """What discovery found.

    Attributes:
        layout: one of :data:`LAYOUTS`.
        source: the folder or CSV file given.
        base: the folder every record's path is relative to.
        class_names: sorted class names.
        records: every file; ``split`` is "" where the layout has none.
    """

    layout: str
    source: Path
    base: Path
    class_names: list[str]
    records: list[FileRecord]

    @property
    def has_split(self) -> bool:
        return all(r.split for r in self.records)

    @property
    def sources(self) -> list[str]:
        """The sources the records name, sorted ("" for records without one)."""
        return sorted({r.source for r in self.records})


def detect_layout(source: str | Path) -> str:
    """The layout of ``source`` (see the module docstring).

    Raises:
        DatasetError: ``source`` is missing, or is neither a CSV file nor a folder of folders.
    """
    source = Path(source).expanduser()
    if source.is_file():
        if source.suffix.lower() == ".csv":
            return "manifest"
        raise DatasetError(f"{source} is a file but not a CSV manifest (expected a dataset folder "
                           "or a .csv of path,label[,group][,split][,source])")
    if not source.is_dir():
        raise DatasetError(f"dataset folder not found: {source} (expected <root>/{{train,test}}/"
                           "<class>/<images>, <root>/<class>/<images>, or a CSV manifest)")
    if any((source / split).is_dir() for split in SPLITS):
        return "split-folders"
    return "class-folders"


def find_files(source: str | Path) -> DatasetFiles:
    """Every file of the dataset at ``source``, in whichever layout it is."""
    source = Path(source).expanduser()
    layout = detect_layout(source)
    if layout == "split-folders":
        class_names, records = discover(source)
        return DatasetFiles(layout, source, source, class_names, records)
    if layout == "manifest":
        return read_manifest(source)
    return class_folders(source)


def class_folders(root: Path) -> DatasetFiles:
    """``<root>/<class>/**/<images>``: each top-level folder a class, no split."""
    dirs = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                  key=lambda d: d.name)
    if not dirs:
        raise DatasetError(f"no class folders in {root} (expected <root>/<class>/<images>, "
                           "<root>/{train,test}/<class>/<images>, or a CSV manifest)")
    records, ignored = [], 0
    for d in dirs:
        images, others = list_images(d)
        if not images:
            raise DatasetError(f"empty class folder: {d} (expected images: {', '.join(IMAGE_SUFFIXES)})")
        ignored += len(others)
        for f in images:
            stat = f.stat()
            records.append(FileRecord(f, "", d.name, stat.st_size, stat.st_mtime_ns))
    if ignored:
        log.warning("warning: %d non-image file(s) in the class folders of %s ignored", ignored, root)
    return DatasetFiles("class-folders", root, root, [d.name for d in dirs], records)


def read_manifest(path: Path) -> DatasetFiles:
    """A CSV manifest: ``path`` and ``label`` columns, optional ``group`` and ``split``.

    Raises:
        DatasetError: unreadable CSV, a missing column, an empty label, a repeated path, a split
            other than train or test, a split column filled for some rows only, or listed files
            that do not exist (the first few are named).
    """
    base = path.parent
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = [c.strip().lower() for c in (reader.fieldnames or [])]
            rows = [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read the manifest {path}: {exc}") from exc
    missing = [c for c in MANIFEST_REQUIRED if c not in columns]
    if missing:
        raise DatasetError(f"manifest {path} lacks the column(s) {', '.join(missing)} (expected "
                           f"{','.join(MANIFEST_REQUIRED)}[,{'][,'.join(MANIFEST_OPTIONAL)}])")
    if not rows:
        raise DatasetError(f"manifest {path} lists no files")
    problems, absent, seen, records = [], [], set(), []
    splits = {row.get("split", "").lower() for row in rows}
    if "split" in columns and "" in splits and splits != {""}:
        problems.append("the split column is filled for some rows only (fill it for every row, "
                        "or leave it empty for all and a test split is made)")
    for line, row in enumerate(rows, start=2):
        rel, label, split = row.get("path", ""), row.get("label", ""), row.get("split", "").lower()
        if not rel or not label:
            problems.append(f"line {line}: empty path or label")
            continue
        if split not in ("", *SPLITS):
            problems.append(f"line {line}: split {split!r} is not one of {', '.join(SPLITS)}")
        if rel in seen:
            problems.append(f"line {line}: {rel} is listed twice")
        seen.add(rel)
        file = base / rel
        if not file.is_file():
            absent.append(rel)
            continue
        stat = file.stat()
        records.append(FileRecord(file, split, label, stat.st_size, stat.st_mtime_ns,
                                  row.get("group", ""), row.get("source", "")))
    if absent:
        problems.append(f"{len(absent)} listed file(s) not found, e.g. "
                        f"{', '.join(absent[:3])} (paths are relative to {base})")
    if problems:
        raise DatasetError(f"manifest {path}: " + "; ".join(problems[:10]))
    class_names = sorted({r.label for r in records})
    if len(class_names) < 2:
        raise DatasetError(f"manifest {path} has {len(class_names)} class(es); at least 2 are needed")
    return DatasetFiles("manifest", path, base, class_names, records)


def public_summary(summary: dict) -> dict:
    """What a report or a visitor may know of a data module's :meth:`summary`: the dataset's
    name (its folder's or manifest's own name), a description, layout, classes and counts per
    split; never a local path (nor the skipped files' paths, only how many)."""
    root = str(summary.get("root") or "")
    name = Path(root).name if root else "unknown data"
    layout = summary.get("layout")
    kind = LAYOUT_NAMES.get(layout, layout or "unknown layout")
    return {"name": name, "description": f"{name} ({kind})", "layout": layout,
            "classes": summary.get("classes"), "splits": summary.get("splits", {}),
            "skipped": len(summary.get("skipped") or [])}
