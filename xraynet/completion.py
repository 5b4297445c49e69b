"""The save step's fitted parts: a bundle is complete when it is saved, whichever entry point
trained it (``Trainer.fit``, ``train-best``'s ensemble, the Python API alone).

:func:`complete_bundle` fits the temperature on the validation split only and the input-quality
gate on the train and validation splits (never a test image), saves the gate beside the model
(``quality.npz``) and records both in ``metadata.json``, so ``predict`` and ``serve`` calibrate
and check inputs without any report having been written.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import keras
import numpy as np

from .bundle import METADATA_FILE, missing_parts, read_metadata, write_json
from .evaluation.calibration import FREE_TEMPERATURE_BOUNDS, TEMPERATURE_BOUNDS, fit_temperature
from .data.split_data import SplitData
from .metadata import BundleMetadata
from .quality import QUALITY_FILE, fit_gate, load_feature_gate

log = logging.getLogger("xraynet")


def is_complete(metadata: BundleMetadata, run_dir: str | Path) -> bool:
    """Whether the bundle in ``run_dir`` has its validation temperature and its gate."""
    return (not missing_parts(metadata, run_dir)  # what load_bundle warns of, and a readable gate
            and load_feature_gate(Path(run_dir) / QUALITY_FILE) is not None)


def complete_bundle(model: keras.Model, data: SplitData, run_dir: str | Path, *,
                    val_probabilities: np.ndarray | None = None, refit: bool = False) -> BundleMetadata:
    """Fit and record the temperature (validation) and the quality gate (train and validation)
    of the bundle in ``run_dir`` (``data``: a set-up data module's splits, ``dm.split_data()``);
    a bundle complete already is left as it is unless ``refit``.
    ``val_probabilities``: the model's uncalibrated validation probabilities, where the caller
    has them. Returns the bundle's metadata as written."""
    run_dir = Path(run_dir)
    metadata = read_metadata(run_dir)
    if not refit and is_complete(metadata, run_dir):
        return metadata
    val = data.dataset("val")
    raw = (val_probabilities if val_probabilities is not None
           else np.asarray(model.predict(val, verbose=0)))
    temperature = fit_temperature(val.labels, raw)
    free = fit_temperature(val.labels, raw, bounds=FREE_TEMPERATURE_BOUNDS)
    gate = fit_gate(model, data, run_dir)
    metadata = dataclasses.replace(
        metadata, temperature=temperature, quality=gate.summary(),
        calibration={"method": "temperature scaling", "fitted_on": "validation",
                     "n": val.n_images, "temperature": temperature,
                     "bounds": list(TEMPERATURE_BOUNDS), "unconstrained_temperature": free})
    write_json(run_dir / METADATA_FILE, metadata.to_dict())
    log.info("bundle completed: temperature %.3f fitted on validation (unconstrained optimum "
             "%.3f); input-quality gate fitted on train and validation", temperature, free)
    return metadata
