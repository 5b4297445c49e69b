import math

import numpy as np

from xraynet.evaluation import classification_metrics, sensitivity_specificity
from xraynet.evaluation.metrics import macro_auc_ovr


def test_sensitivity_specificity_from_a_known_matrix():
    cm = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 10]])
    sens, spec = sensitivity_specificity(cm)
    assert np.allclose(sens, [0.8, 0.9, 1.0])
    # class 0: TN = 9 + 10 = 19 of 20 negatives; class 1: FP = 2 -> 18/20
    assert np.allclose(spec, [19 / 20, 18 / 20, 1.0])


def test_classification_metrics_on_a_perfect_and_a_flawed_model():
    y = np.array([0, 0, 1, 1, 2, 2])
    perfect = np.eye(3)[y] * 0.9 + 0.1 / 3
    m = classification_metrics(y, perfect, ["a", "b", "c"])
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0 and m["macro_auc_ovr"] == 1.0
    flawed = perfect.copy()
    flawed[0] = [0.1, 0.8, 0.1]
    m = classification_metrics(y, flawed, ["a", "b", "c"])
    assert math.isclose(m["accuracy"], 5 / 6)
    assert m["sensitivity"]["a"] == 0.5 and m["confusion_matrix"][0] == [1, 1, 0]
    assert "precision" in m["classification_report_text"]


def test_auc_is_nan_when_a_class_is_absent():
    assert math.isnan(macro_auc_ovr(np.array([0, 0, 1]), np.full((3, 3), 1 / 3)))
