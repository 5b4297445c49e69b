"""Grad-CAM of one saved model agrees across backends (each uses its own autodiff)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from xraynet.backend import backend_name
from xraynet.explain import correlation
from xraynet.explain.explainer import HEATMAPS_FILE

def test_gradcam_maps_agree_with_another_backend(trained_run, tmp_path):
    """This backend's Grad-CAM (its own autodiff: jax.grad, tf.GradientTape, torch.autograd)
    against JAX's (TensorFlow's under JAX)."""
    other = "tensorflow" if backend_name() == "jax" else "jax"
    pytest.importorskip(other)
    run_dir = trained_run["result"].run_dir
    images = [str(sorted((trained_run["root"] / "test" / c).iterdir())[0])
              for c in ("Alpha", "Beta", "Gamma")]
    maps = {}
    for backend in (backend_name(), other):
        out = tmp_path / backend
        env = {**os.environ, "KERAS_BACKEND": backend}
        done = subprocess.run([sys.executable, "-m", "xraynet.cli", "-q", "explain", str(run_dir),
                               *images, "--out", str(out), "--method", "gradcam"],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        with np.load(out / HEATMAPS_FILE) as data:
            maps[backend] = {k: data[k] for k in data.files}
    assert len(maps[other]) == 3 and maps[other].keys() == maps[backend_name()].keys()
    for key, heat in maps[backend_name()].items():
        assert correlation(heat, maps[other][key]) >= 0.99, key
