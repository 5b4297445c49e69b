"""The second phase of the refit study (docs/studies/REFIT.md; it failed its rule, so it is not
part of ``xraynet``): a fresh model trained on the training and validation images together for an
early-stopped fit's best epoch count, on that fit's learning-rate schedule, with nothing held out.
"""

from __future__ import annotations

import keras

from xraynet.backend import seed_everything
from xraynet.data import XRayDataModule
from xraynet.data.datamodule import balanced_weights
from xraynet.data.loaders import SplitDataset
from xraynet.module import XRayClassifier
from xraynet.trainer import Trainer


def refit_dataset(dm: XRayDataModule, *, batch_size: int, seed: int) -> SplitDataset:
    """Training and validation images together, reshuffled every epoch (seeded), each weighted by
    its class's balanced weight over both."""
    both = dm.split("train").concat(dm.split("val"))
    return SplitDataset(both, n_classes=len(dm.class_names), batch_size=batch_size, shuffle=True,
                        seed=seed, class_weight=balanced_weights(both.y, len(dm.class_names)))


def refit(trainer: Trainer, module: XRayClassifier, dm: XRayDataModule, *, epochs: int,
          callbacks: list | None = None) -> keras.Model:
    """A fresh model of ``module`` trained as ``trainer`` would (seed, batch size, the schedule of
    its ``epochs``) on :func:`refit_dataset` for ``epochs`` epochs, ``1 <= epochs <=
    trainer.epochs``; no validation, checkpoint choice or early stopping."""
    most = trainer.config.resolved(module.pretrained).epochs
    if not 1 <= epochs <= most:
        raise ValueError(f"refit epochs must be within 1..{most}, got {epochs}")
    seed_everything(trainer.seed)
    data = refit_dataset(dm, batch_size=trainer.batch_size, seed=trainer.seed)
    model = module.build()
    model.fit(data, epochs=epochs, shuffle=False, verbose=0,
              callbacks=module.callbacks(most) + list(callbacks or []))
    return model
