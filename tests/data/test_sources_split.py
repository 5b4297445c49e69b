"""Training on several sources: whole sources validate, and cross-validation leaves one out."""

import numpy as np
import pytest

from tests.synthetic import make_sourced_manifest
from xraynet.data import XRayDataModule
from xraynet.errors import DatasetError


@pytest.fixture()
def manifest(tmp_path):
    return make_sourced_manifest(tmp_path / "three", {"north": 8, "south": 6, "east": 6})


def _sources_of(dm, split):
    return set(dm.sources(split))


def test_a_validation_source_is_the_validation_split_and_never_trained_on(manifest, tmp_path):
    dm = XRayDataModule(root=manifest, image_size=32, val_source="east", cache_dir=tmp_path / "c").setup()
    assert _sources_of(dm, "val") == {"east"} and _sources_of(dm, "train") == {"north", "south"}
    assert len(dm.val) == 18 and len(dm.train) == 42
    assert dm.summary()["sources"]["east"] == {"Alpha": 6, "Beta": 6, "Gamma": 6}
    assert dm.summary()["val_source"] == "east"
    two = XRayDataModule(root=manifest, image_size=32, val_source="east, south",
                         cache_dir=tmp_path / "c").setup()
    assert _sources_of(two, "val") == {"east", "south"} and _sources_of(two, "train") == {"north"}


def test_without_a_validation_source_validation_is_a_share_of_every_source(manifest, tmp_path):
    dm = XRayDataModule(root=manifest, image_size=32, cache_dir=tmp_path / "c").setup()
    assert len(dm.val) + len(dm.train) == 60 and _sources_of(dm, "val") > {"north"}


def test_an_unknown_validation_source_is_one_clear_error(manifest, tmp_path):
    with pytest.raises(DatasetError, match="west.*sources: east, north, south"):
        XRayDataModule(root=manifest, image_size=32, val_source="west", cache_dir=tmp_path / "c").setup()


def test_cross_validation_leaves_one_source_out_per_fold(manifest, tmp_path):
    dm = XRayDataModule(root=manifest, image_size=32, cache_dir=tmp_path / "c").setup()
    folds = dm.cross_validation(5, seed=0)
    assert len(folds) == 3
    held = [{dm._sources[p] for p in held_out.paths} for _, held_out in folds]
    assert held == [{"east"}, {"north"}, {"south"}]
    for (fold, held_out), name in zip(folds, ("east", "north", "south")):
        seen = set(fold.train.paths) | set(fold.val.paths)
        assert not seen & set(held_out.paths)
        assert name not in {dm._sources[p] for p in seen}
    n_held = sum(len(h) for _, h in folds)
    assert n_held == len(dm.train_folder()[0])  # every train image held out once


def test_a_duplicate_across_sources_never_trains_against_its_copy(tmp_path):
    manifest = make_sourced_manifest(tmp_path / "d", {"north": 6, "south": 6})
    root = manifest.parent
    (root / "south" / "Alpha_000.png").write_bytes((root / "north" / "Alpha_001.png").read_bytes())
    dm = XRayDataModule(root=manifest, image_size=32, val_source="south", cache_dir=tmp_path / "c").setup()
    assert "north/Alpha_001.png" not in dm.train.paths and "south/Alpha_000.png" in dm.val.paths
    rest, held = dm.source_folds()[1]  # south held out
    folder, _ = dm.train_folder()
    assert "north/Alpha_001.png" not in {folder.paths[i] for i in rest}
    assert np.intersect1d(rest, held).size == 0
