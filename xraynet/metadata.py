"""The typed metadata of a bundle (``metadata.json``): what a saved model needs to be used,
calibrated, explained and reported. No Keras import here.

Metadata written before an entry existed loads with that entry's former behaviour
(:meth:`BundleMetadata.from_dict`, the one place that knows): ``resize`` "stretch",
``temperature`` 1.0, ``gradcam_layer`` the CNN's last convolution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .config import LAST_CONV_NAME

INPUT = "raw grayscale pixels 0..255, shape (image_size, image_size, 1)"
OUTPUT = "softmax probabilities in class_names order"
#: the entries without which a bundle cannot be used
REQUIRED = ("class_names", "image_size")


@dataclass(frozen=True)
class BundleMetadata:
    """Classes, input, calibration, provenance and training summary of a saved model.

    Attributes:
        class_names: output classes, in the model's order.
        image_size, resize: how files are fitted to the model's square input.
        temperature: the calibration ``predict`` applies (1.0: none).
        calibration: how the temperature was fitted (empty before the report step).
        gradcam_layer: the layer Grad-CAM explains.
        architecture: one line for the report (an ensemble says so).
        backbone: what the features come from and where its starting weights came from
            (package, version, file and SHA-256; see :func:`xraynet.models.backbones.backbone_source`).
        members: an ensemble's members (name, run directory, best epoch).
        best_epoch, monitor, best_value: the checkpoint kept.
        backend, versions, created: provenance.
        data, audit: counts per split and the duplicate audit's summary.
        quality: the fitted input-quality gate (empty before the report step).
    """

    class_names: list
    image_size: int
    resize: str = "crop"
    input: str = INPUT
    output: str = OUTPUT
    temperature: float = 1.0
    calibration: dict = field(default_factory=dict)
    gradcam_layer: str = LAST_CONV_NAME
    architecture: str = "one convolutional network"
    backbone: dict = field(default_factory=dict)
    members: list = field(default_factory=list)
    best_epoch: int | None = None
    monitor: str | None = None
    best_value: float | None = None
    backend: str | None = None
    versions: dict = field(default_factory=dict)
    created: str | None = None
    data: dict = field(default_factory=dict)
    audit: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "BundleMetadata":
        """From ``metadata.json`` of any version (see the module's docstring). Raises KeyError
        naming a missing required entry."""
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise KeyError(missing[0])
        values = {f.name: data[f.name] for f in fields(cls) if data.get(f.name) is not None}
        values.setdefault("resize", "stretch")  # bundles from before the crop default
        return cls(**{**values, "class_names": list(values["class_names"]),
                      "image_size": int(values["image_size"])})
