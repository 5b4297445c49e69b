"""The whole search space: every hyperparameter's name and range, in one place.

The backbone is a choice with its own depth: for ``cnn`` the number of conv blocks (and the
filters of the first), for a pretrained backbone the number of top blocks fine-tuned after the
head's warm-up (KerasTuner conditional scopes, so a trial only holds its backbone's values).
Pretrained backbones whose weights are not installed (the ``pretrained`` extra) are left out of
the choice.

Intensity scaling is not searched: dividing by 255 keeps each image's overall brightness, which
differs between the sources of the classes, so a search that optimises validation loss would
reward a brightness cue; trials keep the default per-image standardisation.
"""

from __future__ import annotations

import dataclasses

import keras_tuner as kt

from xraynet.config import MIN_FEATURE_SIDE, ModelConfig, OptimConfig, TrainerConfig, feature_side
from xraynet.registry import list_backbones

#: name -> range; read by :func:`define` and shown in the README.
SPACE = {
    "backbone": {"type": "choice", "values": list_backbones(searched=True)},  # the registry's
    "fine_tune_blocks": {"type": "int", "min": 0, "max": 4},
    "depth": {"type": "int", "min": 2, "max": 5},
    "base_filters": {"type": "choice", "values": [8, 16, 32]},
    "dropout": {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"type": "float", "min": 3e-4, "max": 3e-3, "sampling": "log"},
    "batch_size": {"type": "choice", "values": [8, 16, 32, 64]},
}

#: the hyperparameters of each kind of backbone (the rest are shared)
CNN_PARAMS = ("depth", "base_filters")
PRETRAINED_PARAMS = ("fine_tune_blocks",)
MODEL_PARAMS = ("backbone", *CNN_PARAMS, *PRETRAINED_PARAMS, "dropout")


def available_backbones() -> list[str]:
    """The search's backbone choices whose weights are installed here."""
    from xraynet.errors import XRayNetError
    from xraynet.models.backbones import weights_file

    found = []
    for name in SPACE["backbone"]["values"]:
        try:
            if name != "cnn":
                weights_file(name)
            found.append(name)
        except XRayNetError:
            pass
    return found


def searched_backbones(base: ModelConfig) -> list[str]:
    """The backbones a search chooses among: every installed one of the space's (pretrained ones
    only where ``base``'s image size admits them), or only ``base``'s where it names one outside
    the space (a keras_hub preset, a .keras model)."""
    from xraynet.config import PRETRAINED_REDUCTION

    if base.backbone not in SPACE["backbone"]["values"]:
        return [base.backbone]
    small = base.image_size < 2 * PRETRAINED_REDUCTION
    return [b for b in available_backbones() if b == "cnn" or not small]


def define(hp: kt.HyperParameters, name: str, *, at_most: int | None = None,
           values: list | None = None):
    """Register (or read) hyperparameter ``name`` on ``hp`` with its range from :data:`SPACE`
    (an integer's maximum lowered to ``at_most``, a choice's values replaced by ``values``, where
    given)."""
    spec = SPACE[name]
    if values is not None:
        return hp.Choice(name, list(values))
    if spec["type"] == "int":
        high = spec["max"] if at_most is None else max(spec["min"], min(spec["max"], at_most))
        return hp.Int(name, spec["min"], high)
    if spec["type"] == "float":
        return hp.Float(name, spec["min"], spec["max"], step=spec.get("step"),
                        sampling=spec.get("sampling", "linear"))
    return hp.Choice(name, spec["values"])


def model_values(hp: kt.HyperParameters, base: ModelConfig,
                 backbones: list[str] | None = None) -> dict:
    """The model-building hyperparameters (all but batch size), registered on ``hp``: the
    backbone (among ``backbones``, default all of the space's), then its own depth in a
    conditional scope (the CNN's at most what ``base``'s image size and stem stride allow, see
    ``ModelConfig``'s check)."""
    choices = list(backbones) if backbones else list(SPACE["backbone"]["values"])
    backbone = define(hp, "backbone", values=choices)
    values = {"backbone": backbone}
    pretrained = [v for v in choices if v != "cnn"]
    if "cnn" in choices:  # a scope is only opened for choices that exist (KerasTuner builds each)
        with hp.conditional_scope("backbone", ["cnn"]):
            for name in CNN_PARAMS:
                values[name] = define(hp, name, at_most=max_depth(base) if name == "depth" else None)
    if pretrained:
        with hp.conditional_scope("backbone", pretrained):
            for name in PRETRAINED_PARAMS:
                values[name] = define(hp, name)
    for name in ("dropout", "learning_rate"):
        values[name] = define(hp, name)
    return {k: v for k, v in values.items() if v is not None}


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
    offered = searched_backbones(dataclasses.replace(base, backbone=model.backbone))
    backbone = model.backbone if model.backbone in offered else "cnn"  # what a search offers here
    own = ({"depth": min(model.depth, max_depth(base)), "base_filters": model.base_filters}
           if backbone == "cnn" else {"fine_tune_blocks": model.fine_tune_blocks})
    return {"backbone": backbone, **own, "dropout": model.dropout,
            "learning_rate": optim.learning_rate, "batch_size": trainer.batch_size}
