"""Transfer learning's first stage, as the field runs it: the head warmed up on a frozen backbone,
then the backbone's top blocks opened for fine-tuning.

The frozen backbone's pooled features of the training and validation images are computed once
(without augmentation, which is what lets them be cached) and the head is trained on them for
``warmup_epochs``, keeping its best epoch by validation loss. Then the top
``fine_tune_blocks`` blocks are unfrozen (batch norm stays in inference mode) and the model is
recompiled at the fine-tuning learning rate; the caller's fit (the one loop, :func:`~xraynet.loop.fit_model`) is the second stage,
with the augmentation, checkpoints and callbacks of any fit. With ``fine_tune_blocks`` 0 there
is no second stage: the model is a linear probe. The Trainer and the search's HyperModel both
call :func:`warm_up_and_unfreeze`.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from pathlib import Path

import keras
import numpy as np

from .runs import WARMUP_HISTORY
from .models.backbones import feature_model, head_model, set_fine_tuning
from .loop import WARMUP_MONITOR, early_stopping, fit_model, warmup_patience

log = logging.getLogger("xraynet")
#: computed features kept in memory (a search's trials share their backbone's features)
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 4


def warm_up_and_unfreeze(model: keras.Model, module, datamodule, *, batch_size: int, seed: int,
                         run_dir: str | Path | None = None, verbose: int | str = 0) -> dict:
    """Stage one on ``model`` (built by ``module``, its backbone frozen): train the head on
    the cached features, then unfreeze the top blocks and recompile for stage two. Returns the
    warm-up's history (also written to ``run_dir/warmup.csv`` where given)."""
    config = module.model_config
    (x_train, y_train), (x_val, y_val) = features_of(model, datamodule, config,
                                                     views=module.warmup_views, seed=seed)
    head = head_model(model)
    module.compile(head, module.learning_rate, ema=False)
    weights = datamodule.class_weights()
    keras.utils.set_random_seed(seed)
    callbacks: list = [early_stopping(WARMUP_MONITOR, warmup_patience(module.warmup_epochs),
                                      restore_best_weights=True)]
    if run_dir is not None:
        callbacks.append(keras.callbacks.CSVLogger(str(Path(run_dir) / WARMUP_HISTORY)))
    history = fit_model(head, x_train, y_train, validation_data=(x_val, y_val),  # arrays: shuffled
                        epochs=module.warmup_epochs, batch_size=batch_size, class_weight=weights,
                        shuffle=True, callbacks=callbacks, verbose=verbose)
    opened = unfreeze(model, module)
    best = float(np.min(history.history[WARMUP_MONITOR]))
    log.info("head warm-up: %d epochs, best %s %.4f; fine-tuning %d layers of the backbone",
             len(history.history[WARMUP_MONITOR]), WARMUP_MONITOR, best, len(opened))
    return history.history


def unfreeze(model: keras.Model, module) -> list[str]:
    """Open the top ``fine_tune_blocks`` of the backbone and recompile ``model`` at the
    fine-tuning learning rate (stage two's start); returns the opened layers' names."""
    config = module.model_config
    opened = set_fine_tuning(model, config.fine_tune_blocks, config.backbone)
    module.compile(model)
    return opened


def features_of(model: keras.Model, datamodule, config, *, views: int = 0,
                seed: int = 0) -> tuple[tuple, tuple]:
    """``((x_train, y_train), (x_val, y_val))``: the frozen backbone's pooled features and one-hot
    labels of the training and validation splits (cached per backbone, input, split and views).
    With ``views`` > 0 the training features also hold that many passes of every training image
    through the model's own augmentation (drawn from ``seed``), so the head learns features of
    blurred, noisy, re-exposed and re-framed images too; validation stays clean."""
    n_classes = len(datamodule.class_names)
    key = (*_cache_key(config, datamodule), views, seed if views else None)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    extractor = feature_model(model)
    augment = _augmentation(model, config, seed) if views else None
    out = []
    for split in ("train", "val"):
        dataset = datamodule.dataset(split, batch_size=32)
        passes = 1 + (views if split == "train" else 0)
        chunks = []
        for n in range(passes):
            for images in dataset.chunks(32):
                if n:
                    images = keras.ops.convert_to_numpy(
                        augment(images.astype(np.float32), training=True))
                chunks.append(np.asarray(extractor.predict_on_batch(images)))
        x = np.concatenate(chunks) if chunks else np.zeros((0, extractor.output.shape[-1]))
        y = np.tile(np.eye(n_classes, dtype=np.float32)[dataset.labels], (passes, 1))
        out.append((x.astype(np.float32), y))
    _CACHE[key] = tuple(out)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return _CACHE[key]


def _augmentation(model: keras.Model, config, seed: int):
    """A fresh copy of the model's augmentation layer, seeded (the model's own draws untouched)."""
    from .layers import XRayAugmentation

    try:
        layer = model.get_layer("augment")
    except ValueError:
        raise ValueError("warmup_views needs the model's augmentation (ModelConfig.augmentation)")
    return XRayAugmentation.from_config({**layer.get_config(), "seed": seed, "name": "views"})


def _cache_key(config, datamodule) -> tuple:
    digest = hashlib.sha1()
    for split in ("train", "val"):
        dataset = datamodule.dataset(split, batch_size=32)
        digest.update("\n".join(dataset.paths).encode())
        digest.update(np.asarray(dataset.labels).tobytes())
    return (config.backbone, config.intensity, config.image_size, datamodule.resize,
            str(datamodule.source), digest.hexdigest())
