import keras_tuner as kt

from tuning.settings import SearchSettings
from tuning.space import SPACE, define, max_depth, model_values
from xraynet.config import ModelConfig


def test_space_covers_depth_learning_rate_and_batch_size():
    assert {"depth", "learning_rate", "batch_size"} <= set(SPACE)
    assert SPACE["learning_rate"]["sampling"] == "log"
    assert min(SPACE["batch_size"]["values"]) <= 8 and max(SPACE["batch_size"]["values"]) >= 64


def test_intensity_is_not_searched_so_trials_cannot_pick_the_brightness_cue():
    from xraynet.defaults import DEFAULT_INTENSITY

    assert "intensity" not in SPACE and DEFAULT_INTENSITY == "per_image"


def test_every_name_registers_with_its_range():
    hp = kt.HyperParameters()
    for name in SPACE:
        define(hp, name)
    assert set(hp.values) == set(SPACE)
    depth = hp.get_config()["space"][[s["config"]["name"] for s in hp.get_config()["space"]].index("depth")]
    assert depth["config"]["min_value"] == SPACE["depth"]["min"]
    cnn = model_values(kt.HyperParameters(), ModelConfig())  # the first choice: the CNN
    assert set(cnn) == set(SPACE) - {"batch_size", "fine_tune_blocks"}


def test_each_backbone_has_its_own_depth():
    """The CNN's depth and filters, a pretrained backbone's fine-tuned blocks: conditional
    scopes, so a trial holds only its backbone's values."""
    hp = kt.HyperParameters()
    choices = ["cnn", "efficientnet_lite0"]
    first = model_values(hp, ModelConfig(), choices)
    assert first["backbone"] == "cnn" and {"depth", "base_filters"} <= set(first)
    assert "fine_tune_blocks" not in first
    hp.values["backbone"] = "efficientnet_lite0"
    hp.ensure_active_values()  # as the oracle does for a new trial
    second = model_values(hp, ModelConfig(), choices)
    assert "fine_tune_blocks" in second and not {"depth", "base_filters"} & set(second)
    only = model_values(kt.HyperParameters(), ModelConfig(), ["cnn"])
    assert only["backbone"] == "cnn" and "fine_tune_blocks" not in only


def test_small_images_leave_the_pretrained_backbones_out_of_the_search():
    from tuning.hypermodel import searched_backbones

    assert searched_backbones(ModelConfig(image_size=32, depth=2)) == ["cnn"]
    assert searched_backbones(ModelConfig(backbone="own.keras")) == ["own.keras"]


def test_expected_trials_follows_hyperband_brackets():
    assert SearchSettings(max_epochs=2, factor=3).expected_trials() == 2
    assert SearchSettings(max_epochs=15, factor=3).expected_trials() == 30
    assert SearchSettings(max_epochs=15, factor=3, iterations=2).expected_trials() == 60


def test_the_depth_range_stops_where_the_image_size_allows():
    assert max_depth(ModelConfig()) == SPACE["depth"]["max"]  # 192 px: the whole range
    assert max_depth(ModelConfig(image_size=32, depth=2)) == 4  # 16 -> 8 -> 4 -> 2
    hp = kt.HyperParameters()
    model_values(hp, ModelConfig(image_size=32, depth=2))
    assert hp.space[[p.name for p in hp.space].index("depth")].max_value == 4


def test_train_best_passes_every_trainer_flag_it_offers(monkeypatch):
    """train-best's flags reach the training (devices and mixup were once offered and dropped)."""
    import argparse
    from dataclasses import fields

    from tuning.settings import MemberSettings
    from xraynet.config import TrainerConfig

    import tuning.best
    from tuning.commands import add_train_best_args, run_train_best

    seen = {}
    monkeypatch.setattr(tuning.best, "train_best", lambda **kw: (seen.update(kw), ("run", "report"))[1])
    p = argparse.ArgumentParser()
    add_train_best_args(p)
    args = p.parse_args(["--mixup", "0.3", "--devices", "2", "--epochs", "5", "--patience", "4",
                         "--resize-mix", "0.25", "--out", "elsewhere", "--members", "2"])
    assert run_train_best(args) == 0
    trainer, members = seen["trainer"], seen["members"]
    assert (trainer.mixup, trainer.devices, trainer.epochs, trainer.patience) == (0.3, 2, 5, 4)
    assert (trainer.resize_mix, trainer.out_dir) == (0.25, "elsewhere")
    assert members == MemberSettings(members=2)  # the other two at their declared defaults
    offered = {a.dest.split("__")[-1] for a in p._actions} - {"help"}
    passed = {f.name for f in fields(TrainerConfig)} | {f.name for f in fields(MemberSettings)}
    assert offered <= passed | {"hyperparameters", "data", "out", "cache_dir", "cache"}, offered - passed


def test_the_search_can_be_limited_to_named_backbones(tmp_path):
    import pytest

    from tuning.hypermodel import XRayHyperModel
    from xraynet.config import ConfigError

    assert SearchSettings(backbones="cnn, efficientnet_lite0").backbone_list == ["cnn", "efficientnet_lite0"]
    assert SearchSettings().backbone_list is None
    with pytest.raises(ConfigError, match="--backbones"):
        SearchSettings(backbones="cnn,resnet")

    class _Data:  # the hypermodel only sets its data module up
        def setup(self):
            return self

    model = XRayHyperModel(datamodule=_Data(), base=ModelConfig(), backbones=["cnn"])
    values = model_values(kt.HyperParameters(), ModelConfig(), model.backbones)
    assert values["backbone"] == "cnn" and "fine_tune_blocks" not in values


def test_the_top_table_leaves_a_hyperparameter_blank_where_a_trial_has_none():
    from tuning.search import format_top

    rows = [{"backbone": "efficientnet_lite0", "fine_tune_blocks": 2, "val_loss": 0.2},
            {"backbone": "cnn", "depth": 4, "val_loss": 0.3, "status": "COMPLETED"}]
    lines = format_top(rows).splitlines()
    assert lines[0].split() == ["backbone", "fine_tune_blocks", "val_loss", "depth"]
    assert lines[2].split() == ["cnn", "0.3", "4"]


def test_the_trials_train_with_the_searchs_optimiser_settings():
    from tuning.hypermodel import XRayHyperModel
    from xraynet.config import OptimConfig

    class _Data:
        def setup(self):
            return self

    hp = kt.HyperParameters()
    model = XRayHyperModel(datamodule=_Data(), base=ModelConfig(), backbones=["cnn"],
                           optim=OptimConfig(weight_decay=0.05, schedule="constant"))
    module = model.module(hp)
    assert module.config.weight_decay == 0.05 and module.config.schedule == "constant"
    assert module.config.learning_rate == hp.values["learning_rate"]  # searched, not the default
