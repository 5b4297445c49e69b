#!/usr/bin/env python
"""Scale benchmark (issue 17; run by hand, not in CI): for synthetic sets of N images
(scripts/make_synthetic.py), the decode into the image store (images/s, peak RSS), the duplicate
audit given the hashes (seconds, memory), and training from the store (images/s over a fixed
number of steps, peak RSS), beside the same training on the real dataset in memory; how alike
the sets' difference hashes are, against the real X-rays' (the audit's work depends on it); and,
with --fit N, a whole `xraynet fit --epochs 1` on the N-image set (wall time, peak RSS: decode,
audit, training, evaluation and the report). Writes scale.json, docs/scale.png (log-log) and the
"Scale" section of BENCHMARKS.md.

  python scripts/scale_bench.py --sizes 10000,50000,100000 --fit 100000 --work /tmp/xraynet-scale
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: issue 17's targets: the audit of the largest set, and a whole fit on it
AUDIT_SECONDS_TARGET, AUDIT_RSS_TARGET_MIB, FIT_RSS_TARGET_MIB = 60, 1024, 3072
#: runs whose best time is kept: the audit of 10,000 images takes a few hundredths of a second, so
#: one run is at the mercy of the scheduler; the decode of each set goes into a fresh cache each time
AUDIT_REPEATS, DECODE_REPEATS = 25, 3

def run(step: str, *args: str) -> dict:
    """One measurement of :mod:`xraynet_bench.scale_steps` in a process of its own."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "xraynet_bench.scale_steps", step, *args],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"error: a measurement failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def audit_best(cache: Path) -> dict:
    """The audit of a store's hashes, the best of :data:`AUDIT_REPEATS` runs in one process."""
    return run("audit", str(cache), str(AUDIT_REPEATS))


def decode_best(data: Path, cache: Path, repeats: int = DECODE_REPEATS) -> dict:
    """The decode and set-up of ``data`` into an empty cache, the fastest of ``repeats`` runs
    (each into a fresh cache; the last one is left in ``cache`` for the audit and training)."""
    runs = []
    for k in range(repeats):
        target = cache if k == repeats - 1 else cache.with_name(cache.name + "-scratch")
        shutil.rmtree(target, ignore_errors=True)
        runs.append(run("decode", str(data), str(target)))
        if target != cache:
            shutil.rmtree(target, ignore_errors=True)
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "images_per_s": best["images"] / best["seconds"], "runs_seconds":
            [r["seconds"] for r in runs], "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}


def measure(n: int, work: Path, steps: int) -> dict:
    data, cache = work / f"n{n}", work / f"cache-{n}"
    if not (data / ".complete").is_file():
        t = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "make_synthetic.py"), str(data), "--n", str(n)],
                       check=True)
        (data / ".complete").write_text(f"{time.perf_counter() - t:.1f}\n")
    result = {"n": n, "decode": decode_best(data, cache), "audit": audit_best(cache),
              "hashes": run("hashes", str(cache)),
              "train": run("train", str(data), str(cache), str(steps))}
    print(json.dumps(result), flush=True)
    return result


def plot(results: list[dict], path: Path, fit: dict | None = None) -> None:
    from matplotlib.figure import Figure
    from matplotlib.ticker import ScalarFormatter

    ns = [r["n"] for r in results]
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    for label, key in (("decode + set-up (s)", ("decode", "seconds")), ("audit (s)", ("audit", "seconds"))):
        values = [r[key[0]][key[1]] for r in results]
        line, = left.loglog(ns, values, "o-", label=label)
        left.loglog(ns, [values[0] * n / ns[0] for n in ns], ":", color=line.get_color(),
                    label="linear from the first")
    left.set_xlabel("images")
    left.set_title("time")
    left.legend(fontsize=8)
    for label, key in (("decode peak RSS", "decode"), ("training peak RSS", "train"),
                       ("audit process peak RSS", "audit")):
        right.loglog(ns, [r[key]["peak_rss_mib"] for r in results], "o-", label=label)
    if all("traced_mib" in r["audit"] for r in results):
        right.loglog(ns, [r["audit"]["traced_mib"] for r in results], "o--",
                     label="audit's own allocations")
    if fit:
        right.loglog([fit["n"]], [fit["peak_rss_mib"]], "k*", markersize=12,
                     label="whole fit, one epoch")
    right.axhline(FIT_RSS_TARGET_MIB, color="grey", linestyle=":", label="fit target (3 GiB)")
    right.yaxis.set_major_formatter(ScalarFormatter())
    right.set_xlabel("images")
    right.set_title("memory (MiB)")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _hash_lines(results: list[dict], real: dict) -> list[str]:
    """How alike the images' difference hashes are: the audit compares the pairs that share an
    index key, so part of its time grows with the square of the set times their share."""
    if "compared_share" not in real.get("hashes", {}):
        return []
    sets = "; ".join(f"{r['n']:,}: {r['hashes']['median_distance']:.0f} bits, "
                     f"{r['hashes']['compared_share']:.3%}" for r in results if "hashes" in r)
    return [f"Hashes (first 2,000 images of each set): median bits differing between two images, "
            f"and the pairs the audit compares (sharing a key of one of its indexes, counted per "
            f"index; near-copies share many) as a share of all pairs. Real "
            f"X-rays: {real['hashes']['median_distance']:.0f} bits, "
            f"{real['hashes']['compared_share']:.3%} ({real['hashes']['sample']} images); "
            f"synthetic sets {sets}.", ""]


def _growths(results: list[dict]) -> dict[str, float]:
    """How much each measure grew from the smallest set to the largest (linear: their ratio)."""
    big, small = results[-1], results[0]
    return {"decode and set-up time": big["decode"]["seconds"] / small["decode"]["seconds"],
            "audit time": big["audit"]["seconds"] / small["audit"]["seconds"],
            "audit memory (peak of its allocations)":
                _audit_memory(big["audit"]) / _audit_memory(small["audit"]),
            "decode peak RSS": big["decode"]["peak_rss_mib"] / small["decode"]["peak_rss_mib"],
            "training peak RSS": big["train"]["peak_rss_mib"] / small["train"]["peak_rss_mib"]}


def _targets(results: list[dict], real: dict, fit: dict | None) -> list[str]:
    """Issue 17's targets, measured in this run."""
    big, small = results[-1], results[0]
    factor = big["n"] / small["n"]
    rows = [("audit of the largest set, hashes given (s)", big["audit"]["seconds"],
             f"<= {AUDIT_SECONDS_TARGET}", big["audit"]["seconds"] <= AUDIT_SECONDS_TARGET),
            ("audit of the largest set: process peak RSS (MiB)", big["audit"]["peak_rss_mib"],
             f"<= {AUDIT_RSS_TARGET_MIB}", big["audit"]["peak_rss_mib"] <= AUDIT_RSS_TARGET_MIB)]
    if fit:
        rows.append((f"`fit --epochs 1` on {fit['n']:,} images: peak RSS (MiB)",
                     fit["peak_rss_mib"], f"<= {FIT_RSS_TARGET_MIB}", _fit_met(fit)))
    share = big["train"]["images_per_s"] / real["images_per_s"]
    rows.append(("streamed training images/s, share of the real set in memory", share, ">= 0.90",
                 share >= 0.9))
    for label, grew in _growths(results).items():
        rows.append((f"{label}: growth from {small['n']:,} to {big['n']:,} images", grew,
                     f"<= x{factor:g}", grew <= factor))
    def shown(value: float, goal: str) -> str:
        text = f"{value:.0f}" if value >= 100 else f"{value:.3g}"
        return f"x{text}" if goal.startswith("<= x") else text

    return ["| target | measured | goal | met |", "|---|---|---|---|",
            *[f"| {name} | {shown(value, goal)} | {goal} | {'yes' if ok else '**NO**'} |"
              for name, value, goal, ok in rows], ""]


def _fit_met(fit: dict) -> bool:
    return fit["rc"] == 0 and fit["peak_rss_mib"] <= FIT_RSS_TARGET_MIB


def _fit_lines(fit: dict | None) -> list[str]:
    if not fit:
        return []
    verdict = "met" if _fit_met(fit) else "NOT met"
    return [f"Whole `xraynet fit --epochs 1` on the {fit['n']:,}-image set (set-up on the store the "
            f"decode measurement left, audit, split, one epoch, evaluation and the full report with its stress tests and "
            f"quality gate): exit {fit['rc']}, {fit['seconds'] / 60:.1f} minutes, peak RSS "
            f"{fit['peak_rss_mib']:.0f} MiB (target <= {FIT_RSS_TARGET_MIB}: {verdict}). One epoch is measured; later "
            f"epochs read the same store.", ""]


def _repeats(results: list[dict], step: str) -> int:
    """How many runs each figure of ``step`` is the best of (runs before the repeats: 5 audits
    and 1 decode)."""
    if step == "decode":
        return min(len(r["decode"].get("runs_seconds", [0])) for r in results)
    return min(r["audit"].get("repeats", 5) for r in results)


def _audit_memory(audit: dict) -> float:
    """The audit's own memory: the peak of its traced allocations where measured, else the
    growth of the process's peak RSS (coarse: freed memory is reused)."""
    return audit.get("traced_mib", audit["growth_mib"])


def markdown(results: list[dict], real: dict, command: str, fit: dict | None = None,
             measured: str = "", audit_measured: str | None = None,
             decode_measured: str | None = None) -> str:
    rows = [f"| {r['n']:,} | {r['decode']['images_per_s']:.0f} | {r['decode']['peak_rss_mib']:.0f} | "
            f"{r['audit']['seconds']:.2f} | {_audit_memory(r['audit']):.1f} ({r['audit']['peak_rss_mib']:.0f}) | "
            f"{r['audit']['pairs']} | {r['train']['images_per_s']:.0f} | {r['train']['peak_rss_mib']:.0f} | "
            f"{'memory' if r['train']['in_memory'] else 'streamed'} |" for r in results]
    big, small = results[-1], results[0]
    factor = big["n"] / small["n"]
    decodes = _repeats(results, "decode")
    grew = {label: f"x{ratio:.1f}" for label, ratio in _growths(results).items()}
    growth = (f"From {small['n']:,} to {big['n']:,} images (x{factor:g}): decode and set-up time "
              f"{grew['decode and set-up time']}, audit time {grew['audit time']}, the audit's "
              f"memory {grew['audit memory (peak of its allocations)']}, decode peak RSS "
              f"{grew['decode peak RSS']}, training peak RSS {grew['training peak RSS']}. Linear "
              f"growth would be "
              f"x{factor:g}; n log n (a sort) x{factor * math.log(big['n']) / math.log(small['n']):.1f}.")
    if "reference_seconds" in big["audit"] and "reference_seconds" in small["audit"]:
        growth += (f" A linear reference measured beside the audit, one copy of the n keys of each "
                   f"of its indexes, grew x{big['audit']['reference_seconds'] / small['audit']['reference_seconds']:.1f} "
                   f"on this machine over the same sizes ({small['audit']['reference_seconds'] * 1e3:.2f} to "
                   f"{big['audit']['reference_seconds'] * 1e3:.1f} ms): arrays that outgrow a core's cache "
                   f"cost more per element, for linear work too.")
    return "\n".join([
        "## Scale", "",
        f"Measured {measured} by `{command}` on "
        f"{os.cpu_count()} cores, backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}: synthetic "
        "256 px JPEG sets (`scripts/make_synthetic.py`), decoded at the default 192 px. Training: "
        "the default model, batch 16, images/s over the steps after compilation. Audit time: the best "
        f"of {_repeats(results, 'audit')} runs. Decode and set-up time: "
        + (f"the best of {decodes} runs, each into an empty cache (peak RSS: the largest)."
           if decodes > 1 else "one run, into an empty cache.")
        + (f" The audit was measured again at {audit_measured} on the same stores "
           "(`--remeasure-audit`)." if audit_measured else "")
        + (f" The decode was measured again at {decode_measured} on the same sets "
           "(`--remeasure-decode`)." if decode_measured else ""), "",
        *_targets(results, real, fit),
        "| images | decode images/s | decode peak RSS MiB | audit s (hashes given) | audit memory MiB (process peak RSS) | duplicate pairs | training images/s | training peak RSS MiB | images |",
        "|---|---|---|---|---|---|---|---|---|", *rows, "",
        f"Real dataset in memory: training {real['images_per_s']:.0f} images/s "
        f"(peak RSS {real['peak_rss_mib']:.0f} MiB); the streamed {big['n']:,}-image set trains at "
        f"{big['train']['images_per_s'] / real['images_per_s']:.0%} of that.", "", growth, "",
        *_hash_lines(results, real), *_fit_lines(fit),
        "![Time and memory against the number of images (log-log)](docs/scale.png)", ""])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,50000,100000", help="comma-separated image counts")
    p.add_argument("--work", default="/tmp/xraynet-scale", help="folder for the sets and stores")
    p.add_argument("--data", default="../shared/data/Covid19-dataset", help="the real dataset")
    p.add_argument("--steps", type=int, default=60, help="training steps per measurement")
    p.add_argument("--fit", type=int, default=0,
                   help="also run `xraynet fit --epochs 1` on the set of this size (0: not)")
    p.add_argument("--report", default="BENCHMARKS.md")
    p.add_argument("--render-only", action="store_true", help="rewrite the section from scale.json")
    p.add_argument("--remeasure-audit", action="store_true",
                   help="measure the audit again on the stores of the last run (in --work), "
                        "keep the rest of scale.json, and rewrite the section")
    p.add_argument("--remeasure-decode", action="store_true",
                   help="measure the decode and set-up again on the sets of the last run (in "
                        "--work, into fresh caches), keep the rest of scale.json, and rewrite "
                        "the section (with --remeasure-audit: the decode first)")
    args = p.parse_args()
    from xraynet_bench.serving import public_command, splice_section
    from xraynet_bench.targets_table import gather_targets

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.render_only or args.remeasure_audit or args.remeasure_decode:  # the last run's figures
        saved = json.loads(Path("scale.json").read_text())
        if args.remeasure_decode:  # first: it rewrites the stores the audit reads
            for r in saved["results"]:
                r["decode"] = decode_best(work / f"n{r['n']}", work / f"cache-{r['n']}")
                print(json.dumps({"n": r["n"], "decode": r["decode"]}), flush=True)
            saved["decode_measured"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        if args.remeasure_audit:
            for r in saved["results"]:
                r["audit"] = audit_best(work / f"cache-{r['n']}")
                r["hashes"] = run("hashes", str(work / f"cache-{r['n']}"))
            saved["real"]["hashes"] = run("hashes", str(work / "cache-real"))
            saved["audit_measured"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        if args.remeasure_decode or args.remeasure_audit:
            Path("scale.json").write_text(json.dumps(saved, indent=2) + "\n")
        results, real = saved["results"], saved["real"]
        command = public_command("scale_bench.py", saved["command"].split()[2:])
        fit, measured = saved.get("fit"), saved.get("measured", "at an unrecorded time")
        audit_measured, decode_measured = saved.get("audit_measured"), saved.get("decode_measured")
    else:
        results = [measure(int(n), work, args.steps) for n in args.sizes.split(",")]
        real = run("train", args.data, str(work / "cache-real"), str(args.steps))
        real["hashes"] = run("hashes", str(work / "cache-real"))
        fit = (run("fit", str(work / f"n{args.fit}"), str(work / f"cache-{args.fit}"),
                   str(work / "runs")) | {"n": args.fit}) if args.fit else None
        command = public_command("scale_bench.py", sys.argv[1:])
        measured = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        audit_measured = decode_measured = None  # with the rest, in this run
        Path("scale.json").write_text(json.dumps({"results": results, "real": real, "fit": fit,
                                                  "command": command, "measured": measured},
                                                 indent=2) + "\n")
    plot(results, Path("docs/scale.png"), fit)
    section = markdown(results, real, command, fit, measured, audit_measured, decode_measured)
    report = Path(args.report)
    report.write_text(gather_targets(splice_section(report.read_text() if report.exists() else "",
                                                    section, heading="## Scale")))
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
