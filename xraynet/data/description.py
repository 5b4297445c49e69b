"""What a dataset is: its source, licence, provenance and known limitations, for the report and
the model card.

A description comes from, in this order:

1. the file the user names (``--describe FILE``, ``DataConfig.describe``): ``.json`` or ``.md``;
2. a ``dataset.json`` or ``DATASET.md`` beside the data (in the dataset folder, or in a
   manifest's folder);
3. for the Kaggle layout with the Kaggle classes (train/test folders of Covid, Normal and
   Viral Pneumonia), the description that ships with xraynet (:data:`KAGGLE`);
4. otherwise none: the report then says plainly that the data's source, licence and limitations
   were not given, and how to give them.

``dataset.json``: ``{"name": ..., "source": ..., "licence": ..., "provenance": [lines],
"limitations": [lines], "populations": {class: who its images show (ages, sources)}}`` (every
key optional). ``DATASET.md``: free text; each non-empty
paragraph becomes one provenance line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import DatasetError
from ..config_schema import known_fields

DESCRIPTION_FILES = ("dataset.json", "DATASET.md")
#: the classes of the Kaggle set (its description is used only for this layout and these classes)
KAGGLE_CLASSES = ("Covid", "Normal", "Viral Pneumonia")


@dataclass(frozen=True)
class DatasetDescription:
    """Where the data comes from, and what a reader must know about it.

    Attributes:
        name: the dataset's name.
        source: where it was obtained (a URL or a citation).
        licence: its licence.
        provenance: lines on how the images were gathered and labelled.
        limitations: known flaws of the data (populations, sources, duplicates).
        populations: class -> the population its images show (ages where known, sources).
        origin: where this description came from (a file's name, ``"shipped"`` or ``"none"``).
    """

    name: str = ""
    source: str = ""
    licence: str = ""
    provenance: list[str] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)
    populations: dict[str, str] = field(default_factory=dict)
    origin: str = "none"

    @property
    def given(self) -> bool:
        """Whether any description was found."""
        return self.origin != "none"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DatasetDescription":
        return cls(**known_fields(cls, data))

    def lines(self) -> list[str]:
        """The provenance as the report shows it: name, source and licence, then each line."""
        if not self.given:
            return [NOT_DESCRIBED]
        head = ", ".join(part for part in (self.name, self.source and f"source: {self.source}",
                                           self.licence and f"licence: {self.licence}") if part)
        return ([head] if head else []) + list(self.provenance)


NOT_DESCRIBED = ("No description of this data was given: its source, licence, populations and "
                 "known flaws are unknown to xraynet, and this report cannot warn about them. Put "
                 "a dataset.json or DATASET.md beside the data, or pass --describe FILE "
                 "(docs/data.md).")

KAGGLE = DatasetDescription(
    name="Kaggle \"Covid-19 Image Dataset: 3 Way Classification - COVID-19, Viral Pneumonia, Normal\"",
    source="kaggle.com/datasets/pranavraikokte/covid19-image-dataset",
    licence="CC BY-SA 4.0",
    provenance=[
        "Covid images: the public COVID-19 image collection of the University of Montreal "
        "(ieee8023), mostly adults. Normal and Viral Pneumonia images: the paediatric pneumonia set "
        "of Kermany et al. (children). Each class therefore comes from another population and "
        "other hospitals: a model can score well by recognising the source instead of the disease.",
        "No patient identifiers: train/test pairs of the same patient can only be found as "
        "duplicates, which the audit below does.",
    ],
    limitations=[
        "One population and source per class: a high score does not show that the model "
        "recognises disease; the explanations and the shortcut check are there to question it.",
        "The test folder differs from the train folder (image sizes and aspect ratios per class), "
        "so validation figures run higher than test figures.",
    ],
    populations={
        "Covid": "mostly adults (a few children), many hospitals in several countries: the "
                 "ieee8023 COVID-19 image collection (Cohen et al.), gathered from publications "
                 "and websites",
        "Normal": "children aged one to five, one centre (Guangzhou Women and Children's "
                  "Medical Center): the paediatric pneumonia set of Kermany et al.",
        "Viral Pneumonia": "children aged one to five, one centre (Guangzhou Women and "
                           "Children's Medical Center): the paediatric pneumonia set of Kermany "
                           "et al.",
    },
    origin="shipped",
)


def read_description(path: str | Path) -> DatasetDescription:
    """A description file (``.json`` or ``.md``).

    Raises:
        DatasetError: missing, unreadable or malformed.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read the dataset description {path}: {exc.strerror}") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            for key in ("provenance", "limitations"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
            if not isinstance(data.get("populations", {}), dict):
                raise ValueError("populations is not an object of class: population")
            return DatasetDescription.from_dict({**data, "origin": path.name})
        except (ValueError, TypeError) as exc:
            raise DatasetError(f"{path} is not a dataset description ({exc}); see docs/data.md") from exc
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return DatasetDescription(provenance=paragraphs, origin=path.name)


def describe_dataset(source: str | Path, layout: str | None, class_names: list[str], *,
                     describe: str | Path | None = None) -> DatasetDescription:
    """The description of the dataset at ``source`` (a folder or a manifest), found as the
    module docstring says."""
    if describe:
        return read_description(describe)
    source = Path(source)
    folder = source if source.is_dir() else source.parent
    for name in DESCRIPTION_FILES:
        if (folder / name).is_file():
            return read_description(folder / name)
    return shipped_description(layout, class_names)


def shipped_description(layout: str | None, class_names: list[str]) -> DatasetDescription:
    """The description xraynet ships for this layout and these classes: :data:`KAGGLE` for the
    Kaggle set's train/test folders of its three classes; otherwise none."""
    if layout == "split-folders" and sorted(class_names or []) == sorted(KAGGLE_CLASSES):
        return KAGGLE
    return DatasetDescription()
