"""Training one model across two processes on Keras' distribution engine (JAX, CPU collectives
over Gloo, loopback coordinator): both end with the same weights, which match one process's
fit with the same global batch and seed; only process 0 writes a run; a lost coordinator or a
backend without the multi-process path is one error line."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from synthetic import make_dataset

HERE = Path(__file__).resolve().parent
#: every test here starts processes of its own backends (JAX's cluster, TensorFlow's and torch's
#: refusals), whatever the suite's; run once, in the JAX pass of the test command
pytestmark = pytest.mark.skipif(
    __import__("keras").backend.backend() != "jax",
    reason="starts its own JAX (and TensorFlow, torch) processes: run once, under KERAS_BACKEND=jax")
#: weights of two processes against one: the same sums in another order (float32)
TOLERANCE = 1e-4


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    return {**os.environ, "KERAS_BACKEND": "jax", "XRAYNET_JAX_CACHE": "0",
            "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], env=_env(), stdout=log.open("w"),
                            stderr=subprocess.STDOUT, cwd=HERE.parent)


def _weights(path: Path) -> list[np.ndarray]:
    with np.load(path) as found:
        return [found[f"arr_{i}"] for i in range(len(found.files))]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("tiny") / "data", n_train=14, n_test=4, size=40)


@pytest.mark.slow
def test_two_processes_train_one_model_like_one_process(tiny, tmp_path):
    worker = str(HERE / "distributed_worker.py")
    port = _port()
    procs = [_start([worker, str(tiny), str(tmp_path), str(port), str(i), "2"], tmp_path / f"p{i}.log")
             for i in range(2)]
    codes = [p.wait(timeout=600) for p in procs]
    logs = [(tmp_path / f"p{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], "\n".join(log[-3000:] for log in logs)
    alone = subprocess.run([sys.executable, worker, str(tiny), str(tmp_path), "0", "0", "1"],
                           env=_env(), cwd=HERE.parent, capture_output=True, text=True, timeout=600)
    assert alone.returncode == 0, alone.stdout[-2000:] + alone.stderr[-3000:]

    first, second = (_weights(tmp_path / f"weights-2-{i}.npz") for i in range(2))
    single = _weights(tmp_path / "weights-1-0.npz")
    assert all(np.array_equal(a, b) for a, b in zip(first, second))  # one model, replicated
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(first, single))
    print(f"largest weight difference, two processes against one: {difference:.2e}")
    assert difference <= TOLERANCE
    assert not all(np.array_equal(a, b) for a, b in zip(first, _initial(tmp_path)))  # it trained
    runs = sorted((tmp_path / "runs-2").glob("*/model.keras"))
    assert len(runs) == 1 and "process 0 of 2" in logs[0] and "model none" in logs[1]


def _initial(tmp_path: Path) -> list[np.ndarray]:
    """The weights of the single-process run's model before training (its seed, rebuilt)."""
    code = ("import os, numpy as np; os.environ['KERAS_BACKEND'] = 'jax'\n"
            "import keras\nfrom xraynet import ModelConfig, XRayClassifier\n"
            "keras.utils.set_random_seed(1)\n"
            "m = XRayClassifier(model=ModelConfig(image_size=32, n_classes=3, depth=2, base_filters=4,"
            " dropout=0.0, augmentation=None, seed=1)).build()\n"
            f"np.savez({str(tmp_path / 'initial.npz')!r}, *m.get_weights())\n")
    subprocess.run([sys.executable, "-c", code], env=_env(), check=True, timeout=300)
    return _weights(tmp_path / "initial.npz")


@pytest.mark.slow
def test_the_command_line_trains_across_processes_and_only_process_0_writes(tiny, tmp_path):
    port = _port()
    common = ["-m", "xraynet.cli", "-q", "fit", "--data", str(tiny), "--out", str(tmp_path / "runs"),
              "--cache-dir", str(tmp_path / "cache"), "--image-size", "32", "--depth", "2",
              "--base-filters", "4", "--epochs", "1", "--batch-size", "8",
              "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2"]
    procs = [_start(common + ["--process-id", str(i)], tmp_path / f"cli{i}.log") for i in range(2)]
    codes = [p.wait(timeout=900) for p in procs]
    logs = [(tmp_path / f"cli{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], "\n".join(log[-3000:] for log in logs)
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "model.keras").is_file() and (runs[0] / "report.html").is_file()
    assert "run directory" in logs[0] and "run directory" not in logs[1]


def test_an_unreachable_coordinator_is_one_error_line_within_the_timeout(tmp_path):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "xraynet.cli", "fit", "--data", str(tmp_path),
                           "--coordinator", f"127.0.0.1:{_port()}", "--num-processes", "2",
                           "--process-id", "1", "--cluster-timeout", "5"],
                          env=_env(), cwd=HERE.parent, capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr[-3000:]
    assert "could not join the training cluster" in errors[0]
    assert time.perf_counter() - start < 120


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_a_backend_without_the_multi_process_path_says_which_have_it(backend, tmp_path):
    pytest.importorskip(backend)
    done = subprocess.run([sys.executable, "-m", "xraynet.cli", "fit", "--data", str(tmp_path),
                           "--coordinator", "127.0.0.1:1", "--num-processes", "2"],
                          env={**_env(), "KERAS_BACKEND": backend}, cwd=HERE.parent,
                          capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and errors == [
        f"error: --num-processes 2: training across processes runs on Keras' distribution API "
        f"with jax (KERAS_BACKEND=jax); this is {backend}"]


@pytest.mark.slow
def test_a_dead_peer_is_one_error_line_within_the_timeout(tiny, tmp_path):
    import signal

    port = _port()
    common = ["-m", "xraynet.cli", "-q", "fit", "--data", str(tiny), "--out", str(tmp_path / "runs"),
              "--cache-dir", str(tmp_path / "cache"), "--image-size", "32", "--depth", "2",
              "--base-filters", "4", "--epochs", "500", "--patience", "500", "--batch-size", "8",
              "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--cluster-timeout", "40"]
    chief = _start(common + ["--process-id", "0"], tmp_path / "chief.log")
    peer = subprocess.Popen([sys.executable, *common, "--process-id", "1"], env=_env(), cwd=HERE.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while not list((tmp_path / "runs").glob("*/history.csv")):  # training has begun
        assert time.monotonic() < deadline and chief.poll() is None, (tmp_path / "chief.log").read_text()[-3000:]
        time.sleep(1)
    os.killpg(peer.pid, signal.SIGKILL)  # the peer and its supervisor
    killed = time.monotonic()
    code = chief.wait(timeout=300)
    errors = [line for line in (tmp_path / "chief.log").read_text().splitlines()
              if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, (tmp_path / "chief.log").read_text()[-3000:]
    assert "peer process" in errors[0] and time.monotonic() - killed < 180
