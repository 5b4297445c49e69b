"""The feature check: Mahalanobis distance fitted on train, limit from validation, in the bundle."""

import numpy as np
import pytest

from xraynet.quality import (QUALITY_FILE, FeatureGate, QualityGate, feature_model,
                             fit_feature_gate, load_feature_gate)


def _features(rng, n, centre, d=16):
    return rng.normal(0, 1, (n, d)) + centre


def test_the_gate_flags_far_features_and_few_in_distribution(tmp_path):
    rng = np.random.default_rng(0)
    centres = [np.zeros(16), np.full(16, 3.0)]
    train = np.concatenate([_features(rng, 200, c) for c in centres])
    labels = np.repeat([0, 1], 200)
    val = np.concatenate([_features(rng, 100, c) for c in centres])
    gate = fit_feature_gate(train, labels, val, quantile=0.99)
    held_out = np.concatenate([_features(rng, 500, c) for c in centres])
    assert (gate.distances(held_out) > gate.limit).mean() < 0.03
    far = _features(rng, 50, np.full(16, -8.0))
    assert (gate.distances(far) > gate.limit).all()
    # nearest class mean: a point at either centre is close
    assert gate.distances(np.stack(centres)).max() < gate.limit

    path = gate.save(tmp_path / QUALITY_FILE)
    loaded = load_feature_gate(path)
    assert loaded.limit == gate.limit and loaded.n_fit == 400 and loaded.n_limit == 200
    np.testing.assert_allclose(loaded.distances(far), gate.distances(far))
    assert load_feature_gate(tmp_path / "missing.npz") is None


def test_verdicts_combine_pixel_and_feature_reasons():
    gate = FeatureGate(np.zeros((1, 2)), np.eye(2), limit=1.0, quantile=0.99, n_fit=1, n_limit=1)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 32, 32)).astype(np.uint8)
    near, far = QualityGate(gate).assess(images, np.array([[0.1, 0.1], [5.0, 0.0]]))
    assert near.ok and near.checks == ["pixels", "features"] and near.note is None
    assert not far.ok and far.reasons[0].startswith("unlike the training X-rays")
    assert far.distance == pytest.approx(5.0) and far.to_dict()["limit"] == 1.0
    [unchecked] = QualityGate(None).assess(images[:1], None)
    assert unchecked.ok and unchecked.checks == ["pixels"] and "quality.npz" in unchecked.note


def test_feature_model_gives_probabilities_and_features_in_one_pass():
    from xraynet.models import ModelConfig, average_ensemble, build_cnn

    config = ModelConfig(image_size=32, depth=2, base_filters=4, augmentation=None)
    single = build_cnn(config)
    x = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 1)).astype("float32")
    proba, features = feature_model(single).predict(x, verbose=0)
    np.testing.assert_allclose(proba, single.predict(x, verbose=0), atol=1e-6)
    assert features.shape == (3, 8)
    ensemble = average_ensemble([single, build_cnn(config)])
    proba, features = feature_model(ensemble).predict(x, verbose=0)
    np.testing.assert_allclose(proba, ensemble.predict(x, verbose=0), atol=1e-6)
    assert features.shape == (3, 16)  # the members' features side by side


def test_a_trained_bundle_carries_its_gate_and_predictions_carry_verdicts(trained_run):
    from xraynet.bundle import read_metadata
    from xraynet.predict import Predictor

    run_dir = trained_run["result"].run_dir
    assert (run_dir / QUALITY_FILE).is_file()
    meta = read_metadata(run_dir)
    assert meta.quality["fitted_on"] == "train" and meta.quality["limit"] > 0
    predictor = Predictor.from_path(run_dir)
    paths = sorted((trained_run["root"] / "test").rglob("*.png"))[:4]
    predictions, _ = predictor.predict_files(paths)
    for p in predictions:
        assert p.quality.checks == ["pixels", "features"]
        assert p.to_dict()["quality"]["distance"] is not None
    # the synthetic images are 48 px: every one is called very small, and still predicted
    assert all(not p.quality.ok and "very small image" in p.quality.reasons[0] for p in predictions)
    assert all(abs(sum(p.probabilities.values()) - 1) < 1e-4 for p in predictions)


def test_the_limit_is_the_margin_times_the_validation_quantile_and_old_bundles_load(tmp_path):
    rng = np.random.default_rng(3)
    train = _features(rng, 300, np.zeros(8), d=8)
    labels = np.zeros(300, int)
    val = _features(rng, 50, np.zeros(8), d=8)
    plain = fit_feature_gate(train, labels, val, margin=1.0)
    wide = fit_feature_gate(train, labels, val)  # the default margin
    assert plain.limit == pytest.approx(np.quantile(plain.distances(val), 0.99))
    assert wide.margin == 1.1 and wide.limit == pytest.approx(1.1 * plain.limit)
    assert wide.summary()["margin"] == 1.1
    loaded = load_feature_gate(wide.save(tmp_path / QUALITY_FILE))
    assert loaded.margin == 1.1 and loaded.limit == wide.limit
    old = tmp_path / "old.npz"  # a bundle saved before the margin: its limit stands as saved
    np.savez(old, means=wide.means, precision=wide.precision, limit=7.0, quantile=0.99,
             n_fit=300, n_limit=50)
    before = load_feature_gate(old)
    assert before.margin == 1.0 and before.limit == 7.0
