import json

import numpy as np
import pytest

from tuning.selection import DEFAULT, SELECTION_FILE, candidates, cross_validate, format_ranking, pooled
from tuning.space import SPACE, default_values
from xraynet import ModelConfig, Trainer, XRayDataModule

BASE = ModelConfig(image_size=32, n_classes=3, seed=1)
FOUND = {"depth": 2, "base_filters": 8, "dropout": 0.1, "learning_rate": 2e-3, "batch_size": 8}


def test_the_default_configuration_lies_in_the_search_space():
    values = default_values(ModelConfig())
    assert set(values) == set(SPACE)
    for name, spec in SPACE.items():
        if spec["type"] == "choice":
            assert values[name] in spec["values"], name
        else:
            assert spec["min"] <= values[name] <= spec["max"], name
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


def test_pooled_scores_count_every_held_out_image_once():
    folds = [{"y": [0, 1], "pred": [0, 1], "nll_sum": 0.2, "seconds": 1.0},
             {"y": [2, 2], "pred": [2, 1], "nll_sum": 1.0, "seconds": 2.0}]
    scores = pooled(folds, 3)
    assert scores["n"] == 4 and scores["accuracy"] == 0.75
    assert scores["log_loss"] == pytest.approx(0.3) and scores["seconds"] == 3.0
    # F1: class 0 = 1, class 1 = 2/3 (one false positive), class 2 = 2/3 (one miss)
    assert scores["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)


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
    trainer = {"epochs": 2, "patience": 2, "devices": 1, "mixup": 0.0, "resize_mix": 0.0}
    ranked = cross_validate(found, dm, base=BASE, folds=2, seed=1, trainer=trainer, path=path)
    assert sorted(c["source"] for c in ranked) == sorted(c["source"] for c in found)
    losses = [c["cross_validation"]["log_loss"] for c in ranked]
    assert losses == sorted(losses) and all(np.isfinite(losses))
    n_train = len(dm.train_folder()[0])
    assert all(c["cross_validation"]["n"] == n_train for c in ranked)
    assert len(path.read_text().splitlines()) == 4  # 2 candidates x 2 folds
    assert "cv log-loss" in format_ranking(ranked)

    def no_fit(*args, **kwargs):
        raise AssertionError("a finished fold was trained again")

    monkeypatch.setattr(Trainer, "fit", no_fit)
    again = cross_validate(found, dm, base=BASE, folds=2, seed=1, trainer=trainer, path=path)
    assert json.dumps(again, sort_keys=True) == json.dumps(ranked, sort_keys=True)
    with pytest.raises(AssertionError):  # other trainer settings are other fits
        cross_validate(found, dm, base=BASE, folds=2, seed=1, trainer={**trainer, "epochs": 3},
                       path=path)


def test_fold_scores_survive_a_torn_last_line(tmp_path):
    from tuning.selection import _append, _read

    path = tmp_path / SELECTION_FILE
    _append(path, {"key": "a", "nll_sum": 1.0})
    with path.open("a") as fh:
        fh.write('{"key": "b", "nll_')  # an interrupted write
    _append(path, {"key": "c", "nll_sum": 3.0})
    assert _read(path) == {"a": {"nll_sum": 1.0}, "c": {"nll_sum": 3.0}}
    path.write_text('["not a row"]\n{"no key": 1}\n')
    assert _read(path) == {}
