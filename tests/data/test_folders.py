"""Class-folder sets: matching folder names to a model's classes, recursive listing."""

import pytest

from xraynet.data.folders import class_folder_set, expand_paths, parse_class_map
from xraynet.errors import DatasetError

NAMES = ["Covid", "Normal", "Viral Pneumonia"]


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_folders_match_case_insensitively_or_by_the_map_and_nest(tmp_path):
    _touch(tmp_path / "COVID" / "a.png")
    _touch(tmp_path / "COVID" / "site2" / "b.JPG")
    _touch(tmp_path / "pneumonia_viral" / "c.jpeg")
    _touch(tmp_path / "pneumonia_viral" / "notes.txt")
    _touch(tmp_path / ".hidden" / "d.png")
    found = class_folder_set(tmp_path, NAMES, parse_class_map(["pneumonia_viral=viral pneumonia"]))
    assert [p.relative_to(tmp_path).as_posix() for p in found.files] == [
        "COVID/a.png", "COVID/site2/b.JPG", "pneumonia_viral/c.jpeg"]
    assert found.labels == [0, 0, 2]
    assert found.folders == {"COVID": "Covid", "pneumonia_viral": "Viral Pneumonia"}
    assert found.missing == ["Normal"]
    assert [p.name for p in found.ignored] == ["notes.txt"]


def test_an_unknown_folder_names_the_classes_and_the_class_map(tmp_path):
    _touch(tmp_path / "Covid" / "a.png")
    _touch(tmp_path / "bacterial" / "b.png")
    with pytest.raises(DatasetError) as exc:
        class_folder_set(tmp_path, NAMES)
    message = str(exc.value)
    assert "'bacterial'" in message and "Covid, Normal, Viral Pneumonia" in message
    assert "--class-map FOLDER=CLASS" in message and "\n" not in message


@pytest.mark.parametrize("items", [["novalue"], ["=Covid"], ["x="]])
def test_a_malformed_class_map_is_an_error(items):
    with pytest.raises(DatasetError, match="FOLDER=CLASS"):
        parse_class_map(items)


def test_a_class_map_to_no_class_of_the_model_is_an_error(tmp_path):
    _touch(tmp_path / "x" / "a.png")
    with pytest.raises(DatasetError, match="not a class of the model"):
        class_folder_set(tmp_path, NAMES, {"x": "Tuberculosis"})


def test_expand_paths_walks_folders_and_keeps_files(tmp_path):
    _touch(tmp_path / "d" / "e" / "a.png")
    _touch(tmp_path / "d" / "b.txt")
    files, others = expand_paths([tmp_path / "d", tmp_path / "missing.png"])
    assert files == [tmp_path / "d" / "e" / "a.png", tmp_path / "missing.png"]
    assert others == [tmp_path / "d" / "b.txt"]
