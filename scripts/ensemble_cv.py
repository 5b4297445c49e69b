#!/usr/bin/env python
"""Ensemble study: score means of a recipe's seeds from recipe_cv.py's records (train folder
only, as the records are) and compare them, paired, with a baseline ensemble.

  python scripts/ensemble_cv.py --results runs/study/ensemble.jsonl --recipe acq_gamma \\
      --ensembles ens3=1,2,3 ens5=1,2,3,4,5 --baseline ens3 --summary runs/study/ensemble.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> int:
    from xraynet_bench.recipes import ensemble_records, markdown, read_records, summarise

    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", nargs="+", required=True, help="recipe_cv.py JSON lines")
    p.add_argument("--recipe", required=True, help="the recipe whose seeds are averaged")
    p.add_argument("--ensembles", nargs="+", required=True, metavar="NAME=SEEDS",
                   help="an ensemble's name and its comma-separated seeds")
    p.add_argument("--baseline", required=True, help="the ensemble the others are compared with")
    p.add_argument("--summary", default="ENSEMBLE.md", help="Markdown summary")
    args = p.parse_args(argv)
    records = read_records(args.results)
    ensembles = []
    for spec in args.ensembles:
        name, _, seeds = spec.partition("=")
        members = ensemble_records(records, args.recipe, [int(s) for s in seeds.split(",")], name)
        if not members:
            p.error(f"{name}: no fold has every seed of {seeds} for recipe {args.recipe}")
        ensembles += members
    rows = summarise(ensembles, baseline=args.baseline)
    command = "python scripts/ensemble_cv.py " + " ".join(map(shlex.quote, argv))
    Path(args.summary).write_text(markdown(rows, command=command, baseline=args.baseline))
    print(Path(args.summary).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
