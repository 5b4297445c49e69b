"""Command-line front ends of the search and of the final training: the ``tune`` and
``train-best`` commands of the ``xraynet`` CLI (added through the ``xraynet.commands`` entry
point, see :func:`register`) and of ``scripts/tune.py`` and ``scripts/train_best.py``."""

from __future__ import annotations

import argparse
import time

from xraynet.cli.arguments import (add_data_args, add_setting_flags, make_datamodule,
                                   settings_from_args, storage_from_args)
from xraynet.config import TrainerConfig
from xraynet.runs import SEARCH_TABLE_FILE

from .settings import MemberSettings, SearchSettings

__all__ = ["add_train_best_args", "add_tune_args", "register", "run_train_best", "run_tune",
           "SEARCH_OWNS"]


def register(sub) -> dict:
    """Add ``tune`` and ``train-best`` to the ``xraynet`` CLI's sub-parsers; their handlers."""
    add_tune_args(sub.add_parser("tune", help="Hyperband search over depth, learning rate, batch size"))
    add_train_best_args(sub.add_parser("train-best", help="retrain, export and evaluate the best model"))
    return {"tune": run_tune, "train-best": run_train_best}


#: training settings the search decides itself (Hyperband's epochs, the searched batch size,
#: the search's own seed, patience and objective)
SEARCH_OWNS = ("epochs", "batch_size", "seed", "patience", "monitor")


def add_tune_args(p: argparse.ArgumentParser) -> None:
    from xraynet.config import OptimConfig

    add_data_args(p)
    add_setting_flags(p, SearchSettings, section="search")
    add_setting_flags(p, OptimConfig, section="module", skip=("learning_rate",))
    add_setting_flags(p, TrainerConfig, section="trainer", skip=SEARCH_OWNS)
    p.add_argument("--fresh", action="store_true",
                   help="discard a previous search of the same project (default: resume it)")


def run_tune(args: argparse.Namespace) -> int:
    from pathlib import Path

    from xraynet import ModelConfig, OptimConfig

    from .search import run_search

    settings = settings_from_args(args, SearchSettings, section="search",
                                  directory=str(Path(storage_from_args(args).out) / "tuning"))
    dm = make_datamodule(args, seed=settings.seed).setup()
    base = ModelConfig(image_size=dm.image_size, n_classes=len(dm.class_names), seed=settings.seed)
    optim = settings_from_args(args, OptimConfig, section="module")
    trainer = settings_from_args(args, TrainerConfig, section="trainer", seed=settings.seed)
    start = time.perf_counter()
    path = run_search(dm, base, settings, fresh=args.fresh, trainer=trainer, optim=optim)
    if path is not None:
        print(f"search finished in {time.perf_counter() - start:.0f}s; best hyperparameters: {path}")
        print(f"results table: {path.parent / SEARCH_TABLE_FILE}")
    return 0


def add_train_best_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hyperparameters", metavar="JSON",
                   help="best_hyperparameters.json (default: the newest under --out)")
    add_data_args(p, image_size=False, data_help="dataset folder (default: the one the search used)")
    add_setting_flags(p, TrainerConfig, section="trainer", skip=("batch_size", "seed"))
    add_setting_flags(p, MemberSettings, section="members")


def run_train_best(args: argparse.Namespace) -> int:
    from .best import train_best

    storage = storage_from_args(args)
    trainer = settings_from_args(args, TrainerConfig, section="trainer", out_dir=storage.out)
    run_dir, report = train_best(hyperparameters=args.hyperparameters, data=args.data,
                                 trainer=trainer,
                                 members=settings_from_args(args, MemberSettings, section="members"),
                                 cache_dir=storage.cache_dir, use_cache=storage.cache)
    print(report)
    print(f"run directory: {run_dir}")
    return 0
