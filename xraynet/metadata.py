"""The typed metadata of a bundle (``metadata.json``): what a saved model needs to be used,
calibrated, explained and reported. No Keras import here.

Every ``metadata.json`` carries the bundle's ``schema_version``; the bundle's one migration,
:func:`xraynet.schema.migrate`, brings an older one up to date (:meth:`BundleMetadata.from_dict`
calls it; its changelog says what each version changed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .config import LAST_CONV_NAME
from .defaults import DEFAULT_RESIZE
from .schema import SCHEMA_VERSION, migrate

#: the entries without which a bundle cannot be used
REQUIRED = ("class_names", "image_size")
#: what the exported model does to its raw input before the network (its own layers)
PREPROCESSING = ["body-box fit and resize to the square (at decoding, before the model)",
                 "augmentation layers (training only)", "intensity normalisation",
                 "backbone input adapter (pretrained backbones: 3 channels, their own scaling)"]


def io_spec(image_size: int, class_names: list) -> tuple[dict, dict]:
    """The model's input and output, structured (MONAI's ``network_data_format`` in spirit)."""
    return ({"shape": [int(image_size), int(image_size), 1], "dtype": "uint8 or float32",
             "value_range": [0, 255], "colour": "grayscale", "preprocessing": PREPROCESSING},
            {"shape": [len(class_names)], "dtype": "float32", "value_range": [0, 1],
             "meaning": "softmax probabilities, uncalibrated (apply temperature)",
             "class_names": list(class_names)})


@dataclass(frozen=True)
class EnsembleMember:
    """One member of an ensemble: its name inside the model, its run directory (relative to
    the ensemble's) and the checkpoint it kept."""

    name: str
    run_dir: str
    best_epoch: int | None = None
    best_value: float | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "EnsembleMember":
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class BundleMetadata:
    """Classes, input, calibration, provenance and training summary of a saved model.

    Attributes:
        class_names: output classes, in the model's order.
        image_size, resize: how files are fitted to the model's square input.
        temperature: the calibration ``predict`` applies (1.0: none).
        schema_version: the version of this layout (:data:`SCHEMA_VERSION`).
        input, output: the model's input and output, structured (:func:`io_spec`).
        calibration: how the temperature was fitted (validation, at save time).
        gradcam_layer: the layer Grad-CAM explains.
        architecture: one line for the report (an ensemble says so).
        backbone: what the features come from and where its starting weights came from
            (package, version, file and SHA-256; see :func:`xraynet.models.backbones.backbone_source`).
        members: an ensemble's members (name, run directory, best epoch).
        best_epoch, monitor, best_value: the checkpoint kept.
        backend, versions, created: provenance.
        data, audit: counts per split and the duplicate audit's summary.
        quality: the fitted input-quality gate's summary (fitted at save time).
    """

    class_names: list
    image_size: int
    resize: str = DEFAULT_RESIZE
    schema_version: int = SCHEMA_VERSION
    input: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    temperature: float = 1.0
    calibration: dict = field(default_factory=dict)
    gradcam_layer: str = LAST_CONV_NAME
    architecture: str = "one convolutional network"
    backbone: dict = field(default_factory=dict)
    members: tuple[EnsembleMember, ...] = ()
    best_epoch: int | None = None
    monitor: str | None = None
    best_value: float | None = None
    backend: str | None = None
    versions: dict = field(default_factory=dict)
    created: str | None = None
    data: dict = field(default_factory=dict)
    audit: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.input or not self.output:  # derived from the classes and the input size
            spec = io_spec(self.image_size, self.class_names)
            object.__setattr__(self, "input", self.input or spec[0])
            object.__setattr__(self, "output", self.output or spec[1])

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "BundleMetadata":
        """From ``metadata.json`` of any version, through the bundle's one migration
        (:func:`xraynet.schema.migrate`). Raises KeyError naming a missing required entry."""
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise KeyError(missing[0])
        data = migrate(metadata=data)[1]
        values = {f.name: data[f.name] for f in fields(cls) if data.get(f.name) is not None}
        members = tuple(m if isinstance(m, EnsembleMember) else EnsembleMember.from_dict(m)
                        for m in values.get("members", ()))
        return cls(**{**values, "class_names": list(values["class_names"]),
                      "image_size": int(values["image_size"]), "members": members})
