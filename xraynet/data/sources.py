"""Labelled X-rays from several sources (hospitals, collections), matched to a model's classes:
what external validation scores per source and pooled.

Three layouts are read:

- **one source**: ``<root>/<class>/**/<images>`` (a class-folder set, :mod:`.folders`); the
  source is the folder's name;
- **folders of sources**: ``<root>/<source>/<class>/**/<images>``: every top-level folder is a
  source whose sub-folders are classes;
- **a manifest**: a CSV ``path,label[,source]`` (other columns ignored; paths relative to the
  CSV's folder); rows without a source belong to the manifest's own name.

Folder and label names match the model's classes case-insensitively; a class map
(``{"pneumonia_viral": "Viral Pneumonia"}``) names the others.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DatasetError
from .folders import class_folder_set, resolve_class
from .layouts import read_manifest


@dataclass
class SourcedSet:
    """Labelled images of one or more sources.

    Attributes:
        root: the folder or manifest given.
        files: every image file.
        labels: the model's class index of each file.
        sources: the source of each file.
        folders: ``source/folder`` (or the manifest's label) -> the model's class.
        missing: the model's classes no source holds.
        ignored: non-image files found in class folders.
    """

    root: Path
    files: list[Path]
    labels: list[int]
    sources: list[str]
    folders: dict[str, str]
    missing: list[str]
    ignored: list[Path] = field(default_factory=list)

    @property
    def source_names(self) -> list[str]:
        """The sources, sorted."""
        return sorted(set(self.sources))


def set_name(root: str | Path) -> str:
    """The name a set is reported under: its folder's name, or a manifest's (the folder's where
    the file is called ``manifest.csv``)."""
    root = Path(root).expanduser().resolve()
    if root.is_file():
        return root.parent.name if root.stem.lower() == "manifest" else root.stem
    return root.name


def is_sourced_manifest(path: str | Path) -> bool:
    """True for a CSV manifest without a ``split`` column: an external set to score whole (one
    with a split column is a dataset whose test split is scored)."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), [])
    return "split" not in {c.strip().lower() for c in header}


def _missing(class_names: list[str], labels: list[int]) -> list[str]:
    present = {class_names[i] for i in labels}
    return [c for c in class_names if c not in present]


def _from_manifest(path: Path, class_names: list[str], class_map: dict[str, str]) -> SourcedSet:
    found = read_manifest(path)
    labels_seen = sorted({r.label for r in found.records})
    resolved = {label: resolve_class(label, class_names, class_map) for label in labels_seen}
    unknown = [label for label, cls in resolved.items() if cls is None]
    if unknown:
        raise DatasetError(
            f"label(s) {', '.join(repr(u) for u in unknown)} in {path} match no class of the model "
            f"({', '.join(class_names)}); map them with --class-map LABEL=CLASS")
    default = set_name(path)
    labels = [class_names.index(resolved[r.label]) for r in found.records]
    return SourcedSet(root=path, files=[r.path for r in found.records], labels=labels,
                      sources=[r.source or default for r in found.records], folders=resolved,
                      missing=_missing(class_names, labels))


def _source_dirs(root: Path, class_names: list[str], class_map: dict[str, str]) -> list[Path]:
    """The top-level folders of ``root`` when it is a folder of sources (no top-level folder is
    a class, and each holds class folders), else an empty list."""
    dirs = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                  key=lambda d: d.name)
    if not dirs or any(resolve_class(d.name, class_names, class_map) for d in dirs):
        return []
    for d in dirs:
        subs = [s for s in d.iterdir() if s.is_dir() and not s.name.startswith(".")]
        if not subs or not any(resolve_class(s.name, class_names, class_map) for s in subs):
            return []
    return dirs


def sourced_set(root: str | Path, class_names: list[str],
                class_map: dict[str, str] | None = None) -> SourcedSet:
    """The labelled images of ``root`` (a folder of classes, a folder of sources, or a CSV
    manifest; see the module docstring), each with its class index and source.

    Raises:
        DatasetError: as :func:`~.folders.class_folder_set` for each folder; for a manifest, as
            :func:`~.layouts.read_manifest`, or a label that matches no class.
    """
    root = Path(root).expanduser()
    class_map = class_map or {}
    if root.is_file() and root.suffix.lower() == ".csv":
        return _from_manifest(root, class_names, class_map)
    sources = _source_dirs(root, class_names, class_map) if root.is_dir() else []
    parts = ([(d.name, class_folder_set(d, class_names, class_map)) for d in sources]
             or [(set_name(root), class_folder_set(root, class_names, class_map))])
    files, labels, names, folders, ignored = [], [], [], {}, []
    for name, part in parts:
        files += part.files
        labels += part.labels
        names += [name] * len(part.files)
        folders.update({(f"{name}/{f}" if sources else f): c for f, c in part.folders.items()})
        ignored += part.ignored
    return SourcedSet(root=root, files=files, labels=labels, sources=names, folders=folders,
                      missing=_missing(class_names, labels), ignored=ignored)
