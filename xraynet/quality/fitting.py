"""Fitting the input-quality gate for a trained model, and measuring how often it flags.

The gate is fitted on the training split (class means and covariance of the features) and
validation (the limit); the leak-free test split is only measured: its false-flag rate, with
every check applied to the files as ``predict`` applies them.
"""

from __future__ import annotations

import collections
from pathlib import Path

import keras
import numpy as np

from ..data.decode import DecodeSettings, decode_files_with_facts
from .features import QUALITY_FILE, FeatureGate, feature_model, fit_feature_gate
from .gate import Quality, QualityGate


def extract_features(model: keras.Model, images: np.ndarray, *, batch_size: int = 32,
                     features_of: keras.Model | None = None) -> np.ndarray:
    """Penultimate-layer features ``(n, d)`` of raw images ``(n, size, size[, 1])``;
    ``features_of``: ``model``'s :func:`~.features.feature_model`, where the caller built it."""
    x = np.asarray(images, dtype=np.float32)
    x = x[..., None] if x.ndim == 3 else x
    both = features_of or feature_model(model)
    if len(x) == 0:
        return np.zeros((0, both.outputs[1].shape[-1]), np.float32)
    _, features = both.predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(features)


def split_features(features_of: keras.Model, split) -> np.ndarray:
    """Features ``(n, d)`` of a split dataset, batch by batch (a streamed split is never held
    in memory whole)."""
    parts = [np.asarray(features_of.predict_on_batch(
        np.asarray(split.images(np.arange(start, min(start + 64, split.n_images))), np.float32))[1])
        for start in range(0, split.n_images, 64)]
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
    val_features = split_features(both, val)
    gate = fit_feature_gate(split_features(both, train), train.labels, val_features)
    gate.save(Path(run_dir) / QUALITY_FILE)
    full = QualityGate(gate)
    rates = {"val": flag_summary(full.assess(val.images(), val_features))}
    leak_free = datamodule.dataset("test_leak_free")
    settings: DecodeSettings = datamodule.decode_settings
    images, _, _, facts = decode_files_with_facts([datamodule.root / p for p in leak_free.paths],
                                                  settings)
    lf_features = extract_features(model, images, features_of=both)
    rates["test_leak_free"] = flag_summary(full.assess(images, lf_features, facts))
    return gate, {**gate.summary(), "flags": rates}
