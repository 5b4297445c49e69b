"""Labelled sets of several sources: folders of classes, folders of sources, manifests."""

import pytest

from xraynet.data.sources import is_sourced_manifest, set_name, sourced_set
from xraynet.errors import DatasetError

NAMES = ["Covid", "Normal", "Viral Pneumonia"]


def _touch(root, *rel):
    for r in rel:
        path = root / r
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_a_folder_of_classes_is_one_source_named_after_it(tmp_path):
    root = tmp_path / "Hospital B"
    _touch(root, "covid/a.png", "NORMAL/b.png", "NORMAL/c.png")
    found = sourced_set(root, NAMES)
    assert found.source_names == ["Hospital B"] and sorted(found.labels) == [0, 1, 1]
    assert found.missing == ["Viral Pneumonia"] and found.folders == {"covid": "Covid", "NORMAL": "Normal"}


def test_a_folder_of_sources_gives_each_file_its_source(tmp_path):
    root = tmp_path / "external-dev"
    _touch(root, "kermany/NORMAL/1.jpeg", "kermany/pneumonia_viral/2.jpeg",
           "actualmed/covid/3.png", "actualmed/normal/deep/4.png")
    (root / "README.md").write_text("not a source")
    found = sourced_set(root, NAMES, {"pneumonia_viral": "Viral Pneumonia"})
    assert found.sources == ["actualmed", "actualmed", "kermany", "kermany"]
    assert found.labels == [0, 1, 1, 2] and found.missing == []
    assert found.folders["kermany/pneumonia_viral"] == "Viral Pneumonia"


def test_a_source_with_a_folder_that_is_no_class_is_refused(tmp_path):
    root = tmp_path / "ext"
    _touch(root, "north/covid/1.png", "north/xrays-misc/2.png")
    with pytest.raises(DatasetError, match="xrays-misc"):
        sourced_set(root, NAMES)


def test_a_manifest_names_the_sources_and_rows_without_one_get_its_name(tmp_path):
    root = tmp_path / "external-dev"
    _touch(root, "a/1.png", "b/2.png", "c/3.png")
    manifest = root / "manifest.csv"
    manifest.write_text("path,label,source,patient\na/1.png,covid,cohen,p1\n"
                        "b/2.png,Normal,kermany,p2\nc/3.png,viral,,p3\n")
    assert is_sourced_manifest(manifest) and set_name(manifest) == "external-dev"
    found = sourced_set(manifest, NAMES, {"viral": "Viral Pneumonia"})
    assert found.sources == ["cohen", "kermany", "external-dev"] and found.labels == [0, 1, 2]
    with pytest.raises(DatasetError, match="'viral'.*--class-map"):
        sourced_set(manifest, NAMES)


def test_a_manifest_with_a_split_column_is_a_dataset_not_an_external_set(tmp_path):
    manifest = tmp_path / "data.csv"
    manifest.write_text("path,label,split\n")
    assert not is_sourced_manifest(manifest) and set_name(manifest) == "data"
