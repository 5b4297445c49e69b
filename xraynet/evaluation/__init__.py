"""Evaluation: metrics as pure functions, plots, and the written report."""

from .metrics import classification_metrics, macro_auc_ovr, sensitivity_specificity
from .plots import plot_confusion_matrix, plot_histories, plot_history
from .report import (evaluate_splits, format_report, read_history, write_curves, write_evaluation,
                     write_member_curves)

__all__ = ["classification_metrics", "evaluate_splits", "format_report", "macro_auc_ovr",
           "plot_confusion_matrix", "plot_histories", "plot_history", "read_history",
           "sensitivity_specificity", "write_curves", "write_evaluation", "write_member_curves"]
