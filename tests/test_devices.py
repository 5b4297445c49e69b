"""Data parallelism over two CPU devices: ``xraynet fit --devices 2`` in a fresh process (JAX:
XLA_FLAGS makes two host devices; TensorFlow: the host CPU split into two logical devices;
torch, which Keras gives no data-parallel path: one error line)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from synthetic import make_dataset


def test_fit_on_two_devices_trains_and_saves_a_usable_model(tmp_path):
    data = make_dataset(tmp_path / "ds")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", "xraynet", "fit", "--data", str(data),
                           "--out", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"),
                           "--image-size", "32", "--depth", "2", "--base-filters", "4",
                           "--epochs", "3", "--batch-size", "7", "--devices", "2"],
                          capture_output=True, text=True, timeout=600, env=env)
    import keras

    if keras.backend.backend() == "torch":  # Keras' torch backend has no data-parallel path
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert proc.returncode == 2 and errors == [
            "error: --devices 2: data parallelism is implemented for jax and tensorflow, not torch"]
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = Path(proc.stdout.strip().splitlines()[-1].split("run directory: ")[1])
    config = json.loads((run_dir / "config.json").read_text())
    assert config["trainer"]["devices"] == 2
    history = (run_dir / "history.csv").read_text().splitlines()
    assert len(history) == 4  # header and 3 epochs (batches of 7 padded to 8 on 2 devices)
    from xraynet.predict import Predictor

    predictions, failed = Predictor.from_path(run_dir).predict_files(
        sorted((data / "test").rglob("*.png"))[:5])
    assert not failed and all(np.isclose(sum(p.probabilities.values()), 1, atol=1e-4) for p in predictions)


def test_padded_batches_carry_zero_weights(dataset, cache_dir):
    from xraynet.data import XRayDataModule

    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    train, val = dm.fit_datasets(batch_size=7, seed=0, devices=2)
    x, y, w = train[len(train) - 1]
    assert len(x) % 2 == 0 and len(x) == len(y) == len(w)
    n_last = dm.train.__len__() - 7 * (len(train) - 1)
    assert (w[n_last:] == 0).all() and (w[:n_last] > 0).all()
    weights = dm.class_weights()
    assert np.allclose(w[:n_last], [weights[int(c)] for c in y[:n_last].argmax(1)])
    xv, _, wv = val[0]
    assert len(xv) % 2 == 0 and wv.sum() == min(32, len(dm.val))  # real images weigh 1
