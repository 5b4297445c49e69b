"""The typed trust assessment reads trust.json of any version and writes its layout back."""

import json

from xraynet.reporting.assessment import (AcquisitionCheck, Assessment, BootstrapIntervals,
                                          ExposureCheck, ShortcutCheck)

TRUST = {
    "temperature": 1.3, "unconstrained_temperature": 1.4, "temperature_bounds": [1.0, 10.0],
    "calibration": {"test": {"n": 66, "ece_before": 0.1, "ece_after": 0.05, "brier_before": 0.2,
                             "brier_after": 0.18, "nll_before": 0.5, "nll_after": 0.4}},
    "bootstrap": {"test": {"accuracy": {"estimate": 0.9, "low": 0.8, "high": 0.95},
                           "macro_f1": {"estimate": 0.88, "low": 0.79, "high": 0.94},
                           "_settings": {"n": 66, "n_resamples": 1000, "seed": 0, "level": 0.95}}},
    "shortcut": {"method": "gradcam", "split": "test", "border_fraction": 0.1, "threshold": 0.5,
                 "uniform_share": 0.36, "per_class": {"Covid": {"n": 26, "mean_border_share": 0.6,
                                                                "flagged": True}},
                 "flagged": ["Covid"]},
    "exposure": {"split": "test", "gammas": [0.8, 1.25], "n": 66, "accuracy": 0.9,
                 "per_gamma": {"0.8": {"accuracy": 0.88, "changed": 0.03, "n_changed": 2,
                                       "changed_interval": [0.01, 0.1], "changed_confident": 1,
                                       "moves": {"Normal -> Covid": 2}}},
                 "worst_accuracy": 0.88, "changed_any": 0.03, "threshold": 0.1, "flagged": False},
    "acquisition": {"split": "test_leak_free", "n": 57, "accuracy": 0.91, "threshold": 0.1,
                    "variants": {"noise": {"accuracy": 0.8, "changed": 0.12, "flagged": True,
                                           "description": "sensor noise", "moves": {}}},
                    "worst_accuracy": 0.8, "max_changed": 0.12, "flagged": ["noise"]},
    "quality": {"method": "Mahalanobis", "limit": 3.0, "quantile": 0.99, "margin": 1.1,
                "flags": {"test_leak_free": {"n": 57, "flagged": 1, "flag_rate": 0.0175,
                                             "reasons": {"far from training": 1}}}},
    "explanations": {"correct": [{"source": "a.png", "method": "gradcam", "label": "Covid",
                                  "probability": 0.9, "true_label": "Covid", "border_share": 0.2,
                                  "figure": "explanations/correct_1_gradcam.png"}], "wrong": []},
    "reliability_diagram": "reliability_diagram.png",
}


def test_every_part_is_typed_and_the_json_round_trips():
    trust = Assessment.from_dict(json.loads(json.dumps(TRUST)))
    assert isinstance(trust.bootstrap["test"], BootstrapIntervals)
    assert trust.bootstrap["test"]["accuracy"].low == 0.8 and trust.bootstrap["test"].n == 66
    assert isinstance(trust.shortcut, ShortcutCheck) and trust.shortcut.flagged == ("Covid",)
    assert trust.shortcut.per_class["Covid"].mean_border_share == 0.6
    assert isinstance(trust.exposure, ExposureCheck) and trust.exposure.per_gamma["0.8"].n_changed == 2
    assert isinstance(trust.acquisition, AcquisitionCheck)
    assert trust.acquisition.variants["noise"].changed_interval is None  # an older report's
    assert trust.quality.flags["test_leak_free"].flagged == 1
    assert trust.explanations["correct"][0].figure.endswith("gradcam.png")
    again = json.loads(json.dumps(trust.to_dict()))
    assert Assessment.from_dict(again) == trust
    assert again["bootstrap"] == TRUST["bootstrap"] and again["shortcut"] == TRUST["shortcut"]


def test_a_report_of_an_older_version_reads_with_its_missing_checks_empty():
    trust = Assessment.from_dict({"temperature": 1.0, "shortcut": {}, "unknown": 3})
    assert trust.shortcut is None and trust.exposure is None and trust.bootstrap == {}
