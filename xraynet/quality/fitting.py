"""Fitting the input-quality gate for a trained model, and measuring how often it flags.

The gate is fitted on the training split (class means and covariance of the features) and
validation (the limit); the leak-free test split is only measured: its false-flag rate, with
every check applied to the files as ``predict`` applies them.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Iterable

import keras
import numpy as np

from ..data.decode import DecodeSettings, decode_files_with_facts
from ..data.split_data import SplitData
from .features import QUALITY_FILE, FeatureGate, feature_model, fit_feature_gate
from .gate import Quality, QualityGate

__all__ = ["batched_features", "FEATURE_CHUNK", "fit_gate", "flag_summary", "gate_flag_rates"]


#: images whose features are computed at once
FEATURE_CHUNK = 64


def batched_features(features_of: keras.Model, chunks: Iterable[np.ndarray]) -> np.ndarray:
    """Features ``(n, d)`` of raw images ``(k, size, size, 1)`` given a chunk at a time (e.g.
    :meth:`~xraynet.data.loaders.SplitDataset.chunks`), so a streamed split is never held whole;
    ``features_of``: a :func:`~.features.feature_model`."""
    parts = [np.asarray(features_of.predict_on_batch(np.asarray(chunk, np.float32))[1])
             for chunk in chunks]
    return np.concatenate(parts) if parts else np.zeros((0, features_of.outputs[1].shape[-1]), np.float32)


def flag_summary(verdicts: list[Quality]) -> dict:
    """Share of flagged images and how often each kind of reason was given."""
    kinds = collections.Counter(reason.split(" (")[0] for v in verdicts for reason in v.reasons)
    n = len(verdicts)
    return {"n": n, "flagged": sum(not v.ok for v in verdicts),
            "flag_rate": (sum(not v.ok for v in verdicts) / n) if n else float("nan"),
            "reasons": dict(kinds)}


def fit_gate(model: keras.Model, data: SplitData, run_dir: str | Path) -> FeatureGate:
    """Fit the gate on the train and validation splits of ``data`` and save it in ``run_dir``
    (:data:`~.features.QUALITY_FILE`). No test image is read."""
    train, val = data.dataset("train"), data.dataset("val")
    both = feature_model(model)
    gate = fit_feature_gate(batched_features(both, train.chunks(FEATURE_CHUNK)), train.labels,
                            batched_features(both, val.chunks(FEATURE_CHUNK)))
    gate.save(Path(run_dir) / QUALITY_FILE)
    return gate


def gate_flag_rates(model: keras.Model, gate: FeatureGate, data: SplitData) -> dict:
    """How often the fitted gate flags validation images and the leak-free test files (those
    read as ``predict`` reads them): what the assessment records."""
    val = data.dataset("val")
    both = feature_model(model)
    val_features = batched_features(both, val.chunks(FEATURE_CHUNK))
    full = QualityGate(gate)
    val_verdicts: list[Quality] = []
    for start, images in zip(range(0, val.n_images, FEATURE_CHUNK), val.chunks(FEATURE_CHUNK)):
        val_verdicts += full.assess(images, val_features[start:start + len(images)])
    rates = {"val": flag_summary(val_verdicts)}
    settings: DecodeSettings = data.decode_settings
    files = data.files("test_leak_free")
    test_verdicts: list[Quality] = []
    for start in range(0, len(files), FEATURE_CHUNK):  # the files as predict reads them
        images, _, _, facts = decode_files_with_facts(files[start:start + FEATURE_CHUNK], settings)
        if len(images):
            test_verdicts += full.assess(images, batched_features(both, [images[..., None]]), facts)
    rates["test_leak_free"] = flag_summary(test_verdicts)
    return rates

