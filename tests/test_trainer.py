import json

import keras
import numpy as np

from conftest import TINY
from xraynet import ModelConfig, Trainer, XRayClassifier, XRayDataModule


def test_model_learns_the_synthetic_set_well_above_chance(trained_run):
    metrics = json.loads((trained_run["result"].run_dir / "metrics.json").read_text())
    assert metrics["splits"]["val"]["accuracy"] >= 0.85  # chance is 1/3
    assert metrics["splits"]["test"]["accuracy"] >= 0.85


def test_run_directory_holds_the_bundle_history_report_and_plots(trained_run):
    run_dir = trained_run["result"].run_dir
    for name in ("model.keras", "config.json", "metadata.json", "history.csv", "metrics.json",
                 "report.txt", "audit.json", "audit.txt", "curves.png",
                 "confusion_matrix_test.png", "confusion_matrix_test_leak_free.png",
                 "checkpoints/best.weights.h5"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "tensorboard").is_dir()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["trainer"]["epochs"] == 15 and config["model"]["depth"] == 3
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["class_names"] == ["Alpha", "Beta", "Gamma"] and meta["image_size"] == 32
    assert 1 <= meta["best_epoch"] <= 15
    assert "test (leak-free" in trained_run["report"] and "sensitivity" in trained_run["report"]


def test_best_epoch_weights_are_the_ones_kept(trained_run):
    result = trained_run["result"]
    dm = trained_run["dm"]
    model = keras.saving.load_model(result.run_dir / "model.keras", compile=False)
    proba = np.asarray(model.predict(dm.val.x, verbose=0))
    loss = float(np.mean(keras.ops.convert_to_numpy(keras.losses.categorical_crossentropy(
        keras.utils.to_categorical(dm.val.y, 3), proba))))
    assert abs(loss - result.best_value) < 0.05 * max(1.0, result.best_value)


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.at_epoch:
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_where_it_stopped(dataset, cache_dir, tmp_path):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir)
    module = XRayClassifier(model=ModelConfig(**TINY, augmentation=None))
    run_dir = tmp_path / "run"
    first = Trainer(epochs=5, batch_size=16, patience=10, out_dir=tmp_path, verbose=0,
                    callbacks=[_Interrupt(3)])
    try:
        first.fit(module, dm, run_dir=run_dir)
        raise AssertionError("the interrupt callback did not fire")
    except KeyboardInterrupt:
        pass
    assert (run_dir / "backup").is_dir()
    result = Trainer(epochs=5, batch_size=16, patience=10, out_dir=tmp_path, verbose=0).fit(
        module, dm, run_dir=run_dir)
    epochs = [int(line.split(",")[0]) for line in (run_dir / "history.csv").read_text().splitlines()[1:]]
    assert epochs == [0, 1, 2, 3, 4]  # three before the interruption, two after, none twice
    assert not (run_dir / "backup").exists()
    assert (result.run_dir / "model.keras").is_file()


def test_same_seed_same_model(dataset, cache_dir, tmp_path):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir)
    outputs = []
    for run in ("a", "b"):
        module = XRayClassifier(model=ModelConfig(**TINY, seed=5))
        result = Trainer(epochs=2, batch_size=16, seed=5, out_dir=tmp_path, verbose=0).fit(
            module, dm, run_dir=tmp_path / run)
        outputs.append(np.asarray(result.model.predict(dm.test.x, verbose=0)))
    assert np.allclose(outputs[0], outputs[1], atol=1e-3)


def test_the_trainers_seed_is_the_runs_one_seed(dataset, cache_dir, tmp_path):
    """Trainer(seed=7) splits the data and seeds the augmentation where their configs leave the
    seed to the run; config.json records the three; a seed of their own is kept."""
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir)
    module = XRayClassifier(model=ModelConfig(**TINY))
    result = Trainer(epochs=1, batch_size=16, seed=7, out_dir=tmp_path, verbose=0).fit(
        module, dm, run_dir=tmp_path / "run")
    config = json.loads((result.run_dir / "config.json").read_text())
    assert (config["data"]["seed"], config["model"]["seed"], config["trainer"]["seed"]) == (7, 7, 7)
    assert dm.seed == 7 and result.model.get_layer("augment").seed == 7
    assert sorted(dm.val.paths) == sorted(XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir,
                                                         seed=7).setup().val.paths)
    own = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir, seed=3)
    kept = Trainer(epochs=1, batch_size=16, seed=7, out_dir=tmp_path, verbose=0).fit(
        XRayClassifier(model=ModelConfig(**TINY, seed=4)), own, run_dir=tmp_path / "own")
    config = json.loads((kept.run_dir / "config.json").read_text())
    assert (config["data"]["seed"], config["model"]["seed"], config["trainer"]["seed"]) == (3, 4, 7)


def test_a_fit_with_resize_mix_records_it(dataset, cache_dir, tmp_path):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir)
    module = XRayClassifier(model=ModelConfig(**TINY, augmentation=None))
    result = Trainer(epochs=1, batch_size=16, resize_mix=0.5, out_dir=tmp_path, verbose=0).fit(
        module, dm, run_dir=tmp_path / "run")
    assert json.loads((result.run_dir / "config.json").read_text())["trainer"]["resize_mix"] == 0.5
    assert dm._other is not None  # the other view was decoded for training


def test_a_bundle_saved_by_fit_alone_is_calibrated_and_gated(dataset, cache_dir, tmp_path):
    """No report, no test call: the bundle Trainer.fit saves predicts with its validation
    temperature and an input-quality verdict (the save step fitted both)."""
    from xraynet.predict import Predictor

    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir)
    module = XRayClassifier(model=ModelConfig(**TINY, seed=0), learning_rate=3e-3)
    result = Trainer(epochs=2, batch_size=16, seed=0, out_dir=tmp_path, verbose=0).fit(
        module, dm, run_dir=tmp_path / "run")
    meta = json.loads((result.run_dir / "metadata.json").read_text())
    assert meta["calibration"]["fitted_on"] == "validation" and meta["calibration"]["n"] == dm.dataset("val").n_images
    assert (result.run_dir / "quality.npz").is_file() and not (result.run_dir / "trust.json").exists()
    predictor = Predictor.from_path(result.run_dir)
    assert predictor.bundle.temperature == meta["temperature"]
    [prediction], failed = predictor.predict_files([next((dataset / "test").rglob("*.png"))])
    assert not failed and prediction.quality is not None and prediction.quality.distance is not None
