"""The default Keras backend of xraynet's command line and scripts, chosen before Keras is
imported (no Keras import here). The library itself never chooses: ``import xraynet`` leaves
``KERAS_BACKEND`` and ``~/.keras/keras.json`` in charge.

TensorFlow trains the default model about twice as fast as JAX on a 2-core CPU (BENCHMARKS.md,
"Training"), so it comes first; an explicit ``KERAS_BACKEND`` or a ``keras.json`` that names a
backend always wins.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

__all__ = ["choose_default_backend", "configured_backend", "PREFERENCE"]

PREFERENCE = ("tensorflow", "jax", "torch")


def configured_backend() -> str | None:
    """The backend the user chose: ``KERAS_BACKEND``, else ``backend`` in
    ``$KERAS_HOME/keras.json`` (default ``~/.keras/keras.json``); None when neither says."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        backend = json.loads((home / "keras.json").read_text()).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if isinstance(backend, str) and backend else None


def choose_default_backend() -> str | None:
    """For entry points, before Keras is imported: the user's backend (:func:`configured_backend`)
    if any; otherwise set ``KERAS_BACKEND`` to the first installed backend of :data:`PREFERENCE`.
    Returns the backend Keras will use (None: none of them installed)."""
    chosen = configured_backend()
    if chosen:
        return chosen
    for name in PREFERENCE:
        if importlib.util.find_spec(name) is not None:
            os.environ["KERAS_BACKEND"] = name
            return name
    return None
