"""Backend-specific helpers, kept in one place: names, versions, threads, seeding, the JAX
compilation cache, gradients (each backend's own autodiff, for explanations) and data
parallelism over a host's devices."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform

import keras

__all__ = ["backend_name", "cpu_threads", "data_parallel", "enable_compilation_cache", "gradient",
           "has_tensorboard", "LIBRARIES", "seed_everything", "versions"]

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


def enable_compilation_cache(directory: str | os.PathLike | None = None) -> str | None:
    """Keep JAX's compiled programs on disk, so later processes skip recompiling them.

    Loading a model under JAX compiles an initializer per weight shape before the saved weights
    replace them (about 5 s on 2 cores); with the cache a second process loads in under 1 s.
    Default folder: ``$XRAYNET_CACHE_DIR/jax`` or ``~/.cache/xraynet/jax``; ``XRAYNET_JAX_CACHE=0``
    turns it off. No-op on other backends. Returns the folder in use, or None.
    """
    if backend_name() != "jax" or os.environ.get("XRAYNET_JAX_CACHE", "1") == "0":
        return None
    import jax

    base = os.environ.get("XRAYNET_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "xraynet")
    folder = str(directory or os.path.join(base, "jax"))
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


def gradient(fn, x):
    """Gradient of the scalar ``fn(x)`` with respect to the array ``x``, by the backend's own
    autodiff (``jax.grad``, ``tf.GradientTape`` or ``torch.autograd``); returned as NumPy.

    ``fn`` must be written with ``keras.ops`` (it receives a backend tensor).
    """
    import numpy as np

    name = backend_name()
    x = np.asarray(x, dtype=np.float32)
    if name == "jax":
        import jax

        return np.asarray(jax.grad(fn)(jax.numpy.asarray(x)))
    if name == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value = fn(tensor)
        return tape.gradient(value, tensor).numpy()
    if name == "torch":
        import torch

        tensor = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(fn(tensor), tensor)
        return grad.detach().cpu().numpy()
    raise NotImplementedError(f"gradients are not implemented for the {name} backend")


@contextlib.contextmanager
def data_parallel(devices: int, *, across_processes: bool = False):
    """Synchronous data parallelism over ``devices`` devices of this host, for building,
    compiling and fitting a model inside the block; ``devices`` = 1 does nothing.

    JAX: ``keras.distribution.DataParallel`` over the first ``devices`` devices (GPUs, else
    CPUs; on a CPU-only host ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` makes N).
    TensorFlow: ``tf.distribute.MirroredStrategy`` over GPUs, else over the host CPU split into
    ``devices`` logical devices (possible only before TensorFlow has started its runtime).
    Each batch is split across the devices, so batches must divide evenly: the data module pads
    the last one with zero-weight images. ``across_processes`` (JAX, after
    :func:`~xraynet.distributed.join_cluster`): ``devices`` counts the whole cluster's, and each
    process feeds its own share of every batch (docs/distributed.md).

    Raises:
        XRayNetError: fewer devices than asked, or a backend without data parallelism here.
    """
    from .errors import XRayNetError

    if devices <= 1:
        yield
        return
    name = backend_name()
    if name == "jax":
        found = keras.distribution.list_devices()
        if len(found) < devices:
            raise XRayNetError(f"--devices {devices}: JAX sees {len(found)} device(s) ({', '.join(found)}); "
                               "on a CPU host set XLA_FLAGS=--xla_force_host_platform_device_count="
                               f"{devices} before starting")
        keras.distribution.set_distribution(keras.distribution.DataParallel(
            devices=found[:devices], auto_shard_dataset=not across_processes))
        try:
            yield
        finally:
            keras.distribution.set_distribution(None)
        return
    if name == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if len(gpus) >= devices:
            names = [f"/device:GPU:{i}" for i in range(devices)]
        else:
            cpu = tf.config.list_physical_devices("CPU")[0]
            try:
                tf.config.set_logical_device_configuration(
                    cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
            except RuntimeError as exc:
                if len(tf.config.list_logical_devices("CPU")) < devices:
                    raise XRayNetError(f"--devices {devices}: TensorFlow's CPU devices are already "
                                       "fixed in this process; start a new one") from exc
            names = [d.name for d in tf.config.list_logical_devices("CPU")[:devices]]
        with tf.distribute.MirroredStrategy(names).scope():
            yield
        return
    raise XRayNetError(f"--devices {devices}: data parallelism is implemented for jax and "
                       f"tensorflow, not {name}")
