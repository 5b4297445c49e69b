"""Shared fixtures: synthetic datasets, a private cache folder, quiet TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from synthetic import make_dataset  # noqa: E402

REAL_DATA = Path(os.environ.get("XRAYNET_DATA", Path(__file__).resolve().parents[1].parent
                                / "shared" / "data" / "Covid19-dataset"))


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A learnable synthetic dataset: 3 classes, 24 train and 8 test images each."""
    return make_dataset(tmp_path / "ds")


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not (REAL_DATA / "train").is_dir():
        pytest.skip(f"real dataset not found at {REAL_DATA} (set XRAYNET_DATA)")
    return REAL_DATA


TINY = {"image_size": 32, "depth": 3, "base_filters": 8}


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """One small model trained on a synthetic set, shared by the bundle, predict and CLI tests."""
    from xraynet import ModelConfig, Trainer, XRayClassifier, XRayDataModule, evaluate_run
    from xraynet.reporting import write_report

    root = make_dataset(tmp_path_factory.mktemp("data") / "ds")
    dm = XRayDataModule(root=root, image_size=32, cache_dir=tmp_path_factory.mktemp("cache"))
    module = XRayClassifier(model=ModelConfig(**TINY, seed=0), learning_rate=3e-3)
    trainer = Trainer(epochs=15, batch_size=16, seed=0, patience=15,
                      out_dir=tmp_path_factory.mktemp("runs"), verbose=0)
    result = trainer.fit(module, dm)
    evaluation = evaluate_run(result.model, dm.split_data(), result.run_dir)
    write_report(result.model, dm.split_data(), result.run_dir, seed=0, probabilities=evaluation.probabilities)
    report = evaluation.text
    return {"root": root, "dm": dm, "trainer": trainer, "result": result, "report": report}


@pytest.fixture(scope="module")
def service(trained_run):
    """The serving layer around the shared small model (needs the serve extra)."""
    from browser import require

    require("fastapi")
    from xraynet.predict import Predictor
    from xraynet.serve.service import InferenceService

    svc = InferenceService(Predictor.from_path(trained_run["result"].run_dir), queue_limit=2,
                           timeout_s=20)
    svc.warm_up()
    yield svc
    svc.close()


@pytest.fixture
def make_client(service):
    """``make(**ServeSettings fields)``: a FastAPI TestClient of the app around ``service``."""
    from fastapi.testclient import TestClient

    from xraynet.serve.settings import ServeSettings
    from xraynet.serve.app import create_app

    def make(**settings) -> TestClient:
        return TestClient(create_app(service, ServeSettings(**settings)))

    return make


#: set by the test command for every backend after the first: the study scripts' tests have run
BENCH_DONE_ENV = "XRAYNET_BENCH_TESTED"


def pytest_collection_modifyitems(config, items):
    """Tests of the study and benchmark scripts (tests/bench/) are marked ``bench``, so
    ``pytest -m "not bench"`` runs the package's tests alone. The test command runs them once,
    in its first backend's pass; the later passes skip them, saying so."""
    done = os.environ.get(BENCH_DONE_ENV)
    for item in items:
        if "/tests/bench/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.bench)
            if done:
                item.add_marker(pytest.mark.skip(
                    reason=f"a study script's test: run once, in the test command's {done} pass "
                           "(scripts/, not the package's backends)"))
