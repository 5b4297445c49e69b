"""A saved model beside its resolved config and metadata, so it can be reloaded and explained.

Layout of a bundle directory::

    model.keras      the Keras 3 model (takes raw 0..255 grayscale images)
    config.json      the resolved settings of data, module and trainer
    metadata.json    class names, input size, backend, versions, calibration, audit summary
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import keras

from . import layers as _layers  # noqa: F401  (registers the custom layers for loading)
from .config import DataConfig, EnsembleConfig, RunConfig, config_from_dict
from .schema import migrate
from .errors import BundleError
from .metadata import BundleMetadata
from .config_schema import known_fields
from .runs import CONFIG_FILE, METADATA_FILE, MODEL_FILE, QUALITY_FILE

__all__ = ["Bundle", "CONFIG_FILE", "load_bundle", "METADATA_FILE", "missing_parts", "MODEL_FILE",
           "QUALITY_FILE", "read_json", "read_metadata", "read_run_config", "REBUILD_HINT",
           "save_bundle", "write_json"]

log = logging.getLogger("xraynet")

#: what to do with a bundle whose files are damaged
REBUILD_HINT = ("restore {directory} from a backup, or train it again (xraynet fit, or "
                "scripts/train_best.py)")


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as JSON atomically (a temporary file, then a rename): an interrupted write
    never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)


def read_json(path: str | Path, what: str, *, fix: str) -> dict:
    """The JSON object in ``path``, or :class:`BundleError` naming ``what`` it is, why it cannot
    be read and ``fix`` (what to do)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BundleError(f"{what} not found: {path}; {fix}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"cannot read {what} {path} ({exc}); {fix}") from exc
    if not isinstance(data, dict):
        raise BundleError(f"cannot read {what} {path} (not a JSON object); {fix}")
    return data


def read_run_config(directory: str | Path) -> RunConfig:
    """The typed run config in ``directory/config.json`` (any format; see
    :func:`~xraynet.schema.migrate`)."""
    path = Path(directory) / CONFIG_FILE
    data = read_json(path, "run config", fix="the run directory is incomplete; train it again")
    if "members" in data:
        raise BundleError(f"{path} is an ensemble's config: each member's run config is in "
                          f"{Path(directory) / 'members'}")
    try:
        return RunConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise BundleError(f"cannot read run config {path} ({exc}); train the run again") from exc


def read_metadata(directory: str | Path) -> BundleMetadata:
    """The typed metadata in ``directory/metadata.json`` (any version; see
    :meth:`~xraynet.metadata.BundleMetadata.from_dict`), or one :class:`BundleError` that names
    the file and what to do."""
    path = Path(directory) / METADATA_FILE
    fix = REBUILD_HINT.format(directory=directory)
    if not path.is_file():
        raise BundleError(f"metadata not found: {path} (a bundle keeps it beside {MODEL_FILE}); {fix}")
    data = read_json(path, "bundle metadata", fix=fix)
    try:
        return BundleMetadata.from_dict(data)
    except KeyError as exc:
        raise BundleError(f"bundle metadata {path} lacks '{exc.args[0]}'; {fix}") from None
    except (TypeError, ValueError) as exc:
        raise BundleError(f"cannot read bundle metadata {path} ({exc}); {fix}") from exc


@dataclass
class Bundle:
    """A loaded bundle: the model with its run config and typed metadata; ``missing``: what a
    complete bundle has and this one lacks (:func:`missing_parts`)."""

    model: keras.Model
    directory: Path
    meta: BundleMetadata
    config: dict = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def class_names(self) -> list[str]:
        return list(self.meta.class_names)

    @property
    def image_size(self) -> int:
        return self.meta.image_size

    @property
    def resize(self) -> str:
        return self.meta.resize

    @property
    def temperature(self) -> float:
        return self.meta.temperature

    @property
    def typed_config(self) -> RunConfig | EnsembleConfig | None:
        """The typed ``config.json``: one model's run config or an ensemble's (None for a bundle
        without it)."""
        return config_from_dict(self.config) if self.config else None

    @property
    def run_config(self) -> RunConfig | None:
        """The typed run config (None for an ensemble, whose members each have one, or a bundle
        without ``config.json``)."""
        typed = self.typed_config
        return typed if isinstance(typed, RunConfig) else None

    @property
    def data_config(self) -> DataConfig:
        """How the model's data was read (its decoding settings with it); from the metadata
        for a bundle without ``config.json``."""
        if self.config.get("data"):
            return DataConfig(**known_fields(DataConfig, self.config["data"]))
        return DataConfig(image_size=self.image_size, resize=self.resize)


def save_bundle(model: keras.Model, directory: str | Path, *, config: dict, metadata: dict) -> Path:
    """Write ``model.keras``, ``config.json`` and ``metadata.json`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{os.getpid()}.tmp.keras"  # each file written whole, then renamed
    model.save(tmp)
    os.replace(tmp, directory / MODEL_FILE)
    write_json(directory / CONFIG_FILE, config)
    write_json(directory / METADATA_FILE, metadata)
    return directory


def missing_parts(meta: BundleMetadata, directory: str | Path) -> list[str]:
    """What the bundle in ``directory`` lacks of a complete one (the save step's temperature
    fitted on validation, and the input-quality gate), each with what its absence means."""
    missing = []
    if meta.calibration.get("fitted_on") != "validation":
        missing.append("no temperature fitted on validation (probabilities are uncalibrated)")
    if not (Path(directory) / QUALITY_FILE).is_file():
        missing.append("no input-quality gate (inputs are checked by their pixels only)")
    return missing


def load_bundle(path: str | Path) -> Bundle:
    """Load a bundle from its directory or from the ``model.keras`` inside it. An incomplete
    bundle (:func:`missing_parts`) loads with one warning line saying what it lacks."""
    path = Path(path).expanduser()
    directory = path.parent if path.suffix == ".keras" else path
    model_path = path if path.suffix == ".keras" else path / MODEL_FILE
    if not model_path.is_file():
        raise BundleError(f"model file not found: {model_path} (expected a run directory or its {MODEL_FILE})")
    meta = read_metadata(directory)  # cheap, so a damaged one fails before the model loads
    try:
        model = keras.saving.load_model(model_path, compile=False)
    except Exception as exc:  # keras raises many types for a bad archive
        raise BundleError(f"cannot load model {model_path}: {exc}") from exc
    config_path = directory / CONFIG_FILE
    config = (migrate(config=read_json(config_path, "run config",
                                       fix=REBUILD_HINT.format(directory=directory)))[0]
              if config_path.is_file() else {})
    missing = missing_parts(meta, directory)
    if missing:
        log.warning("warning: incomplete bundle %s: %s; 'xraynet report %s' fits both on its "
                    "validation and train images", directory, "; ".join(missing), directory)
    return Bundle(model=model, directory=directory, config=config, meta=meta, missing=tuple(missing))
