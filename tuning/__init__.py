"""Hyperparameter search for xraynet with KerasTuner's Hyperband.

Its names load on first use, as xraynet's do: the ``xraynet`` command line imports
:mod:`tuning.commands` to add ``tune`` and ``train-best``, and ``xraynet --help`` must answer
without loading Keras (or TensorFlow's start-up chatter before its log level is set).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> the module that defines it
_EXPORTS = {"train_best": "best", "XRayHyperModel": "hypermodel", "module_from_values": "hypermodel",
            "SearchSettings": "settings", "run_search": "search", "SPACE": "space"}

__all__ = ["SPACE", "SearchSettings", "XRayHyperModel", "module_from_values", "run_search",
           "train_best"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tuning' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .best import train_best
    from .hypermodel import XRayHyperModel, module_from_values
    from .search import run_search
    from .settings import SearchSettings
    from .space import SPACE
