"""The recorded train/test split of a dataset that has none of its own (class folders, a
manifest without a split column): ``splits.csv``, one row per file, so that every later command
(evaluate, report, a second fit) uses the same test images."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from ..errors import DatasetError
from ..runs import SPLITS_FILE

COLUMNS = ("path", "label", "group", "split")


def write_splits(path: str | Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """Write ``(path, label, group, split)`` rows (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    tmp.replace(path)
    return path


def read_splits(path: str | Path) -> dict[str, str]:
    """``{relative path: split}`` from a recorded ``splits.csv``.

    Raises:
        DatasetError: the file is unreadable or not a split record.
    """
    path = Path(path)
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            if not {"path", "split"} <= set(reader.fieldnames or []):
                raise DatasetError(f"{path} is not a split record (expected the columns "
                                   f"{','.join(COLUMNS)})")
            return {row["path"]: row["split"] for row in reader}
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read the split record {path}: {exc}") from exc


def record_key(source: Path, seed: int, test_fraction: float) -> str:
    """Where a dataset's made split is recorded in the cache: its location and the split's
    settings (the files themselves may change; files added later are assigned and appended)."""
    text = f"{source.resolve()}|{seed}|{test_fraction}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]
