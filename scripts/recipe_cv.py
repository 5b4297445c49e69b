#!/usr/bin/env python
"""Recipe study: nested cross-validation of training recipes on the train folder (never test).

Every (recipe, fold, seed) fit runs in its own process; --workers of them at a time. Each fit
appends one JSON line (held-out probabilities) to --results; the summary (accuracy, NLL, paired
difference from the `base` recipe, mean of seeds) goes to --summary as Markdown.

A full study (15 recipes x 10 folds x 2 seeds) is 300 fits: hours on a 2-core CPU, minutes on a
GPU with many workers. Example: python scripts/recipe_cv.py --recipes base,s192stem --seeds 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from xraynet_bench.recipes import RECIPES

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="dataset folder (default: as `xraynet fit` finds it)")
    p.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated (default: all)")
    p.add_argument("--folds", type=int, default=10, help="outer folds (default: 10)")
    p.add_argument("--seeds", default="1,2", help="model and inner-split seeds (default: 1,2)")
    p.add_argument("--split-seed", type=int, default=1000, help="outer split seed (default: 1000)")
    p.add_argument("--workers", type=int, default=1, help="fits at a time (default: 1)")
    p.add_argument("--results", default="recipes.jsonl", help="JSON lines, appended (default: recipes.jsonl)")
    p.add_argument("--summary", default="RECIPES.md", help="Markdown summary (default: RECIPES.md)")
    p.add_argument("--epochs", type=int, help="override every recipe's epochs (smoke runs)")
    p.add_argument("--image-size", type=int, help="override every recipe's image size (smoke runs)")
    p.add_argument("--external", help="an external set every fit also predicts, reported per source "
                   "and pooled beside the cross-validation (a folder of sources DIR/<source>/<class>/, "
                   "a folder of classes, or a manifest with a source column); never trained on")
    p.add_argument("--max-fits", type=int, default=0, help="stop after this many fits (0: all)")
    p.add_argument("--baseline", default="base", help="recipe the others are compared with (default: base)")
    p.add_argument("--summarise-only", action="store_true", help="only rewrite the summary from --results")
    p.add_argument("--note", action="append", default=[], help="a line for the summary (repeatable)")
    p.add_argument("--job", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    unknown = set(args.recipes.split(",")) - set(RECIPES)
    if unknown:
        p.error(f"unknown recipe(s) {sorted(unknown)}; known: {', '.join(RECIPES)}")
    return args


def overrides(args: argparse.Namespace) -> dict:
    return {k: v for k, v in (("epochs", args.epochs), ("image_size", args.image_size)) if v is not None}


def run_job(args: argparse.Namespace) -> int:
    import numpy as np
    from xraynet.cli.arguments import setup_process
    from xraynet_bench.recipes import run_fold
    from xraynet.locate import resolve_data_dir

    setup_process(quiet=True)
    recipe, fold, seed = args.job.split(",")
    records = run_fold(str(resolve_data_dir(args.data)), recipe, fold=int(fold), seed=int(seed),
                       n_folds=args.folds, split_seed=args.split_seed, overrides=overrides(args),
                       external=args.external)
    for record in records:
        with open(args.results, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        accuracy = np.mean(np.argmax(record["p"], axis=1) == np.array(record["y"]))
        print(f"{record['recipe']} fold {fold} seed {seed}: accuracy {accuracy:.3f} "
              f"({record['seconds']:.0f} s)", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.job:
        return run_job(args)
    from xraynet_bench.recipes import markdown, read_records, summarise

    failed: list = []
    if not args.summarise_only:
        jobs = [(r, f, s) for s in args.seeds.split(",") for f in range(args.folds)
                for r in args.recipes.split(",")]
        jobs = jobs[:args.max_fits] if args.max_fits else jobs
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}

        def launch(job):
            cmd = [sys.executable, __file__, *argv, "--job", ",".join(map(str, job))]
            return subprocess.run(cmd, env=env).returncode

        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            failed = [j for j, rc in zip(jobs, pool.map(launch, jobs)) if rc != 0]
        if failed:
            print(f"{len(failed)} fit(s) failed: {failed[:5]}", file=sys.stderr)
    if not Path(args.results).is_file():
        print(f"no results in {args.results}", file=sys.stderr)
        return 1
    rows = summarise(read_records([args.results]), baseline=args.baseline)
    shown = [a for i, a in enumerate(argv) if a != "--note" and (i == 0 or argv[i - 1] != "--note")]
    command = "python scripts/recipe_cv.py " + " ".join(map(shlex.quote, shown))
    Path(args.summary).write_text(markdown(rows, command=command, notes=args.note, baseline=args.baseline))
    print(Path(args.summary).read_text())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
