"""Recipe study: nested cross-validation of training recipes on the train folder only.

The outer loop is a stratified group K-fold over the train folder (duplicate clusters stay on one
side); each outer fold's held-out images score the recipe. Inside it, the usual stratified 20%
validation split picks the checkpoint, exactly as ``xraynet fit`` does. The test split is never
read, so a recipe chosen here is chosen on validation only.

Stress tests. Framing: the held-out images are also predicted after a central crop to fixed
width / height ratios (``FRAMING_ASPECTS``). Scanners frame chest X-rays differently, and in this
dataset the ratio differs by class (train medians: Covid and Normal 1.18, Viral Pneumonia 1.38),
so a model may learn the frame instead of the lungs; a cross-validation inside one folder cannot
see that, because the folder is consistent with itself. Accuracy across framings, and how often
a prediction changes with the framing alone, show it without reading the test split.
Exposure: the held-out images are also predicted after a gamma change (``EXPOSURE_GAMMAS``), as
a different scanner or exposure would give; a model that uses overall brightness (which differs
between the sources of the classes) changes its predictions with it.
Acquisition: the held-out files also go through the model report's acquisition-shift suite
(:mod:`xraynet.evaluation.acquisition`: 224 px squeeze, JPEG, blur, noise, border crop).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xraynet.data import XRayDataModule, sourced_set
from xraynet.data.decode import center_aspect, fit_to_square, load_grayscale
from xraynet.config import AugmentationConfig, ModelConfig, RunConfig, TrainerConfig
from xraynet.evaluation.robustness import EXPOSURE_GAMMAS as CHANGED_EXPOSURES
from xraynet.evaluation.acquisition import VARIANTS as ACQUISITION_VARIANTS
from xraynet.evaluation.acquisition import stressed_inputs
from xraynet.evaluation.robustness import apply_gamma

#: recipe name -> overrides of the default fit (ModelConfig, XRayClassifier or Trainer fields;
#: augmentation fields such as ``contrast`` or ``aspect``; ``resize`` is the data module's), on top
#: of ``RECIPE_BASE``
RECIPES: dict[str, dict] = {
    "base": {"image_size": 128, "stem_stride": 1},
    "s192stem": {"image_size": 192, "stem_stride": 2},
    "s256stem": {"image_size": 256, "stem_stride": 2},
    "s192": {"image_size": 192, "stem_stride": 1},
    "s256": {"image_size": 256, "stem_stride": 1},
    "ema": {"image_size": 128, "stem_stride": 1, "ema_momentum": 0.99},
    "ls": {"image_size": 128, "stem_stride": 1, "label_smoothing": 0.1},
    "eq": {"image_size": 128, "stem_stride": 1, "intensity": "equalize"},
    "d5": {"image_size": 128, "stem_stride": 1, "depth": 5},
    "convs3": {"image_size": 128, "stem_stride": 1, "convs_per_block": 3},
    "wide": {"image_size": 128, "stem_stride": 1, "base_filters": 32},
    "drop5": {"image_size": 128, "stem_stride": 1, "dropout": 0.5},
    "ep60": {"image_size": 128, "stem_stride": 1, "epochs": 60, "patience": 20},
    "bs32lr2": {"image_size": 128, "stem_stride": 1, "batch_size": 32, "learning_rate": 2e-3},
    "no_contrast": {"image_size": 128, "stem_stride": 1, "contrast": 0.0},
    "s256stem_ema": {"image_size": 256, "stem_stride": 2, "ema_momentum": 0.99},
    "ema_ls_eq": {"image_size": 128, "stem_stride": 1, "ema_momentum": 0.99, "label_smoothing": 0.1,
                  "intensity": "equalize"},
    "big": {"image_size": 256, "stem_stride": 2, "base_filters": 32, "depth": 5},
    "crop": {"image_size": 192, "stem_stride": 2, "resize": "crop"},
    "aspect25": {"image_size": 192, "stem_stride": 2, "aspect": 0.25},
    "crop_aspect25": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25},
    "crop_aspect25_scale": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                            "intensity": "scale"},
    "scale_gamma25": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                      "intensity": "scale", "gamma": 0.25},
    "scale128_ep25": {"image_size": 128, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                      "intensity": "scale", "epochs": 25},
    "crop_aspect25_tuned": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                            "intensity": "scale", "learning_rate": 7.4e-4, "batch_size": 8},
    # the acquisition study on the original images (docs/studies/ACQUISITION.md)
    "default": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25},
    "acq": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
            "resolution": 0.5, "blur": 1.5, "noise": 8.0},
    "acq_eq": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
               "resolution": 0.5, "blur": 1.5, "noise": 8.0, "intensity": "equalize"},
    # the defaults study on the original images (docs/studies/DEFAULTS.md), changes of `acq`
    "acq_scale": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                  "resolution": 0.5, "blur": 1.5, "noise": 8.0, "intensity": "scale"},
    "acq_stretch": {"image_size": 192, "stem_stride": 2, "resize": "stretch", "aspect": 0.25,
                    "resolution": 0.5, "blur": 1.5, "noise": 8.0},
    "acq_s256": {"image_size": 256, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                 "resolution": 0.5, "blur": 1.5, "noise": 8.0},
    "acq_wide": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                 "resolution": 0.5, "blur": 1.5, "noise": 8.0, "base_filters": 32},
    # the robustness study (docs/studies/ROBUSTNESS.md), changes of `acq`
    "acq_gamma": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                  "resolution": 0.5, "blur": 1.5, "noise": 8.0, "gamma": 0.25},
    "acq_gamma_zoom": {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
                       "resolution": 0.5, "blur": 1.5, "noise": 8.0, "gamma": 0.25, "zoom": 0.2},
    # the capacity and aspect studies (docs/studies/CAPACITY.md, ASPECT.md), changes of `acq_gamma`
    **{name: {"image_size": 192, "stem_stride": 2, "resize": "crop", "aspect": 0.25,
              "resolution": 0.5, "blur": 1.5, "noise": 8.0, "gamma": 0.25, **change}
       for name, change in {
           "g_d3": {"depth": 3},
           "g_d5": {"depth": 5},
           "g_ema": {"ema_momentum": 0.99},
           "g_ls": {"label_smoothing": 0.1},
           "g_ep25": {"epochs": 25, "patience": 10},
           "g_ep60": {"epochs": 60, "patience": 20},
           # the aspect study (docs/studies/ASPECT.md)
           "g_asp40": {"aspect": 0.4},
           "g_stretch40": {"resize": "stretch", "aspect": 0.4},
           # the anti-alias study (docs/studies/ANTIALIAS.md)
           "g_aa10": {"antialias": 1.0},
           # the mixup study (docs/studies/MIXUP.md)
           "g_mix02": {"mixup": 0.2},
           "g_mix04": {"mixup": 0.4},
           # the fill study (docs/studies/FILL.md)
           "g_refl": {"fill": "reflect"},
           "g_refl_z20": {"fill": "reflect", "zoom": 0.2},
           # the zoom-in study (docs/studies/ZOOMIN.md)
           "g_zin10": {"zoom_in_only": True},
           "g_zin20": {"zoom_in_only": True, "zoom": 0.2},
           # the refit study (docs/studies/REFIT.md): the fit, then a fresh model on train and
           # validation together for its best epoch count; the second model is scored
           "g_refit": {"refit": True},
           # the resize-mix study (docs/studies/RESIZEMIX.md)
           "g_rmix25": {"resize_mix": 0.25},
           "g_rmix50": {"resize_mix": 0.5},
           # the body-box study (docs/studies/BODYBOX.md): the body's box squeezed into the square
           "g_body": {"resize": "body"},
           # the test-time augmentation study (docs/studies/TTA.md): one fit, scored three ways
           "g_tta": {"inference": {"g_plain": None, "g_tta8": {"views": 8},
                                   "g_tta8geo": {"views": 8, "geometric": True}}},
           # the member-split study (docs/studies/MEMBERSPLIT.md): every seed's fit early-stops on
           # the inner validation split of seed 1, as the main job's members share one split
           "g_body_shared": {"resize": "body", "inner_split_seed": 1},
           # the blur-split study (docs/studies/BLURSPLIT.md): own splits, blur augmentation up
           # to sigma 2.5 instead of 1.5
           "g_body_b25": {"resize": "body", "blur": 2.5},
           # the backbone study (docs/studies/BACKBONE.md): from scratch, linear probe and
           # fine-tuned ImageNet EfficientNet-Lite0, each with and without histogram equalisation
           "g_body_eq": {"resize": "body", "intensity": "equalize"},
           **{f"lite0_{mode}{suffix}": {"resize": "body", "image_size": 224,
                                        "backbone": "efficientnet_lite0", "intensity": intensity,
                                        "fine_tune_blocks": blocks, "epochs": 12, "patience": 5}
              for mode, blocks in (("probe", 0), ("ft2", 2))
              for suffix, intensity in (("", "scale"), ("_eq", "equalize"))},
           # its second part: the probe's head warmed up on augmented views' features too
           **{f"lite0_probe_v{views}": {"resize": "body", "image_size": 224,
                                        "backbone": "efficientnet_lite0", "intensity": "scale",
                                        "fine_tune_blocks": 0, "warmup_views": views}
              for views in (4, 8)},
       }.items()},
}
#: what every recipe means unless it says otherwise: the recipes predate the crop, aspect-jitter
#: and intensity-scaling defaults, so they keep the squeeze without jitter, standardised per image,
#: and no acquisition augmentation
RECIPE_BASE = {"resize": "stretch", "aspect": 0.0, "intensity": "per_image", "resolution": 0.0,
               "blur": 0.0, "noise": 0.0, "gamma": 0.0}
#: width / height ratios of the framing stress test (train medians span 1.18 to 1.38)
FRAMING_ASPECTS = (1.0, 1.2, 1.4)
#: gammas of the exposure stress test (pixel 255 * (x / 255) ** gamma: 0.8 brighter, 1.25 darker),
#: the unchanged exposure included
EXPOSURE_GAMMAS = tuple(sorted({*CHANGED_EXPOSURES, 1.0}))
#: what a recipe may name beside the run config's settings: the study's own keys
STUDY_KEYS = ("inference", "inner_split_seed", "refit")


#: augmentation fields a geometric-only test-time view leaves out
NON_GEOMETRIC = ("contrast", "gamma", "resolution", "blur", "noise")


def view_predictor(model, views: int = 1, *, geometric: bool = False, seed: int = 0):
    """A function of images giving ``model``'s softmax averaged over ``views`` views: the image
    itself and ``views - 1`` draws of the model's own training augmentation (only its geometry
    with ``geometric``). The draws restart from ``seed`` at every call, so every set of images
    scored sees the same ones."""
    import keras

    from xraynet.layers import XRayAugmentation
    from xraynet.predict import tta_augmentation

    def one_pass(x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(x, verbose=0))

    if views == 1:
        return one_pass
    config = tta_augmentation(model, seed).get_config()
    if geometric:
        config.update({name: 0.0 for name in NON_GEOMETRIC})

    def predict(x: np.ndarray) -> np.ndarray:
        augment = XRayAugmentation.from_config(config)
        runs = [one_pass(x)]
        for _ in range(views - 1):
            viewed = keras.ops.convert_to_numpy(augment(x.astype(np.float32), training=True))
            runs.append(one_pass(viewed))
        return np.mean(runs, axis=0)

    return predict


@dataclass
class FoldFit:
    """One recipe trained on one outer fold: the model scored, the data module, the train folder,
    the held-out rows, and what the records report of the fit."""

    model: object
    dm: XRayDataModule
    folder: object
    held_out: np.ndarray
    best_epoch: int | None
    epochs_run: int
    seconds: float


def recipe_config(recipe: str, *, seed: int, n_classes: int = 3,
                  overrides: dict | None = None) -> tuple[dict, RunConfig]:
    """``recipe``'s settings (:data:`RECIPE_BASE`, the recipe, ``overrides``) and the run config
    they make: every setting a recipe names put into its config through
    :meth:`~xraynet.config.RunConfig.with_overrides` (a key that names no setting, other than
    the study's own :data:`STUDY_KEYS`, is an error), the rest at the defaults; ``seed`` is the
    run's one seed."""
    spec = {**RECIPE_BASE, **RECIPES[recipe], **(overrides or {})}
    base = RunConfig(model=ModelConfig(n_classes=n_classes, augmentation=AugmentationConfig()),
                     trainer=TrainerConfig(tensorboard=False))
    config = base.with_overrides(seed=seed, **{k: v for k, v in spec.items() if k not in STUDY_KEYS})
    return spec, config


def fold_data(data: str, recipe: str, *, fold: int, seed: int, n_folds: int = 10,
              split_seed: int = 1000, overrides: dict | None = None,
              cache_dir: str | None = None) -> tuple[dict, XRayDataModule, object, np.ndarray]:
    """``recipe``'s settings and its data on outer fold ``fold`` of the train folder: a data
    module whose train and validation splits are the fold's training images (the inner 20%
    validation split seeded by ``seed`` unless the recipe fixes ``inner_split_seed``), the
    train folder, and the fold's held-out rows."""
    spec, config = recipe_config(recipe, seed=seed, overrides=overrides)
    dm = XRayDataModule(config=config.data, root=data, cache_dir=cache_dir).setup()
    folder, _ = dm.train_folder()
    fold_dm, held_out = dm.fold(fold, n_folds=n_folds, seed=split_seed,
                                val_seed=spec.get("inner_split_seed", seed))
    return spec, fold_dm, folder, held_out


def fit_fold(data: str, recipe: str, *, fold: int, seed: int, n_folds: int = 10,
             split_seed: int = 1000, overrides: dict | None = None,
             cache_dir: str | None = None) -> FoldFit:
    """Train ``recipe`` on outer fold ``fold`` of the train folder (:func:`fold_data`; the
    inner validation split picks the checkpoint, as ``xraynet fit`` does); a recipe with
    ``refit`` then trains its second phase (:mod:`.refit`), whose model is the one scored."""
    from xraynet.module import XRayClassifier
    from xraynet.trainer import Trainer

    spec, dm, folder, held_out = fold_data(data, recipe, fold=fold, seed=seed, n_folds=n_folds,
                                           split_seed=split_seed, overrides=overrides,
                                           cache_dir=cache_dir)
    _, config = recipe_config(recipe, seed=seed, n_classes=len(dm.class_names), overrides=overrides)
    module = XRayClassifier(model=config.model, config=config.module)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config=config.trainer, out_dir=tmp, verbose=0)
        result = trainer.train(module, dm, work_dir=tmp)  # training alone: no bundle written
        fitted = result.model
        if spec.get("refit"):
            from .refit import refit as second_phase
            fitted = second_phase(trainer, module, dm, epochs=result.best_epoch)
    return FoldFit(fitted, dm, folder, held_out, result.best_epoch,
                   len(result.history.get("loss", [])), round(time.perf_counter() - start, 1))


def external_inputs(external: str, class_names: list[str], settings) -> dict:
    """An external set (a folder of sources, of classes, or a manifest with a source column:
    :func:`~xraynet.data.sourced_set`) decoded as the fold's model reads its images: ``x``,
    the labels ``y`` and each image's ``source``. Unreadable files are left out."""
    labelled = sourced_set(external, class_names)
    images, kept = [], []
    for i, path in enumerate(labelled.files):
        try:
            images.append(fit_to_square(load_grayscale(path, settings), settings))
            kept.append(i)
        except Exception:  # noqa: BLE001 - an unreadable external file is skipped, as evaluate does
            continue
    return {"x": np.stack(images)[..., None], "y": [labelled.labels[i] for i in kept],
            "source": [labelled.sources[i] for i in kept]}


def run_fold(data: str, recipe: str, *, fold: int, seed: int, n_folds: int = 10,
             split_seed: int = 1000, overrides: dict | None = None,
             cache_dir: str | None = None, external: str | None = None) -> list[dict]:
    """Train ``recipe`` on outer fold ``fold`` (:func:`fit_fold`) and predict its held-out train
    images (and, with ``external``, every image of that external set: :func:`external_inputs`):
    one record per inference policy (one, unless the recipe names several in ``inference``:
    record name -> ``None`` for one pass, or the :func:`view_predictor` settings)."""
    inference = {**RECIPES[recipe], **(overrides or {})}.get("inference", {recipe: None})
    fit = fit_fold(data, recipe, fold=fold, seed=seed, n_folds=n_folds, split_seed=split_seed,
                   overrides=overrides, cache_dir=cache_dir)
    dm, folder, held_out = fit.dm, fit.folder, fit.held_out
    x_held_out = folder.x[held_out]
    settings = dm.decode_settings
    files = [Path(data) / folder.paths[i] for i in held_out]
    grays = [load_grayscale(f, settings) for f in files]  # each file decoded once
    inputs = {"p": x_held_out,
              "p_framed": {f"{aspect:g}": np.stack([fit_to_square(center_aspect(g, aspect), settings)
                                                    for g in grays])[..., None]
                           for aspect in FRAMING_ASPECTS},
              "p_exposed": {f"{g:g}": apply_gamma(x_held_out, g) for g in EXPOSURE_GAMMAS},
              "p_acquired": {v.name: stressed_inputs(grays, settings, v, seed=seed)[..., None]
                             for v in ACQUISITION_VARIANTS}}
    outside = external_inputs(external, dm.class_names, settings) if external else None
    records = []
    for name, policy in inference.items():
        score = view_predictor(fit.model, seed=seed, **(policy or {}))

        def predict(x: np.ndarray) -> list:
            return np.round(score(x), 5).tolist()

        records.append({"recipe": name, "fold": fold, "seed": seed, "split_seed": split_seed,
                        "index": held_out.tolist(), "y": folder.y[held_out].tolist(),
                        **{key: predict(x) if isinstance(x, np.ndarray)
                           else {variant: predict(v) for variant, v in x.items()}
                           for key, x in inputs.items()},
                        **({"external": {"classes": dm.class_names, "y": outside["y"], "source": outside["source"],
                                         "p": predict(outside["x"])}} if outside else {}),
                        "best_epoch": fit.best_epoch, "epochs_run": fit.epochs_run,
                        "seconds": fit.seconds})
    return records


def _per_image(records: list[dict]) -> dict[str, dict[tuple, tuple[int, np.ndarray]]]:
    """recipe -> {(split_seed, seed, image index): (label, probabilities)}."""
    table: dict[str, dict] = {}
    for r in records:
        for i, label, p in zip(r["index"], r["y"], r["p"]):
            table.setdefault(r["recipe"], {})[(r["split_seed"], r["seed"], i)] = (label, np.asarray(p))
    return table


def _scores(items: list[tuple[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    labels = np.array([label for label, _ in items])
    probs = np.stack([p for _, p in items])
    correct = probs.argmax(axis=1) == labels
    nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0))
    return correct.astype(float), nll


def summarise(records: list[dict], *, baseline: str = "base") -> list[dict]:
    """Per recipe: predictions, accuracy, NLL, the paired difference from ``baseline`` (same
    images, folds and seeds; mean and standard error) and the accuracy of the mean of its seeds."""
    table = _per_image(records)
    rows = []
    for recipe, items in table.items():
        correct, nll = _scores(list(items.values()))
        row = {"recipe": recipe, "n": len(correct), "accuracy": correct.mean(), "nll": nll.mean(),
               "seconds": np.mean([r["seconds"] for r in records if r["recipe"] == recipe])}
        shared = sorted(set(items) & set(table.get(baseline, {})))
        if recipe != baseline and shared:
            c_r, n_r = _scores([items[k] for k in shared])
            c_b, n_b = _scores([table[baseline][k] for k in shared])
            for name, d in (("accuracy_diff", c_r - c_b), ("nll_diff", n_r - n_b)):
                row[name], row[name + "_se"] = d.mean(), d.std() / np.sqrt(len(d))
        by_image: dict[tuple, list] = {}
        for (split_seed, _, i), (label, p) in items.items():
            by_image.setdefault((split_seed, i), []).append((label, p))
        if all(len(v) > 1 for v in by_image.values()):
            mean = [(v[0][0], np.mean([p for _, p in v], axis=0)) for v in by_image.values()]
            row["seed_ensemble_accuracy"] = _scores(mean)[0].mean()
        mine = [r for r in records if r["recipe"] == recipe]
        row.update(stress_scores(mine, "p_framed", "framed"))
        row.update(stress_scores(mine, "p_exposed", "exposed"))
        row.update(acquisition_scores(mine))
        row.update(external_scores(mine))
        rows.append(row)
    return rows


def external_scores(records: list[dict]) -> dict:
    """For records with an external set's predictions (``external``): the mean over fits of the
    pooled macro-F1 (``external_f1``), of the worst source's macro-F1 (``external_worst_f1``,
    the source most often worst in ``external_worst``) and of the lowest per-source class
    sensitivity (``external_weakest``, with its ``source/class`` most often lowest); empty
    without them."""
    from collections import Counter

    from xraynet.evaluation import external_metrics, source_metrics, worst_source

    records = [r for r in records if r.get("external")]
    if not records:
        return {}
    names = records[0]["external"]["classes"]
    pooled, worst_f1, worst, weakest, weakest_at = [], [], [], [], []
    for r in records:
        ext = r["external"]
        y, p = np.asarray(ext["y"]), np.asarray(ext["p"], np.float64)
        p = p / p.sum(axis=1, keepdims=True)  # rounded to 5 places when recorded
        pooled.append(external_metrics(y, p, names, n_resamples=1)["macro_f1"])
        per = source_metrics(y, p, ext["source"], names, n_resamples=1)
        name = worst_source(per) or next(iter(per))
        worst.append(name)
        worst_f1.append(per[name]["macro_f1"])
        sens = [(v, f"{s}/{c}") for s, m in per.items() for c, v in m["sensitivity"].items() if v == v]
        weakest.append(min(sens)[0])
        weakest_at.append(min(sens)[1])
    return {"external_f1": float(np.mean(pooled)), "external_worst_f1": float(np.mean(worst_f1)),
            "external_worst": Counter(worst).most_common(1)[0][0],
            "external_weakest": float(np.mean(weakest)),
            "external_weakest_at": Counter(weakest_at).most_common(1)[0][0]}


def acquisition_scores(records: list[dict]) -> dict:
    """For the acquisition-shift predictions (``p_acquired``: variant -> probabilities): the
    worst variant's accuracy (``acquired_worst``), the largest share of predictions one variant
    changes against the unchanged image (``acquired_changed``, the model report's measure) and
    that variant (``acquired_variant``); empty for records without them."""
    records = [r for r in records if r.get("p_acquired")]
    if not records:
        return {}
    labels = np.concatenate([r["y"] for r in records])
    base = np.concatenate([np.argmax(r["p"], axis=1) for r in records])
    accuracy, changed = {}, {}
    for variant in records[0]["p_acquired"]:
        moved = np.concatenate([np.argmax(r["p_acquired"][variant], axis=1) for r in records])
        accuracy[variant], changed[variant] = (moved == labels).mean(), (moved != base).mean()
    worst = max(changed, key=changed.get)
    return {"acquired_worst": float(min(accuracy.values())), "acquired_changed": float(changed[worst]),
            "acquired_variant": worst, "acquired_per_variant": {k: float(v) for k, v in changed.items()}}


def stress_scores(records: list[dict], key: str, name: str) -> dict:
    """For the stress-test predictions under ``key`` (variant -> probabilities: ``p_framed`` or
    ``p_exposed``): accuracy over all variants (``<name>_accuracy``), its worst variant
    (``<name>_worst``) and the share of images whose predicted class changes with the variant
    alone (``<name>_flips``); empty for records without them."""
    records = [r for r in records if r.get(key)]
    if not records:
        return {}
    variants = sorted(records[0][key], key=float)
    labels = np.concatenate([r["y"] for r in records])
    predicted = np.stack([np.concatenate([np.argmax(r[key][v], axis=1) for r in records])
                          for v in variants])  # (variant, image)
    accuracy = (predicted == labels).mean(axis=1)
    return {f"{name}_accuracy": float(accuracy.mean()), f"{name}_worst": float(accuracy.min()),
            f"{name}_flips": float(np.mean((predicted != predicted[0]).any(axis=0)))}


def markdown(rows: list[dict], *, command: str, notes: list[str] = (), baseline: str = "base") -> str:
    """The summary as a Markdown table."""
    def fmt(row, key, se=None):
        if key not in row:
            return ""
        return f"{row[key]:+.3f} ± {row[se]:.3f}" if se else f"{row[key]:.3f}"
    lines = ["# Recipe study (nested cross-validation on the train folder; test never read)", "",
             f"Command: `{command}`", "", *[line for note in notes for line in (note, "")],
             f"| recipe | predictions | accuracy | NLL | accuracy − {baseline} | NLL − {baseline} | "
             "mean of seeds: accuracy | reframed: accuracy | reframed: worst | prediction changes "
             "with framing | re-exposed: accuracy | re-exposed: worst | prediction changes with "
             "exposure | acquisition: worst accuracy | acquisition: most changed (variant) | "
             "external: pooled macro-F1 | external: worst source macro-F1 (source) | external: "
             "lowest class sensitivity (source/class) | seconds per fit |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
             "| --- | --- | --- | --- |"]
    for row in rows:
        lines.append(f"| {row['recipe']} | {row['n']} | {fmt(row, 'accuracy')} | {fmt(row, 'nll')} | "
                     f"{fmt(row, 'accuracy_diff', 'accuracy_diff_se')} | "
                     f"{fmt(row, 'nll_diff', 'nll_diff_se')} | {fmt(row, 'seed_ensemble_accuracy')} | "
                     f"{fmt(row, 'framed_accuracy')} | {fmt(row, 'framed_worst')} | "
                     f"{fmt(row, 'framed_flips')} | {fmt(row, 'exposed_accuracy')} | "
                     f"{fmt(row, 'exposed_worst')} | {fmt(row, 'exposed_flips')} | "
                     f"{fmt(row, 'acquired_worst')} | {fmt(row, 'acquired_changed')}"
                     f"{' (' + row['acquired_variant'] + ')' if 'acquired_variant' in row else ''} | "
                     f"{fmt(row, 'external_f1')} | {fmt(row, 'external_worst_f1')}"
                     f"{' (' + row['external_worst'] + ')' if 'external_worst' in row else ''} | "
                     f"{fmt(row, 'external_weakest')}"
                     f"{' (' + row['external_weakest_at'] + ')' if 'external_weakest_at' in row else ''} | "
                     f"{row['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def ensemble_records(records: list[dict], members: list[tuple[str, int]], name: str) -> list[dict]:
    """Records of the ensemble ``name``: per outer fold, the mean of the records of ``members``
    (``(recipe, seed)`` pairs: their probabilities, and each stress variant's); folds lacking a
    member are left out."""
    by_fold: dict[tuple, dict[tuple[str, int], dict]] = {}
    for r in records:
        if (r["recipe"], r["seed"]) in members:
            by_fold.setdefault((r["split_seed"], r["fold"]), {})[(r["recipe"], r["seed"])] = r
    out = []
    for (split_seed, fold), found in sorted(by_fold.items()):
        if set(found) != set(members):
            continue
        first = found[members[0]]
        if any(m["index"] != first["index"] for m in found.values()):
            raise ValueError(f"fold {fold}: the members hold out different images")

        def mean(key: str, variant: str | None = None) -> list:
            rows = [m[key] if variant is None else m[key][variant] for m in found.values()]
            return np.round(np.mean(rows, axis=0), 5).tolist()

        record = {"recipe": name, "fold": fold, "seed": 0, "split_seed": split_seed,
                  "index": first["index"], "y": first["y"], "p": mean("p"),
                  "seconds": float(sum(m["seconds"] for m in found.values()))}
        for key in ("p_framed", "p_exposed", "p_acquired"):
            if all(m.get(key) for m in found.values()):
                record[key] = {v: mean(key, v) for v in first[key]}
        if all(m.get("external") for m in found.values()):
            record["external"] = {**first["external"], "p": np.round(np.mean(
                [m["external"]["p"] for m in found.values()], axis=0), 5).tolist()}
        out.append(record)
    return out


def read_records(paths: list[str | Path]) -> list[dict]:
    return [json.loads(line) for path in paths for line in Path(path).read_text().splitlines() if line]
