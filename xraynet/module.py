"""The module (LightningModule counterpart): model, loss, optimizer and metrics."""

from __future__ import annotations

import math
from dataclasses import asdict

import keras

from .config import OptimConfig
from .models import ModelConfig
from .models.backbones import build_model
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
            weights (Polyak averaging) and validation, checkpoints and the final model use it,
            with batch-norm statistics recomputed for it (:class:`RecomputeBatchNorm`, where
            :meth:`callbacks` is given the training data; default None: off).
        warmup_epochs: pretrained backbones: epochs of the head's warm-up on the frozen
            backbone's features, at ``learning_rate`` (default 40; see :mod:`xraynet.transfer`).
        warmup_views: pretrained backbones: augmented views of each training image (the
            model's own augmentation) whose features the warm-up trains on beside the clean ones
            (default 0: clean features only).
        fine_tune_lr: pretrained backbones: the fine-tuning stage's learning rate as a share of
            ``learning_rate`` (default 0.1).
    """

    def __init__(self, *, model: ModelConfig = ModelConfig(), learning_rate: float = _D.learning_rate,
                 optimizer: str = _D.optimizer, weight_decay: float = _D.weight_decay,
                 label_smoothing: float = _D.label_smoothing, schedule: str = _D.schedule,
                 ema_momentum: float | None = _D.ema_momentum,
                 warmup_epochs: int = _D.warmup_epochs, warmup_views: int = _D.warmup_views,
                 fine_tune_lr: float = _D.fine_tune_lr) -> None:
        self.config = OptimConfig(learning_rate=learning_rate, optimizer=optimizer,
                                  weight_decay=weight_decay, label_smoothing=label_smoothing,
                                  schedule=schedule, ema_momentum=ema_momentum,
                                  warmup_epochs=warmup_epochs, warmup_views=warmup_views,
                                  fine_tune_lr=fine_tune_lr)  # validates
        self.model_config = model

    @classmethod
    def from_config(cls, model: ModelConfig, optim: OptimConfig) -> "XRayClassifier":
        """The module of a model and an optimisation config (e.g. :class:`~xraynet.config.RunConfig`'s)."""
        return cls(model=model, **asdict(optim))

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
