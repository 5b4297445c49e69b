"""The feature check of the input-quality gate: how far an image's penultimate-layer features lie
from the training X-rays'.

The distance is Mahalanobis to the nearest class mean under one shared covariance (Lee et al.,
2018, "A simple unified framework for detecting out-of-distribution samples"), with Ledoit-Wolf
shrinkage since a few hundred images estimate a 128-dimensional covariance. Means and covariance
are fitted on the training split; the limit is :data:`DEFAULT_MARGIN` times a high quantile
(:data:`DEFAULT_QUANTILE`) of the validation split's distances. About 50 validation images put
the quantile alone near their largest distance, below the tail of new X-rays: in train-folder
cross-validation it flagged 4.3% of unseen X-rays of the training sources with one model and 6.9%
with three (0 to 16% from one fit to another); the margin is docs/studies/GATE.md's. The test
split plays no part. The gate is stored in the bundle as :data:`QUALITY_FILE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ..bundle import QUALITY_FILE
from ..models import ensemble_members, submodel

__all__ = ["DEFAULT_MARGIN", "DEFAULT_QUANTILE", "FEATURE_LAYER", "feature_model", "FeatureGate",
           "fit_feature_gate", "load_feature_gate"]

#: the layer whose output is the feature vector (the CNN's global average pooling)
FEATURE_LAYER = "gap"
#: the validation quantile of the distance that the limit is drawn from
DEFAULT_QUANTILE = 0.99
#: the limit is this many times that quantile: about 50 validation distances put the quantile near
#: their largest, below the tail of new X-rays (docs/studies/GATE.md: on its 15 confirming fits
#: 1.1 cut the unseen X-rays flagged from 4.8% to 2.7%, and every model still detected every
#: non-X-ray)
DEFAULT_MARGIN = 1.1


def feature_model(model: keras.Model) -> keras.Model:
    """``image -> [probabilities, features]`` in one forward pass; an ensemble's features are its
    members' :data:`FEATURE_LAYER` outputs side by side, its probabilities their mean."""
    members = ensemble_members(model)
    if members == [model]:
        return submodel(model, [model.outputs[0], model.get_layer(FEATURE_LAYER).output])
    inputs = keras.Input(tuple(model.inputs[0].shape[1:]), name="image")
    probabilities, features = [], []
    for member in members:
        both = submodel(member, [member.outputs[0], member.get_layer(FEATURE_LAYER).output])
        p, f = both(inputs)
        probabilities.append(p)
        features.append(f)
    return keras.Model(inputs, [keras.layers.Average()(probabilities),
                                keras.layers.Concatenate()(features)])


@dataclass(frozen=True)
class FeatureGate:
    """A fitted feature check.

    Attributes:
        means: class means of the training features, ``(k, d)``.
        precision: inverse of the shared (shrunk) covariance, ``(d, d)``.
        limit: distances above it are flagged.
        quantile: the validation quantile ``limit`` is drawn from.
        n_fit, n_limit: training and validation images it was fitted on.
        margin: ``limit`` is this many times the validation quantile (1.0 in bundles from
            before the margin).
    """

    means: np.ndarray
    precision: np.ndarray
    limit: float
    quantile: float
    n_fit: int
    n_limit: int
    margin: float = 1.0

    def distances(self, features: np.ndarray) -> np.ndarray:
        """Mahalanobis distance ``(n,)`` of each feature row to the nearest class mean."""
        f = np.asarray(features, dtype=np.float64)
        diff = f[:, None, :] - self.means[None]  # (n, k, d)
        squared = np.einsum("nkd,de,nke->nk", diff, self.precision, diff)
        return np.sqrt(np.maximum(squared.min(axis=1), 0.0))

    def summary(self) -> dict:
        """What the bundle's metadata records about the gate."""
        return {"method": "Mahalanobis distance to the nearest class mean (shared Ledoit-Wolf "
                          f"covariance) of the '{FEATURE_LAYER}' features",
                "fitted_on": "train", "limit_from": "validation", "quantile": self.quantile,
                "margin": self.margin, "limit": self.limit, "n_fit": self.n_fit, "n_limit": self.n_limit,
                "file": QUALITY_FILE}

    def save(self, path: str | Path) -> Path:
        np.savez(path, means=self.means, precision=self.precision, limit=self.limit,
                 quantile=self.quantile, n_fit=self.n_fit, n_limit=self.n_limit, margin=self.margin)
        return Path(path)


def load_feature_gate(path: str | Path) -> FeatureGate | None:
    """The gate saved at ``path``; None when there is none (a bundle from before the gate)."""
    path = Path(path)
    if not path.is_file():
        return None
    with np.load(path) as data:
        return FeatureGate(data["means"], data["precision"], float(data["limit"]),
                           float(data["quantile"]), int(data["n_fit"]), int(data["n_limit"]),
                           float(data["margin"]) if "margin" in data.files else 1.0)


def fit_feature_gate(train_features: np.ndarray, train_labels: np.ndarray,
                     val_features: np.ndarray, *, quantile: float = DEFAULT_QUANTILE,
                     margin: float = DEFAULT_MARGIN) -> FeatureGate:
    """Class means and shared covariance from the training features; the limit ``margin``
    times the ``quantile`` of the validation features' distances."""
    from sklearn.covariance import LedoitWolf

    x = np.asarray(train_features, dtype=np.float64)
    labels = np.asarray(train_labels, dtype=int)
    classes = np.unique(labels)
    means = np.stack([x[labels == c].mean(axis=0) for c in classes])
    centred = x - means[np.searchsorted(classes, labels)]
    precision = LedoitWolf(assume_centered=True).fit(centred).get_precision()
    partial = FeatureGate(means, precision, np.inf, quantile, len(x), len(val_features))
    limit = margin * float(np.quantile(partial.distances(val_features), quantile))
    return FeatureGate(means, precision, limit, quantile, len(x), len(val_features), margin)
