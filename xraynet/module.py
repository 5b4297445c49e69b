"""The module (LightningModule counterpart): model, loss, optimizer and metrics."""

from __future__ import annotations

import keras

from .models import ModelConfig, build_cnn

OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("cosine", "constant")


class XRayClassifier:
    """Builds and compiles the classifier.

    Args:
        model: architecture (:class:`ModelConfig`).
        learning_rate: initial learning rate (default 1e-3).
        optimizer: ``"adam"`` or ``"adamw"`` (default ``"adamw"``).
        weight_decay: decoupled weight decay for ``adamw`` (default 1e-4).
        label_smoothing: categorical label smoothing (default 0.0).
        schedule: ``"cosine"`` decays the learning rate to 1% over the run's steps (given to
            :meth:`build`), ``"constant"`` keeps it (default ``"cosine"``).
    """

    def __init__(self, *, model: ModelConfig = ModelConfig(), learning_rate: float = 1e-3,
                 optimizer: str = "adamw", weight_decay: float = 1e-4,
                 label_smoothing: float = 0.0, schedule: str = "cosine") -> None:
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        self.model_config = model
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        self.schedule = schedule

    def hparams(self) -> dict:
        """The resolved settings, for ``config.json``."""
        return {"model": self.model_config.to_dict(), "learning_rate": self.learning_rate,
                "optimizer": self.optimizer, "weight_decay": self.weight_decay,
                "label_smoothing": self.label_smoothing, "schedule": self.schedule}

    def make_optimizer(self, total_steps: int | None = None) -> keras.optimizers.Optimizer:
        """The optimizer; with ``total_steps`` and the cosine schedule, a decaying rate."""
        rate = self.learning_rate
        if self.schedule == "cosine" and total_steps:
            rate = keras.optimizers.schedules.CosineDecay(self.learning_rate, total_steps, alpha=0.01)
        if self.optimizer == "adam":
            return keras.optimizers.Adam(rate)
        return keras.optimizers.AdamW(rate, weight_decay=self.weight_decay)

    @staticmethod
    def metrics() -> list[keras.metrics.Metric]:
        return [keras.metrics.CategoricalAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]

    def build(self, total_steps: int | None = None) -> keras.Model:
        """A new compiled model (targets are one-hot); ``total_steps`` sizes the LR schedule."""
        model = build_cnn(self.model_config)
        model.compile(
            optimizer=self.make_optimizer(total_steps),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing),
            metrics=self.metrics(),
        )
        return model
