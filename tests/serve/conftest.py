"""Fixtures of the serving tests: the app around the shared small trained model."""

import os

import pytest


def require(module: str):
    """Import ``module``; under CI its absence fails (set-up installs the serve extra)."""
    try:
        return pytest.importorskip(module)
    except pytest.skip.Exception:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed: scripts/setup_env.sh installs the serve extra")
        raise


@pytest.fixture(scope="module")
def service(trained_run):
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
    from fastapi.testclient import TestClient

    from xraynet.serve.app import ServeSettings, create_app

    def make(**settings) -> TestClient:
        return TestClient(create_app(service, ServeSettings(**settings)))

    return make
