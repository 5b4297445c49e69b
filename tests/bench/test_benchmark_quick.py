"""The benchmark's --quick smoke run on a synthetic set, on the backend under test."""

import json
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_quick_benchmark_writes_every_section(dataset, tmp_path):
    backend = keras.backend.backend()
    report, data = tmp_path / "BENCHMARKS.md", tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--quick", "--data", str(dataset),
         "--out", str(tmp_path / "work"), "--report", str(report), "--json", str(data),
         "--backends", backend, "--default-backend", backend],
        capture_output=True, text=True, timeout=880, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(data.read_text())
    for section in ("machine", "peak", "reference", "reference_pipeline", "pipeline", "training",
                    "fits", "inference", "search", "targets"):
        assert section in results, section
    training = results["training"][backend]
    assert training["images_per_second"] > 0 and training["training_flops_per_image"] > 0
    assert results["pipeline"]["cache_hit"] is True
    inference = results["inference"][backend]
    assert inference["single_image"]["calls"] == 5 and inference["load_seconds"] > 0
    assert results["search"]["trials"] >= 1
    assert len(results["targets"]) == 8  # BENCHMARKS.md's own rows of the one target table
    assert "max_changed" in results["fits"][0]["stress"]
    text = report.read_text()
    assert "QUICK smoke run" in text and "## Targets" in text and "## Inference" in text
    assert text.count("| target |") == 1 and "| met | section |" in text  # one target table
