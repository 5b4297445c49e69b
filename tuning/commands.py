"""Command-line front ends of the search and of the final training (used by scripts/ and xraynet)."""

from __future__ import annotations

import argparse
import time

from xraynet.errors import XRayNetError


def add_tune_args(p: argparse.ArgumentParser) -> None:
    from .search import SearchSettings

    from xraynet.cli import add_data_args

    d = SearchSettings()
    add_data_args(p)
    p.add_argument("--max-epochs", type=int, default=d.max_epochs, help=f"default: {d.max_epochs}")
    p.add_argument("--factor", type=int, default=d.factor, help=f"default: {d.factor}")
    p.add_argument("--iterations", type=int, default=d.iterations, help=f"default: {d.iterations}")
    p.add_argument("--seed", type=int, default=d.seed, help=f"default: {d.seed}")
    p.add_argument("--patience", type=int, default=d.patience, help="early stopping inside a trial")
    p.add_argument("--project", default=d.project, help=f"default: {d.project}")
    p.add_argument("--fresh", action="store_true",
                   help="discard a previous search of the same project (default: resume it)")


def run_tune(args: argparse.Namespace) -> int:
    from pathlib import Path

    from xraynet import ModelConfig
    from xraynet.cli import make_datamodule

    from .search import SearchSettings, run_search

    dm = make_datamodule(args, seed=args.seed).setup()
    settings = SearchSettings(max_epochs=args.max_epochs, factor=args.factor,
                              iterations=args.iterations, seed=args.seed, patience=args.patience,
                              directory=str(Path(args.out) / "tuning"), project=args.project)
    base = ModelConfig(image_size=args.image_size, n_classes=len(dm.class_names), seed=args.seed)
    start = time.perf_counter()
    path = run_search(dm, base, settings, fresh=args.fresh)
    if path is not None:
        print(f"search finished in {time.perf_counter() - start:.0f}s; best hyperparameters: {path}")
        print(f"results table: {path.parent / 'trials.csv'}")
    return 0


def add_train_best_args(p: argparse.ArgumentParser) -> None:
    from xraynet.cli import add_data_args

    p.add_argument("--hyperparameters", metavar="JSON",
                   help="best_hyperparameters.json (default: the newest under --out)")
    add_data_args(p, image_size=False, data_help="dataset folder (default: the one the search used)")
    p.add_argument("--epochs", type=int, default=40, help="maximum epochs (default: 40)")
    p.add_argument("--patience", type=int, default=15, help="early-stopping patience (default: 15)")
    p.add_argument("--members", type=int, default=3,
                   help="best distinct configurations trained and averaged into the exported "
                        "model (default: 3; 1 = the best configuration alone)")


def run_train_best(args: argparse.Namespace) -> int:
    from .best import train_best

    run_dir, report = train_best(hyperparameters=args.hyperparameters, out_dir=args.out,
                                 data=args.data, epochs=args.epochs, patience=args.patience,
                                 members=args.members,
                                 cache_dir=args.cache_dir, use_cache=not args.no_cache)
    print(report)
    print(f"run directory: {run_dir}")
    return 0


def script_main(name: str, description: str, add_args, run) -> int:
    """Entry point of a script: parse, set up logging like the xraynet CLI, run, map errors to 2."""
    import sys

    from xraynet.cli import setup_process

    parser = argparse.ArgumentParser(prog=name, description=description)
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and results")
    add_args(parser)
    args = parser.parse_args()
    setup_process(args.quiet)
    try:
        return run(args)
    except XRayNetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
