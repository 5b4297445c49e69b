"""The typed result of a model's trust assessment: what ``trust.json`` holds and what the
report renderer reads. No Keras import here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..settings import known_fields

TRUST_FILE = "trust.json"
RELIABILITY_FILE = "reliability_diagram.png"


@dataclass(frozen=True)
class Assessment:
    """Calibration (fitted on validation) and what was measured on test, per check.

    Attributes:
        temperature: the fitted temperature that ``predict`` applies (None: not calibrated).
        unconstrained_temperature: the optimum without the bounds (a diagnostic).
        temperature_bounds: the bounds the temperature was fitted within.
        calibration: per split, ECE and NLL before and after calibration.
        bootstrap: per test split, 95% bootstrap intervals of the headline metrics.
        shortcut: share of Grad-CAM mass in the image border per class, and flags.
        exposure: predictions changed by exposure (gamma) alone, on test.
        acquisition: the acquisition-shift suite on the leak-free test split.
        quality: the input-quality gate: how it was fitted and how often it flags.
        explanations: example explanations, ``correct`` and ``wrong``.
        reliability_diagram: the reliability diagram's file in the run directory.
    """

    temperature: float | None = None
    unconstrained_temperature: float | None = None
    temperature_bounds: list = field(default_factory=list)
    calibration: dict = field(default_factory=dict)
    bootstrap: dict = field(default_factory=dict)
    shortcut: dict = field(default_factory=dict)
    exposure: dict = field(default_factory=dict)
    acquisition: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)
    explanations: dict = field(default_factory=dict)
    reliability_diagram: str = RELIABILITY_FILE

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Assessment":
        """From ``trust.json`` of any version: unknown keys ignored, missing checks empty."""
        return cls(**{k: v for k, v in known_fields(cls, data).items() if v is not None})
