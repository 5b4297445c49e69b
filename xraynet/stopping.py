"""When a training stage stops: the one early-stopping rule of the trainer's loop, the head's
warm-up and the search's trials (a monitor's direction, its patience)."""

from __future__ import annotations

import keras

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
