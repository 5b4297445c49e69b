"""xraynet: train, tune and explain chest X-ray classifiers on Keras 3 (jax, tensorflow, torch).

The public API, Lightning-style: a data module, a classifier module, a trainer, and bundles.
"""

from .default_backend import choose_default_backend

choose_default_backend()  # before Keras is imported: KERAS_BACKEND, else tensorflow, jax, torch

from .bundle import Bundle, load_bundle, save_bundle
from .data import AuditResult, SplitArrays, XRayDataModule
from .errors import BundleError, DatasetError, XRayNetError
from .evaluation import classification_metrics, evaluate_splits
from .explain import Explainer, Explanation
from .layers import IntensityNormalization, XRayAugmentation
from .models import AugmentationConfig, ModelConfig, build_cnn
from .module import XRayClassifier
from .predict import Prediction, Predictor
from .trainer import FitResult, Trainer

__version__ = "0.1.0"

__all__ = [
    "AuditResult", "AugmentationConfig", "Bundle", "BundleError", "DatasetError", "Explainer",
    "Explanation", "FitResult",
    "IntensityNormalization", "ModelConfig", "Prediction", "Predictor", "SplitArrays", "Trainer",
    "XRayAugmentation", "XRayClassifier", "XRayDataModule", "XRayNetError", "build_cnn",
    "classification_metrics", "evaluate_splits", "load_bundle", "save_bundle",
]
