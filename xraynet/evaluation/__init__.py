"""Evaluation: metrics as pure functions, plots, and the written report."""

from .calibration import (apply_temperature, brier_score, calibration_summary,
                          expected_calibration_error, fit_temperature)
from .metrics import classification_metrics, macro_auc_ovr, sensitivity_specificity
from .plots import plot_confusion_matrix, plot_histories, plot_history, plot_reliability
from .scoring import (Evaluation, evaluate_run, evaluate_splits, format_report, predict_splits, read_history, score_splits,
                     write_curves, write_evaluation, write_member_curves)
from .uncertainty import bootstrap_intervals
from .external import external_metrics, source_metrics, worst_source

__all__ = ["apply_temperature", "bootstrap_intervals", "brier_score", "calibration_summary",
           "classification_metrics", "external_metrics", "Evaluation", "evaluate_run", "evaluate_splits", "expected_calibration_error",
           "fit_temperature", "format_report", "macro_auc_ovr", "plot_confusion_matrix",
           "plot_histories", "plot_history", "plot_reliability", "predict_splits", "read_history",
           "score_splits", "sensitivity_specificity", "source_metrics", "write_curves", "write_evaluation", "write_member_curves", "worst_source"]
