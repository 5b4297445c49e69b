"""The run directory's model report: every required item, in model_card.md and report.html."""

import json
import re

import numpy as np

from xraynet.reporting import HTML_FILE, MODEL_CARD_FILE

#: Point 5 of the trust issue, as headings and phrases the report must hold.
REQUIRED = [
    "Intended use", "NOT FOR CLINICAL USE", "Kaggle", "CC BY-SA 4.0",  # use, provenance
    "Images per split and class", "Duplicate audit",  # class counts, duplicates
    "Preprocessing and augmentation, as run", "augmentation: rotation",
    "Hyperparameters", "learning_rate",
    "Performance with confidence intervals", "95% percentile bootstrap", "Test, full",
    "Test, leak-free", "sensitivity", "specificity",
    "Confusion matrix", "Loss and AUC per epoch", "Reliability diagram", "Calibration",
    "Explanations", "Correctly classified", "Misclassified", "Grad-CAM", "occlusion",
    "Shortcut check", "border", "Backend and library versions", "keras",
]


def test_fit_writes_trust_files_and_stores_the_temperature(trained_run):
    run_dir = trained_run["result"].run_dir
    trust = json.loads((run_dir / "trust.json").read_text())
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["temperature"] == trust["temperature"] > 0
    assert metadata["calibration"]["fitted_on"] == "validation"
    for split in ("test", "test_leak_free"):
        ci = trust["bootstrap"][split]
        assert ci["_settings"]["n_resamples"] >= 1000
        assert ci["accuracy"]["low"] <= ci["accuracy"]["estimate"] <= ci["accuracy"]["high"]
    assert set(trust["shortcut"]["per_class"]) == {"Alpha", "Beta", "Gamma"}
    assert (run_dir / "reliability_diagram.png").stat().st_size > 1000
    figures = [e["figure"] for kind in ("correct", "wrong") for e in trust["explanations"][kind]]
    assert figures and all((run_dir / f).is_file() for f in figures)
    assert {e["method"] for e in trust["explanations"]["correct"]} == {"gradcam", "occlusion"}


def test_model_card_and_html_hold_every_item(trained_run):
    run_dir = trained_run["result"].run_dir
    card = (run_dir / MODEL_CARD_FILE).read_text()
    page = (run_dir / HTML_FILE).read_text()
    for phrase in REQUIRED:
        assert phrase in card, f"model card lacks {phrase!r}"
        assert phrase in page, f"report.html lacks {phrase!r}"
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", card):
        assert (run_dir / link).is_file(), link
    images = re.findall(r'<img src="([^"]+)"', page)
    n_explanations = sum(len(v) for v in json.loads((run_dir / "trust.json").read_text())["explanations"].values())
    assert len(images) == 5 + n_explanations  # 3 confusion matrices, curves, reliability
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "figure missing" not in page and "http://" not in page and "https://" not in page


def test_predict_applies_the_stored_temperature(trained_run):
    from xraynet import Predictor

    run_dir = trained_run["result"].run_dir
    predictor = Predictor.from_path(run_dir)
    x = trained_run["dm"].test.x[:4]
    raw = np.asarray(predictor.bundle.model.predict_on_batch(x.astype(np.float32)))
    from xraynet.evaluation import apply_temperature

    expected = apply_temperature(raw, predictor.bundle.temperature)
    assert np.allclose(predictor.predict_arrays(x), expected, atol=1e-5)
