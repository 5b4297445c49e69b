"""Admission before work, bounded decode memory, the serve pixel limit, offline /docs and no
local paths to visitors (issue 33)."""

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import require
from xraynet.serve import service as service_module


def _png16(side: int) -> bytes:
    y = np.arange(side, dtype=np.uint32)[:, None]
    x = np.arange(side, dtype=np.uint32)[None, :]
    buffer = io.BytesIO()
    Image.fromarray(((y * 3 + x * 5) % 65536).astype(np.uint16)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_refused_request_is_never_decoded(make_client, service, trained_run, monkeypatch):
    image = next((trained_run["root"] / "test").rglob("*.png")).read_bytes()
    decoded = []
    real = service_module.decode_with_facts

    def counting(*args, **kwargs):
        decoded.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "decode_with_facts", counting)
    client = make_client()
    release = threading.Event()
    service._executor.submit(release.wait, 30)  # the model is busy: admitted requests wait
    admitted = service.queue_limit + 1
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(
        client.post("/api/predict", files={"file": ("x.png", image)}).status_code)) for _ in range(admitted)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while service.in_flight < admitted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert service.in_flight == admitted
        for _ in range(5):
            r = client.post("/api/predict", files={"file": ("x.png", image)})
            assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    finally:
        release.set()
        for t in threads:
            t.join(30)
    assert answers == [200] * admitted
    assert len(decoded) == admitted  # the five refused requests were never decoded


def test_the_memory_budget_runs_large_decodes_one_at_a_time():
    budget = service_module.MemoryBudget(100)
    inside, most = [0], [0]
    lock = threading.Lock()

    def work(nbytes):
        with budget.reserve(nbytes):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work, args=(80,)) for _ in range(4)]
    threads += [threading.Thread(target=work, args=(10**9,))]  # larger than all: runs alone
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 1 and budget.used == 0


def test_the_serve_pixel_limit_refuses_before_decoding(make_client):
    big = io.BytesIO()
    Image.fromarray(np.zeros((400, 400), np.uint8)).save(big, format="PNG")
    r = make_client(max_megapixels=0.1).post("/api/predict", files={"file": ("big.png", big.getvalue())})
    assert r.status_code == 422 and "400x400 pixels exceeds the limit of 100000" in r.json()["detail"]


def test_a_16_bit_upload_is_decoded_and_answered(make_client):
    r = make_client().post("/api/predict", files={"file": ("deep.png", _png16(900))})
    assert r.status_code == 200, r.text


def test_docs_work_offline_under_the_page_csp(make_client):
    require("swagger_ui")
    client = make_client()
    docs = client.get("/docs")
    assert docs.status_code == 200 and "http" not in docs.text
    assert docs.headers["content-security-policy"] == client.get("/").headers["content-security-policy"]
    for name in ("swagger-ui.css", "swagger-ui-bundle.js"):
        asset = client.get(f"/docs/assets/{name}")
        assert asset.status_code == 200 and len(asset.content) > 10_000
    assert client.get("/static/docs.js").status_code == 200
    assert client.get("/docs/assets/../app.py").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_no_local_path_reaches_visitors(make_client, trained_run):
    client = make_client()
    text = client.get("/api/model").text
    root = str(Path(trained_run["result"].run_dir).parents[1])
    data = json.loads(text)["training_data"]
    assert "root" not in data and data["description"] and isinstance(data["skipped"], int)
    assert str(trained_run["root"]) not in text and "/" not in data["name"]
    assert root not in text
    for document in ("/run/report.html", "/run/model_card.md"):  # what visitors can open
        assert str(trained_run["root"]) not in client.get(document).text


MEASURE = r"""
import io, json, sys, threading
from types import SimpleNamespace
from xraynet.data.decode import DecodeSettings
from xraynet.serve.memory import return_large_buffers_to_the_os
from xraynet.serve.service import InferenceService, MemoryBudget

return_large_buffers_to_the_os()  # as `xraynet serve` does

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

data = open(sys.argv[1], "rb").read()
clients, budget = int(sys.argv[2]), float(sys.argv[3])
host = SimpleNamespace(predictor=SimpleNamespace(settings=DecodeSettings(image_size=64)),
                       decode_budget=MemoryBudget(int(budget * 1e6)))
InferenceService.decode_upload(host, data)  # imports and first-use allocations
open("/proc/self/clear_refs", "w").write("5")
base = status("VmRSS")
threads = [threading.Thread(target=InferenceService.decode_upload, args=(host, data)) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"rise": status("VmHWM") - base}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc peak RSS")
@pytest.mark.parametrize("clients", [1, 4])
def test_concurrent_huge_uploads_keep_peak_memory_bounded(tmp_path, clients):
    """A 16-bit scan of 36 Mpx (72 MB decoded) sent by 1 or 4 clients at once: with a decode
    budget of 100 MB, peak RSS rises by one decode (2 bytes per pixel) plus strips, not 4x."""
    side = 6000
    path = tmp_path / "huge16.png"
    path.write_bytes(_png16(side))
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(clients), "100"],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    rise = json.loads(out.stdout.strip().splitlines()[-1])["rise"]
    decoded = side * side * 2
    assert rise <= decoded + 40e6, f"peak RSS rose by {rise / 1e6:.0f} MB"
