import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from xraynet.evaluation import bootstrap_intervals
from xraynet.evaluation.uncertainty import confusion_matrices

NAMES = ["a", "b", "c"]


def _predictions(n, error_rate, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    pred = y.copy()
    wrong = rng.random(n) < error_rate
    pred[wrong] = (pred[wrong] + rng.integers(1, 3, wrong.sum())) % 3
    return y, pred


def test_intervals_contain_the_point_estimates_which_match_scikit_learn():
    y, pred = _predictions(60, 0.15, seed=0)
    ci = bootstrap_intervals(y, pred, NAMES, n_resamples=1000, seed=0)
    assert np.isclose(ci["accuracy"]["estimate"], accuracy_score(y, pred))
    assert np.isclose(ci["macro_f1"]["estimate"], f1_score(y, pred, average="macro"))
    for key, value in ci.items():
        if key != "_settings":
            assert value["low"] <= value["estimate"] <= value["high"], key
    assert ci["_settings"] == {"n": 60, "n_resamples": 1000, "seed": 0, "level": 0.95}
    assert ci["accuracy"]["high"] - ci["accuracy"]["low"] > 0.05


def test_intervals_narrow_with_more_samples():
    small = bootstrap_intervals(*_predictions(50, 0.2, seed=1), NAMES, seed=0)
    large = bootstrap_intervals(*_predictions(2000, 0.2, seed=1), NAMES, seed=0)
    for key in ("accuracy", "macro_f1", "sensitivity/a", "specificity/c"):
        width = lambda ci: ci[key]["high"] - ci[key]["low"]  # noqa: E731
        assert width(large) < width(small) / 3, key


def test_bootstrap_is_seeded():
    y, pred = _predictions(40, 0.2, seed=2)
    assert bootstrap_intervals(y, pred, NAMES, seed=5) == bootstrap_intervals(y, pred, NAMES, seed=5)
    assert bootstrap_intervals(y, pred, NAMES, seed=5) != bootstrap_intervals(y, pred, NAMES, seed=6)


def test_vectorised_confusion_matrices_match_scikit_learn():
    y, pred = _predictions(30, 0.3, seed=3)
    idx = np.random.default_rng(0).integers(0, 30, (4, 30))
    cms = confusion_matrices(y, pred, 3, idx)
    for r in range(4):
        assert (cms[r] == confusion_matrix(y[idx[r]], pred[idx[r]], labels=[0, 1, 2])).all()
