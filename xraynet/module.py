"""The module (LightningModule counterpart): model, loss, optimizer and metrics."""

from __future__ import annotations

import math
from dataclasses import replace

import keras

from .config import OptimConfig
from .models import ModelConfig
from .models.backbones import build_model
from .config_schema import ConfigView, configure

__all__ = ["recompute_batch_norm", "RECOMPUTE_BATCHES", "RecomputeBatchNorm", "XRayClassifier"]


class XRayClassifier(ConfigView):
    """Builds and compiles the classifier.

    Args:
        model: architecture (:class:`ModelConfig`; default: every default).
        config: loss, optimizer and schedule (:class:`~xraynet.config.OptimConfig`, where each
            setting's default, range and meaning is declared); default: every default.
        **overrides: any :class:`~xraynet.config.OptimConfig` setting by name
            (``learning_rate``, ``optimizer``, ``weight_decay``, ``label_smoothing``,
            ``schedule``, ``ema_momentum``, ``warmup_epochs``, ``warmup_views``,
            ``fine_tune_lr``), validated as the config validates itself.

    With ``ema_momentum`` set, validation, checkpoints and the final model use the averaged
    weights, with batch-norm statistics recomputed for them (:class:`RecomputeBatchNorm`, where
    :meth:`callbacks` is given the training data). A pretrained backbone trains in two stages
    (:mod:`xraynet.transfer`): the head's warm-up at ``learning_rate``, then fine-tuning at
    ``fine_tune_lr`` times it.
    """

    def __init__(self, *, model: ModelConfig | None = None, config: OptimConfig | None = None,
                 **overrides) -> None:
        self.config = configure(OptimConfig, config, overrides, section="module")
        self.model_config = model if model is not None else ModelConfig()

    @classmethod
    def from_config(cls, model: ModelConfig, optim: OptimConfig) -> "XRayClassifier":
        """The module of a model and an optimisation config (e.g. :class:`~xraynet.config.RunConfig`'s)."""
        return cls(model=model, config=optim)

    @property
    def pretrained(self) -> bool:
        """Whether the model's backbone comes trained (two stages: head warm-up, fine-tuning)."""
        return self.model_config.pretrained

    @property
    def fit_learning_rate(self) -> float:
        """The initial learning rate of ``model.fit``: ``learning_rate``, or for a pretrained
        backbone its fine-tuning share (the head's warm-up runs at ``learning_rate``)."""
        return self.learning_rate * (self.fine_tune_lr if self.pretrained else 1.0)

    def make_optimizer(self, learning_rate: float | None = None,
                       ema: bool = True) -> keras.optimizers.Optimizer:
        """The optimizer at ``learning_rate`` (default :attr:`fit_learning_rate`)."""
        rate = self.fit_learning_rate if learning_rate is None else learning_rate
        use_ema = ema and self.ema_momentum is not None
        kw = {"use_ema": use_ema, "ema_momentum": self.ema_momentum or 0.99}
        if self.optimizer == "adam":
            return keras.optimizers.Adam(rate, **kw)
        return keras.optimizers.AdamW(rate, weight_decay=self.weight_decay, **kw)

    def learning_rate_at(self, epoch: int, epochs: int) -> float:
        """The scheduled learning rate of ``epoch`` (0-based) in a run of ``epochs`` epochs."""
        if self.schedule == "constant" or epochs <= 1:
            return self.fit_learning_rate
        progress = min(epoch / (epochs - 1), 1.0)
        return self.fit_learning_rate * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * progress)))

    def callbacks(self, epochs: int, train_data=None) -> list[keras.callbacks.Callback]:
        """Callbacks the module needs during ``fit``: the learning-rate schedule, and when EMA
        is on the swap of the averaged weights in for validation and checkpoints, with the
        batch-norm statistics recomputed for them from ``train_data`` (batches ``(x, y, ...)``
        by index, e.g. the training dataset); these must come before the trainer's checkpoint
        callback."""
        callbacks: list[keras.callbacks.Callback] = []
        if self.schedule != "constant":
            callbacks.append(keras.callbacks.LearningRateScheduler(
                lambda epoch, lr: self.learning_rate_at(epoch, epochs)))
        if self.ema_momentum is not None:
            callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
            if train_data is not None:
                callbacks.append(RecomputeBatchNorm(train_data))
        return callbacks

    @staticmethod
    def metrics() -> list[keras.metrics.Metric]:
        return [keras.metrics.CategoricalAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]

    def loss(self) -> keras.losses.Loss:
        return keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing)

    def compile(self, model: keras.Model, learning_rate: float | None = None, *,
                ema: bool = True) -> keras.Model:
        """Compile ``model`` with the module's loss, metrics and optimizer (at
        ``learning_rate``, default :attr:`fit_learning_rate`)."""
        model.compile(optimizer=self.make_optimizer(learning_rate, ema), loss=self.loss(),
                      metrics=self.metrics())
        return model

    def seed_from(self, seed: int) -> "XRayClassifier":
        """Give the model ``seed`` (the run's) where its config leaves its seed to the run; a
        seed the config names is kept. The trainer calls it before building."""
        if self.model_config.seed is None:
            self.model_config = replace(self.model_config, seed=seed)
        return self

    def build(self) -> keras.Model:
        """A new compiled model (targets are one-hot); a pretrained backbone comes frozen (see
        :func:`xraynet.transfer.warm_up_and_unfreeze` for the two stages)."""
        return self.compile(build_model(self.model_config))


#: training batches whose statistics the averaged weights' batch norm takes
RECOMPUTE_BATCHES = 8


class RecomputeBatchNorm(keras.callbacks.Callback):
    """Batch-norm moving statistics recomputed for the weights in the model when validation
    begins (the averaged weights, swapped in by :class:`keras.callbacks.SwapEMAWeights` just
    before): the moving statistics were gathered with the live weights, and the averaged ones
    give other activations (SWA's batch-norm update). A cumulative average over the first
    ``batches`` training batches, run in training mode without touching the weights; validation,
    the epoch's checkpoint and the saved model then see statistics that match their weights."""

    def __init__(self, data, batches: int = RECOMPUTE_BATCHES) -> None:
        super().__init__()
        self.data, self.batches = data, batches

    def on_test_begin(self, logs=None) -> None:
        recompute_batch_norm(self.model, (self.data[i][0] for i in range(min(self.batches, len(self.data)))))


def recompute_batch_norm(model: keras.Model, batches) -> int:
    """Reset every batch-norm layer's moving statistics to the cumulative average of their batch
    statistics over ``batches`` (images), the model run in training mode; returns the batches
    used (0: the model has no batch norm, or there were no batches)."""
    layers = list(_batch_norms(model))
    if not layers:
        return 0
    momenta, used = [layer.momentum for layer in layers], 0
    try:
        for used, images in enumerate(batches, start=1):
            for layer in layers:
                layer.momentum = (used - 1) / used  # the first batch replaces, later ones average
            model(keras.ops.convert_to_tensor(images, dtype="float32"), training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return used


def _batch_norms(layer: keras.layers.Layer):
    """Every batch-norm layer inside ``layer`` (nested models included)."""
    for inner in getattr(layer, "layers", []):
        if isinstance(inner, keras.layers.BatchNormalization):
            yield inner
        else:
            yield from _batch_norms(inner)
