"""What every model report must hold (point 5 of the trust issue), shared by the fit and
train_best tests."""

import re
from pathlib import Path

#: Headings and phrases the model card and report.html must both contain.
REQUIRED = [
    "Intended use", "NOT FOR CLINICAL USE", "Dataset: ",  # use, the data by its name
    "Images per split and class", "Duplicate audit", "identical pairs across splits",
    "Preprocessing and augmentation, as run", "augmentation: rotation",
    "Hyperparameters", "learning_rate",
    "Performance with confidence intervals", "95% percentile bootstrap", "Test, full",
    "Test, leak-free", "sensitivity", "specificity",
    "Confusion matrix", "Loss and AUC per epoch", "Reliability diagram", "Calibration",
    "Explanations", "Correctly classified", "Misclassified", "Grad-CAM", "occlusion",
    "Shortcut check", "border", "Exposure stress test", "gamma 1.25 (darker)",
    "Acquisition-shift stress suite", "squeeze_224", "jpeg_q20", "border_crop_5",
    "External validation", "Backend and library versions", "keras",
]


def assert_report_complete(run_dir: Path) -> tuple[str, str]:
    """Both reports exist, hold every required item, and every figure they name exists."""
    card = (run_dir / "model_card.md").read_text()
    page = (run_dir / "report.html").read_text()
    for phrase in REQUIRED:
        assert phrase in card, f"model card lacks {phrase!r}"
        assert phrase in page, f"report.html lacks {phrase!r}"
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", card):
        assert (run_dir / link).is_file(), link
    provenance = ("kaggle.com" in card, "No description of this data was given" in card)
    assert any(provenance) and not all(provenance), "the data's provenance, or plainly none"
    assert "figure missing" not in page and "http://" not in page and "https://" not in page
    return card, page
