"""Typed settings: a dataclass field that carries its help, command-line flag and valid range,
and the check that reports every invalid value of a settings object, one line each.

Every configuration dataclass of xraynet (data, model, augmentation, optimisation, trainer,
search) declares its fields with :func:`setting`; the command line derives its flags and
defaults from them (:func:`xraynet.cli.arguments.add_setting_flags`) and each dataclass validates itself on
construction with :func:`check`. No Keras import here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING
from typing import Any

from .errors import XRayNetError


class ConfigError(XRayNetError, ValueError):
    """One or more settings are invalid; ``problems`` holds one line per invalid value."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def setting(default: Any = MISSING, *, help: str, flag: str | None = None,
            min: float | None = None, max: float | None = None, above: float | None = None,
            choices: tuple | None = None, default_factory: Any = MISSING,
            default_text: str | None = None, values_text: Any = None) -> Any:
    """A dataclass field with its documentation and its valid range.

    Args:
        default: the default value (or ``default_factory`` for a mutable one).
        help: one line for ``--help`` and the docs.
        flag: its command-line flag (default ``--<name with dashes>``; ``""``: none).
        min, max: inclusive bounds of a number.
        above: exclusive lower bound of a number (e.g. a learning rate above 0).
        choices: the allowed values.
        default_text: how ``--help`` shows the default (e.g. what an unset value means).
        values_text: a function naming the valid values, called when the help is shown (a
            registry's entries, which plugins may add to after this field is declared).
    """
    metadata = {"help": help, "flag": flag, "min": min, "max": max, "above": above,
                "choices": choices, "default_text": default_text, "values_text": values_text}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def flag_of(f: dataclasses.Field) -> str | None:
    """The command-line flag of a field (None when it has none)."""
    flag = f.metadata.get("flag")
    if flag == "":
        return None
    return flag or "--" + f.name.replace("_", "-")


def _what_is_wrong(value: Any, meta: dict) -> str | None:
    if value is None:
        return None
    if meta.get("choices") is not None and value not in meta["choices"]:
        return "must be one of " + ", ".join(map(str, meta["choices"]))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    lo, hi, above = meta.get("min"), meta.get("max"), meta.get("above")
    if value != value:  # NaN
        return "must be a number"
    if above is not None and not value > above:
        return f"must be above {above:g}" + (f" and at most {hi:g}" if hi is not None else "")
    if lo is not None and value < lo:
        return f"must be at least {lo:g}" + (f" and at most {hi:g}" if hi is not None else "")
    if hi is not None and value > hi:
        return f"must be at most {hi:g}" + (f" and at least {lo:g}" if lo is not None else "")
    return None


def problems(obj: Any, *, section: str = "") -> list[str]:
    """One line per invalid value of the dataclass ``obj`` (ranges and choices of its fields),
    naming the setting and its command-line flag."""
    lines = []
    for f in dataclasses.fields(obj):
        if "help" not in f.metadata:
            continue
        value = getattr(obj, f.name)
        wrong = _what_is_wrong(value, f.metadata)
        if wrong:
            flag = flag_of(f)
            name = f"{section}.{f.name}" if section else f.name
            lines.append(f"{name} = {value!r}: {wrong}" + (f" ({flag})" if flag else ""))
    return lines


def check(obj: Any, *, section: str = "") -> None:
    """Raise :class:`ConfigError` listing every invalid value of ``obj``."""
    lines = problems(obj, section=section)
    if lines:
        raise ConfigError(lines)


def configure(cls: type, config: Any, overrides: dict[str, Any], *, section: str) -> Any:
    """``config`` (default: ``cls()``, every default) with ``overrides`` put in: what the
    constructors that take ``config=`` plus keyword overrides hold. An unknown name and every
    invalid value raise :class:`ConfigError`, as the dataclass itself reports them."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ConfigError([f"{section}.{name}: no such setting of {cls.__name__} (known: "
                           f"{', '.join(sorted(names))})" for name in unknown])
    if config is not None and not isinstance(config, cls):
        raise ConfigError([f"{section}: config must be a {cls.__name__}, not "
                           f"{type(config).__name__}"])
    return dataclasses.replace(config if config is not None else cls(), **overrides)


def known_fields(cls: type, data: dict | None) -> dict:
    """The entries of ``data`` (None: none) that are fields of the dataclass ``cls`` (unknown
    keys dropped)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in (data or {}).items() if k in names}


class ConfigView:
    """Read-only attribute access to the settings of ``self.config`` (a settings dataclass), so
    an object that owns a config has one source of truth: ``trainer.epochs`` is
    ``trainer.config.epochs``, and assigning it is an error rather than a silent drift from what
    ``config.json`` records."""

    config: Any

    def __getattr__(self, name: str) -> Any:
        config = self.__dict__.get("config")
        if config is not None and name in {f.name for f in dataclasses.fields(config)}:
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        config = self.__dict__.get("config")
        if config is not None and name in {f.name for f in dataclasses.fields(config)}:
            raise AttributeError(f"{name} is a setting of {type(config).__name__}: build a new "
                                 f"{type(self).__name__} (or use from_config) to change it")
        super().__setattr__(name, value)
