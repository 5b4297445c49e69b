"""The typed result of a model's trust assessment: what ``trust.json`` holds and what the
report renderer reads, one dataclass per check. No Keras import here.

Each part reads ``trust.json`` of any version (``from_dict``: unknown keys ignored, a figure an
older version did not record left at None) and writes the same JSON layout (``to_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, NamedTuple

from ..runs import RELIABILITY_FILE, TRUST_FILE
from ..config_schema import known_fields



class Interval(NamedTuple):
    """An estimate with its 95% bootstrap interval."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class BootstrapIntervals:
    """One split's percentile-bootstrap intervals: ``metrics`` by name (``accuracy``,
    ``macro_f1``, ``sensitivity/<class>``, ``specificity/<class>``), how many images and
    resamples, the seed and the level."""

    metrics: dict[str, Interval]
    n: int
    n_resamples: int
    seed: int
    level: float = 0.95

    def __getitem__(self, metric: str) -> Interval:
        return self.metrics[metric]

    def to_dict(self) -> dict:
        return {**{k: v._asdict() for k, v in self.metrics.items()},
                "_settings": {"n": self.n, "n_resamples": self.n_resamples, "seed": self.seed,
                              "level": self.level}}

    @classmethod
    def from_dict(cls, data: dict) -> "BootstrapIntervals":
        settings = data.get("_settings", {})
        return cls(metrics={k: Interval(*(v[f] for f in Interval._fields)) for k, v in data.items()
                            if not k.startswith("_")},
                   **known_fields(cls, settings))


@dataclass(frozen=True)
class CalibrationFigures:
    """One split's calibration figures before and after the temperature."""

    n: int
    ece_before: float
    ece_after: float
    brier_before: float | None = None
    brier_after: float | None = None
    nll_before: float | None = None
    nll_after: float | None = None


@dataclass(frozen=True)
class ClassBorderShare:
    """The shortcut check of one true class: its images' mean Grad-CAM share in the border."""

    n: int
    mean_border_share: float
    flagged: bool


@dataclass(frozen=True)
class ShortcutCheck:
    """How much of the Grad-CAM mass lies in the image border, per true class of test."""

    border_fraction: float
    threshold: float
    uniform_share: float
    per_class: dict[str, ClassBorderShare]
    flagged: tuple[str, ...] = ()
    method: str = "gradcam"
    split: str = "test"

    @classmethod
    def from_dict(cls, data: dict) -> "ShortcutCheck":
        values = known_fields(cls, data)
        return cls(**{**values, "flagged": tuple(values.get("flagged", ())),
                      "per_class": {k: ClassBorderShare(**known_fields(ClassBorderShare, v))
                                    for k, v in values["per_class"].items()}})


@dataclass(frozen=True)
class ShiftResult:
    """What one change of the images (a gamma, an acquisition variant) did to the predictions:
    the accuracy after it, the share it changed (with its count and 95% Wilson interval), how
    many of the changed ones were confident, and where they went (``"A -> B": count``)."""

    accuracy: float
    changed: float
    moves: dict[str, int] = field(default_factory=dict)
    n_changed: int | None = None
    changed_interval: tuple[float, float] | None = None
    changed_confident: int | None = None
    flagged: bool = False
    description: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> "ShiftResult":
        values = known_fields(cls, data)
        if values.get("changed_interval") is not None:
            values["changed_interval"] = tuple(values["changed_interval"])
        return cls(**values)


@dataclass(frozen=True)
class StressTest:
    """What a stress test measured: how many images, their unchanged accuracy, and the share of
    changed predictions above which a change is flagged. Each kind names the entry that holds
    its :class:`ShiftResult` per change (``CHANGES``) and the entry that lists (``LISTED``)."""

    CHANGES: ClassVar[str] = ""
    LISTED: ClassVar[str] = ""

    n: int
    accuracy: float
    threshold: float

    @classmethod
    def from_dict(cls, data: dict) -> "StressTest":
        values = known_fields(cls, data)
        return cls(**{**values, cls.LISTED: tuple(values.get(cls.LISTED, ())),
                      cls.CHANGES: {str(k): ShiftResult.from_dict(v)
                                    for k, v in values.get(cls.CHANGES, {}).items()}})


@dataclass(frozen=True)
class ExposureCheck(StressTest):
    """The exposure stress test: test images a little brighter or darker (``per_gamma``)."""

    CHANGES: ClassVar[str] = "per_gamma"
    LISTED: ClassVar[str] = "gammas"

    gammas: tuple[float, ...] = ()
    per_gamma: dict[str, ShiftResult] = field(default_factory=dict)
    changed_any: float = 0.0
    flagged: bool = False
    worst_accuracy: float | None = None
    split: str = "test"


@dataclass(frozen=True)
class AcquisitionCheck(StressTest):
    """The acquisition-shift stress suite: leak-free test files decoded again after one change
    each (``variants``; ``flagged``: those that changed more than the threshold)."""

    CHANGES: ClassVar[str] = "variants"
    LISTED: ClassVar[str] = "flagged"

    variants: dict[str, ShiftResult] = field(default_factory=dict)
    flagged: tuple[str, ...] = ()
    max_changed: float = 0.0
    worst_accuracy: float | None = None
    split: str = "test_leak_free"


@dataclass(frozen=True)
class FlagRate:
    """How often the input-quality gate flagged one split's images, and why."""

    n: int
    flagged: int
    flag_rate: float
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class QualityCheck:
    """The input-quality gate: how it was fitted (``method``, ``limit``, ``quantile``,
    ``margin``) and how often it flags each split (``flags``)."""

    method: str
    limit: float
    quantile: float
    flags: dict[str, FlagRate]
    margin: float = 1.0
    fitted_on: str = "train"
    limit_from: str = "validation"
    n_fit: int | None = None
    n_limit: int | None = None
    file: str | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "QualityCheck":
        values = known_fields(cls, data)
        return cls(**{**values, "flags": {k: FlagRate(**known_fields(FlagRate, v))
                                          for k, v in values.get("flags", {}).items()}})


@dataclass(frozen=True)
class ExampleExplanation:
    """One example figure: an image, the method, what was predicted and how sure, the truth."""

    source: str
    method: str
    label: str
    probability: float
    figure: str
    true_label: str | None = None
    border_share: float | None = None


def _part(cls: type, data: Any) -> Any:
    """``data`` as the typed part ``cls`` (None for an empty or missing part)."""
    if not data:
        return None
    if isinstance(data, cls):
        return data
    reader = getattr(cls, "from_dict", None)
    return reader(data) if reader is not None else cls(**known_fields(cls, data))


def _plain(value: Any) -> Any:
    """A part as JSON: dataclasses by their own ``to_dict`` (or field by field), recursively."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Assessment:
    """Calibration (fitted on validation) and what was measured on test, per check; a check
    not made is None (or empty).

    Attributes:
        temperature: the fitted temperature that ``predict`` applies (None: not calibrated).
        unconstrained_temperature: the optimum without the bounds (a diagnostic).
        temperature_bounds: the bounds the temperature was fitted within.
        calibration: per split, ECE, Brier score and NLL before and after calibration.
        bootstrap: per test split, 95% bootstrap intervals of the headline metrics.
        shortcut: share of Grad-CAM mass in the image border per class, and flags.
        exposure: predictions changed by exposure (gamma) alone, on test.
        acquisition: the acquisition-shift stress suite on the leak-free test split.
        quality: the input-quality gate: how it was fitted and how often it flags.
        explanations: example explanations, ``correct`` and ``wrong``.
        reliability_diagram: the reliability diagram's file in the run directory.
    """

    temperature: float | None = None
    unconstrained_temperature: float | None = None
    temperature_bounds: tuple[float, ...] = ()
    calibration: dict[str, CalibrationFigures] = field(default_factory=dict)
    bootstrap: dict[str, BootstrapIntervals] = field(default_factory=dict)
    shortcut: ShortcutCheck | None = None
    exposure: ExposureCheck | None = None
    acquisition: AcquisitionCheck | None = None
    quality: QualityCheck | None = None
    explanations: dict[str, tuple[ExampleExplanation, ...]] = field(default_factory=dict)
    reliability_diagram: str = RELIABILITY_FILE

    def to_dict(self) -> dict:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "Assessment":
        """From ``trust.json`` of any version: unknown keys ignored, missing checks empty."""
        values = {k: v for k, v in known_fields(cls, data).items() if v is not None}
        return cls(
            temperature=values.get("temperature"),
            unconstrained_temperature=values.get("unconstrained_temperature"),
            temperature_bounds=tuple(values.get("temperature_bounds", ())),
            calibration={k: _part(CalibrationFigures, v)
                         for k, v in values.get("calibration", {}).items()},
            bootstrap={k: _part(BootstrapIntervals, v)
                       for k, v in values.get("bootstrap", {}).items() if v},
            shortcut=_part(ShortcutCheck, values.get("shortcut")),
            exposure=_part(ExposureCheck, values.get("exposure")),
            acquisition=_part(AcquisitionCheck, values.get("acquisition")),
            quality=_part(QualityCheck, values.get("quality")),
            explanations={k: tuple(_part(ExampleExplanation, e) for e in v)
                          for k, v in values.get("explanations", {}).items()},
            reliability_diagram=values.get("reliability_diagram", RELIABILITY_FILE))
