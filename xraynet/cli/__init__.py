"""The ``xraynet`` command line: ``fit | evaluate | predict | explain | report | audit | info |
download``, and the commands that installed plugins add (``tune``, ``train-best``, ``serve``).

Layout: :mod:`.arguments` (what every entry point shares: the one-line-error parser, flags
derived from the typed settings, logging, error mapping), :mod:`.settings` (the settings of
the commands that use a saved model), :mod:`.run_config` (``fit``'s run config from flags or a
file), :mod:`.commands` (one handler per command). No Keras import until a command runs.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .arguments import (Parser, add_common_args, add_data_args, add_setting_flags, run_command,
                        setup_logging, setup_process)
from .run_config import add_fit_args
from .settings import (EvaluateSettings, ExplainSettings, ExportSettings, PredictSettings,
                       ReportSettings)

__all__ = ["main", "build_parser"]

log = logging.getLogger("xraynet")
#: entry-point group through which other packages add commands (``tuning`` adds tune and
#: train-best): a callable that takes the sub-parsers and returns {name: handler}
COMMAND_PLUGINS = "xraynet.commands"
#: handlers of the commands that plugins add (filled by :func:`build_parser`)
plugin_commands: dict = {}
MODEL_HELP = "run directory or its model.keras"


def load_plugin_commands(sub) -> dict:
    """Commands other installed packages add through the :data:`COMMAND_PLUGINS` entry points."""
    from importlib.metadata import entry_points

    commands: dict = {}
    for entry in entry_points(group=COMMAND_PLUGINS):
        commands.update(entry.load()(sub))
    return commands


def build_parser() -> argparse.ArgumentParser:
    """The ``xraynet`` parser: every command's flags (plugins' included)."""
    parser = Parser(prog="xraynet", description="Train, evaluate and use chest X-ray classifiers "
                    "(Covid / Normal / Viral Pneumonia) on Keras 3.")
    add_common_args(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=Parser)

    add_fit_args(sub.add_parser("fit", help="train a model, save its bundle and report on test"))

    ev = sub.add_parser("evaluate", help="score a saved model on the test split (full and leak-free), "
                        "or on other sources' X-rays (external validation, per source and pooled)")
    ev.add_argument("model", help=MODEL_HELP)
    add_data_args(ev, image_size=False, data_help=(
        "omitted: the model's own dataset (its recorded test split is scored); a dataset in "
        "the Kaggle layout (its test split); or an external set, scored per source and pooled: "
        "a folder of class sub-folders DIR/<class>/**/<images>, a folder of sources "
        "DIR/<source>/<class>/..., or a CSV manifest path,label[,source] (written to "
        "external-<name>/ in the model's run directory and added to its report)"))
    ev.add_argument("--class-map", action="append", metavar="FOLDER=CLASS",
                    help="external set: the model's class for a folder of another name "
                         "(repeatable; names match case-insensitively without it)")
    ev.add_argument("--json", action="store_true", help="external set: print its metrics as JSON")
    add_setting_flags(ev, EvaluateSettings, section="evaluate")

    pr = sub.add_parser("predict", help="diagnose image files with a saved model")
    pr.add_argument("model", help=MODEL_HELP)
    pr.add_argument("images", nargs="+", help="image files, or folders (their images, recursively)")
    pr.add_argument("--json", action="store_true", help="print a JSON list of {path, label, probabilities}")
    pr.add_argument("--csv", metavar="FILE", help="also write every prediction to FILE as CSV")
    add_setting_flags(pr, PredictSettings, section="predict")

    ex = sub.add_parser("explain", help="heatmaps of where the model looks (Grad-CAM, occlusion)")
    ex.add_argument("model", help=MODEL_HELP)
    ex.add_argument("images", nargs="+", help="image files")
    add_setting_flags(ex, ExplainSettings, section="explain")

    rp = sub.add_parser("report", help="(re)write a run directory's evaluation, calibration and "
                        "model report (model_card.md, report.html)")
    rp.add_argument("model", help=MODEL_HELP)
    add_data_args(rp, image_size=False, data_help="dataset folder (default: the one the run used)")
    add_setting_flags(rp, ReportSettings, section="report")

    xp = sub.add_parser("export", help="export a saved model for deployment (ONNX or a TensorFlow "
                        "SavedModel) with its calibration and input/output spec")
    xp.add_argument("model", help=MODEL_HELP)
    add_setting_flags(xp, ExportSettings, section="export")

    add_data_args(sub.add_parser("audit", help="find duplicate images within and across splits"))
    add_data_args(sub.add_parser("info", help="backend, library versions and dataset summary"))

    plugin_commands.update(load_plugin_commands(sub))

    dl = sub.add_parser("download", help="download the Kaggle dataset with kagglehub (needs network)")
    dl.add_argument("--dest", help="kagglehub cache folder (default: kagglehub's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``xraynet`` command; its exit code (2 and one ``error:`` line on bad input)."""
    from ..default_backend import choose_default_backend
    from .commands import COMMANDS

    choose_default_backend()  # before anything loads Keras (KERAS_BACKEND or keras.json wins)
    args = build_parser().parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # a supervised child reruns it
    if args.command == "download":  # needs no Keras
        setup_logging(args.quiet)
    else:
        setup_process(args.quiet)
        import keras

        log.info("backend: %s (keras %s)", keras.backend.backend(), keras.__version__)
    return run_command({**COMMANDS, **plugin_commands}[args.command], args)
