import json
from dataclasses import replace

import numpy as np
import pytest

from tuning.selection import (DEFAULT, SELECTION_FILE, candidates, cross_validate, format_ranking,
                             members_estimate, probability_scores)
from tuning.space import SPACE, default_values
from xraynet import ModelConfig, Trainer, XRayDataModule
from xraynet.config import TrainerConfig

BASE = ModelConfig(image_size=32, n_classes=3, seed=1)
FOUND = {"depth": 2, "base_filters": 8, "dropout": 0.1, "learning_rate": 2e-3, "batch_size": 8}


def test_the_default_configuration_lies_in_the_search_space():
    from tuning.space import CNN_PARAMS, PRETRAINED_PARAMS

    values = default_values(ModelConfig())
    other = PRETRAINED_PARAMS if values["backbone"] == "cnn" else CNN_PARAMS
    assert set(values) == set(SPACE) - set(other)  # only the default backbone's own depth
    for name, spec in ((n, s) for n, s in SPACE.items() if n in values):
        if spec["type"] == "choice":
            assert values[name] in spec["values"], name
        else:
            assert spec["min"] <= values[name] <= spec["max"], name
    if values["backbone"] == "cnn":
        assert default_values(BASE)["depth"] <= 4  # what a 32 px input allows


def test_candidates_add_the_default_unless_the_search_found_it():
    payload = {"hyperparameters": FOUND, "top": [{"hyperparameters": FOUND, "score": 0.4}]}
    found = candidates(payload, BASE, 3)
    assert [c["source"] for c in found] == ["search #1", DEFAULT]
    assert found[0]["validation_score"] == 0.4 and found[1]["hyperparameters"] == default_values(BASE)
    with_default = {"hyperparameters": FOUND, "top": [{"hyperparameters": default_values(BASE)},
                                                      {"hyperparameters": FOUND}]}
    assert [c["source"] for c in candidates(with_default, BASE, 3)] == ["search #1", "search #2"]
    assert len(candidates(with_default, BASE, 1)) == 1


def test_probability_scores_and_the_members_average():
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]])
    scores = probability_scores(y, proba)
    assert scores["n"] == 4 and scores["accuracy"] == 0.75
    assert scores["log_loss"] == pytest.approx(-(3 * np.log(0.8) + np.log(0.1)) / 4)
    # F1: class 0 = 1, class 1 = 2/3 (one false positive), class 2 = 2/3 (one miss)
    assert scores["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    other = np.array([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6], [0.1, 0.0, 0.9]])
    both = members_estimate({"a": (y, proba), "b": (y, other)}, ["a", "b"])
    assert both["accuracy"] == 1.0  # the last image: 0.5 for class 2 against 0.4
    assert members_estimate({"a": (y, proba), "b": (y, other)}, ["a", "a", "b"]) == \
        probability_scores(y, (2 * proba + other) / 3)


def test_folds_partition_the_train_folder_and_keep_their_images_out_of_training(dataset, cache_dir):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    folder, _ = dm.train_folder()
    folds = dm.cross_validation(3, seed=5)
    held = [p for _, h in folds for p in h.paths]
    assert sorted(held) == sorted(folder.paths)  # every train image held out exactly once
    for fold, held_out in folds:
        assert not set(held_out.paths) & (set(fold.train.paths) | set(fold.val.paths))
        assert not set(fold.train.paths) & set(fold.val.paths)
        assert fold.test is dm.test and dm.train is not fold.train
        assert len(fold.train) + len(fold.val) + len(held_out) == len(folder)


def test_cross_validation_ranks_the_candidates_and_resumes_without_refitting(
        dataset, cache_dir, tmp_path, monkeypatch):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    found = candidates({"hyperparameters": FOUND, "top": [{"hyperparameters": FOUND}]}, BASE, 1)
    path = tmp_path / SELECTION_FILE
    trainer = TrainerConfig(epochs=2, patience=2)
    ranked, held = cross_validate(found, dm, base=BASE, folds=2, seed=1, trainer=trainer, path=path)
    assert sorted(c["source"] for c in ranked) == sorted(c["source"] for c in found)
    losses = [c["cross_validation"]["log_loss"] for c in ranked]
    assert losses == sorted(losses) and all(np.isfinite(losses))
    n_train = len(dm.train_folder()[0])
    assert all(c["cross_validation"]["n"] == n_train for c in ranked)
    assert set(held) == {c["source"] for c in found}
    ys = [y for y, _ in held.values()]
    assert all(np.array_equal(ys[0], y) for y in ys)  # the same images, in the same order
    for c in ranked:
        assert probability_scores(*held[c["source"]])["log_loss"] == c["cross_validation"]["log_loss"]
    assert len(path.read_text().splitlines()) == 4  # 2 candidates x 2 folds
    assert "cv log-loss" in format_ranking(ranked)

    def no_fit(*args, **kwargs):
        raise AssertionError("a finished fold was trained again")

    monkeypatch.setattr(Trainer, "train", no_fit)  # folds call training alone
    again, _ = cross_validate(found, dm, base=BASE, folds=2, seed=1, trainer=trainer, path=path)
    assert json.dumps(again, sort_keys=True) == json.dumps(ranked, sort_keys=True)
    with pytest.raises(AssertionError):  # other trainer settings are other fits
        cross_validate(found, dm, base=BASE, folds=2, seed=1, trainer=replace(trainer, epochs=3),
                       path=path)


def test_fold_scores_survive_a_torn_last_line(tmp_path):
    from tuning.selection import _append, _read

    path = tmp_path / SELECTION_FILE
    _append(path, {"key": "a", "proba": [[1.0]]})
    with path.open("a") as fh:
        fh.write('{"key": "b", "pro')  # an interrupted write
    _append(path, {"key": "c", "proba": [[0.5]]})
    assert _read(path) == {"a": {"proba": [[1.0]]}, "c": {"proba": [[0.5]]}}
    path.write_text('["not a row"]\n{"no key": 1}\n')
    assert _read(path) == {}


def test_one_fold_is_refused_with_one_line(tmp_path):
    from tuning.settings import MemberSettings
    from xraynet.config_schema import ConfigError

    with pytest.raises(ConfigError, match="at least 2"):
        MemberSettings(select_folds=1)
