"""A typed flag always wins over a config file (even at its default value); --print-config and
--resume say what they do."""

import json

from tests.synthetic import make_dataset
from xraynet.cli import main
from xraynet.defaults import CNN_EPOCHS, FINE_TUNE_EPOCHS


def _printed(capsys, *argv) -> tuple[dict, str]:
    code = main(["fit", *argv, "--print-config"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


def _config(tmp_path, capsys, **changes) -> str:
    data = make_dataset(tmp_path / "ds", n_train=2, n_test=1, classes=("A", "B"))
    config, _ = _printed(capsys, "--data", str(data))
    for section, values in changes.items():
        config[section].update(values)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_a_typed_flag_wins_over_the_file_even_at_its_default(tmp_path, capsys):
    path = _config(tmp_path, capsys, trainer={"batch_size": 32}, data={"image_size": 64},
                   model={"image_size": 64})
    config, _ = _printed(capsys, "--config", path, "--batch-size", "16", "--image-size", "192")
    assert config["trainer"]["batch_size"] == 16  # 16 is the flag's default
    assert config["data"]["image_size"] == 192 and config["model"]["image_size"] == 192
    config, _ = _printed(capsys, "--config", path)
    assert config["trainer"]["batch_size"] == 32 and config["data"]["image_size"] == 64


def test_print_config_counts_the_datas_classes(tmp_path, capsys):
    data = make_dataset(tmp_path / "two", n_train=2, n_test=1, classes=("A", "B"))
    config, _ = _printed(capsys, "--data", str(data))
    assert config["model"]["n_classes"] == 2


def test_a_backbone_of_another_kind_takes_its_own_training_length(tmp_path, capsys):
    path = _config(tmp_path, capsys)
    assert json.loads(open(path).read())["trainer"]["epochs"] == CNN_EPOCHS
    config, _ = _printed(capsys, "--config", path, "--backbone", "efficientnet_lite0")
    assert config["trainer"]["epochs"] == FINE_TUNE_EPOCHS
    config, _ = _printed(capsys, "--config", path, "--backbone", "efficientnet_lite0", "--epochs", "7")
    assert config["trainer"]["epochs"] == 7


def test_resume_says_which_flags_it_ignores(tmp_path, capsys):
    path = _config(tmp_path, capsys)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(open(path).read())
    config, err = _printed(capsys, "--resume", str(run), "--batch-size", "8", "--hflip")
    warnings = [line for line in err.splitlines() if "--resume" in line]
    assert len(warnings) == 1 and "ignored: --batch-size, --hflip" in warnings[0]
    assert config["trainer"]["batch_size"] == 16
