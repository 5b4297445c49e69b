"""Model reports: the trust assessment (calibration, intervals, shortcut check, explanations)
and its rendering as ``model_card.md`` and a self-contained ``report.html``."""

from .assessment import SHORTCUT_THRESHOLD, assess_model, shortcut_check
from .render import HTML_FILE, MODEL_CARD_FILE, write_model_report

__all__ = ["HTML_FILE", "MODEL_CARD_FILE", "SHORTCUT_THRESHOLD", "assess_model", "shortcut_check",
           "write_model_report"]
