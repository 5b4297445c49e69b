"""Backend-specific helpers, kept in one place: names, versions, threads, seeding."""

from __future__ import annotations

import importlib.metadata
import os
import platform

import keras

LIBRARIES = ("keras", "jax", "jaxlib", "tensorflow", "tensorflow-cpu", "torch", "keras-tuner",
             "scikit-learn", "numpy", "pillow", "matplotlib")


def backend_name() -> str:
    """The Keras backend in use (set with ``KERAS_BACKEND`` before keras is imported)."""
    return keras.backend.backend()


def versions() -> dict[str, str]:
    """Installed versions of the libraries that shape a run (missing ones left out)."""
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def has_tensorboard() -> bool:
    """Whether TensorBoard logs can be written (needs tensorflow and tensorboard installed)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "tensorboard"))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend's global generator."""
    keras.utils.set_random_seed(seed)


def cpu_threads() -> int:
    """CPU cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
