"""Every command's flags are derived from settings dataclasses: a default written anywhere else
(an ``add_argument(..., default=...)`` of its own) fails here."""

import argparse
from dataclasses import MISSING, fields

import pytest

from tuning.settings import MemberSettings, SearchSettings
from xraynet.cli import build_parser
from xraynet.cli.settings import (EvaluateSettings, ExplainSettings, ExportSettings,
                                  PredictSettings, ReportSettings, StorageSettings)
from xraynet.config import AugmentationConfig, DataConfig, ModelConfig, OptimConfig, TrainerConfig
from xraynet.serve.settings import ServeSettings
from xraynet.distributed import ClusterSettings
from xraynet.config_schema import flag_of

#: the section of a flag's destination (``<section>__<field>``) -> its settings dataclass
SECTIONS = {"trainer": TrainerConfig, "module": OptimConfig, "model": ModelConfig,
            "aug": AugmentationConfig, "data": DataConfig, "storage": StorageSettings,
            "evaluate": EvaluateSettings, "predict": PredictSettings, "explain": ExplainSettings,
            "report": ReportSettings, "serve": ServeSettings, "search": SearchSettings,
            "members": MemberSettings, "cluster": ClusterSettings, "export": ExportSettings}
COMMANDS = {"fit", "evaluate", "predict", "explain", "report", "audit", "info", "download", "export",
            "tune", "train-best", "serve"}


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _default(field):
    return None if field.default is MISSING else field.default


def test_every_command_is_checked():
    assert COMMANDS <= set(_commands())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_default_comes_from_a_settings_dataclass(command):
    parser = _commands()[command]
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        section, _, name = action.dest.partition("__")
        if name:  # a setting: its flag, default and choices are the field's
            field = {f.name: f for f in fields(SECTIONS[section])}[name]
            assert flag_of(field) in action.option_strings, action.option_strings
            # an untyped flag leaves no value: the field's own default applies, and a typed one
            # always wins over a config file (xraynet.cli.arguments.given_settings)
            assert action.default is argparse.SUPPRESS, (command, action.dest)
            assert "(default: " in action.help, (command, action.dest)
            assert action.choices == field.metadata.get("choices"), (command, action.dest)
            assert field.metadata["help"] in action.help
            continue
        switch = isinstance(action, argparse._StoreTrueAction)  # off unless given
        assert action.default is None or (switch and action.default is False), (
            f"xraynet {command} {'/'.join(action.option_strings)}: default "
            f"{action.default!r} declared outside a settings dataclass")


def test_a_settings_field_with_a_flag_is_offered_by_some_command():
    offered = {a.dest for p in _commands().values() for a in p._actions}
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            if "help" in f.metadata and flag_of(f) is not None:
                assert f"{section}__{f.name}" in offered, f"{cls.__name__}.{f.name} has no command"


def test_an_out_of_range_command_setting_is_one_error_line(capsys, tmp_path):
    from xraynet.cli import main

    code = main(["predict", str(tmp_path), str(tmp_path / "x.png"), "--tta", "-1"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert code == 2 and err == ["error: predict.tta = -1: must be at least 0 and at most 1024 (--tta)"]
