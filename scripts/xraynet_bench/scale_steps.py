"""The scale benchmark's measurements (``scripts/scale_bench.py``), one per process so that each
peak RSS is its own: ``python -m xraynet_bench.scale_steps STEP ARGS...`` prints one JSON line.

Steps: ``decode DATA CACHE``, ``audit CACHE REPEATS``, ``hashes CACHE``, ``fit DATA CACHE OUT``,
``train DATA CACHE STEPS``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def decode(data: str, cache: str) -> dict:
    """Decode and set up ``data`` into ``cache``."""
    from xraynet.cli.arguments import setup_process

    setup_process(quiet=True)
    from xraynet.data import XRayDataModule

    t = time.perf_counter()
    dm = XRayDataModule(root=data, cache_dir=cache).setup()
    return {"seconds": time.perf_counter() - t, "images": sum(len(dm.split(s)) for s in ("train", "val", "test")),
            "in_memory": dm.in_memory, "peak_rss_mib": peak_rss_mib()}


def audit(cache: str, repeats: str) -> dict:
    """The duplicate audit of a store's hashes: the best of ``repeats`` runs (the smallest sets
    take a few hundredths of a second), a linear reference, and its own traced allocations."""
    import tracemalloc

    from xraynet.data.audit import audit as run_audit
    from xraynet.data.hamming_search import index_keys

    store = next(Path(cache).glob("images-*"))
    meta = json.loads((store / "complete.json").read_text())
    hashes = np.load(store / "dhash.npy")
    splits = [p.split("/")[0] for p in meta["paths"]]
    before = peak_rss_mib()
    seconds = []
    for _ in range(int(repeats)):
        t = time.perf_counter()
        result = run_audit(meta["paths"], splits, meta["sha256"], hashes)
        seconds.append(time.perf_counter() - t)
    after = peak_rss_mib()
    keys = [k.copy() for k in index_keys(hashes, result.max_distance)]  # one copy of n keys per index
    buffer, reference = np.empty_like(keys[0]), []
    for _ in range(3):
        t = time.perf_counter()
        for k in keys:
            np.copyto(buffer, k)
        reference.append(time.perf_counter() - t)
    del keys
    tracemalloc.start()  # again, allocations traced (NumPy's arrays included): the audit's own peak
    run_audit(meta["paths"], splits, meta["sha256"], hashes)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"seconds": min(seconds), "repeats": int(repeats), "reference_seconds": min(reference),
            "pairs": len(result.pairs), "leaked": len(result.leaked_test),
            "peak_rss_mib": after, "growth_mib": after - before, "traced_mib": traced}


def hashes(cache: str) -> dict:
    """How alike 2,000 of the store's difference hashes are, and the share the audit compares."""
    from xraynet.data.hamming_search import candidate_share
    from xraynet.defaults import DEFAULT_MAX_DISTANCE

    store = next(Path(cache).glob("images-*"))
    values = np.load(store / "dhash.npy")[:2000]
    n = len(values)
    distances = np.concatenate([(values[i + 1:] != values[i]).sum(axis=1) for i in range(n - 1)])
    return {"sample": n, "median_distance": float(np.median(distances)),
            "compared_share": candidate_share(values, DEFAULT_MAX_DISTANCE)}


def fit(data: str, cache: str, out: str) -> dict:
    """A whole ``xraynet fit`` of one epoch."""
    from xraynet.cli import main

    t = time.perf_counter()
    rc = main(["fit", "--data", data, "--cache-dir", cache, "--out", out, "--epochs", "1"])
    return {"rc": rc, "seconds": time.perf_counter() - t, "peak_rss_mib": peak_rss_mib()}


def train(data: str, cache: str, steps: str) -> dict:
    """Training throughput of the default CNN, ``steps`` steps of 16 images (after compilation)."""
    from xraynet.cli.arguments import setup_process

    setup_process(quiet=True)
    import keras

    from xraynet import ModelConfig, XRayClassifier, XRayDataModule

    dm = XRayDataModule(root=data, cache_dir=cache).setup()
    batch = 16
    model = XRayClassifier(model=ModelConfig(n_classes=len(dm.class_names))).build()
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.t)

    data_set = dm.train_dataset(batch_size=batch, seed=0)
    model.fit(data_set, epochs=1, steps_per_epoch=min(int(steps), len(data_set)), verbose=0,
              callbacks=[Clock()])
    steady = sorted(times[5:])  # after compilation
    return {"images_per_s": batch * len(steady) / sum(steady), "steps": len(times),
            "in_memory": dm.in_memory, "peak_rss_mib": peak_rss_mib()}


STEPS = {"decode": decode, "audit": audit, "hashes": hashes, "fit": fit, "train": train}

if __name__ == "__main__":
    print(json.dumps(STEPS[sys.argv[1]](*sys.argv[2:])))
