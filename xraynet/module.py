"""The module (LightningModule counterpart): model, loss, optimizer and metrics."""

from __future__ import annotations

import math
from dataclasses import asdict

import keras

from .config import OptimConfig
from .models import ModelConfig, build_cnn
from .settings import ConfigView

_D = OptimConfig()  # the defaults, declared once in xraynet.config


class XRayClassifier(ConfigView):
    """Builds and compiles the classifier.

    Args:
        model: architecture (:class:`ModelConfig`).
        learning_rate: initial learning rate (default 1e-3).
        optimizer: ``"adam"`` or ``"adamw"`` (default ``"adamw"``).
        weight_decay: decoupled weight decay for ``adamw`` (default 1e-4).
        label_smoothing: categorical label smoothing (default 0.0).
        schedule: ``"cosine"`` decays the learning rate per epoch to 1% over the run (see
            :meth:`callbacks`), ``"constant"`` keeps it (default ``"cosine"``).
        ema_momentum: when set, the optimizer keeps an exponential moving average of the
            weights (Polyak averaging) and validation, checkpoints and the final model use it
            (default None: off).
    """

    def __init__(self, *, model: ModelConfig = ModelConfig(), learning_rate: float = _D.learning_rate,
                 optimizer: str = _D.optimizer, weight_decay: float = _D.weight_decay,
                 label_smoothing: float = _D.label_smoothing, schedule: str = _D.schedule,
                 ema_momentum: float | None = _D.ema_momentum) -> None:
        self.config = OptimConfig(learning_rate=learning_rate, optimizer=optimizer,
                                  weight_decay=weight_decay, label_smoothing=label_smoothing,
                                  schedule=schedule, ema_momentum=ema_momentum)  # validates
        self.model_config = model

    @classmethod
    def from_config(cls, model: ModelConfig, optim: OptimConfig) -> "XRayClassifier":
        """The module of a model and an optimisation config (e.g. :class:`~xraynet.config.RunConfig`'s)."""
        return cls(model=model, **asdict(optim))

    def make_optimizer(self) -> keras.optimizers.Optimizer:
        ema = {"use_ema": self.ema_momentum is not None, "ema_momentum": self.ema_momentum or 0.99}
        if self.optimizer == "adam":
            return keras.optimizers.Adam(self.learning_rate, **ema)
        return keras.optimizers.AdamW(self.learning_rate, weight_decay=self.weight_decay, **ema)

    def learning_rate_at(self, epoch: int, epochs: int) -> float:
        """The scheduled learning rate of ``epoch`` (0-based) in a run of ``epochs`` epochs."""
        if self.schedule == "constant" or epochs <= 1:
            return self.learning_rate
        progress = min(epoch / (epochs - 1), 1.0)
        return self.learning_rate * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * progress)))

    def callbacks(self, epochs: int) -> list[keras.callbacks.Callback]:
        """Callbacks the module needs during ``fit``: the learning-rate schedule, and the swap of
        the averaged weights in for validation and checkpoints when EMA is on (these must come
        before the trainer's checkpoint callback)."""
        callbacks: list[keras.callbacks.Callback] = []
        if self.schedule != "constant":
            callbacks.append(keras.callbacks.LearningRateScheduler(
                lambda epoch, lr: self.learning_rate_at(epoch, epochs)))
        if self.ema_momentum is not None:
            callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
        return callbacks

    @staticmethod
    def metrics() -> list[keras.metrics.Metric]:
        return [keras.metrics.CategoricalAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]

    def build(self) -> keras.Model:
        """A new compiled model (targets are one-hot)."""
        model = build_cnn(self.model_config)
        model.compile(
            optimizer=self.make_optimizer(),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing),
            metrics=self.metrics(),
        )
        return model
