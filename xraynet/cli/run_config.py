"""``fit``'s run config: its flags (every setting of :class:`~xraynet.config.RunConfig` that has
one), the config they describe, and a config read from a file with the given flags put in."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import XRayNetError
from .arguments import (add_data_args, add_setting_flags, given_settings, settings_from_args,
                        storage_from_args)


def add_fit_args(p: argparse.ArgumentParser) -> None:
    """``fit``'s flags: the data options and every setting of the run config that has a flag."""
    from ..config import AugmentationConfig, ModelConfig, OptimConfig, TrainerConfig
    from ..distributed import ClusterSettings

    add_data_args(p)
    add_setting_flags(p, TrainerConfig, section="trainer")
    add_setting_flags(p, OptimConfig, section="module")
    add_setting_flags(p, ModelConfig, section="model")
    add_setting_flags(p, AugmentationConfig, section="aug")
    add_setting_flags(p, ClusterSettings, section="cluster")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run in RUN_DIR")
    p.add_argument("--config", metavar="FILE", help="start from this run config (.json or .toml; a "
                   "run directory's config.json reproduces that run); flags given as well override it")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved run config as JSON and exit (nothing is trained)")


def run_config_from_args(args: argparse.Namespace, n_classes: int):
    """The run config ``fit``'s flags describe; every invalid value is reported at once."""
    from ..config import (AugmentationConfig, DataConfig, ModelConfig, OptimConfig,
                         RunConfig, TrainerConfig)
    from ..locate import resolve_data_dir
    from ..config_schema import ConfigError

    problems: list[str] = []
    parts: dict = {}

    builders = {
        "trainer": lambda: settings_from_args(args, TrainerConfig, section="trainer",
                                              out_dir=storage_from_args(args).out),
        "module": lambda: settings_from_args(args, OptimConfig, section="module"),
        "aug": lambda: settings_from_args(args, AugmentationConfig, section="aug"),
        "data": lambda: settings_from_args(args, DataConfig, section="data",
                                           root=str(resolve_data_dir(args.data))),
        "model": lambda: settings_from_args(  # the data's size (its own errors reported once)
            args, ModelConfig, section="model", n_classes=n_classes,
            augmentation=parts.get("aug", AugmentationConfig()),
            **({"image_size": parts["data"].image_size} if "data" in parts else {})),
    }
    for name, build in builders.items():
        try:
            parts[name] = build()
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return RunConfig(data=parts["data"], model=parts["model"], module=parts["module"],
                     trainer=parts["trainer"])  # the data's and the model's seed: --seed's


def run_config_from_file(path: str | Path, args: argparse.Namespace):
    """The run config in ``path`` (``.json`` or ``.toml``; of any schema version,
    :func:`~xraynet.schema.migrate`), with every setting whose flag was typed (whatever its value), and
    ``--data`` / ``--out`` when given, put in its place."""
    import tomllib
    from dataclasses import replace

    from ..config import RunConfig, is_pretrained
    from ..locate import resolve_data_dir
    from .settings import StorageSettings

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise XRayNetError(f"cannot read the run config {path} ({exc})") from exc
    if "members" in data:
        raise XRayNetError(f"{path} is an ensemble's config: pass one member's config.json "
                           "(members/memberN/config.json)")
    try:
        base = RunConfig.from_dict(data)
    except (TypeError, ValueError, KeyError) as exc:
        raise XRayNetError(f"{path} is not a run config ({exc})") from exc

    flat = typed_settings(args)
    if args.data:
        flat["root"] = str(resolve_data_dir(args.data))
    if "out" in given_settings(args, StorageSettings, section="storage"):
        flat["out_dir"] = storage_from_args(args).out
    if "backbone" in flat and is_pretrained(flat["backbone"]) != base.model.pretrained:
        # the file's training length was resolved for its own kind: the new kind takes its own
        own = replace(base.trainer, epochs=None, patience=None).resolved(base.model.pretrained)
        flat.update({k: None for k in ("epochs", "patience")
                     if k not in flat and getattr(base.trainer, k) == getattr(own, k)})
    return base.with_overrides(**flat)


def run_sections() -> tuple[tuple[type, str], ...]:
    """The run config's settings dataclasses and the sections their flags land in."""
    from ..config import AugmentationConfig, DataConfig, ModelConfig, OptimConfig, TrainerConfig

    return ((DataConfig, "data"), (TrainerConfig, "trainer"), (OptimConfig, "module"),
            (ModelConfig, "model"), (AugmentationConfig, "aug"))


def typed_settings(args: argparse.Namespace) -> dict:
    """Every run-config setting whose flag was typed, by field name (flat, as
    :meth:`~xraynet.config.RunConfig.with_overrides` takes them)."""
    return {k: v for cls, section in run_sections()
            for k, v in given_settings(args, cls, section=section).items()}


def run_flags_given(args: argparse.Namespace) -> list[str]:
    """The run-config flags typed on the command line (``--batch-size``, ...), as typed."""
    import dataclasses

    from ..config_schema import flag_of

    flags = []
    for cls, section in run_sections():
        by_name = {f.name: f for f in dataclasses.fields(cls)}
        flags += [flag_of(by_name[name]) for name in given_settings(args, cls, section=section)]
    return flags


def count_classes(args: argparse.Namespace) -> int:
    """How many classes the data of ``--data`` holds, from its file list alone (no decoding)."""
    from ..data.layouts import find_files
    from ..locate import resolve_data_dir

    return len(find_files(resolve_data_dir(args.data)).class_names)


def resolved_config(config) -> dict:
    """The run config as ``config.json`` records it (training length resolved for the model's
    kind, the backend that would run it)."""
    from ..backend import backend_name

    return config.resolved(backend_name()).to_dict()
