"""Benchmark sections measured inside one process, on the Keras backend that process runs."""

from __future__ import annotations

import glob
import json
import time
from pathlib import Path

import numpy as np

from .flops import training_flops
from .timing import epoch_timer, peak_rss_mib, percentiles_ms


def matmul_peak(*, size: int = 1024, seconds: float = 3.0) -> dict:
    """Best float32 matmul GFLOP/s of NumPy and of the Keras backend (the machine's peak here)."""
    import keras

    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    flops = 2.0 * size**3

    def best_rate(fn) -> float:
        fn()  # warm-up (and compilation)
        best, end = 0.0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            fn()
            best = max(best, flops / (time.perf_counter() - t))
        return best / 1e9

    ka = keras.ops.convert_to_tensor(a)
    rates = {"numpy": best_rate(lambda: a @ a),
             keras.backend.backend(): best_rate(
                 lambda: keras.ops.convert_to_numpy(keras.ops.matmul(ka, ka)))}
    return {"size": size, "gflops": rates, "peak_gflops": max(rates.values())}


def input_pipeline(data: str, *, image_size: int, cache_dir: str, batch_size: int = 16,
                   warm_repeats: int = 5) -> dict:
    """Images/s of xraynet's data pipeline alone: cold (decode and write the cache) and warm
    (cache load), each ending in one epoch of shuffled training batches. Augmentation runs
    inside the model's compiled training step; its cost is in the training figures. The warm
    figure is the median of ``warm_repeats`` fresh set-ups: one takes about 0.1 s, so a single
    timing moves by a third with the machine's noise."""
    from xraynet.data import XRayDataModule

    def one_epoch(dm) -> int:
        x = dm.split("train").x
        order = np.random.default_rng(0).permutation(len(x))
        for i in range(0, len(x), batch_size):
            x[order[i:i + batch_size]]
        return len(x)

    t = time.perf_counter()
    cold = XRayDataModule(root=data, image_size=image_size, cache_dir=cache_dir, use_cache=True)
    cold.setup()
    one_epoch(cold)
    cold_s = time.perf_counter() - t
    n_files = sum(len(s) for s in (cold.train, cold.val, cold.test)) + len(cold.skipped)
    warm_times = []
    for _ in range(max(1, warm_repeats)):
        t = time.perf_counter()
        warm = XRayDataModule(root=data, image_size=image_size, cache_dir=cache_dir).setup()
        n = one_epoch(warm)
        warm_times.append(time.perf_counter() - t)
    warm_s = float(np.median(warm_times))
    return {"files": n_files, "cold_images_per_second": n_files / cold_s,
            "warm_images_per_second": n / warm_s,
            "warm_setup_and_epoch_seconds": warm_s, "warm_repeats_seconds": warm_times,
            "cold_seconds": cold_s, "cache_hit": warm.cache_hit}


def training(data: str, *, image_size: int, cache_dir: str, epochs: int = 4,
             batch_size: int = 16) -> dict:
    """Train images/s and first-epoch overhead of the default model; FLOPs per image."""
    import keras

    from xraynet.data import XRayDataModule
    from xraynet.models import ModelConfig
    from xraynet.module import XRayClassifier

    dm = XRayDataModule(root=data, image_size=image_size, cache_dir=cache_dir).setup()
    n = len(dm.class_names)
    module = XRayClassifier(model=ModelConfig(image_size=image_size, n_classes=n))
    model = module.build()
    seconds: list[float] = []
    model.fit(dm.train_dataset(batch_size=batch_size, seed=0), epochs=epochs, shuffle=False,
              callbacks=[epoch_timer(keras.callbacks.Callback, seconds)], verbose=0)
    steady = float(np.median(seconds[1:])) if len(seconds) > 1 else seconds[0]
    per_image = training_flops(model)
    rate = len(dm.split("train")) / steady
    return {"epochs": epochs, "train_images": len(dm.split("train")), "epoch_seconds": seconds,
            "first_epoch_overhead_seconds": seconds[0] - steady, "images_per_second": rate,
            "training_flops_per_image": per_image, "forward_flops_per_image": per_image // 3,
            "achieved_gflops": rate * per_image / 1e9, "peak_rss_mib": peak_rss_mib()}


def inference(model_dir: str, images: list[str], *, calls: int = 100, batch: int = 64) -> dict:
    """Load time, first prediction, single-image latency (file to probabilities) and batch rate."""
    from xraynet.data.decode import decode_image
    from xraynet.predict import Predictor

    t = time.perf_counter()
    predictor = Predictor.from_path(model_dir)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    predictor.predict_files(images[:1])
    first_s = time.perf_counter() - t
    latencies = []
    for i in range(calls):
        t = time.perf_counter()
        predictions, _ = predictor.predict_files([images[i % len(images)]])
        latencies.append(time.perf_counter() - t)
        assert predictions
    x = np.stack([decode_image(p, predictor.settings) for p in images[:batch]])
    x = np.concatenate([x] * max(1, -(-batch // len(x))))[:batch]
    predictor.predict_arrays(x)  # warm-up at this batch size
    t = time.perf_counter()
    repeats = 5
    for _ in range(repeats):
        predictor.predict_arrays(x)
    batch_rate = repeats * len(x) / (time.perf_counter() - t)
    return {"load_seconds": load_s, "first_prediction_seconds": first_s,
            "load_plus_first_seconds": load_s + first_s, "single_image": percentiles_ms(latencies),
            "batch_size": len(x), "batch_images_per_second": batch_rate}


def default_fit(data: str, *, seed: int, out: str, cache_dir: str, extra: list[str]) -> dict:
    """``xraynet fit`` with its defaults (and ``seed``): test metrics, wall time, peak RSS."""
    from xraynet.cli import main

    t = time.perf_counter()
    code = main(["-q", "fit", "--data", data, "--seed", str(seed), "--out", out,
                 "--cache-dir", cache_dir, *extra])
    wall = time.perf_counter() - t
    run_dir = max(glob.glob(f"{out}/fit-*"), key=lambda p: Path(p).stat().st_mtime)
    splits = json.loads((Path(run_dir) / "metrics.json").read_text())["splits"]
    keep = ("n", "accuracy", "macro_f1", "macro_auc_ovr")
    trust = json.loads((Path(run_dir) / "trust.json").read_text())
    acquisition = trust["acquisition"]
    stress = {"acquisition_changed": {k: v["changed"] for k, v in acquisition["variants"].items()},
              "acquisition_accuracy": {k: v["accuracy"] for k, v in acquisition["variants"].items()},
              "max_changed": acquisition["max_changed"],
              "exposure_changed": trust["exposure"]["changed_any"]}
    return {"returncode": code, "seed": seed, "run_dir": run_dir, "in_process_seconds": wall,
            "metrics": {s: {k: splits[s][k] for k in keep} for s in ("test", "test_leak_free")},
            "stress": stress,
            "best_epoch": json.loads((Path(run_dir) / "metadata.json").read_text())["best_epoch"],
            "peak_rss_mib": peak_rss_mib()}


def default_search(data: str, *, out: str, cache_dir: str, extra: list[str]) -> dict:
    """The default Hyperband search (fresh): trials, epochs trained, wall time, peak RSS."""
    import argparse
    import csv

    from tuning import SearchSettings
    from tuning.commands import add_tune_args, run_tune
    from xraynet.cli.arguments import settings_from_args

    parser = argparse.ArgumentParser()
    add_tune_args(parser)
    args = parser.parse_args(["--data", data, "--out", out, "--cache-dir", cache_dir, "--fresh",
                              *extra])
    t = time.perf_counter()
    run_tune(args)
    wall = time.perf_counter() - t
    search = settings_from_args(args, SearchSettings, section="search")
    table = Path(out) / "tuning" / search.project / "trials.csv"
    rows = list(csv.DictReader(table.open()))
    budget = sum(int(r["epochs"]) - int(r["initial_epoch"] or 0) for r in rows if r["epochs"])
    return {"trials": len(rows), "epoch_budget": budget, "in_process_seconds": wall,
            "max_epochs": search.max_epochs, "peak_rss_mib": peak_rss_mib()}
