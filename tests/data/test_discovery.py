from pathlib import Path

import pytest

from xraynet.data.discovery import discover
from xraynet.errors import DatasetError


def test_classes_sorted_and_all_files_found(dataset: Path):
    classes, records = discover(dataset)
    assert classes == ["Alpha", "Beta", "Gamma"]
    assert len(records) == 3 * (24 + 8)
    assert {r.split for r in records} == {"train", "test"}


def test_missing_root(tmp_path: Path):
    with pytest.raises(DatasetError, match="dataset folder not found: .*nope"):
        discover(tmp_path / "nope")


def test_missing_split(dataset: Path):
    import shutil

    shutil.rmtree(dataset / "test")
    with pytest.raises(DatasetError, match="missing split folder: .*test"):
        discover(dataset)


def test_empty_class_folder(dataset: Path):
    for f in (dataset / "test" / "Beta").iterdir():
        f.unlink()
    with pytest.raises(DatasetError, match="empty class folder: .*test/Beta"):
        discover(dataset)


def test_class_mismatch(dataset: Path):
    (dataset / "test" / "Gamma").rename(dataset / "test" / "Delta")
    with pytest.raises(DatasetError, match="class folders differ between splits"):
        discover(dataset)
