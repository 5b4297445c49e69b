"""KerasTuner's distributed mode: one chief (oracle over gRPC) and two workers on 127.0.0.1."""

import csv
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tuning import SearchSettings

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_chief_and_two_workers_run_every_trial_exactly_once(dataset, cache_dir, tmp_path):
    pytest.importorskip("grpc")
    out = tmp_path / "runs"
    args = [sys.executable, str(ROOT / "scripts" / "tune.py"), "--data", str(dataset),
            "--out", str(out), "--cache-dir", str(cache_dir), "--image-size", "32",
            "--max-epochs", "3", "--seed", "3"]
    # decode once up front so the three processes share the cache
    subprocess.run([sys.executable, "-m", "xraynet.cli", "info", "--data", str(dataset),
                    "--cache-dir", str(cache_dir), "--image-size", "32"], check=True,
                   capture_output=True, timeout=300)
    port = str(_free_port())
    base_env = {**os.environ, "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": port,
                "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    procs = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        log = open(tmp_path / f"{tuner_id}.log", "w")
        procs[tuner_id] = (subprocess.Popen(args, env={**base_env, "KERASTUNER_TUNER_ID": tuner_id},
                                            stdout=log, stderr=subprocess.STDOUT), log)
    try:
        for tuner_id, (proc, log) in procs.items():
            assert proc.wait(timeout=600) == 0, (tmp_path / f"{tuner_id}.log").read_text()[-3000:]
    finally:
        for proc, log in procs.values():
            if proc.poll() is None:
                proc.kill()
            log.close()

    run_by = {}
    for worker in ("tuner0", "tuner1"):
        text = (tmp_path / f"{worker}.log").read_text()
        for trial_id in re.findall(r"^trial (\d+) \(", text, flags=re.M):
            assert trial_id not in run_by, f"trial {trial_id} ran twice"
            run_by[trial_id] = worker
    project = out / "tuning" / "xraynet_hyperband"
    assert (project / "best_hyperparameters.json").is_file()
    with (project / "trials.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["trial_id"] for r in rows} == set(run_by)
    assert all(r["status"] == "COMPLETED" for r in rows)
    assert len(rows) == SearchSettings(max_epochs=3).expected_trials()
    assert set(run_by.values()) == {"tuner0", "tuner1"}  # both workers took trials
