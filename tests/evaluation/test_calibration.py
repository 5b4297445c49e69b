import numpy as np

from xraynet.evaluation import (apply_temperature, brier_score, calibration_summary,
                                expected_calibration_error, fit_temperature)
from xraynet.evaluation.calibration import reliability_bins


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _overconfident(n, seed, scale=4.0):
    """Labels drawn from softmax(z); the model reports softmax(scale * z): over-confident."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3)) * 1.5
    truth = _softmax(z)
    y = np.array([rng.choice(3, p=p) for p in truth])
    return y, _softmax(scale * z)


def test_temperature_fitted_on_validation_lowers_ece_on_held_out_data():
    y_val, p_val = _overconfident(400, seed=0)
    y_test, p_test = _overconfident(400, seed=1)
    t = fit_temperature(y_val, p_val)
    assert 3.0 < t < 5.5  # the over-confidence factor is 4
    before = expected_calibration_error(y_test, p_test)
    after = expected_calibration_error(y_test, apply_temperature(p_test, t))
    assert after < before / 2
    summary = calibration_summary(y_test, p_test, t)
    assert summary["brier_after"] < summary["brier_before"]
    assert summary["nll_after"] < summary["nll_before"]


def test_a_calibrated_model_keeps_temperature_near_one():
    y, p = _overconfident(2000, seed=2, scale=1.0)
    assert 0.85 < fit_temperature(y, p) < 1.15
    assert expected_calibration_error(y, p) < 0.05


def test_ece_and_brier_on_hand_made_cases():
    y = np.array([0, 1, 2, 0])
    perfect = np.eye(3)[y]
    assert expected_calibration_error(y, perfect) == 0.0
    assert brier_score(y, perfect) == 0.0
    wrong = np.eye(3)[[1, 2, 0, 1]]
    assert expected_calibration_error(y, wrong) == 1.0
    assert brier_score(y, wrong) == 2.0
    half = np.tile([0.5, 0.25, 0.25], (4, 1))  # confidence 0.5, accuracy 0.5 -> calibrated
    assert np.isclose(expected_calibration_error(y, half), 0.0)
    bins = reliability_bins(y, half, 15)
    assert bins["count"].sum() == 4 and len(bins["edges"]) == 16


def test_temperature_keeps_the_ranking():
    p = _softmax(np.random.default_rng(3).normal(size=(20, 3)) * 3)
    for t in (0.5, 2.0):
        assert (apply_temperature(p, t).argmax(1) == p.argmax(1)).all()


def test_calibration_never_sharpens_unless_asked():
    y, p = _overconfident(400, seed=4, scale=0.4)  # under-confident
    assert fit_temperature(y, p) == 1.0
    free = fit_temperature(y, p, bounds=(0.25, 20.0))
    assert 0.3 < free < 0.6  # the under-confidence factor is 0.4
