"""The bundle's one schema version and its one migration.

A bundle's JSON files (``config.json``, ``metadata.json``) carry the same ``schema_version``, the
version of the bundle's layout as a whole; :func:`migrate` is the one function that brings the
files of an older bundle up to date, step by step, each file from the version it was written at.
:class:`~xraynet.config.RunConfig` and :class:`~xraynet.metadata.BundleMetadata` read through it,
and so does :func:`~xraynet.bundle.load_bundle`. No Keras import here.

Changelog:

- 1 (no ``schema_version``): ``config.json`` nested the model settings in ``module.model``;
  ``metadata.json``'s ``input`` and ``output`` were sentences. Options added later had their
  former behaviour: stride 1 for ``stem_stride``, ``"stretch"`` for ``resize`` (config and
  metadata alike), no temperature (uncalibrated), the CNN's last convolution for Grad-CAM.
- 2: ``schema_version`` in both files; ``config.json``'s sections ``data``, ``model``,
  ``module`` (optimisation) and ``trainer``; ``metadata.json``'s ``input`` and ``output``
  structured (:func:`~xraynet.metadata.io_spec`).

A new version adds one entry to :data:`STEPS` (what changes from the version before, per file)
and raises :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

from typing import Callable

from .config_schema import ConfigError

__all__ = ["migrate", "SCHEMA_VERSION", "STEPS", "version_of"]

#: the version of the bundle layout this code writes (see the changelog above)
SCHEMA_VERSION = 2


def version_of(data: dict) -> int:
    """The schema version a bundle file was written at (1: before the key existed); refuses a
    newer one than this xraynet reads."""
    version = int(data.get("schema_version") or 1)
    if version > SCHEMA_VERSION:
        raise ConfigError([f"schema_version = {version}: written by a newer xraynet (this one "
                           f"reads up to {SCHEMA_VERSION}); upgrade xraynet"])
    return version


def _config_1_to_2(data: dict) -> dict:
    if "members" in data:  # an ensemble's config: each member's
        return {**data, "members": [migrate(config=m)[0] for m in data["members"]]}
    module = dict(data.get("module", {}))
    model = dict(module.pop("model", data.get("model", {})))
    model.setdefault("stem_stride", 1)
    data_cfg = dict(data.get("data", {}))
    data_cfg.setdefault("resize", "stretch")
    if "image_size" in data_cfg:
        model.setdefault("image_size", data_cfg["image_size"])
    return {**data, "data": data_cfg, "model": model, "module": module,
            "trainer": dict(data.get("trainer", {}))}


def _metadata_1_to_2(data: dict) -> dict:
    from .metadata import REQUIRED, io_spec

    data = dict(data)
    data.setdefault("resize", "stretch")  # bundles from before the crop default
    if all(k in data for k in REQUIRED):
        data["input"], data["output"] = io_spec(data["image_size"], data["class_names"])
    return data


#: version -> the step from it to the next, per file (``config``, ``metadata``)
STEPS: dict[int, dict[str, Callable[[dict], dict]]] = {
    1: {"config": _config_1_to_2, "metadata": _metadata_1_to_2},
}


def migrate(config: dict | None = None, metadata: dict | None = None
            ) -> tuple[dict | None, dict | None]:
    """A bundle's ``config.json`` and ``metadata.json`` (either may be None) of any version, as
    this version reads them: each file from its own version through every later step, stamped
    with :data:`SCHEMA_VERSION`. An ensemble's config migrates each member.

    Raises:
        ConfigError: a file written by a newer xraynet.
    """
    out = []
    for kind, data in (("config", config), ("metadata", metadata)):
        if data is None:
            out.append(None)
            continue
        version = version_of(data)
        if kind == "config" and "members" in data and version == SCHEMA_VERSION:
            data = {**data, "members": [migrate(config=m)[0] for m in data["members"]]}
        for step in range(version, SCHEMA_VERSION):
            data = STEPS[step][kind](data)
        out.append({**data, "schema_version": SCHEMA_VERSION})
    return out[0], out[1]
