"""Dataset layouts: split folders, class folders without a split, CSV manifests with groups."""

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthetic import CLASSES, make_dataset
from xraynet.data import XRayDataModule
from xraynet.data.layouts import detect_layout, find_files
from xraynet.errors import DatasetError


def _flat(tmp_path: Path) -> Path:
    """The synthetic set as ``<root>/<class>/...`` (train and test pooled, in nested folders)."""
    split = make_dataset(tmp_path / "split")
    flat = tmp_path / "flat"
    for f in split.rglob("*.png"):
        target = flat / f.parent.name / f.parts[-3] / f.name  # class / former split / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)
    return flat


def _manifest(tmp_path: Path, *, split_column: bool = False) -> Path:
    """A manifest over the synthetic set: two images per patient, patient ids in ``group``."""
    root = make_dataset(tmp_path / "m")
    rows = []
    for label in CLASSES:
        files = sorted((root / "train" / label).glob("*.png")) + sorted((root / "test" / label).glob("*.png"))
        for k, f in enumerate(files):
            row = {"path": str(f.relative_to(root)), "label": label, "group": f"{label}-p{k // 2}"}
            if split_column:
                row["split"] = f.parts[-3]
            rows.append(row)
    path = root / "manifest.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_layouts_are_detected(tmp_path):
    assert detect_layout(make_dataset(tmp_path / "s")) == "split-folders"
    assert detect_layout(_flat(tmp_path)) == "class-folders"
    assert detect_layout(_manifest(tmp_path)) == "manifest"
    with pytest.raises(DatasetError, match="not found"):
        detect_layout(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match="not a CSV manifest"):
        detect_layout(tmp_path / "notes.txt")


def test_class_folders_get_a_recorded_stratified_test_split(tmp_path):
    flat = _flat(tmp_path)
    # an exact copy of one image: it must sit on the same side as its original
    original = next((flat / "Alpha").rglob("*.png"))
    shutil.copy(original, flat / "Alpha" / "copy.png")
    dm = XRayDataModule(root=flat, image_size=32, cache_dir=tmp_path / "cache").setup()
    assert dm.layout == "class-folders" and dm.class_names == list(CLASSES)
    total = 3 * 32 + 1
    assert len(dm.train) + len(dm.val) + len(dm.test) == total
    counts = np.bincount(dm.test.y, minlength=3)
    assert (counts >= 5).all() and abs(len(dm.test) / total - 0.2) < 0.06
    sides = {p: ("test" if p in dm.test.paths else "train") for p in
             dm.test.paths + dm.train.paths + dm.val.paths}
    assert sides[str(original.relative_to(flat))] == sides["Alpha/copy.png"]
    assert len(dm.test_leak_free) == len(dm.test)  # duplicates never straddle the made split

    # a second data module (a later run) reuses the recorded split, even with a file added
    Image.open(original).save(flat / "Beta" / "late.png")
    again = XRayDataModule(root=flat, image_size=32, cache_dir=tmp_path / "cache").setup()
    assert set(dm.test.paths) <= set(again.test.paths)
    assert set(again.test.paths) - set(dm.test.paths) <= {"Beta/late.png"}

    # a run's splits.csv gives the same split without the cache
    dm.write_splits(tmp_path / "run")
    other = XRayDataModule(root=flat, image_size=32, cache_dir=tmp_path / "cache2",
                           splits_file=tmp_path / "run" / "splits.csv").setup()
    assert set(dm.test.paths) <= set(other.test.paths)


def test_a_manifest_keeps_every_patient_on_one_side(tmp_path):
    path = _manifest(tmp_path)
    dm = XRayDataModule(root=path, image_size=32, cache_dir=tmp_path / "cache").setup()
    assert dm.layout == "manifest" and dm.root == path.parent and dm.source == path
    group_of = {row["path"]: row["group"] for row in csv.DictReader(path.open())}
    for a, b in ((dm.test, dm.train), (dm.test, dm.val), (dm.train, dm.val)):
        assert not {group_of[p] for p in a.paths} & {group_of[p] for p in b.paths}
    rows = list(csv.DictReader(dm.write_splits(tmp_path / "run").open()))
    assert {r["split"] for r in rows} == {"train", "test"} and rows[0]["group"]


def test_a_manifest_split_column_is_used_as_given(tmp_path):
    path = _manifest(tmp_path, split_column=True)
    dm = XRayDataModule(root=path, image_size=32, cache_dir=tmp_path / "cache").setup()
    assert all(p.startswith("test/") for p in dm.test.paths)
    assert all(p.startswith("train/") for p in dm.train.paths + dm.val.paths)


@pytest.mark.parametrize("content, message", [
    ("file,label\na.png,x\n", "lacks the column(s) path"),
    ("path,label\nmissing.png,Alpha\nother.png,Beta\n", "2 listed file(s) not found"),
    ("path,label,split\ntrain/Alpha/train_000.png,Alpha,holdout\n", "split 'holdout' is not one of"),
    ("path,label\ntrain/Alpha/train_000.png,Alpha\ntrain/Alpha/train_000.png,Alpha\n", "listed twice"),
    ("path,label\n", "lists no files"),
])
def test_bad_manifests_are_one_clear_error(tmp_path, content, message):
    root = make_dataset(tmp_path / "m")
    path = root / "bad.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        find_files(path)


def test_fit_from_the_command_line_on_class_folders_and_a_manifest(tmp_path, capsys):
    from xraynet.cli import main

    for data in (_flat(tmp_path), _manifest(tmp_path)):
        split_files = []
        for attempt in range(2):
            code = main(["fit", "--data", str(data), "--out", str(tmp_path / "runs"),
                         "--cache-dir", str(tmp_path / "cache"), "--image-size", "32", "--depth", "2",
                         "--base-filters", "4", "--epochs", "1"])
            out, err = capsys.readouterr()
            assert code == 0, err
            run_dir = Path(out.strip().splitlines()[-1].split("run directory: ")[1])
            split_files.append((run_dir / "splits.csv").read_text())
            if attempt:
                assert "as recorded in" in err  # the second run reuses the recorded split
        assert split_files[0] == split_files[1]
