"""Typed settings: every range of every settings dataclass is enforced on construction, one
line per invalid value, naming the setting and its flag."""

from __future__ import annotations

import dataclasses

import pytest

from tuning.settings import SearchSettings
from xraynet.config import (AugmentationConfig, DataConfig, ModelConfig, OptimConfig,
                            TrainerConfig)
from xraynet.config_schema import ConfigError, flag_of, problems

SETTINGS = (DataConfig, AugmentationConfig, ModelConfig, OptimConfig, TrainerConfig, SearchSettings)


def out_of_range_cases():
    """(class, field, bad value) for each bound of each numeric setting."""
    for cls in SETTINGS:
        for f in dataclasses.fields(cls):
            meta = f.metadata
            if meta.get("min") is not None:
                yield pytest.param(cls, f, meta["min"] - 1, id=f"{cls.__name__}.{f.name}<min")
            if meta.get("above") is not None:
                yield pytest.param(cls, f, meta["above"], id=f"{cls.__name__}.{f.name}<=above")
            if meta.get("max") is not None:
                yield pytest.param(cls, f, meta["max"] * 2 + 1, id=f"{cls.__name__}.{f.name}>max")
            if meta.get("choices"):
                yield pytest.param(cls, f, "no-such-choice", id=f"{cls.__name__}.{f.name}:choice")


@pytest.mark.parametrize("cls", SETTINGS)
def test_defaults_are_valid(cls):
    assert problems(cls()) == []


@pytest.mark.parametrize("cls, f, bad", list(out_of_range_cases()))
def test_every_range_is_enforced_with_one_line_naming_the_setting(cls, f, bad):
    kind = type(getattr(cls(), f.name))
    value = kind(bad) if kind in (int, float) and not isinstance(bad, str) else bad
    with pytest.raises(ConfigError) as err:
        cls(**{f.name: value})
    lines = err.value.problems
    assert len([line for line in lines if f".{f.name} = " in line]) == 1, lines
    flag = flag_of(f)
    if flag:
        assert any(flag in line for line in lines)


def test_every_invalid_value_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        TrainerConfig(epochs=0, batch_size=-1, patience=0)
    assert len(err.value.problems) == 3
    assert str(err.value).count("\n") == 2


def test_model_image_size_is_checked_against_depth_and_stem_stride():
    assert ModelConfig(image_size=64, depth=4, stem_stride=2).feature_side() == 4
    with pytest.raises(ConfigError, match="too small for depth 5 and stem stride 2.*--image-size"):
        ModelConfig(image_size=48, depth=5, stem_stride=2)
    ModelConfig(image_size=48, depth=4, stem_stride=2)  # 24 -> 12 -> 6 -> 3: fine


def test_objects_read_their_settings_from_the_config_they_record():
    from xraynet import Trainer

    trainer = Trainer(epochs=7, out_dir="somewhere")
    assert trainer.epochs == trainer.config.epochs == 7 and str(trainer.out_dir) == "somewhere"
    with pytest.raises(AttributeError, match="setting of TrainerConfig"):
        trainer.epochs = 3  # would drift from config.json
    with pytest.raises(AttributeError):
        trainer.no_such_setting
