"""The run directory's model report: every required item, in model_card.md and report.html."""

import json
import re

import numpy as np

from report_checks import assert_report_complete


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
    exposure = trust["exposure"]
    assert exposure["split"] == "test" and exposure["n"] == len(trained_run["dm"].test)
    assert set(exposure["per_gamma"]) == {"0.8", "1.25"} and 0.0 <= exposure["changed_any"] <= 1.0
    acquisition = trust["acquisition"]
    assert acquisition["split"] == "test_leak_free"
    assert acquisition["n"] == len(trained_run["dm"].test_leak_free)
    assert set(acquisition["variants"]) == {"squeeze_224", "jpeg_q20", "blur", "noise", "border_crop_5"}
    for v in acquisition["variants"].values():
        assert 0.0 <= v["changed"] <= 1.0 and v["flagged"] == (v["changed"] > acquisition["threshold"])
        assert v["n_changed"] == round(v["changed"] * acquisition["n"])
        low, high = v["changed_interval"]
        assert low <= v["changed"] <= high and high - low > 0.05  # a few images: a wide interval
        assert 0 <= v["changed_confident"] <= v["n_changed"]
    assert (run_dir / "reliability_diagram.png").stat().st_size > 1000
    figures = [e["figure"] for kind in ("correct", "wrong") for e in trust["explanations"][kind]]
    assert figures and all((run_dir / f).is_file() for f in figures)
    assert {e["method"] for e in trust["explanations"]["correct"]} == {"gradcam", "occlusion"}


def test_model_card_and_html_hold_every_item(trained_run):
    run_dir = trained_run["result"].run_dir
    _, page = assert_report_complete(run_dir)
    images = re.findall(r'<img src="([^"]+)"', page)
    n_explanations = sum(len(v) for v in json.loads((run_dir / "trust.json").read_text())["explanations"].values())
    assert len(images) == 5 + n_explanations  # 3 confusion matrices, curves, reliability
    assert all(src.startswith("data:image/png;base64,") for src in images)
    squeeze = json.loads((run_dir / "trust.json").read_text())["acquisition"]["variants"]["squeeze_224"]
    low, high = squeeze["changed_interval"]
    n = len(trained_run["dm"].test_leak_free)
    shown = f"{squeeze['changed']:.0%} ({squeeze['n_changed']} of {n}; {low:.0%}-{high:.0%})"
    assert shown in page and shown in (run_dir / "model_card.md").read_text()


def test_predict_applies_the_stored_temperature(trained_run):
    from xraynet import Predictor

    run_dir = trained_run["result"].run_dir
    predictor = Predictor.from_path(run_dir)
    x = trained_run["dm"].test.x[:4]
    raw = np.asarray(predictor.bundle.model.predict_on_batch(x.astype(np.float32)))
    from xraynet.evaluation import apply_temperature

    expected = apply_temperature(raw, predictor.bundle.temperature)
    assert np.allclose(predictor.predict_arrays(x), expected, atol=1e-5)


def test_every_report_of_a_run_draws_its_intervals_with_the_runs_seed(trained_run, tmp_path):
    """write_report's default seed is the run's (what `xraynet report` uses), not 0."""
    import json

    from xraynet.config import DEFAULT_SEED
    from xraynet.runs import run_seed

    run_dir = trained_run["result"].run_dir
    assert run_seed(run_dir) == json.loads((run_dir / "config.json").read_text())["trainer"]["seed"]
    assert run_seed(tmp_path) == DEFAULT_SEED
    member = json.loads((run_dir / "config.json").read_text())
    second = {**member, "trainer": {**member["trainer"], "seed": 99}}
    (tmp_path / "config.json").write_text(json.dumps({"schema_version": member["schema_version"],
                                                      "data": member["data"],
                                                      "members": [{**member, "trainer": {
                                                          **member["trainer"], "seed": 7}}, second]}))
    assert run_seed(tmp_path) == 7
