"""Image files of any folder of X-rays: recursive listing, and class folders matched to a
model's classes (external validation on other hospitals' images).

A class-folder set is ``<root>/<folder>/**/<images>``: each top-level sub-folder is one class
(nested folders inside it belong to it). Folder names match the model's classes
case-insensitively; a class map (``{"pneumonia_viral": "Viral Pneumonia"}``) names the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DatasetError

#: File name endings read as images when a folder is listed (case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".dcm", ".dicom")


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def list_images(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """Image files under ``folder`` (recursively, sorted) and the other files found there.

    Hidden files and folders (a leading dot) are left out of both lists.
    """
    folder = Path(folder)
    images, others = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and _visible(p, folder)):
        (images if path.suffix.lower() in IMAGE_SUFFIXES else others).append(path)
    return images, others


def expand_paths(paths: list[str | Path]) -> tuple[list[Path], list[Path]]:
    """Files as given, and every image file under each given folder (recursively); returns the
    files and the non-image files met inside folders. Missing paths are kept as files, so the
    caller reports them like unreadable images."""
    files, others = [], []
    for given in map(Path, paths):
        if given.is_dir():
            found, ignored = list_images(given)
            files += found
            others += ignored
        else:
            files.append(given)
    return files, others


def parse_class_map(items: list[str] | None) -> dict[str, str]:
    """``["FOLDER=CLASS", ...]`` (the ``--class-map`` option) as a dict.

    Raises:
        DatasetError: an item without ``=`` or with an empty side.
    """
    mapping = {}
    for item in items or []:
        folder, sep, cls = item.partition("=")
        if not sep or not folder.strip() or not cls.strip():
            raise DatasetError(f"--class-map {item!r} is not FOLDER=CLASS (e.g. "
                               "--class-map pneumonia_viral='Viral Pneumonia')")
        mapping[folder.strip()] = cls.strip()
    return mapping


@dataclass
class ClassFolderSet:
    """The images of a class-folder set, labelled with the model's class indices.

    Attributes:
        root: the folder.
        files: every image file, sorted by class folder then path.
        labels: the model's class index of each file.
        folders: folder name -> the model's class it was matched to.
        missing: the model's classes no folder holds (reported, not an error).
        ignored: non-image files found in the class folders.
    """

    root: Path
    files: list[Path]
    labels: list[int]
    folders: dict[str, str]
    missing: list[str]
    ignored: list[Path] = field(default_factory=list)


def resolve_class(folder: str, class_names: list[str], class_map: dict[str, str]) -> str | None:
    """The model's class a folder (or label) names: through ``class_map`` first, else by name,
    case-insensitively; None when it names none."""
    by_lower = {c.lower(): c for c in class_names}
    for key, target in class_map.items():
        if key.lower() == folder.lower():
            return by_lower.get(target.lower())
    return by_lower.get(folder.lower())


def class_folder_set(root: str | Path, class_names: list[str],
                     class_map: dict[str, str] | None = None) -> ClassFolderSet:
    """Match the class folders of ``root`` to ``class_names`` and list their images.

    Raises:
        DatasetError: ``root`` is missing or holds no class folder; a folder name matches no
            class (the message lists the classes and ``--class-map``); a ``class_map`` target is
            not one of the classes; no image in any folder.
    """
    root = Path(root).expanduser()
    class_map = class_map or {}
    if not root.is_dir():
        raise DatasetError(f"folder not found: {root} (expected <folder>/<class>/<images>)")
    for target in class_map.values():
        if target.lower() not in {c.lower() for c in class_names}:
            raise DatasetError(f"--class-map target {target!r} is not a class of the model "
                               f"(classes: {', '.join(class_names)})")
    dirs = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                  key=lambda d: d.name)
    if not dirs:
        raise DatasetError(f"no class folders in {root} (expected one folder per class, e.g. "
                           f"{', '.join(class_names)})")
    folders = {d.name: resolve_class(d.name, class_names, class_map) for d in dirs}
    unknown = [name for name, cls in folders.items() if cls is None]
    if unknown:
        raise DatasetError(
            f"folder(s) {', '.join(repr(u) for u in unknown)} in {root} match no class of the model "
            f"({', '.join(class_names)}); rename them or map them with --class-map FOLDER=CLASS")
    files, labels, ignored = [], [], []
    for d in dirs:
        found, others = list_images(d)
        files += found
        labels += [class_names.index(folders[d.name])] * len(found)
        ignored += others
    if not files:
        raise DatasetError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in the class folders of {root}")
    present = {class_names[i] for i in labels}
    return ClassFolderSet(root=root, files=files, labels=labels, folders=dict(folders),
                          missing=[c for c in class_names if c not in present], ignored=ignored)


def is_split_layout(root: str | Path) -> bool:
    """True for the Kaggle layout: ``<root>/train/`` and ``<root>/test/`` folders."""
    root = Path(root)
    return (root / "train").is_dir() and (root / "test").is_dir()
