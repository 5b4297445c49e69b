"""Hyperparameter search for xraynet with KerasTuner's Hyperband."""

from .best import train_best
from .hypermodel import XRayHyperModel, module_from_values
from .search import SearchSettings, run_search
from .space import SPACE

__all__ = ["SPACE", "SearchSettings", "XRayHyperModel", "module_from_values", "run_search",
           "train_best"]
