"""External validation: score a saved model on any folder of labelled X-rays (another
hospital's images) and write the result beside the model, as ``external-<name>/``.

An external set may come from several sources (hospitals, collections): it is scored pooled and
per source, and the worst source (lowest macro-F1) is named. A set or a source may lack a class
of the model; its metrics then average over the classes it holds (macro-F1, macro AUC) and say
which were missing.
"""

from __future__ import annotations

import csv
import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ..bundle import write_json
from ..runs import (EXTERNAL_CONFUSION_FILE as CONFUSION_FILE, EXTERNAL_PREFIX, METRICS_FILE,
                    PREDICTIONS_FILE, REPORT_FILE)
from .tables import METRIC_HEADER, metric_rows, source_header, source_rows, text_table
from .metrics import classification_metrics
from .plots import plot_confusion_matrix
from .uncertainty import N_RESAMPLES, bootstrap_intervals



def external_dir_name(name: str) -> str:
    """``external-<name>`` with every character outside letters, digits, '.', '_' and '-'
    replaced, so a set's name never leaves the run directory."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "set"
    return EXTERNAL_PREFIX + safe


def _macro_auc(y_true: np.ndarray, proba: np.ndarray, present: list[int]) -> float:
    """Mean one-vs-rest AUC over the classes present (NaN with fewer than two)."""
    if len(present) < 2:
        return math.nan
    return float(np.mean([roc_auc_score(y_true == c, proba[:, c]) for c in present]))


def external_metrics(y_true: np.ndarray, proba: np.ndarray, class_names: list[str], *,
                     seed: int = 0, n_resamples: int = N_RESAMPLES) -> dict:
    """Metrics of one external set: accuracy, macro-F1 and macro AUC over the classes present,
    per-class sensitivity and specificity, confusion matrix, and 95% bootstrap intervals."""
    y_true = np.asarray(y_true, dtype=int)
    proba = np.asarray(proba)
    y_pred = proba.argmax(axis=1)
    present = sorted(int(c) for c in np.unique(y_true))
    metrics = classification_metrics(y_true, proba, class_names)
    metrics.pop("classification_report_text")
    metrics["bootstrap"] = bootstrap_intervals(y_true, y_pred, class_names, seed=seed,
                                               n_resamples=n_resamples, macro_classes=present)
    metrics["macro_f1"] = metrics["bootstrap"]["macro_f1"]["estimate"]  # over the classes present
    metrics["macro_auc_ovr"] = _macro_auc(y_true, proba, present)
    metrics["classes_present"] = [class_names[c] for c in present]
    metrics["counts"] = {c: int(n) for c, n in zip(class_names, np.bincount(y_true, minlength=len(class_names)))}
    return metrics


def source_metrics(y_true: np.ndarray, proba: np.ndarray, sources: list[str], class_names: list[str],
                   *, seed: int = 0, n_resamples: int = N_RESAMPLES) -> dict[str, dict]:
    """:func:`external_metrics` of each source's images, sources in sorted order."""
    y_true, proba, sources = np.asarray(y_true, dtype=int), np.asarray(proba), np.asarray(sources)
    return {name: external_metrics(y_true[sources == name], proba[sources == name], class_names,
                                   seed=seed, n_resamples=n_resamples)
            for name in sorted(set(sources.tolist()))}


def worst_source(per_source: dict[str, dict]) -> str | None:
    """The source with the lowest macro-F1 (over the classes it holds); None with one source.
    A source whose macro-F1 is undefined is not ranked."""
    ranked = [(m["macro_f1"], name) for name, m in per_source.items() if not math.isnan(m["macro_f1"])]
    return min(ranked)[1] if len(per_source) > 1 and ranked else None


def format_external(summary: dict) -> str:
    """A few lines for the terminal: the metric table (:func:`~.tables.metric_rows`), the
    confusion matrix, and what is missing or skipped."""
    m = summary["metrics"]
    counts = ", ".join(f"{c} {n}" for c, n in m["counts"].items())
    lines = [f"== external set '{summary['name']}': {m['n']} images from {summary['root']} ({counts}) ==",
             text_table(METRIC_HEADER, metric_rows(m["bootstrap"], list(m["counts"]),
                                                   m["macro_auc_ovr"])),
             "confusion matrix (rows = true, columns = predicted): " + str(m["confusion_matrix"])]
    per_source = summary.get("sources") or {}
    if len(per_source) > 1:
        lines += [f"by source (worst: {summary['worst_source']}):",
                  text_table(source_header(list(m["counts"])),
                             source_rows(per_source, list(m["counts"]), pooled=m,
                                         worst=summary["worst_source"]))]
    if summary["missing_classes"]:
        lines.append(f"classes of the model not in this set: {', '.join(summary['missing_classes'])} "
                     "(macro figures average over the classes present)")
    if summary["skipped"]:
        lines.append(f"skipped {len(summary['skipped'])} unreadable file(s): see {METRICS_FILE}")
    return "\n".join(lines)


def write_external(out_dir: str | Path, *, name: str, root: str | Path, files: list[str],
                   y_true: np.ndarray, proba: np.ndarray, class_names: list[str],
                   folders: dict[str, str], missing: list[str], skipped: list[tuple[str, str]],
                   model: str, sources: list[str] | None = None, seed: int = 0,
                   n_resamples: int = N_RESAMPLES) -> dict:
    """Score and write one external set into ``out_dir``: ``metrics.json`` (the returned
    summary: pooled ``metrics``, ``sources`` -> each source's, the ``worst_source``),
    ``predictions.csv`` (every image), ``confusion_matrix.png`` and ``report.txt``.
    ``sources``: each image's source (default: all of one source, the set's name)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = list(sources) if sources is not None else [name] * len(files)
    metrics = external_metrics(y_true, proba, class_names, seed=seed, n_resamples=n_resamples)
    per_source = ({sources[0]: metrics} if len(set(sources)) == 1  # one source: the pooled figures
                  else source_metrics(y_true, proba, sources, class_names, seed=seed,
                                      n_resamples=n_resamples))
    summary = {"name": name, "root": str(root), "model": model,
               "evaluated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "folders": folders, "missing_classes": missing,
               "skipped": [list(s) for s in skipped], "metrics": metrics,
               "sources": per_source, "worst_source": worst_source(per_source),
               "predictions": PREDICTIONS_FILE, "confusion_matrix": CONFUSION_FILE}
    write_json(out_dir / METRICS_FILE, summary)
    root = Path(root)
    with (out_dir / PREDICTIONS_FILE).open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "source", "true", "predicted", "correct"]
                        + [f"p_{c}" for c in class_names])
        base = root.parent if root.is_file() else root
        for path, source, t, p in zip(files, sources, y_true, proba):
            shown = Path(path).relative_to(base) if Path(path).is_relative_to(base) else path
            writer.writerow([str(shown), source, class_names[int(t)], class_names[int(p.argmax())],
                             int(int(t) == int(p.argmax()))] + [f"{v:.6f}" for v in p])
    plot_confusion_matrix(metrics["confusion_matrix"], class_names, out_dir / CONFUSION_FILE,
                          title=f"external: {name} (n={metrics['n']})")
    (out_dir / REPORT_FILE).write_text(format_external(summary) + "\n")
    return summary


def read_external_sets(run_dir: str | Path) -> list[tuple[str, dict]]:
    """``(folder name, metrics.json)`` of every external set evaluated in ``run_dir``, oldest
    first; folders without a readable ``metrics.json`` are left out."""
    found = []
    for folder in sorted(Path(run_dir).glob(EXTERNAL_PREFIX + "*")):
        path = folder / METRICS_FILE
        try:
            found.append((folder.name, json.loads(path.read_text())))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda item: item[1].get("evaluated", ""))
