"""KerasTuner HyperModel: ``build(hp)`` delegates to xraynet, ``fit`` sets the batch size."""

from __future__ import annotations

import json

import keras
import keras_tuner as kt

from xraynet import (DataConfig, ModelConfig, OptimConfig, RunConfig, Trainer, XRayClassifier,
                     XRayDataModule)
from xraynet.config import TrainerConfig

from xraynet.transfer import unfreeze, warm_up_and_unfreeze

from .space import define, model_values, searched_backbones  # noqa: F401 (public here too)


def module_from_values(values: dict, base: ModelConfig, optim: OptimConfig | None = None) -> XRayClassifier:
    """The xraynet classifier for a set of hyperparameter values (search or best JSON): every
    value replaces its setting in ``base`` and ``optim`` (default
    :class:`~xraynet.config.OptimConfig`'s defaults) through
    :meth:`~xraynet.config.RunConfig.with_overrides`, which refuses a key that names no setting;
    the training settings among them (``batch_size``) are the caller's."""
    config = RunConfig(data=DataConfig(image_size=base.image_size), model=base,
                       module=optim or OptimConfig())
    config = config.with_overrides(**{k: (float(v) if k == "learning_rate" else v)
                                      for k, v in values.items()})
    return XRayClassifier(model=config.model, config=config.module)


class XRayHyperModel(kt.HyperModel):
    """Builds xraynet classifiers from the search space and trains each trial through the
    Trainer's loop (:meth:`~xraynet.trainer.Trainer.fit_loop`).

    Args:
        datamodule: a set-up data module (decoded once, shared by every trial).
        base: the model settings that are not searched (image size, classes, augmentation).
        backbones: the backbones to choose among (default: :func:`searched_backbones`).
        trainer: the training settings that are not searched (default: every default; the
            trial's batch size and the base model's seed replace its own).
        optim: the optimisation settings that are not searched (default: every default).
    """

    def __init__(self, *, datamodule: XRayDataModule, base: ModelConfig,
                 backbones: list[str] | None = None, trainer: TrainerConfig | None = None,
                 optim: OptimConfig | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.datamodule = datamodule.setup()
        self.base = base
        self.backbones = list(backbones) if backbones else searched_backbones(base)
        self.trainer = trainer if trainer is not None else TrainerConfig()
        self.optim = optim if optim is not None else OptimConfig()
        self._built: tuple[str, XRayClassifier] | None = None

    def module(self, hp: kt.HyperParameters) -> XRayClassifier:
        """The trial's module, made once per trial (``build`` and ``fit`` share it)."""
        key = json.dumps(hp.values, sort_keys=True, default=str)
        if self._built is None or self._built[0] != key:
            values = model_values(hp, self.base, self.backbones)
            self._built = (key, module_from_values(values, self.base, self.optim))
        return self._built[1]

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return self.module(hp).build()

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args, **kwargs):
        """Train with the trial's batch size through the Trainer's loop; ``kwargs`` carries the
        tuner's callbacks and Hyperband's ``epochs`` and ``initial_epoch``, which are forwarded
        untouched. A pretrained backbone's head is warmed up first (on cached features) unless
        the trial continues an earlier one's weights (Hyperband's ``initial_epoch`` > 0)."""
        trainer = Trainer(config=self.trainer, batch_size=define(hp, "batch_size"),
                          seed=self.base.seed, verbose="auto")
        module = self.module(hp)
        if module.pretrained:
            if not kwargs.get("initial_epoch"):
                warm_up_and_unfreeze(model, module, self.datamodule, batch_size=trainer.batch_size,
                                     seed=trainer.seed)
            else:
                unfreeze(model, module)
        kwargs.pop("shuffle", None)  # the dataset reshuffles every epoch, seeded
        return trainer.fit_loop(model, module, self.datamodule, epochs=kwargs.pop("epochs", 1),
                                leading_callbacks=kwargs.pop("callbacks", []), **kwargs)
