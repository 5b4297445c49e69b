import numpy as np

from xraynet.evaluation.robustness import (CONFIDENT, EXPOSURE_FLAG, EXPOSURE_GAMMAS, apply_gamma,
                                           changed_predictions, exposure_check, exposure_scores,
                                           wilson_interval)

NAMES = ["Covid", "Normal", "Viral Pneumonia"]


def test_gamma_keeps_black_and_white_and_moves_the_midtones():
    x = np.array([0.0, 64.0, 128.0, 255.0])
    assert np.allclose(apply_gamma(x, 1.0), x)
    brighter, darker = apply_gamma(x, 0.8), apply_gamma(x, 1.25)
    assert np.allclose(brighter[[0, 3]], [0, 255]) and np.allclose(darker[[0, 3]], [0, 255])
    assert (brighter[1:3] > x[1:3]).all() and (darker[1:3] < x[1:3]).all()


def _onehot(labels):
    return np.eye(3)[labels] * 0.8 + 0.2 / 3


def test_scores_count_changed_predictions_and_where_they_go():
    y = np.array([0, 1, 2, 1])
    proba = _onehot([0, 1, 2, 2])                       # 3 of 4 right
    shifted = {0.8: _onehot([0, 1, 2, 2]),              # nothing moves
               1.25: _onehot([0, 0, 0, 2])}             # darker: two images drift to Covid
    scores = exposure_scores(y, proba, shifted, NAMES, threshold=0.25)
    assert scores["accuracy"] == 0.75
    assert scores["per_gamma"]["0.8"] == {"accuracy": 0.75, "changed": 0.0, "n_changed": 0,
                                          "changed_interval": list(wilson_interval(0, 4)),
                                          "changed_confident": 0, "moves": {}}
    assert scores["per_gamma"]["1.25"]["n_changed"] == 2
    assert scores["per_gamma"]["1.25"]["changed_confident"] == 2  # both at p = 0.87
    assert scores["per_gamma"]["1.25"]["accuracy"] == 0.25
    assert scores["per_gamma"]["1.25"]["moves"] == {"Normal -> Covid": 1, "Viral Pneumonia -> Covid": 1}
    assert scores["worst_accuracy"] == 0.25
    assert scores["changed_any"] == 0.5 and scores["flagged"]


def test_a_brightness_reader_is_flagged_and_a_contrast_reader_is_not():
    rng = np.random.default_rng(0)
    x = rng.uniform(40, 215, (60, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, 60)

    def by_brightness(images):  # class from mean brightness: moves with exposure
        mean = images.reshape(len(images), -1).mean(axis=1)
        return _onehot(np.digitize(mean, [120.0, 135.0]))

    def by_rank(images):  # class from where the brightest pixel is: exposure cannot move it
        return _onehot(images.reshape(len(images), -1).argmax(axis=1) % 3)

    flagged = exposure_check(by_brightness, x, y, NAMES)
    steady = exposure_check(by_rank, x, y, NAMES)
    assert flagged["gammas"] == list(EXPOSURE_GAMMAS)
    assert flagged["changed_any"] > EXPOSURE_FLAG and flagged["flagged"]
    assert steady["changed_any"] == 0.0 and not steady["flagged"]


def test_chunks_of_a_split_give_what_the_whole_array_gives():
    rng = np.random.default_rng(1)
    x = rng.uniform(40, 215, (50, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, 50)

    def by_brightness(images):
        return _onehot(np.digitize(images.reshape(len(images), -1).mean(axis=1), [120.0, 135.0]))

    whole = exposure_check(by_brightness, x, y, NAMES)
    chunked = exposure_check(by_brightness, (x[i:i + 16] for i in range(0, 50, 16)), y, NAMES)
    assert chunked == whole and whole["n"] == 50


def test_wilson_interval_of_a_share():
    low, high = wilson_interval(6, 57)  # the main job's squeeze: 6 of 57 leak-free test images
    assert abs(low - 0.049) < 0.001 and abs(high - 0.211) < 0.001
    assert wilson_interval(0, 20)[0] == 0.0 and 0.1 < wilson_interval(0, 20)[1] < 0.2
    assert wilson_interval(20, 20)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    narrow, wide = wilson_interval(60, 570), wilson_interval(6, 57)
    assert narrow[1] - narrow[0] < (wide[1] - wide[0]) / 2  # ten times the images: a third as wide


def test_changed_predictions_count_the_confident_ones_apart():
    predicted, moved = np.array([0, 1, 2, 0]), np.array([1, 1, 0, 2])  # three move
    scores = changed_predictions(np.array([0, 1, 2, 0]), predicted, moved, NAMES,
                                 confidence=np.array([0.95, 0.9, 0.55, CONFIDENT]))
    assert scores["n_changed"] == 3 and scores["changed_confident"] == 2  # 0.95 and 0.8, not 0.55
    assert "changed_confident" not in changed_predictions(np.zeros(4, int), predicted, moved, NAMES)
