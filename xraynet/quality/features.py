"""The feature check of the input-quality gate: how far an image's penultimate-layer features lie
from the training X-rays'.

The distance is Mahalanobis to the nearest class mean under one shared covariance (Lee et al.,
2018, "A simple unified framework for detecting out-of-distribution samples"), with Ledoit-Wolf
shrinkage since a few hundred images estimate a 128-dimensional covariance. Means and covariance
are fitted on the training split; the limit is a high quantile (:data:`DEFAULT_QUANTILE`) of the
validation split's distances. That does not make 1% of new X-rays flagged: about 50 validation
images put the limit near their largest distance, and in train-folder cross-validation the gate
flagged 4.3% of unseen X-rays of the training sources with one model and 6.9% with three
(docs/studies/GATE.md; 0 to 16% from one fit to another). The test split plays no part. The gate is stored in the bundle as :data:`QUALITY_FILE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ..models import ensemble_members

#: the layer whose output is the feature vector (the CNN's global average pooling)
FEATURE_LAYER = "gap"
#: the bundle's file holding the fitted gate
QUALITY_FILE = "quality.npz"
#: the validation quantile of the distance that becomes the limit
DEFAULT_QUANTILE = 0.99


def feature_model(model: keras.Model) -> keras.Model:
    """``image -> [probabilities, features]`` in one forward pass; an ensemble's features are its
    members' :data:`FEATURE_LAYER` outputs side by side, its probabilities their mean."""
    members = ensemble_members(model)
    if members == [model]:
        return keras.Model(model.inputs, [model.outputs[0], model.get_layer(FEATURE_LAYER).output])
    inputs = keras.Input(tuple(model.inputs[0].shape[1:]), name="image")
    probabilities, features = [], []
    for member in members:
        both = keras.Model(member.inputs, [member.outputs[0],
                                           member.get_layer(FEATURE_LAYER).output])
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
        quantile: the validation quantile ``limit`` is.
        n_fit, n_limit: training and validation images it was fitted on.
    """

    means: np.ndarray
    precision: np.ndarray
    limit: float
    quantile: float
    n_fit: int
    n_limit: int

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
                "limit": self.limit, "n_fit": self.n_fit, "n_limit": self.n_limit,
                "file": QUALITY_FILE}

    def save(self, path: str | Path) -> Path:
        np.savez(path, means=self.means, precision=self.precision, limit=self.limit,
                 quantile=self.quantile, n_fit=self.n_fit, n_limit=self.n_limit)
        return Path(path)


def load_feature_gate(path: str | Path) -> FeatureGate | None:
    """The gate saved at ``path``; None when there is none (a bundle from before the gate)."""
    path = Path(path)
    if not path.is_file():
        return None
    with np.load(path) as data:
        return FeatureGate(data["means"], data["precision"], float(data["limit"]),
                           float(data["quantile"]), int(data["n_fit"]), int(data["n_limit"]))


def fit_feature_gate(train_features: np.ndarray, train_labels: np.ndarray,
                     val_features: np.ndarray, *, quantile: float = DEFAULT_QUANTILE) -> FeatureGate:
    """Class means and shared covariance from the training features, the limit from the
    validation features' distances."""
    from sklearn.covariance import LedoitWolf

    x = np.asarray(train_features, dtype=np.float64)
    labels = np.asarray(train_labels, dtype=int)
    classes = np.unique(labels)
    means = np.stack([x[labels == c].mean(axis=0) for c in classes])
    centred = x - means[np.searchsorted(classes, labels)]
    precision = LedoitWolf(assume_centered=True).fit(centred).get_precision()
    partial = FeatureGate(means, precision, np.inf, quantile, len(x), len(val_features))
    limit = float(np.quantile(partial.distances(val_features), quantile))
    return FeatureGate(means, precision, limit, quantile, len(x), len(val_features))
