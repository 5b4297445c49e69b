"""xraynet's default Keras backend, chosen before Keras is imported (no Keras import here).

TensorFlow trains the default model about twice as fast as JAX on a 2-core CPU (BENCHMARKS.md,
"Training"), so it comes first; an explicit ``KERAS_BACKEND`` always wins.
"""

from __future__ import annotations

import importlib.util
import os

PREFERENCE = ("tensorflow", "jax", "torch")


def choose_default_backend() -> str | None:
    """Set ``KERAS_BACKEND`` to the first installed backend of :data:`PREFERENCE` unless it is
    already set; returns the backend that Keras will use (None: none of them installed)."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    for name in PREFERENCE:
        if importlib.util.find_spec(name) is not None:
            os.environ["KERAS_BACKEND"] = name
            return name
    return None
