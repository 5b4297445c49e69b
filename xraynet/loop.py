"""The one training loop and the one rule of when it stops, shared by every training stage: the
trainer's fit (:meth:`~xraynet.trainer.Trainer.fit_loop`), each search trial (through it), and a
pretrained backbone's head warm-up on cached features (:mod:`xraynet.transfer`).

:func:`fit_model` is the only call of ``model.fit`` in xraynet (Keras' own loop, wrapped, not
rewritten); :func:`early_stopping` and :func:`monitor_mode` are the one rule of when a stage
stops and which epoch is best."""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["early_stopping", "fit_model", "monitor_mode", "WARMUP_MONITOR", "warmup_patience"]

#: what the head's warm-up keeps its best epoch by
WARMUP_MONITOR = "val_loss"


def monitor_mode(monitor: str) -> str:
    """Whether ``monitor`` improves downwards (a loss: ``"min"``) or upwards (``"max"``): the one
    rule the trainer, the warm-up and the search share."""
    return "min" if "loss" in monitor else "max"


def early_stopping(monitor: str, patience: int, **kwargs) -> keras.callbacks.EarlyStopping:
    """The early stopping of every training stage: ``monitor`` in its own direction
    (:func:`monitor_mode`), ``patience`` epochs."""
    return keras.callbacks.EarlyStopping(monitor=monitor, mode=monitor_mode(monitor),
                                         patience=patience, **kwargs)


def warmup_patience(warmup_epochs: int) -> int:
    """The head's warm-up stops after a quarter of its epochs without improvement (at least 5)."""
    return max(5, warmup_epochs // 4)


def fit_model(model: keras.Model, x: Any, y: Any = None, *, validation_data: Any, epochs: int,
              class_weight: dict | None = None, callbacks: list | tuple = (),
              shuffle: bool = False, batch_size: int | None = None, verbose: int | str = "auto",
              **fit_kwargs) -> keras.callbacks.History:
    """The one training loop: ``model.fit`` on ``x`` (a dataset that batches and shuffles
    itself, seeded, so ``shuffle`` False; or arrays ``x``, ``y`` with ``batch_size`` and
    ``shuffle``), validated on ``validation_data`` every epoch, with the class weights and the
    callbacks (checkpoints, :func:`early_stopping`, history); ``fit_kwargs`` (e.g. the tuner's
    ``initial_epoch``) forwarded untouched."""
    return model.fit(x, y, validation_data=validation_data, epochs=epochs, batch_size=batch_size,
                     shuffle=shuffle, class_weight=class_weight, callbacks=list(callbacks),
                     verbose=verbose, **fit_kwargs)
