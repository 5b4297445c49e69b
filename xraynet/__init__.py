"""xraynet: train, tune and explain chest X-ray classifiers on Keras 3 (jax, tensorflow, torch).

The public API, Lightning-style: a data module, a classifier module, a trainer, and bundles,
configured by typed settings (:mod:`xraynet.config`).

Importing xraynet has no side effects: its names load on first use (so ``xraynet --help`` and
the settings answer without loading Keras), Keras' backend is whatever ``KERAS_BACKEND`` or
``~/.keras/keras.json`` says (the ``xraynet`` command line and scripts choose a default before
Keras loads; see :mod:`xraynet.default_backend`), and xraynet's Keras layers are registered
when Keras-using modules load (:mod:`xraynet.layers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_exports

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "AuditResult": "data", "SplitImages": "data", "XRayDataModule": "data",
    "AugmentationConfig": "config", "DataConfig": "config", "ModelConfig": "config",
    "OptimConfig": "config", "RunConfig": "config", "TrainerConfig": "config",
    "Bundle": "bundle", "load_bundle": "bundle", "export_bundle": "export",
    "BundleError": "errors", "DatasetError": "errors", "XRayNetError": "errors",
    "ConfigError": "settings",
    "classification_metrics": "evaluation", "evaluate_run": "evaluation", "evaluate_splits": "evaluation",
    "Explainer": "explain", "Explanation": "explain",
    "IntensityNormalization": "layers", "XRayAugmentation": "layers",
    "build_cnn": "models",
    "XRayClassifier": "module",
    "Prediction": "predict", "Predictor": "predict",
    "FitResult": "trainer", "Trainer": "trainer",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .bundle import Bundle, load_bundle
    from .export import export_bundle
    from .config import (AugmentationConfig, DataConfig, ModelConfig, OptimConfig, RunConfig,
                         TrainerConfig)
    from .data import AuditResult, SplitImages, XRayDataModule
    from .errors import BundleError, DatasetError, XRayNetError
    from .evaluation import classification_metrics, evaluate_run, evaluate_splits
    from .explain import Explainer, Explanation
    from .layers import IntensityNormalization, XRayAugmentation
    from .models import build_cnn
    from .module import XRayClassifier
    from .predict import Prediction, Predictor
    from .config_schema import ConfigError
    from .trainer import FitResult, Trainer
