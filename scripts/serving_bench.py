#!/usr/bin/env python
"""Serving benchmark of issue 16: start-up, latency under 4 concurrent clients with and without
heatmaps, server memory, and the input-quality gate's false-flag and detection rates; and of issue
33: overload (4 clients, then 16 that retry at once) and the peak RSS of 1 and 4 concurrent
139-megapixel 16-bit uploads (on a second server started with --max-megapixels 140). Writes
serving.json and the "Serving" section of BENCHMARKS.md (the main benchmark keeps it).

  python scripts/serving_bench.py runs/<model> --data ../shared/data/Covid19-dataset
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path


def gate_figures(model: str, data: str) -> dict:
    """False flags on the leak-free test files, detection on non-X-ray images."""
    from xraynet.data import XRayDataModule
    from xraynet.data.decode import ImageDecodeError
    from xraynet.predict import Predictor
    from xraynet_bench.non_xrays import non_xray_images

    predictor = Predictor.from_path(model)
    dm = XRayDataModule.from_config(predictor.bundle.data_config, root=data).setup()
    paths = [dm.root / p for p in dm.test_leak_free.paths]
    predictions, failed = predictor.predict_files(paths)
    false_flags = [(Path(p.path).name, p.quality.reasons) for p in predictions if not p.quality.ok]
    detected = refused = 0
    missed = []
    others = non_xray_images()
    for name, data_bytes in others:
        try:
            flagged = not predictor.predict_bytes(data_bytes, name).quality.ok
        except ImageDecodeError:
            refused += 1
            flagged = True
        detected += flagged
        if not flagged:
            missed.append(name)
    return {"leak_free_n": len(predictions), "unreadable": len(failed),
            "false_flags_n": len(false_flags), "false_flags": false_flags,
            "false_flag_rate": len(false_flags) / len(predictions),
            "non_xray_n": len(others), "detected": detected, "refused": refused, "missed": missed,
            "detection_rate": detected / len(others)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="run directory of the model to serve")
    p.add_argument("--data", default="../shared/data/Covid19-dataset", help="dataset folder")
    p.add_argument("--duration", type=float, default=120.0, help="seconds per load run (default: 120)")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients (default: 4)")
    p.add_argument("--json", default="serving.json", help="results file (default: serving.json)")
    p.add_argument("--overload-duration", type=float, default=60.0,
                   help="seconds of each overload phase, 4 then 16 clients (default: 60)")
    p.add_argument("--huge-mpx", type=float, default=139.0,
                   help="megapixels of the huge 16-bit upload (default: 139)")
    p.add_argument("--report", default="BENCHMARKS.md", help="markdown file to splice (default: BENCHMARKS.md)")
    args = p.parse_args()

    from loadtest import (first_answer, health, huge_png, huge_uploads, image_files, rss_mib,
                          run_load, start_server)
    from xraynet.bundle import read_metadata
    from xraynet_bench.serving import public_command, serving_markdown, splice_section
    from xraynet_bench.targets_table import gather_targets

    images = image_files(str(Path(args.data) / "test"))
    proc, url, started = start_server(args.model)
    try:
        startup = first_answer(url, images[0], started, proc)
        load = {}
        for name, explain in (("explain", True), ("plain", False)):
            before = rss_mib(proc.pid)
            run = run_load(url, images, clients=args.clients, duration=args.duration,
                           max_requests=0, explain=explain, tta=0)
            after = rss_mib(proc.pid)
            load[name] = {**run, "rss_before_mib": before, "rss_after_mib": after,
                          "rss_growth_mib": round(after - before, 1)}
            print(f"{name}: {run['requests']} requests, p95 {run['p95_ms']} ms, errors {run['errors']}, "
                  f"RSS {before:.0f} -> {after:.0f} MiB", flush=True)
        phases = []
        for clients in (4, 16):
            run = run_load(url, images, clients=clients, duration=args.overload_duration,
                           max_requests=0, explain=True, tta=0)
            run["answered_rps"] = round(run["ok"] / run["seconds"], 3)
            phases.append(run)
            print(f"overload phase, {clients} clients: {run['answered_rps']} answered/s, "
                  f"statuses {run['statuses']}", flush=True)
        overload = {"phases": phases, "health_after": health(url),
                    "ratio": round(phases[1]["answered_rps"] / phases[0]["answered_rps"], 3),
                    "failures": sum(n for run in phases for code, n in run["statuses"].items()
                                    if code not in ("200", "503"))}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    huge_args = ["--max-megapixels", "140"]
    proc, url, started = start_server(args.model, huge_args)
    try:
        first_answer(url, images[0], started, proc)
        data = huge_png(args.huge_mpx)
        huge = [huge_uploads(url, proc.pid, data, n) for n in (1, 4)]
        for h in huge:
            print(f"huge x {h['clients']}: statuses {h['statuses']}, peak RSS +{h['peak_rise_mb']} MB", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    gate = gate_figures(args.model, args.data)
    meta = read_metadata(args.model)
    results = {"measured": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "command": public_command("serving_bench.py", sys.argv[1:], args.model),
               "model": Path(args.model).name, "architecture": meta.architecture,
               "backend": os.environ.get("KERAS_BACKEND") or meta.backend, "cores": os.cpu_count(),
               "images": len(images), "startup_s": round(startup, 2), "load": load, "gate": gate,
               "overload": overload, "huge": huge, "huge_mpx": args.huge_mpx,
               "huge_server_args": "xraynet serve MODEL " + " ".join(huge_args)}
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    report = Path(args.report)
    section = serving_markdown(results)
    report.write_text(gather_targets(splice_section(report.read_text() if report.exists() else "", section)))
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
