#!/usr/bin/env python
"""Benchmark xraynet against the course's workflow; writes BENCHMARKS.md and benchmarks.json."""

import argparse
import json
import shlex
import sys
from dataclasses import replace
from pathlib import Path


def main() -> int:
    from xraynet_bench.report import markdown, targets
    from xraynet_bench.serving import section_of, splice_section
    from xraynet_bench.targets_table import gather_targets
    from xraynet_bench.suite import Plan, Runner, installed_backends
    from xraynet.cli.arguments import setup_logging
    from xraynet.locate import resolve_data_dir

    p = argparse.ArgumentParser(prog="benchmark.py", description=__doc__)
    p.add_argument("--data", help="dataset folder (default: as for xraynet fit)")
    p.add_argument("--out", default="benchmarks", help="work folder: runs and logs (default: benchmarks)")
    p.add_argument("--report", default="BENCHMARKS.md", help="markdown file (default: BENCHMARKS.md)")
    p.add_argument("--json", default="benchmarks.json", help="JSON file (default: benchmarks.json)")
    p.add_argument("--backends", default=",".join(installed_backends()),
                   help="comma-separated backends (default: every installed one)")
    p.add_argument("--default-backend", default="tensorflow",
                   help="backend of the accuracy, pipeline and search sections (default: tensorflow)")
    p.add_argument("--quick", action="store_true", help="tiny smoke run of every section")
    p.add_argument("--no-search", action="store_true", help="skip the Hyperband search section")
    p.add_argument("--add-backend", metavar="BACKEND",
                   help="measure only this backend's matmul peak, training and inference rows and "
                        "add them to the last run's results (--json), the rest kept")
    p.add_argument("--model", help="with --add-backend: the bundle the inference rows load "
                   "(default: a default fit made for them)")
    args = p.parse_args()
    setup_logging()
    data = str(resolve_data_dir(args.data))
    backends = tuple(b for b in args.backends.split(",") if b)
    skip = ("search",) if args.no_search else ()
    if args.quick:
        plan = replace(Plan.quick_plan(data, args.out, backends, args.default_backend), skip=skip)
    else:
        plan = Plan(data=data, out=args.out, backends=backends,
                    default_backend=args.default_backend, skip=skip)
    command = "python scripts/benchmark.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if args.add_backend:
        results = json.loads(Path(args.json).read_text())
        results = Runner(plan).add_backend(results, args.add_backend, model=args.model)
        command = results.get("command") or _measured_by(args.report) or command
    else:
        results = Runner(plan).run()
        results["command"] = command.strip()
    results["targets"] = targets(results)
    Path(args.json).write_text(json.dumps(results, indent=2, default=float) + "\n")
    text = markdown(results, command=command.strip())
    previous = Path(args.report).read_text() if Path(args.report).exists() else ""
    # what was written by hand (the main job's and the backbones' figures) and by serving_bench.py and scale_bench.py
    for heading in ("## Main job", "## Backbones", "## Serving", "## Scale"):
        kept = section_of(previous, heading)
        if kept:
            text = splice_section(text, kept, heading=heading)
    Path(args.report).write_text(gather_targets(text, previous=previous))
    for t in results["targets"]:
        print(f"{'met' if t['met'] else 'NOT MET' if t['met'] is False else 'n/a':8s} "
              f"{t['target']}: {t['value']}")
    print(f"written: {args.report}, {args.json}")
    return 0


def _measured_by(report: str) -> str | None:
    """The command an earlier report says its figures were measured by (its first line)."""
    import re

    found = re.search(r"^Measured .*? by `([^`]+)`", Path(report).read_text() if Path(report).exists() else "",
                      flags=re.M)
    return found.group(1) if found else None


if __name__ == "__main__":
    sys.exit(main())
