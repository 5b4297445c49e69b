"""Export for deployment: onnxruntime (and TF's SavedModel loader) give the bundle's calibrated
probabilities, on every backend that can export; a format it cannot is one error line."""

import json
import shutil

import numpy as np
import pytest

from xraynet.backend import backend_name
from xraynet.cli import main
from xraynet.export import export_problems

FORMATS = ("onnx", "saved_model")


def _images(trained_run, n=8):
    from xraynet.data import DecodeSettings, decode_image

    files = sorted((trained_run["root"] / "test").rglob("*.png"))[::3][:n]
    settings = DecodeSettings(image_size=32, resize=trained_run["dm"].resize)
    return np.stack([decode_image(f, settings) for f in files])[..., None].astype(np.float32)


def _exported_output(fmt, path, x):
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # held while its function runs
    return loaded.serve(tf.constant(x)).numpy()


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_exported_model_gives_the_bundles_calibrated_probabilities(fmt, trained_run, tmp_path, capsys):
    from xraynet.predict import Predictor

    run_dir = tmp_path / "run"
    shutil.copytree(trained_run["result"].run_dir, run_dir)
    meta = json.loads((run_dir / "metadata.json").read_text())
    meta["temperature"] = 1.7  # a temperature that moves the probabilities
    (run_dir / "metadata.json").write_text(json.dumps(meta))
    code = main(["export", str(run_dir), "--format", fmt])
    out, err = capsys.readouterr()
    problems = export_problems(fmt)
    if problems:  # this backend cannot export this format: one error line, exit 2
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2 and errors == [f"error: {problems[0]}"]
        assert fmt == "saved_model" and backend_name() == "torch"
        return
    assert code == 0, err
    path = run_dir / "export" / ("model.onnx" if fmt == "onnx" else "saved_model")
    spec = json.loads(path.with_name(path.name + ".json").read_text())
    assert spec["output"]["classes"] == ["Alpha", "Beta", "Gamma"] and spec["output"]["temperature"] == 1.7
    assert spec["input"]["shape"] == [None, 32, 32, 1] and spec["preprocessing"]["image_size"] == 32
    x = _images(trained_run)
    expected = Predictor.from_path(run_dir).predict_arrays(x)
    got = _exported_output(fmt, path, x)
    assert got.shape == (8, 3)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    plain = Predictor.from_path(trained_run["result"].run_dir).predict_arrays(x)
    assert np.abs(plain - expected).max() > 1e-3  # the temperature is in the exported graph
