#!/usr/bin/env python
"""Ensemble study: score means of a recipe's seeds from recipe_cv.py's records (train folder
only, as the records are) and compare them, paired, with a baseline ensemble.

  python scripts/ensemble_cv.py --results runs/study/ensemble.jsonl --recipe acq_gamma \\
      --ensembles ens3=1,2,3 ens5=1,2,3,4,5 --baseline ens3 --summary runs/study/ensemble.md

A member is a seed of --recipe, or RECIPE:SEED for a seed of another recipe (same folds).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path



def main(argv: list[str] | None = None) -> int:
    from xraynet_bench.recipes import ensemble_records, markdown, read_records, summarise

    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", nargs="+", required=True, help="recipe_cv.py JSON lines")
    p.add_argument("--recipe", required=True, help="the recipe whose seeds are averaged")
    p.add_argument("--ensembles", nargs="+", required=True, metavar="NAME=MEMBERS",
                   help="an ensemble's name and its comma-separated members: SEED (of --recipe) "
                        "or RECIPE:SEED")
    p.add_argument("--baseline", required=True, help="the ensemble the others are compared with")
    p.add_argument("--summary", default="ENSEMBLE.md", help="Markdown summary")
    args = p.parse_args(argv)
    records = read_records(args.results)
    ensembles = []
    for spec in args.ensembles:
        name, _, items = spec.partition("=")
        members = [(recipe or args.recipe, int(seed)) for recipe, _, seed in
                   (item.rpartition(":") for item in items.split(","))]
        found = ensemble_records(records, members, name)
        if not found:
            p.error(f"{name}: no fold has every member of {items} (recipe {args.recipe})")
        ensembles += found
    rows = summarise(ensembles, baseline=args.baseline)
    command = "python scripts/ensemble_cv.py " + " ".join(map(shlex.quote, argv))
    Path(args.summary).write_text(markdown(rows, command=command, baseline=args.baseline))
    print(Path(args.summary).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
