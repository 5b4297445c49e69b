"""The metric tables every output prints (the model report, the model card, the terminal): one
builder of the rows, one way to write a figure and an interval. No Keras import here."""

from __future__ import annotations

import math
from typing import Any

#: the metric table's header
METRIC_HEADER = ["metric", "estimate (95% CI)"]


def fmt(value: Any, digits: int = 3) -> str:
    """A figure as reports print it: floats to ``digits`` places, None and NaN as ``n/a``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def interval_text(ci: Any) -> str:
    """``0.912 (0.850 to 0.960)``: an estimate and its interval (an
    :class:`~xraynet.reporting.assessment.Interval` or its dict); ``n/a`` where undefined."""
    values = ci if isinstance(ci, dict) else ci._asdict()
    if fmt(values["estimate"]) == "n/a":
        return "n/a"
    return f"{fmt(values['estimate'])} ({fmt(values['low'])} to {fmt(values['high'])})"


def metric_rows(intervals: Any, class_names: list[str], macro_auc: float | None) -> list[list[str]]:
    """The rows of a split's metric table: accuracy and macro-F1 with their intervals, the macro
    AUC, then each class's sensitivity and specificity with theirs. ``intervals``: the metric's
    interval by name (``accuracy``, ``macro_f1``, ``sensitivity/<class>``, ...)."""
    rows = [["accuracy", interval_text(intervals["accuracy"])],
            ["macro-F1", interval_text(intervals["macro_f1"])],
            ["macro AUC (one-vs-rest)", fmt(macro_auc)]]
    for name in class_names:
        rows.append([f"sensitivity {name}", interval_text(intervals[f"sensitivity/{name}"])])
        rows.append([f"specificity {name}", interval_text(intervals[f"specificity/{name}"])])
    return rows


def source_header(class_names: list[str]) -> list[str]:
    """The header of :func:`source_rows`' table."""
    return ["source", "images", "macro-F1 (95% CI)", *[f"{c}: sensitivity / specificity" for c in class_names]]


def source_rows(per_source: dict[str, dict], class_names: list[str], *, pooled: dict | None = None,
                worst: str | None = None) -> list[list[str]]:
    """One row per source of an external set (its images, macro-F1 over the classes it holds
    with the interval, each class's sensitivity and specificity), the worst source marked, then
    the pooled row. ``per_source``: source -> its metrics (:func:`~.external.external_metrics`)."""
    def row(name: str, m: dict) -> list[str]:
        ci = m["bootstrap"]
        return [name, str(m["n"]), interval_text(ci["macro_f1"]),
                *[f"{fmt(ci[f'sensitivity/{c}']['estimate'], 2)} / {fmt(ci[f'specificity/{c}']['estimate'], 2)}"
                  for c in class_names]]
    rows = [row(name + (" (worst)" if name == worst else ""), m) for name, m in per_source.items()]
    return rows + ([row("pooled", pooled)] if pooled is not None else [])


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """Rows as aligned plain text (the terminal's version of a report table)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in [header, *rows])
