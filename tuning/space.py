"""The whole search space: every hyperparameter's name and range, in one place.

Intensity scaling is not searched: dividing by 255 keeps each image's overall brightness, which
differs between the sources of the classes, so a search that optimises validation loss would
reward a brightness cue; trials keep the default per-image standardisation.
"""

from __future__ import annotations

import keras_tuner as kt

#: name -> range; read by :func:`define` and shown in the README.
SPACE = {
    "depth": {"type": "int", "min": 2, "max": 5},
    "base_filters": {"type": "choice", "values": [8, 16, 32]},
    "dropout": {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"type": "float", "min": 3e-4, "max": 3e-3, "sampling": "log"},
    "batch_size": {"type": "choice", "values": [8, 16, 32, 64]},
}

MODEL_PARAMS = ("depth", "base_filters", "dropout")
FIT_PARAMS = ("batch_size",)


def define(hp: kt.HyperParameters, name: str):
    """Register (or read) hyperparameter ``name`` on ``hp`` with its range from :data:`SPACE`."""
    spec = SPACE[name]
    if spec["type"] == "int":
        return hp.Int(name, spec["min"], spec["max"])
    if spec["type"] == "float":
        return hp.Float(name, spec["min"], spec["max"], step=spec.get("step"),
                        sampling=spec.get("sampling", "linear"))
    return hp.Choice(name, spec["values"])


def model_values(hp: kt.HyperParameters) -> dict:
    """The model-building hyperparameters (all but batch size), registered on ``hp``."""
    return {name: define(hp, name) for name in (*MODEL_PARAMS, "learning_rate")}
