import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from xraynet_bench.recipes import (ACQUISITION_VARIANTS, EXPOSURE_GAMMAS, FRAMING_ASPECTS, RECIPES,
                                   acquisition_scores, ensemble_records, external_scores, fold_data,
                                   markdown, run_fold,
                                   stress_scores, summarise, view_predictor)
from xraynet import ModelConfig, Trainer, XRayClassifier
from xraynet.data import XRayDataModule
from xraynet_bench.refit import refit, refit_dataset

ROOT = Path(__file__).resolve().parents[2]


def test_a_fold_is_scored_on_held_out_train_images_only(dataset, cache_dir, tmp_path):
    import shutil

    for source, classes in (("north", ("Alpha", "Beta")), ("south", ("Gamma",))):
        for cls in classes:
            shutil.copytree(dataset / "test" / cls, tmp_path / "ext" / source / cls)
    [record] = run_fold(str(dataset), "base", fold=1, seed=3, n_folds=3, cache_dir=str(cache_dir),
                        overrides={"epochs": 2, "image_size": 32}, external=str(tmp_path / "ext"))
    ext = record["external"]
    assert ext["classes"] == ["Alpha", "Beta", "Gamma"] and ext["y"] == [0] * 8 + [1] * 8 + [2] * 8
    assert ext["source"] == ["north"] * 16 + ["south"] * 8 and np.array(ext["p"]).shape == (24, 3)
    assert {"external_f1", "external_worst", "external_weakest_at"} <= set(external_scores([record]))
    folder, _ = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup().train_folder()
    assert all(p.startswith("train/") for p in folder.paths)
    assert 0 < len(record["index"]) < len(folder) and max(record["index"]) < len(folder)
    assert record["y"] == folder.y[record["index"]].tolist()
    p = np.array(record["p"])
    assert p.shape == (len(record["index"]), 3) and np.allclose(p.sum(axis=1), 1, atol=1e-3)
    assert sorted(record["p_framed"], key=float) == [f"{a:g}" for a in FRAMING_ASPECTS]
    assert all(np.array(v).shape == p.shape for v in record["p_framed"].values())
    assert sorted(record["p_exposed"], key=float) == [f"{g:g}" for g in EXPOSURE_GAMMAS]
    assert np.allclose(record["p_exposed"]["1"], p, atol=1e-4)  # gamma 1 is the image itself
    assert set(record["p_acquired"]) == {v.name for v in ACQUISITION_VARIANTS}
    assert all(np.array(v).shape == p.shape for v in record["p_acquired"].values())


def test_external_scores_average_each_fits_pooled_worst_source_and_weakest_class():
    def record(pred):
        p = np.eye(3)[pred].tolist()
        return {"recipe": "r", "external": {"classes": ["A", "B", "C"], "y": [0, 1, 1, 2, 2],
                                            "source": ["n", "n", "s", "s", "s"], "p": p}}

    perfect, one_off = record([0, 1, 1, 2, 2]), record([0, 1, 2, 2, 2])  # s: its one B called C
    scores = external_scores([perfect, one_off, one_off])
    assert scores["external_f1"] == pytest.approx((1 + 2 * (1 + 2 / 3 + 0.8) / 3) / 3)
    assert scores["external_worst"] == "s" and scores["external_weakest_at"] == "s/B"
    assert scores["external_weakest"] == pytest.approx(1 / 3)  # s holds one B, called C
    assert external_scores([{"recipe": "r"}]) == {}


def test_views_average_the_image_and_seeded_draws_of_the_models_augmentation():
    from xraynet.models import AugmentationConfig, ModelConfig, build_cnn

    model = build_cnn(ModelConfig(image_size=32, n_classes=3, depth=2, base_filters=4,
                                    augmentation=AugmentationConfig(noise=20.0)))
    x = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    plain = np.asarray(model.predict(x, verbose=0))
    assert np.allclose(view_predictor(model)(x), plain)  # one view: the image itself
    averaged = view_predictor(model, 4, seed=5)
    first = averaged(x)
    assert np.allclose(averaged(x), first)  # every call sees the same draws
    assert not np.allclose(first, plain, atol=1e-4) and np.allclose(first.sum(axis=1), 1, atol=1e-4)
    geometric = view_predictor(model, 4, geometric=True, seed=5)(x)
    assert not np.allclose(geometric, first, atol=1e-5)  # no noise, contrast or exposure draws


def test_ensemble_records_average_the_seeds_of_each_fold():
    right, wrong = [0.8, 0.1, 0.1], [0.2, 0.7, 0.1]

    def record(seed, fold, p, acquired):
        return {"recipe": "r", "fold": fold, "seed": seed, "split_seed": 7, "index": [3, 4],
                "y": [0, 0], "p": p, "p_acquired": {"blur": acquired}, "seconds": 10.0}

    records = [record(1, 0, [right, wrong], [wrong, wrong]), record(2, 0, [right, right], [right, wrong]),
               record(1, 1, [right, right], [right, right])]  # fold 1 lacks seed 2: left out
    (ens,) = ensemble_records(records, [("r", 1), ("r", 2)], "ens2")
    assert ens["recipe"] == "ens2" and ens["fold"] == 0 and ens["seconds"] == 20.0
    assert np.allclose(ens["p"], [right, np.mean([wrong, right], axis=0)])
    assert np.allclose(ens["p_acquired"]["blur"], [np.mean([wrong, right], axis=0), wrong])
    assert summarise([ens])[0]["accuracy"] == 1.0  # the mean of a right and a wrong: still right


def test_ensemble_records_join_seeds_of_different_recipes():
    p = [[0.8, 0.1, 0.1]]

    def record(recipe, seed):
        return {"recipe": recipe, "fold": 0, "seed": seed, "split_seed": 7, "index": [3],
                "y": [0], "p": p, "seconds": 1.0}

    records = [record("a", 1), record("b", 2), record("b", 1)]
    (ens,) = ensemble_records(records, [("a", 1), ("b", 2)], "mixed")
    assert ens["seconds"] == 2.0  # two members: b's seed 1 is not one
    assert ensemble_records(records, [("a", 1), ("a", 2)], "missing") == []


def test_a_recipe_may_fix_the_inner_split_that_every_seed_early_stops_on(dataset, cache_dir):
    def val_paths(recipe, seed):
        _, dm, _, _ = fold_data(str(dataset), recipe, fold=0, seed=seed, n_folds=3,
                                cache_dir=str(cache_dir), overrides={"image_size": 32})
        return sorted(dm.val.paths)

    shared = val_paths("g_body_shared", 2)
    assert shared == val_paths("g_body", 1)  # the split of seed 1, whatever the fit's seed
    assert shared != val_paths("g_body", 2)


def test_acquisition_scores_compare_each_variant_with_the_unchanged_image():
    right, wrong = [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]
    record = {"recipe": "r", "y": [0, 0, 0, 0], "p": [right, right, wrong, right],
              "p_acquired": {"blur": [right, wrong, wrong, right], "noise": [right] * 4}}
    scores = acquisition_scores([record])
    assert scores["acquired_variant"] == "blur" and scores["acquired_changed"] == 0.25
    assert scores["acquired_per_variant"] == {"blur": 0.25, "noise": 0.25}  # noise mends image 2
    assert scores["acquired_worst"] == 0.5


def test_stress_scores_count_predictions_that_change_with_the_variant_alone():
    right, wrong = [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]
    record = {"recipe": "r", "y": [0, 0, 0, 0],
              "p_framed": {"1": [right, right, wrong, right], "1.4": [right, wrong, wrong, right]}}
    scores = stress_scores([record], "p_framed", "framed")
    assert scores["framed_accuracy"] == 0.625  # (3/4 + 2/4) / 2
    assert scores["framed_worst"] == 0.5
    assert scores["framed_flips"] == 0.25  # image 1 only; image 2 is wrong in both
    assert stress_scores([{"recipe": "r", "y": [0]}], "p_exposed", "exposed") == {}


def _record(recipe, seed, correct):
    p = [[0.8, 0.1, 0.1] if ok else [0.1, 0.8, 0.1] for ok in correct]
    return {"recipe": recipe, "fold": 0, "seed": seed, "split_seed": 1, "index": list(range(len(correct))),
            "y": [0] * len(correct), "p": p, "seconds": 1.0}


def test_summary_pairs_recipes_with_the_baseline_and_averages_seeds():
    records = [_record("base", 1, [1, 1, 0, 0]), _record("base", 2, [1, 0, 1, 0]),
               _record("other", 1, [1, 1, 1, 0]), _record("other", 2, [1, 1, 1, 1])]
    rows = {r["recipe"]: r for r in summarise(records)}
    assert rows["base"]["accuracy"] == 0.5 and rows["other"]["accuracy"] == 0.875
    assert rows["other"]["accuracy_diff"] == 0.375 and rows["other"]["accuracy_diff_se"] > 0
    # images 1 and 2: one seed right (0.8), one wrong (0.1): their mean still favours the label
    assert rows["base"]["seed_ensemble_accuracy"] == 0.75
    text = markdown(list(rows.values()), command="python scripts/recipe_cv.py")
    assert "| other | 8 | 0.875 |" in text and "+0.375 ±" in text and "accuracy − base" in text


def test_script_runs_a_study_and_writes_the_summary(dataset, tmp_path):
    results, summary = tmp_path / "r.jsonl", tmp_path / "R.md"
    cmd = [sys.executable, str(ROOT / "scripts" / "recipe_cv.py"), "--data", str(dataset),
           "--recipes", "base,s192stem", "--folds", "2", "--seeds", "1", "--epochs", "1",
           "--image-size", "32", "--workers", "2", "--results", str(results), "--summary", str(summary)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted((r["recipe"], r["fold"]) for r in lines) == [("base", 0), ("base", 1),
                                                               ("s192stem", 0), ("s192stem", 1)]
    assert "| s192stem | " in summary.read_text() and set(RECIPES) >= {"base", "s192stem"}


def test_script_refuses_an_unknown_recipe(capsys):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "recipe_cv.py"), "--recipes", "base,nope"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "unknown recipe(s) ['nope']" in done.stderr


class _Batches(keras.callbacks.Callback):
    """Counts the training steps and records the learning rate of each epoch."""

    def __init__(self):
        super().__init__()
        self.steps, self.rates = 0, []

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1

    def on_epoch_begin(self, epoch, logs=None):
        self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def test_refit_trains_on_train_and_validation_for_the_given_epochs(dataset, cache_dir):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    module = XRayClassifier(model=ModelConfig(image_size=32, depth=3, base_filters=8,
                                              augmentation=None, seed=1))
    trainer, counter = Trainer(epochs=10, batch_size=16, seed=1, verbose=0), _Batches()
    data = refit_dataset(dm, batch_size=8, seed=3)
    assert sorted(data.paths) == sorted(dm.train.paths + dm.val.paths)
    labels = np.concatenate([dm.train.y, dm.val.y])
    _, _, weights = data[0]
    first = data.source.y[data._order[:8]]
    assert np.allclose(weights, len(labels) / (3 * np.bincount(labels, minlength=3)[first]))
    refit(trainer, module, dm, epochs=3, callbacks=[counter])
    assert counter.steps == 3 * -(-len(labels) // 16)  # every training and validation image
    assert np.allclose(counter.rates, [module.learning_rate_at(e, 10) for e in range(3)], rtol=1e-4)
    with pytest.raises(ValueError, match="1..10"):
        refit(trainer, module, dm, epochs=11)


def test_a_refit_recipe_scores_the_second_model(dataset, cache_dir):
    overrides = {"epochs": 2, "image_size": 32, "depth": 3, "base_filters": 8}
    [first] = run_fold(str(dataset), "acq_gamma", fold=0, seed=3, n_folds=3, cache_dir=str(cache_dir),
                       overrides=overrides)
    [second] = run_fold(str(dataset), "g_refit", fold=0, seed=3, n_folds=3, cache_dir=str(cache_dir),
                        overrides=overrides)
    assert second["index"] == first["index"] and second["best_epoch"] == first["best_epoch"]
    assert not np.allclose(second["p"], first["p"], atol=1e-3)  # another model scored
