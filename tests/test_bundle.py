import json
import os
import subprocess
import sys

import numpy as np
import pytest

from xraynet import BundleError, Predictor, load_bundle
from xraynet.predict import apply_temperature


def test_bundle_round_trip_gives_identical_predictions(trained_run):
    result, dm = trained_run["result"], trained_run["dm"]
    bundle = load_bundle(result.run_dir)
    assert bundle.class_names == dm.class_names and bundle.image_size == 32
    expected = np.asarray(result.model.predict(dm.test.x, verbose=0))
    got = np.asarray(bundle.model.predict(dm.test.x, verbose=0))
    assert np.allclose(expected, got, atol=1e-5)
    assert load_bundle(result.run_dir / "model.keras").directory == result.run_dir


def test_missing_bundle_is_a_clear_error(tmp_path):
    with pytest.raises(BundleError, match="model file not found"):
        load_bundle(tmp_path)


def test_predictor_reads_raw_files(trained_run):
    root = trained_run["root"]
    files = sorted((root / "test" / "Beta").iterdir())[:3] + [root / "missing.png"]
    predictions, failed = Predictor.from_path(trained_run["result"].run_dir).predict_files(files)
    assert len(predictions) == 3 and failed[0][0].endswith("missing.png")
    for p in predictions:
        assert set(p.probabilities) == {"Alpha", "Beta", "Gamma"}
        assert abs(sum(p.probabilities.values()) - 1) < 1e-4
    assert sum(p.label == "Beta" for p in predictions) >= 2


def test_predictor_pads_chunks_to_a_few_sizes(trained_run):
    predictor = Predictor.from_path(trained_run["result"].run_dir)
    model, shapes = predictor.bundle.model, []
    original = model.predict_on_batch
    model.predict_on_batch = lambda x: (shapes.append(len(x)), original(x))[1]
    try:
        x = trained_run["dm"].test.x
        outputs = {n: predictor.predict_arrays(x[:n], batch_size=8) for n in (1, 3, 5, 6, 7, 11)}
    finally:
        del model.predict_on_batch
    assert set(shapes) == {1, 4, 8}  # 1; 3 -> 4; 5, 6, 7 -> 8; 11 -> 8 + 8
    reference = predictor.predict_arrays(x[:11], batch_size=1)
    for n, out in outputs.items():
        assert out.shape == (n, 3) and np.allclose(out, reference[:n], atol=1e-5)


def test_temperature_keeps_ranking_and_softens():
    p = np.array([[0.7, 0.2, 0.1]])
    soft = apply_temperature(p, 2.0)
    assert soft.argmax() == 0 and soft.max() < 0.7 and np.isclose(soft.sum(), 1)
    assert np.array_equal(apply_temperature(p, 1.0), p)


@pytest.mark.slow
def test_a_model_saved_on_one_backend_loads_on_another(trained_run, tmp_path):
    import keras

    other = "tensorflow" if keras.backend.backend() != "tensorflow" else "jax"
    pytest.importorskip(other)
    dm = trained_run["dm"]
    np.save(tmp_path / "x.npy", dm.test.x)
    code = ("import sys, json, numpy as np; from xraynet import Predictor; "
            "p = Predictor.from_path(sys.argv[1]); "
            "print(json.dumps(p.predict_arrays(np.load(sys.argv[2])).tolist()))")
    env = {**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code, str(trained_run["result"].run_dir),
                          str(tmp_path / "x.npy")], env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    theirs = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    ours = Predictor.from_path(trained_run["result"].run_dir).predict_arrays(dm.test.x)
    assert np.allclose(ours, theirs, atol=1e-4)


def test_the_predictor_decodes_as_the_bundle_was_trained(tmp_path):
    from xraynet import Bundle, Predictor
    from xraynet.metadata import BundleMetadata

    meta = BundleMetadata.from_dict({"class_names": ["a", "b"], "image_size": 24, "resize": "crop"})
    assert Predictor(Bundle(model=None, directory=tmp_path, meta=meta)).settings.resize == "crop"
    old = BundleMetadata.from_dict({"class_names": ["a", "b"], "image_size": 24})  # before the option
    assert Predictor(Bundle(model=None, directory=tmp_path, meta=old)).settings.resize == "stretch"
    assert (old.temperature, old.gradcam_layer) == (1.0, "last_conv")


def test_test_time_augmentation_is_seeded_and_spreads(trained_run):
    predictor = Predictor.from_path(trained_run["result"].run_dir)
    x = trained_run["dm"].test.x[:5]
    mean, std = predictor.predict_arrays_tta(x, 8, seed=1)
    again, _ = predictor.predict_arrays_tta(x, 8, seed=1)
    assert mean.shape == std.shape == (5, 3)
    assert np.allclose(mean, again) and np.allclose(mean.sum(axis=1), 1, atol=1e-4)
    assert (std >= 0).all() and std.max() > 0
    _, one = predictor.predict_arrays_tta(x, 1, seed=1)
    assert np.allclose(one, 0)


def test_predict_bytes_decodes_like_predict_files_and_refuses_non_images(trained_run):
    from xraynet.data import ImageDecodeError

    predictor = Predictor.from_path(trained_run["result"].run_dir)
    path = next((trained_run["root"] / "test").rglob("*.png"))
    [from_file], failed = predictor.predict_files([path])
    from_bytes = predictor.predict_bytes(path.read_bytes(), "upload <1>.png")
    assert not failed and from_bytes.path == "upload <1>.png"  # the name is reported, never opened
    assert from_bytes.label == from_file.label
    assert from_bytes.probabilities == pytest.approx(from_file.probabilities, abs=1e-6)
    spread = predictor.predict_bytes(path.read_bytes(), "x.png", tta=3)
    assert set(spread.std) == set(predictor.class_names)
    with pytest.raises(ImageDecodeError):
        predictor.predict_bytes(b"not an image", "notes.txt")


def test_an_incomplete_bundle_loads_with_one_warning_that_predict_shows(trained_run, tmp_path, capsys):
    import shutil

    from xraynet.cli import main

    run_dir = tmp_path / "run"
    shutil.copytree(trained_run["result"].run_dir, run_dir)
    assert load_bundle(run_dir).missing == ()
    (run_dir / "quality.npz").unlink()
    meta = json.loads((run_dir / "metadata.json").read_text())
    meta["calibration"] = {}
    (run_dir / "metadata.json").write_text(json.dumps(meta))
    image = next((trained_run["root"] / "test" / "Alpha").iterdir())
    assert main(["predict", str(run_dir), str(image)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "incomplete bundle" in line]
    assert len(warnings) == 1
    assert "no temperature fitted on validation" in warnings[0] and "no input-quality gate" in warnings[0]
    assert len(load_bundle(run_dir).missing) == 2
