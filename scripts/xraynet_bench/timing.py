"""Small timing and memory helpers shared by the benchmark sections."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from pathlib import Path

import numpy as np

RESULT_PREFIX = "BENCH_RESULT "


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles_ms(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "mean_ms": float(ms.mean()), "calls": len(ms)}


def run_process(args: list[str], *, env: dict | None = None, timeout: float | None = None,
                log_path: str | None = None) -> dict:
    """Run a command; its wall time, exit code and the JSON it printed last after
    ``BENCH_RESULT `` (None if it printed none). Workers report their own peak RSS in it."""
    full_env = {**os.environ, **(env or {})}
    # the study code is not installed: its folder's parent (scripts/) goes on the child's path
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[1]), full_env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(args, env=full_env, stdout=subprocess.PIPE, stderr=log, text=True)
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if log_path:
            log.close()
    wall = time.perf_counter() - start
    result = None
    for line in out.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
    return {"returncode": proc.returncode, "wall_seconds": wall, "result": result,
            "stdout_tail": out[-2000:]}


def print_result(result: dict) -> None:
    """Print ``result`` as the one line :func:`run_process` reads back (workers; the reference
    prints the same line itself)."""
    print(RESULT_PREFIX + json.dumps(result, default=float), flush=True)


def epoch_timer(callback_base: type, seconds: list[float]):
    """A callback of class ``callback_base`` (``keras.callbacks.Callback``) appending each
    epoch's seconds to ``seconds``."""

    class EpochTimer(callback_base):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    return EpochTimer()
