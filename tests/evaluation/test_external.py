"""External-set metrics and writing, on made-up predictions."""

import csv
import json

import numpy as np
import pytest

from xraynet.evaluation.external import (external_dir_name, external_metrics, read_external_sets,
                                         source_metrics, worst_source, write_external)

NAMES = ["Covid", "Normal", "Viral Pneumonia"]


def _proba(pred, k=3, confidence=0.8):
    out = np.full((len(pred), k), (1 - confidence) / (k - 1))
    out[np.arange(len(pred)), pred] = confidence
    return out


def test_metrics_of_a_set_lacking_a_class_average_over_the_classes_present():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    pred = np.array([0, 0, 0, 2, 1, 1, 0, 1])  # one Covid called Viral Pneumonia
    m = external_metrics(y, _proba(pred), NAMES, n_resamples=200)
    assert m["classes_present"] == ["Covid", "Normal"]
    assert m["counts"] == {"Covid": 4, "Normal": 4, "Viral Pneumonia": 0}
    assert m["accuracy"] == pytest.approx(6 / 8)
    # F1 Covid 2*3/(6+1+1) = 0.75, Normal 2*3/(6+1) = 6/7; Viral Pneumonia is not averaged in
    assert m["macro_f1"] == pytest.approx((0.75 + 6 / 7) / 2)
    ci = m["bootstrap"]
    assert ci["macro_f1"]["estimate"] == pytest.approx(m["macro_f1"])
    assert ci["macro_f1"]["low"] <= m["macro_f1"] <= ci["macro_f1"]["high"]
    assert m["sensitivity"]["Covid"] == pytest.approx(0.75)
    assert np.isnan(m["sensitivity"]["Viral Pneumonia"])
    assert m["specificity"]["Viral Pneumonia"] == pytest.approx(7 / 8)


def test_write_external_writes_metrics_predictions_and_figure(tmp_path):
    y = np.array([0, 1, 2, 2])
    proba = _proba(np.array([0, 1, 2, 1]))
    root = tmp_path / "hospital"
    files = [str(root / "c" / f"{i}.png") for i in range(4)]
    summary = write_external(tmp_path / "external-x", name="x", root=root, files=files, y_true=y,
                             proba=proba, class_names=NAMES, folders={"c": "Covid"}, missing=[],
                             skipped=[("bad.png", "not an image")], model="m", n_resamples=100)
    out = tmp_path / "external-x"
    assert json.loads((out / "metrics.json").read_text())["metrics"]["n"] == 4
    assert (out / "confusion_matrix.png").stat().st_size > 1000
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert [r["path"] for r in rows] == [f"c/{i}.png" for i in range(4)]
    assert [r["correct"] for r in rows] == ["1", "1", "1", "0"]
    assert float(rows[0]["p_Covid"]) == pytest.approx(0.8)
    assert "macro-F1" in (out / "report.txt").read_text()
    assert summary["skipped"] == [["bad.png", "not an image"]]
    assert [name for name, _ in read_external_sets(tmp_path)] == ["external-x"]


@pytest.mark.parametrize("name, expected", [("Hospital B", "external-Hospital_B"),
                                            ("../../etc", "external-etc"),
                                            ("<script>", "external-script"), ("", "external-set")])
def test_external_dir_name_stays_inside_the_run_directory(name, expected):
    assert external_dir_name(name) == expected


def test_each_source_is_scored_apart_and_the_worst_is_named(tmp_path):
    y = np.array([0, 1, 2, 0, 1, 1, 1])
    pred = np.array([0, 1, 2, 0, 2, 2, 1])  # south calls two of its three Normal Viral Pneumonia
    sources = ["north"] * 3 + ["south"] * 4
    per = source_metrics(y, _proba(pred), sources, NAMES, n_resamples=100)
    assert list(per) == ["north", "south"] and per["north"]["macro_f1"] == pytest.approx(1.0)
    assert per["south"]["classes_present"] == ["Covid", "Normal"]
    assert per["south"]["sensitivity"]["Normal"] == pytest.approx(1 / 3)
    assert worst_source(per) == "south" and worst_source({"one": per["north"]}) is None
    root = tmp_path / "ext"
    files = [str(root / s / f"{i}.png") for i, s in enumerate(sources)]
    summary = write_external(tmp_path / "external-ext", name="ext", root=root, files=files, y_true=y,
                             proba=_proba(pred), class_names=NAMES, folders={}, missing=[],
                             skipped=[], model="m", sources=sources, n_resamples=100)
    assert summary["worst_source"] == "south" and summary["metrics"]["n"] == 7
    assert summary["sources"]["south"]["n"] == 4
    rows = list(csv.DictReader((tmp_path / "external-ext" / "predictions.csv").open()))
    assert [r["source"] for r in rows] == sources and rows[4]["path"] == "south/4.png"
    text = (tmp_path / "external-ext" / "report.txt").read_text()
    assert "by source (worst: south)" in text and "south (worst)" in text and "pooled" in text
