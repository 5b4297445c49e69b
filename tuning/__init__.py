"""Hyperparameter search for xraynet with KerasTuner's Hyperband.

Its names load on first use, as xraynet's do: the ``xraynet`` command line imports
:mod:`tuning.commands` to add ``tune`` and ``train-best``, and ``xraynet --help`` must answer
without loading Keras (or TensorFlow's start-up chatter before its log level is set).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xraynet.lazy import lazy_exports

#: public name -> the module that defines it
_EXPORTS = {"train_best": "best", "XRayHyperModel": "hypermodel", "module_from_values": "hypermodel",
            "SearchSettings": "settings", "run_search": "search", "SPACE": "space"}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .best import train_best
    from .hypermodel import XRayHyperModel, module_from_values
    from .search import run_search
    from .settings import SearchSettings
    from .space import SPACE
