"""Every bad input is one ``error:`` line and exit code 2, never a traceback (``--debug`` shows
it), and nothing is left half-written: each numeric argument's range, each file xraynet reads."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from tuning.settings import SearchSettings
from xraynet.cli import main
from xraynet.config import AugmentationConfig, DataConfig, ModelConfig, OptimConfig, TrainerConfig
from xraynet.config_schema import flag_of


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def assert_one_error(code: int, err: str, *needles: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = errors(err)
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def flag_cases(*classes):
    """(flag, bad value) for each bound of each setting that has a flag."""
    for cls in classes:
        for f in dataclasses.fields(cls):
            flag, meta = flag_of(f) if "help" in f.metadata else None, f.metadata
            if not flag:
                continue
            for bound, bad in (("min", lambda v: v - 1), ("above", lambda v: v),
                               ("max", lambda v: v * 2 + 1)):
                if meta.get(bound) is not None:
                    value = bad(meta[bound])
                    yield pytest.param(flag, f"{value:g}" if isinstance(value, float) else value,
                                       id=f"{flag}:{bound}")


FIT_CLASSES = (DataConfig, TrainerConfig, OptimConfig, ModelConfig, AugmentationConfig)


@pytest.mark.parametrize("flag, value", list(flag_cases(*FIT_CLASSES)))
def test_fit_refuses_each_out_of_range_flag_before_reading_any_image(flag, value, dataset,
                                                                     tmp_path, capsys):
    code, _, err = run(capsys, "fit", "--data", dataset, "--out", tmp_path / "runs",
                       "--cache-dir", tmp_path / "cache", flag, value)
    assert_one_error(code, err, flag)
    assert not (tmp_path / "runs").exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("flag, value", list(flag_cases(SearchSettings)))
def test_tune_refuses_each_out_of_range_flag(flag, value, dataset, tmp_path, capsys):
    code, _, err = run(capsys, "tune", "--data", dataset, "--out", tmp_path / "runs", flag, value)
    assert_one_error(code, err, flag)


@pytest.mark.parametrize("argv, needle", [
    (("train-best", "--epochs", "0"), "--epochs"),
    (("train-best", "--patience", "0"), "--patience"),
    (("train-best", "--members", "0"), "--members"),
    (("predict", "MODEL", "x.png", "--tta", "-1"), "--tta"),
    (("predict", "MODEL", "x.png", "--seed", "-1"), "--seed"),
    (("evaluate", "MODEL", "--seed", "-2"), "--seed"),
    (("report", "MODEL", "--seed", "-2"), "--seed"),
    (("fit", "--epochs", "abc"), "--epochs"),
    (("fit", "--resize", "sideways"), "--resize"),
    (("fit", "--intensity", "loud"), "--intensity"),
    (("no-such-command",), "COMMAND"),
])
def test_other_bad_arguments_are_one_line(argv, needle, tmp_path, capsys):
    argv = [str(tmp_path) if a == "MODEL" else a for a in argv]
    if argv[0] == "train-best":
        argv += ["--out", str(tmp_path)]
    try:  # argparse's errors exit from parse_args; the settings' come back as exit code 2
        code, _, err = run(capsys, *argv)
    except SystemExit as exit_info:
        code, err = exit_info.code, capsys.readouterr()[1]
    assert_one_error(code, err, needle)


def test_every_invalid_fit_value_is_reported_at_once(dataset, tmp_path, capsys):
    code, _, err = run(capsys, "fit", "--data", dataset, "--out", tmp_path, "--epochs", "-3",
                       "--lr", "0", "--image-size", "7")
    assert code == 2 and "Traceback" not in err
    assert len(errors(err)) == 3, err  # the image size once, though model and data share it


def test_image_size_too_small_for_the_depth(dataset, tmp_path, capsys):
    code, _, err = run(capsys, "fit", "--data", dataset, "--out", tmp_path, "--image-size", "40",
                       "--depth", "5")
    assert_one_error(code, err, "--image-size", "--depth", "too small")


def test_a_truncated_cache_is_reported_once_discarded_and_rebuilt(dataset, tmp_path, capsys):
    cache = tmp_path / "cache"
    argv = ("audit", "--data", dataset, "--out", tmp_path / "runs", "--cache-dir", cache,
            "--image-size", "32")
    assert run(capsys, *argv)[0] == 0
    [store] = cache.glob("images-*")
    images = store / "images.u8"
    images.write_bytes(images.read_bytes()[:200])  # a full disk, a copy gone wrong
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert len([l for l in err.splitlines() if "unreadable" in l]) == 1, err
    code, _, err = run(capsys, *argv)
    assert code == 0 and "cache hit" in err and "unreadable" not in err


@pytest.fixture
def bundle_copy(trained_run, tmp_path) -> Path:
    """A copy of the shared trained run, free to damage."""
    return Path(shutil.copytree(trained_run["result"].run_dir, tmp_path / "run"))


@pytest.mark.parametrize("name, content, needle", [
    ("metadata.json", "{", "bundle metadata"),
    ("metadata.json", "[1, 2]", "not a JSON object"),
    ("metadata.json", '{"image_size": 32}', "lacks 'class_names'"),
    ("config.json", "{\"schema_v", "run config"),
    ("model.keras", "not a zip", "cannot load model"),
])
def test_a_damaged_bundle_file_is_one_line_naming_it(bundle_copy, name, content, needle, capsys,
                                                     trained_run):
    (bundle_copy / name).write_text(content)
    image = next((trained_run["root"] / "test").rglob("*.png"))
    code, _, err = run(capsys, "predict", bundle_copy, image)
    line = assert_one_error(code, err, needle)
    assert name in line and ("train it again" in line or "cannot load model" in line)


def test_debug_shows_the_traceback(bundle_copy, capsys, trained_run):
    (bundle_copy / "metadata.json").write_text("{")
    image = next((trained_run["root"] / "test").rglob("*.png"))
    code, _, err = run(capsys, "--debug", "predict", bundle_copy, image)
    assert code == 2 and "Traceback" in err and len(errors(err)) == 1


def test_a_damaged_history_is_one_line(bundle_copy, capsys):
    from xraynet.errors import BundleError
    from xraynet.evaluation.scoring import read_history

    (bundle_copy / "history.csv").write_text("epoch,loss\n0,not-a-number\n")
    with pytest.raises(BundleError, match="training history .*history.csv"):
        read_history(bundle_copy / "history.csv")


def test_damaged_best_hyperparameters_are_one_line(tmp_path, capsys):
    best = tmp_path / "best_hyperparameters.json"
    best.write_text('{"hyper')
    code, _, err = run(capsys, "train-best", "--hyperparameters", best, "--out", tmp_path)
    assert_one_error(code, err, "best hyperparameters", "--fresh")
    best.write_text('{"score": 1}')
    code, _, err = run(capsys, "train-best", "--hyperparameters", best, "--out", tmp_path)
    assert_one_error(code, err, "not a search's")


def test_a_damaged_search_state_is_one_line(dataset, tmp_path, capsys):
    project = tmp_path / "runs" / "tuning" / "xraynet_hyperband"
    project.mkdir(parents=True)
    (project / "oracle.json").write_text("{")
    (project / "tuner0.json").write_text("{")
    code, _, err = run(capsys, "tune", "--data", dataset, "--out", tmp_path / "runs",
                       "--cache-dir", tmp_path / "cache", "--image-size", "32")
    assert_one_error(code, err, "cannot resume the search", "--fresh")
