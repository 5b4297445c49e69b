"""KerasTuner HyperModel: ``build(hp)`` delegates to xraynet, ``fit`` sets the batch size."""

from __future__ import annotations

import dataclasses

import keras
import keras_tuner as kt

from xraynet import ModelConfig, OptimConfig, XRayClassifier, XRayDataModule

from xraynet.transfer import unfreeze, warm_up_and_unfreeze

from .space import define, model_values, searched_backbones  # noqa: F401 (public here too)


def module_from_values(values: dict, base: ModelConfig, optim: OptimConfig | None = None) -> XRayClassifier:
    """The xraynet classifier for a set of hyperparameter values (search or best JSON): every
    value that names a model or optimisation setting replaces it in ``base`` and ``optim``
    (default :class:`~xraynet.config.OptimConfig`'s defaults), validated the same way."""
    model_keys = {f.name for f in dataclasses.fields(ModelConfig)}
    optim_keys = {f.name for f in dataclasses.fields(OptimConfig)}
    model = dataclasses.replace(base, **{k: v for k, v in values.items() if k in model_keys})
    optim = dataclasses.replace(optim or OptimConfig(), **{k: (float(v) if k == "learning_rate" else v)
                                                         for k, v in values.items() if k in optim_keys})
    return XRayClassifier.from_config(model, optim)


class XRayHyperModel(kt.HyperModel):
    """Builds xraynet classifiers from the search space and fits them on the data module's
    datasets.

    Args:
        datamodule: a set-up data module (decoded once, shared by every trial).
        base: the model settings that are not searched (image size, classes, augmentation).
        backbones: the backbones to choose among (default: :func:`searched_backbones`).
    """

    def __init__(self, *, datamodule: XRayDataModule, base: ModelConfig,
                 backbones: list[str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.datamodule = datamodule.setup()
        self.base = base
        self.backbones = list(backbones) if backbones else searched_backbones(base)

    def module(self, hp: kt.HyperParameters) -> XRayClassifier:
        return module_from_values(model_values(hp, self.base, self.backbones), self.base)

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return self.module(hp).build()

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args, **kwargs):
        """Train with the trial's batch size; ``kwargs`` carries the tuner's callbacks and
        Hyperband's ``epochs`` and ``initial_epoch``, which are forwarded untouched. A pretrained
        backbone's head is warmed up first (on cached features) unless the trial continues an
        earlier one's weights (Hyperband's ``initial_epoch`` > 0)."""
        dm = self.datamodule
        batch_size = define(hp, "batch_size")
        epochs = kwargs.get("epochs", 1)
        module = self.module(hp)
        if module.pretrained:
            if not kwargs.get("initial_epoch"):
                warm_up_and_unfreeze(model, module, dm, batch_size=batch_size, seed=self.base.seed)
            else:
                unfreeze(model, module)
        kwargs.pop("shuffle", None)  # the dataset reshuffles every epoch, seeded
        train, val = dm.fit_datasets(batch_size=batch_size, seed=self.base.seed)
        callbacks = list(kwargs.pop("callbacks", [])) + module.callbacks(epochs, train)
        return model.fit(train, *args, validation_data=val, class_weight=dm.class_weights(),
                         callbacks=callbacks, shuffle=False, **kwargs)
