import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xraynet.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_evaluate_predict_end_to_end(dataset, cache_dir, tmp_path, capsys):
    runs = tmp_path / "runs"
    code, out, err = _run(capsys, "fit", "--data", str(dataset), "--out", str(runs),
                          "--cache-dir", str(cache_dir), "--image-size", "32", "--depth", "3",
                          "--base-filters", "8", "--epochs", "12", "--lr", "3e-3")
    assert code == 0, err
    assert "backend:" in err and "Epoch 1/12" in out + err
    assert "precision" in out and "test (leak-free" in out
    run_dir = Path(out.strip().splitlines()[-1].split("run directory: ")[1])
    assert (run_dir / "model.keras").is_file()

    code, out, err = _run(capsys, "evaluate", str(run_dir), "--data", str(dataset),
                          "--out", str(runs), "--cache-dir", str(cache_dir))
    assert code == 0, err
    assert "cache hit" in err
    fit_metrics = json.loads((run_dir / "metrics.json").read_text())["splits"]["test"]
    eval_dir = Path(out.strip().splitlines()[-1].split("evaluation written to ")[1])
    eval_metrics = json.loads((eval_dir / "metrics.json").read_text())["splits"]["test"]
    assert eval_metrics["confusion_matrix"] == fit_metrics["confusion_matrix"]

    images = sorted((dataset / "test" / "Gamma").iterdir())[:2]
    code, out, err = _run(capsys, "predict", str(run_dir / "model.keras"), *map(str, images), "--json")
    assert code == 0, err
    predictions = json.loads(out)
    assert [p["path"] for p in predictions] == [str(p) for p in images]
    for p in predictions:
        assert set(p) == {"path", "label", "probabilities", "quality"}
        assert np.isclose(sum(p["probabilities"].values()), 1, atol=1e-4)
        # the synthetic images are 48 px: the quality gate says so, and they are still predicted
        assert p["quality"]["ok"] is False and "very small image" in p["quality"]["reasons"][0]
    assert "look unlike the training X-rays" in err


def test_fit_on_several_sources_validates_on_the_held_out_one(tmp_path, capsys):
    """A manifest's sources: --val-source holds one out for validation, and the model card
    says which sources each class was trained on and that no signal flags a population."""
    from tests.synthetic import make_sourced_manifest

    manifest = make_sourced_manifest(tmp_path / "hospitals", {"north": 8, "south": 6, "east": 6})
    (manifest.parent / "dataset.json").write_text(json.dumps(
        {"name": "three hospitals", "populations": {"Alpha": "adults of north and south"}}))
    code, out, err = _run(capsys, "fit", "--data", str(manifest), "--val-source", "east",
                          "--out", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"),
                          "--image-size", "32", "--depth", "2", "--base-filters", "8",
                          "--epochs", "2")
    assert code == 0, err
    run_dir = Path(out.strip().splitlines()[-1].split("run directory: ")[1])
    data = json.loads((run_dir / "metadata.json").read_text())["data"]
    assert data["val_source"] == "east" and data["splits"]["val"] == {"Alpha": 6, "Beta": 6, "Gamma": 6}
    assert set(data["sources"]) == {"north", "south", "east"}
    card = (run_dir / "model_card.md").read_text()
    assert "## Populations the model has seen" in card
    assert "validated on the held-out source(s) east" in card
    assert "| Alpha | adults of north and south | east 6; north 8; south 6 |" in card
    assert "No measured signal tells an input's age or source" in card


def test_missing_data_folder_is_a_one_line_error_with_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "xraynet.cli", "audit", "--data",
                           str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert lines == [f"error: dataset folder not found: {tmp_path / 'nowhere'} "
                     "(expected <root>/{train,test}/<class>/<images>, <root>/<class>/<images>, "
                     "or a CSV manifest)"]
    assert "Traceback" not in proc.stderr


def test_class_mismatch_exits_2(dataset, capsys):
    (dataset / "test" / "Gamma").rename(dataset / "test" / "Delta")
    code, _, err = _run(capsys, "info", "--data", str(dataset), "--no-cache")
    assert code == 2 and "class folders differ" in err


def test_audit_prints_and_saves(dataset, cache_dir, tmp_path, capsys):
    import shutil

    shutil.copy(dataset / "train" / "Beta" / "train_002.png", dataset / "test" / "Beta" / "dup.png")
    code, out, _ = _run(capsys, "audit", "--data", str(dataset), "--out", str(tmp_path / "runs"),
                        "--cache-dir", str(cache_dir))
    assert code == 0 and "test/Beta/dup.png" in out
    saved = next((tmp_path / "runs").glob("audit-*/audit.json"))
    assert json.loads(saved.read_text())["leaked_test"] == ["test/Beta/dup.png"]


def test_predict_with_no_readable_image_exits_2(trained_run, tmp_path, capsys):
    (tmp_path / "x.png").write_text("nope")
    code, _, err = _run(capsys, "predict", str(trained_run["result"].run_dir), str(tmp_path / "x.png"))
    assert code == 2 and "skipped" in err


def test_download_fails_offline_with_a_clear_message(monkeypatch, capsys):
    import types

    def refuse(handle):
        raise ConnectionError("Failed to resolve 'www.kaggle.com'")

    monkeypatch.setitem(sys.modules, "kagglehub", types.SimpleNamespace(dataset_download=refuse))
    code, _, err = _run(capsys, "download")
    assert code == 2
    assert "download of pranavraikokte/covid19-image-dataset failed (offline" in err


@pytest.mark.parametrize("command", ["fit", "evaluate", "predict", "explain", "report", "audit", "info", "download",
                                     "tune", "train-best", "serve"])
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0 and "usage: xraynet" in capsys.readouterr().out


@pytest.mark.parametrize("script", ["tune.py", "train_best.py"])
def test_scripts_have_help(script):
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "scripts" / script), "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--data" in proc.stdout and "--out" in proc.stdout


def test_train_best_without_a_search_is_a_one_line_error(tmp_path, capsys):
    code, _, err = _run(capsys, "train-best", "--out", str(tmp_path))
    assert code == 2 and "no best_hyperparameters.json under" in err


def test_explain_writes_an_overlay_per_image_and_method(trained_run, tmp_path, capsys):
    run_dir = trained_run["result"].run_dir
    images = [sorted((trained_run["root"] / "test" / c).iterdir())[0] for c in ("Alpha", "Gamma")]
    out = tmp_path / "ex"
    code, stdout, err = _run(capsys, "explain", str(run_dir), *map(str, images), "--out", str(out))
    assert code == 0, err
    written = sorted(p.name for p in out.glob("*.png"))
    assert len(written) == 4 and all(p.stat().st_size > 1000 for p in out.glob("*.png"))
    summary = json.loads((out / "explanations.json").read_text())
    assert {e["method"] for e in summary["explanations"]} == {"gradcam", "occlusion"}
    assert "border share" in stdout
    code, stdout, err = _run(capsys, "explain", str(run_dir), str(images[0]), "--out",
                             str(tmp_path / "one"), "--method", "occlusion")
    assert code == 0 and len(list((tmp_path / "one").glob("*.png"))) == 1


def test_predict_with_test_time_augmentation_reports_a_spread(trained_run, capsys):
    run_dir = trained_run["result"].run_dir
    image = sorted((trained_run["root"] / "test" / "Beta").iterdir())[0]
    code, out, err = _run(capsys, "predict", str(run_dir), str(image), "--tta", "6", "--json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert set(row["std"]) == set(row["probabilities"])
    assert abs(sum(row["probabilities"].values()) - 1) < 1e-4
    code, out, err = _run(capsys, "predict", str(run_dir), str(image), "--tta", "6")
    assert "±" in out


def test_report_rewrites_a_run_directory_report(trained_run, tmp_path, capsys):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(trained_run["result"].run_dir, run_dir)
    for name in ("report.html", "model_card.md", "trust.json"):
        (run_dir / name).unlink()
    code, out, err = _run(capsys, "report", str(run_dir), "--data", str(trained_run["root"]),
                          "--cache-dir", str(tmp_path / "cache"))
    assert code == 0, err
    assert all((run_dir / n).is_file() for n in ("report.html", "model_card.md", "trust.json"))
    before = json.loads((trained_run["result"].run_dir / "trust.json").read_text())
    after = json.loads((run_dir / "trust.json").read_text())
    assert after["bootstrap"] == before["bootstrap"]  # same model, data and seed
    assert np.isclose(after["temperature"], before["temperature"], rtol=1e-4)


@pytest.mark.parametrize("intensity", ["scale", "per_image"])
def test_fit_records_its_intensity_mode_in_config_and_model(intensity, dataset, cache_dir, tmp_path, capsys):
    code, out, err = _run(capsys, "-q", "fit", "--data", str(dataset), "--out", str(tmp_path),
                          "--cache-dir", str(cache_dir), "--image-size", "32", "--depth", "2",
                          "--base-filters", "4", "--epochs", "1", "--intensity", intensity)
    assert code == 0, err
    run_dir = Path(out.strip().splitlines()[-1].split("run directory: ")[1])
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"]["intensity"] == intensity
    from xraynet import load_bundle
    assert load_bundle(run_dir).model.get_layer("normalize").mode == intensity


def _external_set(trained_run, root):
    """Test images of the synthetic set under other folder names: alpha/ (case), b/ (mapped,
    nested), no Gamma."""
    import shutil

    for folder, cls in (("alpha", "Alpha"), ("b/nested", "Beta")):
        (root / folder).mkdir(parents=True)
        for image in sorted((trained_run["root"] / "test" / cls).iterdir())[:4]:
            shutil.copy(image, root / folder / image.name)
    return root


def test_evaluate_an_external_class_folder_set(trained_run, tmp_path, capsys):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(trained_run["result"].run_dir, run_dir)
    ext = _external_set(trained_run, tmp_path / "Hospital B")
    code, out, err = _run(capsys, "evaluate", str(run_dir), "--data", str(ext), "--class-map", "b=beta",
                          "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["metrics"]["n"] == 8 and summary["missing_classes"] == ["Gamma"]
    assert summary["folders"] == {"alpha": "Alpha", "b": "Beta"}
    assert {"low", "high"} <= set(summary["metrics"]["bootstrap"]["macro_f1"])
    written = run_dir / "external-Hospital_B"
    assert {p.name for p in written.iterdir()} >= {"metrics.json", "predictions.csv",
                                                   "confusion_matrix.png", "report.txt"}
    assert len((written / "predictions.csv").read_text().splitlines()) == 9
    card = (run_dir / "model_card.md").read_text()
    assert "## External validation" in card and "Hospital B: 8 images" in card
    assert "external-Hospital_B/confusion_matrix.png" in card
    assert "External validation" in (run_dir / "report.html").read_text()
    assert "Gamma" in err  # the missing class is reported


def test_evaluate_an_external_set_of_several_sources(trained_run, tmp_path, capsys):
    """A folder of sources is scored per source and pooled; a manifest's source column too."""
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(trained_run["result"].run_dir, run_dir)
    ext = tmp_path / "dev"
    _external_set(trained_run, ext / "north")
    rows = ["path,label,source"]
    for cls in ("Gamma", "Alpha"):
        (ext / "south" / cls.lower()).mkdir(parents=True)
        for image in sorted((trained_run["root"] / "test" / cls).iterdir())[:3]:
            shutil.copy(image, ext / "south" / cls.lower() / image.name)
            rows.append(f"south/{cls.lower()}/{image.name},{cls},south")
    code, out, err = _run(capsys, "evaluate", str(run_dir), "--data", str(ext), "--class-map", "b=beta",
                          "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["metrics"]["n"] == 14 and summary["missing_classes"] == []
    assert sorted(summary["sources"]) == ["north", "south"] and summary["sources"]["south"]["n"] == 6
    assert summary["worst_source"] in ("north", "south")
    assert summary["folders"]["north/b"] == "Beta"
    card = (run_dir / "model_card.md").read_text()
    assert "By source (2 sources; worst: " in card and "| pooled | 14 |" in card
    (ext / "dev.csv").write_text("\n".join(rows) + "\n")
    code, out, err = _run(capsys, "evaluate", str(run_dir), "--data", str(ext / "dev.csv"), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["name"] == "dev" and list(summary["sources"]) == ["south"]
    assert summary["worst_source"] is None and summary["metrics"]["n"] == 6


def test_evaluate_an_external_set_with_an_unknown_folder_exits_2_with_one_line(trained_run, tmp_path):
    ext = _external_set(trained_run, tmp_path / "ext")
    proc = subprocess.run([sys.executable, "-m", "xraynet.cli", "evaluate",
                           str(trained_run["result"].run_dir), "--data", str(ext)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "'b'" in errors[0] and "Alpha, Beta, Gamma" in errors[0]
    assert "--class-map" in errors[0] and "Traceback" not in proc.stderr


def test_predict_walks_folders_and_writes_csv(trained_run, tmp_path, capsys):
    import csv

    ext = _external_set(trained_run, tmp_path / "ext")
    (ext / "alpha" / "readme.txt").write_text("not an image")
    out_csv = tmp_path / "pred.csv"
    code, out, err = _run(capsys, "predict", str(trained_run["result"].run_dir), str(ext),
                          "--csv", str(out_csv))
    assert code == 0, err
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 8 and all(r["path"].startswith(str(ext)) for r in rows)
    assert {"path", "label", "p_Alpha", "p_Beta", "p_Gamma", "quality_ok", "quality_reasons"} == set(rows[0])
    assert "non-image" in err


def test_a_finished_runs_config_reproduces_it(dataset, cache_dir, tmp_path, capsys):
    """``fit --config RUN/config.json`` trains the same model: same weights, same figures."""
    code, _, err = _run(capsys, "fit", "--data", str(dataset), "--out", str(tmp_path / "a"),
                        "--cache-dir", str(cache_dir), "--image-size", "32", "--depth", "3",
                        "--base-filters", "8", "--epochs", "2", "--seed", "3")
    assert code == 0, err
    first = next((tmp_path / "a").glob("fit-*"))
    code, out, err = _run(capsys, "fit", "--config", str(first / "config.json"), "--print-config")
    printed = json.loads(out)
    recorded = json.loads((first / "config.json").read_text())
    assert code == 0 and {k: v for k, v in printed.items() if k != "backend"} == {
        k: v for k, v in recorded.items() if k != "backend"}
    code, _, err = _run(capsys, "fit", "--config", str(first / "config.json"), "--out",
                        str(tmp_path / "b"), "--cache-dir", str(cache_dir))
    assert code == 0, err
    second = next((tmp_path / "b").glob("fit-*"))
    splits = [json.loads((run / "metrics.json").read_text())["splits"] for run in (first, second)]
    for name in ("val", "test", "test_leak_free"):
        assert splits[0][name]["macro_f1"] == splits[1][name]["macro_f1"]
        assert splits[0][name]["confusion_matrix"] == splits[1][name]["confusion_matrix"]
    code, _, err = _run(capsys, "fit", "--config", str(first / "config.json"), "--epochs", "5",
                        "--print-config")
    assert code == 0 and "--epochs" not in err


def test_a_config_that_is_not_one_is_one_error_line(tmp_path, capsys):
    bad = tmp_path / "run.toml"
    bad.write_text("this is = not [toml")
    code, _, err = _run(capsys, "fit", "--config", str(bad))
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "cannot read the run config" in errors[0]
    assert "Traceback" not in err
