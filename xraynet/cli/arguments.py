"""What every xraynet command line shares (the ``xraynet`` CLI, ``scripts/`` and the tuning
commands): a parser whose errors are one line, flags derived from the typed settings, the data
options, logging set-up, and the mapping of errors to one ``error:`` line and exit code 2.

No Keras import here: ``--help`` and argument errors answer before a backend loads.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import typing
from typing import Any, Callable

from ..errors import XRayNetError
from ..config_schema import flag_of

__all__ = ["add_common_args", "add_data_args", "add_setting_flags", "DATA_HELP", "given_settings",
           "make_datamodule", "Parser", "run_command", "script_main", "settings_from_args",
           "setup_logging", "setup_process", "storage_from_args"]

log = logging.getLogger("xraynet")

DATA_HELP = ("dataset: a folder of train/ and test/ class folders (the Kaggle layout), a folder "
             "of class folders, or a CSV manifest path,label[,group][,split][,source] (default: "
             "$XRAYNET_DATA, ./data/Covid19-dataset, ../shared/data/Covid19-dataset)")


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line naming the command (exit 2)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _value_type(hint: Any) -> type:
    """int, float, str or bool from a field's type hint (``float | None`` gives float)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def add_setting_flags(p: argparse.ArgumentParser, cls: type, *, section: str,
                      skip: tuple[str, ...] = ()) -> None:
    """One flag per field of the settings dataclass ``cls`` that has one (see
    :func:`~xraynet.config_schema.setting`); its default, help and choices come from the field. A
    typed value lands in ``args.<section>__<field>`` (see :func:`settings_from_args`); a flag not
    typed leaves no attribute (``argparse.SUPPRESS``), so a typed flag always wins over a config
    file, even where its value is the default (:func:`given_settings`)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag = flag_of(f) if "help" in f.metadata else None
        if flag is None or f.name in skip:
            continue
        meta, kind = f.metadata, _value_type(hints[f.name])
        text = meta["help"] + (f": {meta['values_text']()}" if meta.get("values_text") else "")
        default = f.default if f.default is not dataclasses.MISSING else None
        dest = f"{section}__{f.name}"
        if kind is bool:
            p.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction,
                           default=argparse.SUPPRESS,
                           help=f"{text} (default: {'on' if default else 'off'})")
            continue
        bounds = [f"{k} {meta[k]:g}" for k in ("min", "above", "max") if meta.get(k) is not None]
        shown = (meta.get("default_text") or ("off" if default is None else f"{default:g}"
                                              if isinstance(default, float) else default))
        p.add_argument(flag, dest=dest, type=kind, default=argparse.SUPPRESS, choices=meta.get("choices"),
                       metavar=None if meta.get("choices") else f.name.split("_")[-1].upper(),
                       help=f"{text} (default: {shown}"
                            + (f"; {', '.join(bounds)}" if bounds else "") + ")")


def given_settings(args: argparse.Namespace, cls: type, *, section: str) -> dict:
    """The settings of ``cls`` whose flags (:func:`add_setting_flags`) were typed on the command
    line, by field name: what a config file gives way to."""
    prefix, names = f"{section}__", {f.name for f in dataclasses.fields(cls)}
    return {k[len(prefix):]: v for k, v in vars(args).items()
            if k.startswith(prefix) and k[len(prefix):] in names}


def settings_from_args(args: argparse.Namespace, cls: type, *, section: str, **values: Any) -> Any:
    """The settings dataclass ``cls`` from the flags of :func:`add_setting_flags` that were
    typed, its own defaults for the others (``values`` win over both); validated on
    construction (:class:`~xraynet.config_schema.ConfigError`)."""
    return cls(**{**given_settings(args, cls, section=section), **values})


def add_data_args(p: argparse.ArgumentParser, *, image_size: bool = True,
                  data_help: str = DATA_HELP) -> None:
    """The options every data-reading command shares: --data, where it writes and caches
    (:class:`~xraynet.cli.settings.StorageSettings`: --out, --cache-dir, --no-cache), and (with
    ``image_size``) the data settings' flags (--image-size, --resize, --val-fraction)."""
    from ..config import DataConfig
    from .settings import StorageSettings

    p.add_argument("--data", help=data_help)
    add_setting_flags(p, StorageSettings, section="storage")
    if image_size:
        add_setting_flags(p, DataConfig, section="data")


def storage_from_args(args: argparse.Namespace):
    """Where the parsed options say to write and cache (:class:`~xraynet.cli.settings.StorageSettings`)."""
    from .settings import StorageSettings

    return settings_from_args(args, StorageSettings, section="storage")


def make_datamodule(args: argparse.Namespace, **overrides: Any):
    """The data module the parsed options describe (``overrides`` win)."""
    from ..config import DataConfig
    from ..data import XRayDataModule
    from ..locate import resolve_data_dir

    config = settings_from_args(args, DataConfig, section="data",
                                root=str(resolve_data_dir(args.data)), **overrides)
    storage = storage_from_args(args)
    return XRayDataModule(config=config, cache_dir=storage.cache_dir, use_cache=storage.cache)


def add_common_args(p: argparse.ArgumentParser) -> None:
    """-q/--quiet and --debug, on every entry point."""
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and results")
    p.add_argument("--debug", action="store_true",
                   help="show the full traceback of an error (default: one error: line)")


def setup_logging(quiet: bool = False) -> None:
    """xraynet's log lines go to stderr as plain messages."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False


def setup_process(quiet: bool = False) -> None:
    """What every xraynet entry point does once its arguments are parsed: logging, then JAX's
    compilation cache. (The default backend is chosen earlier, before anything imports Keras:
    :func:`~xraynet.default_backend.choose_default_backend` in ``cli.main`` and the scripts.)"""
    from ..backend import enable_compilation_cache

    setup_logging(quiet)
    enable_compilation_cache()


def run_command(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one command: an :class:`~xraynet.errors.XRayNetError` becomes one ``error:`` line per
    problem and exit code 2 (with ``--debug``, the traceback too); Ctrl-C exit code 130."""
    try:
        return run(args)
    except XRayNetError as exc:
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def script_main(name: str, description: str, add_args: Callable, run: Callable) -> int:
    """Entry point of a script: parse, set up like the xraynet CLI, run, map errors to 2."""
    parser = Parser(prog=name, description=description)
    add_common_args(parser)
    add_args(parser)
    args = parser.parse_args()
    setup_process(args.quiet)
    return run_command(run, args)

