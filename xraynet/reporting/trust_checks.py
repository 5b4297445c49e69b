"""Trust assessment of a trained model: calibration, input-quality gate, bootstrap intervals,
shortcut check, exposure stress test, acquisition-shift stress suite and example explanations,
written to ``trust.json`` and PNGs in the run directory.

Calibration and the quality gate are fitted on the training and validation splits only; the test
splits are only measured.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np

from ..bundle import Bundle, write_json
from ..data.split_data import SplitData
from ..data.loaders import SplitDataset
from ..evaluation.calibration import TEMPERATURE_BOUNDS, apply_temperature, calibration_summary
from ..evaluation.plots import plot_reliability
from ..evaluation.acquisition import acquisition_check
from ..evaluation.scoring import predict_splits
from ..evaluation.robustness import exposure_check
from ..evaluation.uncertainty import N_RESAMPLES, bootstrap_intervals
from ..explain import BORDER_FRACTION, Explainer, border_mask
from ..predict import Predictor
from ..completion import complete_bundle
from ..quality import QUALITY_FILE, gate_flag_rates, load_feature_gate
from ..runs import EXPLANATIONS_DIR, HTML_FILE, RELIABILITY_FILE, TRUST_FILE
from .assessment import AcquisitionCheck, Assessment

log = logging.getLogger("xraynet")
#: The report flags a class whose mean Grad-CAM mass in the image border exceeds this share.
SHORTCUT_THRESHOLD = 0.25
#: images whose Grad-CAM maps the shortcut check holds at once
SHORTCUT_CHUNK = 64
TEST_SPLITS = ("test", "test_leak_free")


def assess_model(model: keras.Model, data: SplitData, run_dir: str | Path, *,
                 seed: int = 0, n_resamples: int = N_RESAMPLES, examples: int = 3,
                 probabilities: dict[str, np.ndarray] | None = None) -> Assessment:
    """Measure the model on the test splits of ``data`` (a set-up data module's,
    ``dm.split_data()``): CIs, calibration, shortcut, explanations.

    The temperature and the quality gate come from the bundle (fitted at save time on
    validation and train, :func:`~xraynet.completion.complete_bundle`; fitted here for a bundle
    saved without them), and the fitted temperature is in ``metadata.json`` (``predict`` applies it);
    writes ``reliability_diagram.png``, ``explanations/*.png`` and ``trust.json``; returns what
    ``trust.json`` holds. ``probabilities``: the model's uncalibrated probabilities on
    ``val``, ``test`` and ``test_leak_free`` where the caller has them already.
    """
    run_dir = Path(run_dir)
    names = data.class_names
    splits = data.evaluation_datasets()
    raw = probabilities if probabilities is not None else predict_splits(model, splits)
    test, leak_free = splits["test"], splits["test_leak_free"]

    meta = complete_bundle(model, data, run_dir, val_probabilities=raw["val"])
    temperature, free = meta.temperature, meta.calibration["unconstrained_temperature"]
    calibration = {name: calibration_summary(splits[name].labels, raw[name], temperature)
                   for name in splits}
    gate = load_feature_gate(run_dir / QUALITY_FILE)
    quality = {**gate.summary(), "flags": gate_flag_rates(model, gate, data)}
    plot_reliability(test.labels, {"before calibration": raw["test"],
                                   f"after (T = {temperature:.2f})":
                                       apply_temperature(raw["test"], temperature)},
                     run_dir / RELIABILITY_FILE, title=f"Reliability on test (n={test.n_images})")
    log.info("calibration: temperature %.3f fitted on validation (unconstrained optimum %.3f); "
             "test ECE %.3f -> %.3f", temperature, free, calibration["test"]["ece_before"],
             calibration["test"]["ece_after"])

    intervals = {name: bootstrap_intervals(splits[name].labels, raw[name].argmax(axis=1),
                                           names, n_resamples=n_resamples, seed=seed)
                 for name in TEST_SPLITS}

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(x, batch_size=32, verbose=0))

    # explanations label their figures with calibrated probabilities
    explainer = Explainer(Predictor(Bundle(model=model, directory=run_dir, meta=meta)))
    trust = Assessment.from_dict(dict(
        temperature=temperature,
        unconstrained_temperature=free,
        temperature_bounds=list(TEMPERATURE_BOUNDS),
        calibration=calibration,
        bootstrap=intervals,
        shortcut=shortcut_check(explainer, test, names),
        exposure={"split": "test", **exposure_check(  # calibrated: confidence as predict gives it
            predict, test.chunks(), test.labels, names,
            proba=apply_temperature(raw["test"], temperature))},
        quality=quality,
        acquisition=acquisition_check(
            predict, data.files("test_leak_free"), leak_free.labels, names,
            data.decode_settings, proba=apply_temperature(raw["test_leak_free"], temperature),
            seed=seed),
        explanations=_example_explanations(explainer, leak_free, names, raw["test_leak_free"],
                                           run_dir / EXPLANATIONS_DIR, examples),
        reliability_diagram=RELIABILITY_FILE,
    ))
    write_json(run_dir / TRUST_FILE, trust.to_dict())
    for name in trust.shortcut.flagged:
        share = trust.shortcut.per_class[name].mean_border_share
        log.warning("warning: shortcut check: %.0f%% of the Grad-CAM mass for %s test images lies in "
                    "the image border (flag above %.0f%%); see %s", 100 * share, name,
                    100 * SHORTCUT_THRESHOLD, run_dir / HTML_FILE)
    exposure = trust.exposure
    log.log(logging.WARNING if exposure.flagged else logging.INFO,
            "%sexposure stress test: %.0f%% of the test predictions change with exposure alone "
            "(gamma %s; flag above %.0f%%)", "warning: " if exposure.flagged else "",
            100 * exposure.changed_any, " and ".join(f"{g:g}" for g in exposure.gammas),
            100 * exposure.threshold)
    _log_acquisition(trust.acquisition)
    lf = trust.quality.flags["test_leak_free"]
    log.info("input-quality gate: fitted on train, limit %.1f from validation; flags %d of %d "
             "leak-free test images", gate.limit, lf.flagged, lf.n)
    return trust


def _log_acquisition(result: AcquisitionCheck) -> None:
    """One log line for the acquisition-shift suite; a warning when a variant is flagged."""
    worst = max(result.variants.items(), key=lambda kv: kv[1].changed, default=None)
    if worst is None:
        return
    name, shift = worst
    low, high = shift.changed_interval or (shift.changed,) * 2
    log.log(logging.WARNING if result.flagged else logging.INFO,
            "%sacquisition stress suite (%d leak-free test images): at most %.0f%% of predictions "
            "changed (%s; 95%% interval %.0f-%.0f%%)%s; flag above %.0f%%",
            "warning: " if result.flagged else "", result.n, 100 * shift.changed, name,
            100 * low, 100 * high, f"; flagged: {', '.join(result.flagged)}" if result.flagged else "",
            100 * result.threshold)


def shortcut_check(explainer: Explainer, split: SplitDataset, class_names: list[str], *,
                   fraction: float = BORDER_FRACTION, threshold: float = SHORTCUT_THRESHOLD) -> dict:
    """Mean share of Grad-CAM mass in the outer ``fraction`` border per true class, flagged
    above ``threshold``. A uniform map would put ``1 - (1 - 2 * fraction)**2`` there. Maps are
    made :data:`SHORTCUT_CHUNK` images at a time, so a large test split is never held whole."""
    shares = []
    for images in split.chunks(SHORTCUT_CHUNK):
        maps, _ = explainer.predicted_maps(images, "gradcam")
        mask = border_mask(maps.shape[1], fraction)
        totals = maps.reshape(len(maps), -1).sum(axis=1)
        shares.append(np.where(totals > 0, maps[:, mask].sum(axis=1) / np.maximum(totals, 1e-12),
                               np.nan))
    shares = np.concatenate(shares) if shares else np.zeros(0)
    per_class = {}
    for c, name in enumerate(class_names):
        values = shares[split.labels == c]
        mean = float(np.nanmean(values)) if np.any(~np.isnan(values)) else float("nan")
        per_class[name] = {"n": int(len(values)), "mean_border_share": mean,
                           "flagged": bool(mean > threshold)}
    return {"method": "gradcam", "split": "test", "border_fraction": fraction,
            "threshold": threshold, "uniform_share": 1.0 - (1.0 - 2.0 * fraction) ** 2,
            "per_class": per_class, "flagged": [n for n, v in per_class.items() if v["flagged"]]}


def _example_explanations(explainer: Explainer, split: SplitDataset, class_names: list[str],
                          proba: np.ndarray, out_dir: Path, examples: int) -> dict:
    """Both methods on the most confident correct image of each class (up to ``examples``)
    and on up to ``examples`` misclassified images, most confident mistakes first."""
    predicted, confidence, labels = proba.argmax(axis=1), proba.max(axis=1), split.labels
    correct = np.flatnonzero(predicted == labels)
    wrong = np.flatnonzero(predicted != labels)
    chosen_correct = []
    for c in range(len(class_names)):
        of_class = correct[labels[correct] == c]
        if len(of_class):
            chosen_correct.append(int(of_class[np.argmax(confidence[of_class])]))
    chosen = {"correct": chosen_correct[:examples],
              "wrong": [int(i) for i in wrong[np.argsort(-confidence[wrong])][:examples]]}
    out = {}
    for kind, idx in chosen.items():
        if not idx:
            out[kind] = []
            continue
        images = split.images(idx)
        paths = split.paths
        found = explainer.explain_arrays(images, sources=[paths[i] for i in idx],
                                         true_labels=[class_names[labels[i]] for i in idx])
        stems = [f"{kind}_{k + 1}" for k in range(len(idx))]
        explainer.write_figures(images, found, out_dir, stems)
        out[kind] = [{**e.to_dict(), "figure": f"{EXPLANATIONS_DIR}/{e.figure}"} for e in found]
    return out
