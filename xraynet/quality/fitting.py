"""Fitting the input-quality gate for a trained model, and measuring how often it flags.

The gate is fitted on the training split (class means and covariance of the features) and
validation (the limit); the leak-free test split is only measured: its false-flag rate, with
every check applied to the files as ``predict`` applies them.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from ..data.decode import DecodeSettings, decode_files_with_facts
from .features import QUALITY_FILE, FeatureGate, feature_model, fit_feature_gate
from .gate import Quality, QualityGate


#: images whose features are computed at once
FEATURE_CHUNK = 64


def batched_features(features_of: keras.Model, n: int,
                     images_at: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Features ``(n, d)`` of ``n`` images read ``FEATURE_CHUNK`` at a time by
    ``images_at(indices)`` (a split's ``images``, or an array's indexing), so a streamed split is
    never held whole; ``features_of``: a :func:`~.features.feature_model`."""
    parts = [np.asarray(features_of.predict_on_batch(np.asarray(
        images_at(np.arange(start, min(start + FEATURE_CHUNK, n))), np.float32))[1])
        for start in range(0, n, FEATURE_CHUNK)]
    return np.concatenate(parts) if parts else np.zeros((0, features_of.outputs[1].shape[-1]), np.float32)


def flag_summary(verdicts: list[Quality]) -> dict:
    """Share of flagged images and how often each kind of reason was given."""
    kinds = collections.Counter(reason.split(" (")[0] for v in verdicts for reason in v.reasons)
    n = len(verdicts)
    return {"n": n, "flagged": sum(not v.ok for v in verdicts),
            "flag_rate": (sum(not v.ok for v in verdicts) / n) if n else float("nan"),
            "reasons": dict(kinds)}


def fit_quality_gate(model: keras.Model, datamodule, run_dir: str | Path) -> tuple[FeatureGate, dict]:
    """Fit the gate on the data module's train and validation splits, save it in ``run_dir``
    (:data:`~.features.QUALITY_FILE`), and measure its flag rates on validation and on the
    leak-free test files. Returns the gate and what the assessment records."""
    train, val = datamodule.dataset("train"), datamodule.dataset("val")
    both = feature_model(model)
    val_features = batched_features(both, val.n_images, val.images)
    gate = fit_feature_gate(batched_features(both, train.n_images, train.images), train.labels,
                            val_features)
    gate.save(Path(run_dir) / QUALITY_FILE)
    full = QualityGate(gate)
    val_verdicts: list[Quality] = []
    for start in range(0, val.n_images, FEATURE_CHUNK):
        rows = np.arange(start, min(start + FEATURE_CHUNK, val.n_images))
        val_verdicts += full.assess(val.images(rows), val_features[rows])
    rates = {"val": flag_summary(val_verdicts)}
    leak_free = datamodule.dataset("test_leak_free")
    settings: DecodeSettings = datamodule.decode_settings
    files = [datamodule.root / p for p in leak_free.paths]
    test_verdicts: list[Quality] = []
    for start in range(0, len(files), FEATURE_CHUNK):  # the files as predict reads them
        images, _, _, facts = decode_files_with_facts(files[start:start + FEATURE_CHUNK], settings)
        if len(images):
            features = np.asarray(both.predict_on_batch(images[..., None].astype(np.float32))[1])
            test_verdicts += full.assess(images, features, facts)
    rates["test_leak_free"] = flag_summary(test_verdicts)
    return gate, {**gate.summary(), "flags": rates}
