"""The whole search space: every hyperparameter's name and range, in one place.

Intensity scaling is not searched: dividing by 255 keeps each image's overall brightness, which
differs between the sources of the classes, so a search that optimises validation loss would
reward a brightness cue; trials keep the default per-image standardisation.
"""

from __future__ import annotations

import keras_tuner as kt

from xraynet.config import MIN_FEATURE_SIDE, ModelConfig, OptimConfig, TrainerConfig, feature_side

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


def define(hp: kt.HyperParameters, name: str, *, at_most: int | None = None):
    """Register (or read) hyperparameter ``name`` on ``hp`` with its range from :data:`SPACE`
    (an integer's maximum lowered to ``at_most`` where given)."""
    spec = SPACE[name]
    if spec["type"] == "int":
        high = spec["max"] if at_most is None else max(spec["min"], min(spec["max"], at_most))
        return hp.Int(name, spec["min"], high)
    if spec["type"] == "float":
        return hp.Float(name, spec["min"], spec["max"], step=spec.get("step"),
                        sampling=spec.get("sampling", "linear"))
    return hp.Choice(name, spec["values"])


def model_values(hp: kt.HyperParameters, base: ModelConfig) -> dict:
    """The model-building hyperparameters (all but batch size), registered on ``hp``; the depth
    at most what ``base``'s image size and stem stride allow (see ``ModelConfig``'s check)."""
    return {name: define(hp, name, at_most=max_depth(base) if name == "depth" else None)
            for name in (*MODEL_PARAMS, "learning_rate")}


def max_depth(base: ModelConfig) -> int:
    """The deepest model (within the space) whose last block still sees ``MIN_FEATURE_SIDE``
    pixels a side, for ``base``'s image size and stem stride."""
    depth = 1
    while (depth < SPACE["depth"]["max"] and
           feature_side(base.image_size, base.stem_stride, depth + 1) >= MIN_FEATURE_SIDE):
        depth += 1
    return depth


def default_values(base: ModelConfig) -> dict:
    """``xraynet fit``'s default configuration in the search's terms (every name of
    :data:`SPACE`), the depth at most what ``base`` allows: the candidate that the members'
    cross-validated choice (:mod:`tuning.selection`) weighs against the search's best."""
    model, optim, trainer = ModelConfig(), OptimConfig(), TrainerConfig()
    return {"depth": min(model.depth, max_depth(base)), "base_filters": model.base_filters,
            "dropout": model.dropout, "learning_rate": optim.learning_rate,
            "batch_size": trainer.batch_size}
