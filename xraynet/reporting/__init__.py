"""Model reports: the trust assessment (calibration, intervals, shortcut check, stress tests,
explanations), its typed result, and its rendering as ``model_card.md`` and a self-contained
``report.html``; :func:`write_report` is the whole step."""

from .trust_checks import SHORTCUT_THRESHOLD, assess_model, shortcut_check
from .render import HTML_FILE, MODEL_CARD_FILE, write_model_report
from .step import write_report
from .assessment import TRUST_FILE, Assessment

__all__ = ["HTML_FILE", "MODEL_CARD_FILE", "SHORTCUT_THRESHOLD", "TRUST_FILE", "Assessment",
           "assess_model", "shortcut_check", "write_model_report", "write_report"]
