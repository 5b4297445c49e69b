"""A saved model beside its resolved config and metadata, so it can be reloaded and explained.

Layout of a bundle directory::

    model.keras      the Keras 3 model (takes raw 0..255 grayscale images)
    config.json      the resolved settings of data, module and trainer
    metadata.json    class names, input size, backend, versions, calibration, audit summary
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import keras

from . import layers as _layers  # noqa: F401  (registers the custom layers for loading)
from .errors import BundleError

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


@dataclass
class Bundle:
    """A loaded bundle: the model with its config and metadata."""

    model: keras.Model
    directory: Path
    config: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    @property
    def class_names(self) -> list[str]:
        return list(self.metadata["class_names"])

    @property
    def image_size(self) -> int:
        return int(self.metadata["image_size"])

    @property
    def resize(self) -> str:
        """How files are fitted to the square input (``"stretch"`` for bundles without it)."""
        return str(self.metadata.get("resize", "stretch"))

    @property
    def temperature(self) -> float:
        return float(self.metadata.get("temperature", 1.0))


def save_bundle(model: keras.Model, directory: str | Path, *, config: dict, metadata: dict) -> Path:
    """Write ``model.keras``, ``config.json`` and ``metadata.json`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL_FILE)
    write_json(directory / CONFIG_FILE, config)
    write_json(directory / METADATA_FILE, metadata)
    return directory


def load_bundle(path: str | Path) -> Bundle:
    """Load a bundle from its directory or from the ``model.keras`` inside it."""
    path = Path(path).expanduser()
    directory = path.parent if path.suffix == ".keras" else path
    model_path = path if path.suffix == ".keras" else path / MODEL_FILE
    if not model_path.is_file():
        raise BundleError(f"model file not found: {model_path} (expected a run directory or its {MODEL_FILE})")
    meta_path = directory / METADATA_FILE
    if not meta_path.is_file():
        raise BundleError(f"metadata not found: {meta_path} (a bundle keeps it beside {MODEL_FILE})")
    try:
        model = keras.saving.load_model(model_path, compile=False)
    except Exception as exc:  # keras raises many types for a bad archive
        raise BundleError(f"cannot load model {model_path}: {exc}") from exc
    metadata = json.loads(meta_path.read_text())
    config_path = directory / CONFIG_FILE
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    return Bundle(model=model, directory=directory, config=config, metadata=metadata)
