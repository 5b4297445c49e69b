"""The input-quality verdict of one image: pixel checks and the feature check together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.decode import ImageFacts
from .checks import pixel_reasons
from .features import QUALITY_FILE, FeatureGate, load_feature_gate

#: said when a bundle has no fitted feature check
NO_FEATURE_CHECK = (f"feature check unavailable: the bundle has no {QUALITY_FILE} "
                    "(`xraynet report RUN_DIR` fits it)")


@dataclass
class Quality:
    """Is the image like the training X-rays? ``ok`` False: its probabilities are unreliable.

    Attributes:
        ok: no reason to doubt the input.
        reasons: why not, in plain language.
        distance, limit: the feature distance and its limit (None: not checked).
        checks: the checks that ran (``"pixels"``, ``"features"``).
        note: what could not be checked, if anything.
    """

    ok: bool
    reasons: list[str] = field(default_factory=list)
    distance: float | None = None
    limit: float | None = None
    checks: list[str] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict:
        out = {"ok": self.ok, "reasons": self.reasons, "checks": self.checks,
               "distance": None if self.distance is None else round(self.distance, 3),
               "limit": None if self.limit is None else round(self.limit, 3)}
        return out if self.note is None else {**out, "note": self.note}


class QualityGate:
    """Applies the pixel checks and, where the bundle has one, the feature check."""

    def __init__(self, features: FeatureGate | None = None) -> None:
        self.features = features

    @classmethod
    def from_directory(cls, directory: str | Path | None) -> "QualityGate":
        """The gate of the bundle in ``directory`` (pixel checks only without its file)."""
        return cls(None if directory is None else load_feature_gate(Path(directory) / QUALITY_FILE))

    def assess(self, images: np.ndarray, features: np.ndarray | None,
               facts: list[ImageFacts | None] | None = None) -> list[Quality]:
        """One verdict per image ``(n, size, size[, 1])``; ``features``: their penultimate-layer
        features (None: not computed); ``facts``: what decoding learnt of each file (None for
        an image given as an array, whose colour and stored size are unknown)."""
        facts = facts if facts is not None else [None] * len(images)
        distances = (self.features.distances(features)
                     if self.features is not None and features is not None else None)
        verdicts = []
        for i, image in enumerate(images):
            reasons = pixel_reasons(facts[i], image)
            checks = ["pixels"]
            distance = limit = None
            if distances is not None:
                checks.append("features")
                distance, limit = float(distances[i]), self.features.limit
                if distance > limit:
                    reasons.append(f"unlike the training X-rays (feature distance {distance:.1f}, "
                                   f"limit {limit:.1f})")
            verdicts.append(Quality(not reasons, reasons, distance, limit, checks,
                                    None if distances is not None else NO_FEATURE_CHECK))
        return verdicts
