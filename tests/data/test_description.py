"""Dataset descriptions: the named file, one beside the data, the shipped Kaggle text only for
the Kaggle layout and classes, or none (said plainly)."""

import json

import pytest

from xraynet.data.description import (KAGGLE, NOT_DESCRIBED, DatasetDescription, describe_dataset,
                                      read_description)
from xraynet.errors import DatasetError

KAGGLE_NAMES = ["Covid", "Normal", "Viral Pneumonia"]


def test_the_kaggle_text_is_only_for_the_kaggle_layout_and_classes(tmp_path):
    assert describe_dataset(tmp_path, "split-folders", KAGGLE_NAMES) == KAGGLE
    for layout, names in (("class-folders", KAGGLE_NAMES), ("manifest", KAGGLE_NAMES),
                          ("split-folders", ["Alpha", "Beta", "Gamma"])):
        described = describe_dataset(tmp_path, layout, names)
        assert not described.given and described.lines() == [NOT_DESCRIBED]


def test_a_description_beside_the_data_or_named_wins(tmp_path):
    (tmp_path / "dataset.json").write_text(json.dumps({
        "name": "St Elsewhere CXR 2024", "source": "PACS export", "licence": "internal",
        "provenance": "adults, one hospital", "limitations": ["no paediatric images"]}))
    found = describe_dataset(tmp_path, "split-folders", KAGGLE_NAMES)
    assert found.origin == "dataset.json" and found.limitations == ["no paediatric images"]
    assert found.lines() == ["St Elsewhere CXR 2024, source: PACS export, licence: internal",
                             "adults, one hospital"]
    manifest = tmp_path / "labels.csv"
    manifest.write_text("path,label\n")
    assert describe_dataset(manifest, "manifest", ["a"]).origin == "dataset.json"  # the CSV's folder
    named = tmp_path / "notes.md"
    named.write_text("Scanned film from 1990.\n\nLabels by one reader.\n")
    assert describe_dataset(tmp_path, "class-folders", ["a"], describe=named).provenance == [
        "Scanned film from 1990.", "Labels by one reader."]


def test_a_malformed_description_is_one_clear_error(tmp_path):
    bad = tmp_path / "dataset.json"
    bad.write_text("[1, 2]")
    with pytest.raises(DatasetError, match="not a dataset description"):
        read_description(bad)
    with pytest.raises(DatasetError, match="cannot read"):
        read_description(tmp_path / "missing.md")
    assert DatasetDescription.from_dict(KAGGLE.to_dict()) == KAGGLE


def test_a_model_of_class_folders_gets_a_card_about_its_own_data(tmp_path, trained_run):
    """End to end: the data module records the description, the report and card show it (the
    shared run is a split-folder set with other classes than Kaggle's: no Kaggle text)."""
    from xraynet.reporting.contents import data_description, limitations

    card = (trained_run["result"].run_dir / "model_card.md").read_text()
    assert "Kaggle" not in card and "kaggle.com" not in card
    assert "No description of this data was given" in card
    data = trained_run["dm"].summary()
    assert data["description"]["origin"] == "none"
    assert limitations({"layout": "class-folders", "classes": KAGGLE_NAMES})[0].startswith(
        "The data's own limitations are unknown")
    assert data_description({"layout": "split-folders", "classes": KAGGLE_NAMES}) == KAGGLE  # old bundles
