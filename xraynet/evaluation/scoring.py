"""Evaluate a model on named splits, format the report, and write it into a run directory."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..bundle import write_json
from ..data.split_data import SplitData
from ..errors import BundleError
from ..runs import CURVES_FILE, METRICS_FILE, REPORT_FILE, confusion_file
from .metrics import classification_metrics
from .tables import fmt
from .plots import plot_confusion_matrix, plot_histories, plot_history

SPLIT_TITLES = {"val": "validation", "test": "test (full)",
                "test_leak_free": "test (leak-free: duplicates of train removed)"}
SHORT_TITLES = {"val": "validation", "test": "test, full", "test_leak_free": "test, leak-free"}


@dataclass
class Evaluation:
    """What :func:`evaluate_run` measured: the report text, metrics per split and the model's
    (uncalibrated) probabilities per split."""

    text: str
    metrics: dict
    probabilities: dict[str, np.ndarray] = field(default_factory=dict)


def predict_splits(model, datasets: dict) -> dict[str, np.ndarray]:
    """The model's probabilities per split name; ``datasets`` maps names to Keras datasets
    (:class:`~xraynet.data.loaders.SplitDataset`)."""
    return {name: np.asarray(model.predict(dataset, verbose=0)) for name, dataset in datasets.items()}


def score_splits(probabilities: dict[str, np.ndarray], datasets: dict, class_names: list[str]) -> dict:
    """Metrics per split name from probabilities already computed (``datasets`` give ``labels``)."""
    return {name: classification_metrics(datasets[name].labels, proba, class_names)
            for name, proba in probabilities.items()}


def evaluate_splits(model, datasets: dict, class_names: list[str]) -> dict:
    """Metrics per split name; ``datasets`` maps names to Keras datasets with ``labels``."""
    return score_splits(predict_splits(model, datasets), datasets, class_names)


def format_report(results: dict, class_names: list[str]) -> str:
    """Human-readable report: per split, headline figures, sklearn's report, sens/spec."""
    lines = []
    for name, m in results.items():
        lines.append(f"== {SPLIT_TITLES.get(name, name)}: {m['n']} images ==")
        lines.append(f"accuracy {fmt(m['accuracy'])}   macro-F1 {fmt(m['macro_f1'])}   "
                     f"macro AUC (one-vs-rest) {fmt(m['macro_auc_ovr'])}")
        lines.append(m["classification_report_text"].rstrip())
        lines.append(f"{'class':>20s}  sensitivity  specificity")
        for c in class_names:
            lines.append(f"{c:>20s}  {fmt(m['sensitivity'][c]):>11s}  {fmt(m['specificity'][c]):>11s}")
        lines.append("confusion matrix (rows = true, columns = predicted): "
                     + str(m["confusion_matrix"]))
        lines.append("")
    return "\n".join(lines)


def read_history(path: str | Path) -> dict[str, list[float]]:
    """A Keras CSVLogger file as ``{metric: [value per epoch]}``; the logger's ``NA`` (a metric
    not logged, such as validation metrics of a run without validation) is left out, and a metric
    with no value at all too."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        keys = [k for k in (rows[0].keys() if rows else []) if k and k != "epoch"]
        history = {k: [float(r[k]) for r in rows if r.get(k) not in (None, "", "NA")] for k in keys}
        return {k: values for k, values in history.items() if values}
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, TypeError) as exc:
        raise BundleError(f"cannot read the training history {path} ({exc}); delete it to "
                          "start the run afresh, or restore it from a backup") from exc


def write_evaluation(results: dict, class_names: list[str], directory: str | Path, *,
                     extra: dict | None = None) -> str:
    """Write ``metrics.json``, ``report.txt`` and a confusion-matrix PNG per split; return the text."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    text = format_report(results, class_names)
    (directory / REPORT_FILE).write_text(text)
    serialisable = {k: {kk: vv for kk, vv in v.items() if kk != "classification_report_text"}
                    for k, v in results.items()}
    write_json(directory / METRICS_FILE, {**(extra or {}), "splits": serialisable})
    for name, m in results.items():
        plot_confusion_matrix(m["confusion_matrix"], class_names,
                              directory / confusion_file(name),
                              title=f"{SHORT_TITLES.get(name, name)} (n={m['n']})")
    return text


def evaluate_run(model, data: SplitData, run_dir: str | Path) -> Evaluation:
    """Evaluate ``model`` on the validation, full test and leak-free test splits of ``data`` (a
    set-up data module's, ``dm.split_data()``):
    write ``metrics.json``, ``report.txt`` and the confusion matrices into ``run_dir``. Only
    evaluates; the model report (trust checks, ``report.html``) is the next step,
    :func:`xraynet.reporting.write_report`, which can reuse the returned probabilities."""
    from ..backend import backend_name

    datasets = data.evaluation_datasets()
    probabilities = predict_splits(model, datasets)
    metrics = score_splits(probabilities, datasets, data.class_names)
    text = write_evaluation(metrics, data.class_names, run_dir,
                            extra={"backend": backend_name(), "data": data.summary})
    return Evaluation(text=text, metrics=metrics, probabilities=probabilities)


def write_curves(history_csv: str | Path, directory: str | Path) -> Path | None:
    """``curves.png`` (loss and AUC per epoch) from ``history.csv``; None without history."""
    history = read_history(history_csv)
    if not history:
        return None
    return plot_history(history, Path(directory) / CURVES_FILE)


def write_member_curves(history_csvs: dict[str, str | Path], directory: str | Path) -> Path | None:
    """``curves.png`` with the loss and AUC per epoch of several runs (an ensemble's members)."""
    histories = {name: h for name, path in history_csvs.items() if (h := read_history(path))}
    if not histories:
        return None
    return plot_histories(histories, Path(directory) / CURVES_FILE)
