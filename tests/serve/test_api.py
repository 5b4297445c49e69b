"""The JSON API, page and documents through FastAPI's TestClient: every endpoint, every bad input."""

import asyncio
import base64
import io
import struct
import tempfile
import threading
import zlib

import numpy as np
import pytest
from PIL import Image


def _png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _bomb_png(width: int = 12500, height: int = 12500) -> bytes:
    """A PNG header announcing width x height pixels (its data never needs decoding)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def test_image(trained_run) -> bytes:
    return next((trained_run["root"] / "test").rglob("*.png")).read_bytes()


def test_predict_answers_label_probabilities_uncertainty_and_quality(make_client, test_image, service):
    client = make_client()
    r = client.post("/api/predict", files={"file": ("a <script>x</script>.png", test_image, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "a <script>x</script>.png"  # returned as data, escaped by JSON
    assert set(body["probabilities"]) == set(service.predictor.class_names)
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-4
    assert body["label"] == max(body["probabilities"], key=body["probabilities"].get)
    assert body["uncertainty"]["summary"] and set(body["quality"]) >= {"ok", "reasons"}
    assert "heatmap_png_base64" not in body


def test_explain_returns_a_decodable_heatmap_and_tta_a_spread(make_client, test_image):
    r = make_client().post("/api/predict?explain=true&tta=3", files={"file": ("x.png", test_image)})
    assert r.status_code == 200, r.text
    body = r.json()
    heat = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["heatmap_png_base64"]))))
    assert heat.ndim == 3 and heat.std() > 0  # coloured, not blank
    assert Image.open(io.BytesIO(base64.b64decode(body["input_png_base64"]))).mode == "L"
    assert body["explain_method"] == "gradcam" and body["uncertainty"]["tta"] == 3
    assert set(body["spread"]) == set(body["probabilities"])
    r = make_client().post("/api/predict?explain=true&method=occlusion", files={"file": ("x.png", test_image)})
    assert r.status_code == 200 and r.json()["explain_method"] == "occlusion"


def test_bad_inputs_get_clear_statuses(make_client, service):
    client = make_client(max_upload_mb=0.05)
    r = client.post("/api/predict", files={"file": ("notes.txt", b"hello, not an image")})
    assert r.status_code == 422 and "JPEG, PNG" in r.json()["detail"]
    r = client.post("/api/predict", files={"file": ("bomb.png", _bomb_png())})
    assert r.status_code == 422 and "exceeds the limit" in r.json()["detail"]
    r = client.post("/api/predict", files={"file": ("big.png", b"\0" * 60_000)})
    assert r.status_code == 413
    r = client.post("/api/predict", content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert client.post("/api/predict?tta=999", files={"file": ("x.png", b"")}).status_code == 422
    assert client.post("/api/predict?method=magic", files={"file": ("x.png", b"")}).status_code == 422


def test_a_non_xray_is_flagged_but_still_answered(make_client):
    red = np.zeros((300, 300, 3), np.uint8)
    red[..., 0] = 220
    body = make_client().post("/api/predict", files={"file": ("red.png", _png(red))}).json()
    assert body["quality"]["ok"] is False
    assert any(r.startswith("colour image") for r in body["quality"]["reasons"])
    assert body["probabilities"] and body["label"]


def test_uploads_never_touch_the_disk(make_client, test_image, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an upload was about to be written to disk")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    big = _png(np.random.default_rng(0).integers(0, 256, (1200, 1200), dtype=np.uint8))
    assert len(big) > 1_000_000  # beyond the size at which form parsers spill to disk
    assert make_client().post("/api/predict", files={"file": ("x.png", big)}).status_code == 200


def test_health_model_page_docs_and_security_headers(make_client, trained_run):
    client = make_client()
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    model = client.get("/api/model").json()
    assert model["classes"] == trained_run["dm"].class_names
    assert model["leak_free_test"]["macro_f1"]["low"] <= model["leak_free_test"]["macro_f1"]["high"]
    assert model["documents"]["report.html"] == "/run/report.html" and "clinical" in model["notice"]
    page = client.get("/")
    assert page.status_code == 200 and "Not for clinical use" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "cdn" not in page.text.lower() and "http" not in page.text.replace("http-equiv", "")
    for name in ("page.js", "page.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
    assert "/api/predict" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
    for path in ("/api/health", "/api/model"):
        assert client.get(path).headers["content-security-policy"]


def test_only_the_report_documents_and_figures_are_served(make_client):
    client = make_client()
    report = client.get("/run/report.html")
    assert report.status_code == 200 and "script-src" not in report.headers["content-security-policy"]
    assert client.get("/run/model_card.md").status_code == 200
    for path in ("/run/model.keras", "/run/config.json", "/run/quality.npz", "/run/../../etc/passwd",
                 "/run/%2e%2e/%2e%2e/etc/passwd"):
        assert client.get(path).status_code == 404, path


def test_a_token_guards_every_request(make_client, test_image):
    client = make_client(token="s3cret")
    assert client.get("/api/health").status_code == 401
    assert client.post("/api/predict", files={"file": ("x.png", test_image)}).status_code == 401
    ok = client.get("/api/health", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert client.get("/api/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/?token=s3cret").status_code == 200  # the page sets a cookie for its own calls
    assert client.get("/api/model").status_code == 200


def test_a_full_queue_answers_503_and_a_slow_model_504(make_client, service, test_image):
    client = make_client()
    held = [service._slots.acquire(blocking=False) for _ in range(service.queue_limit + 1)]
    try:
        assert all(held)
        r = client.post("/api/predict", files={"file": ("x.png", test_image)})
        assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    finally:
        for _ in held:
            service._slots.release()
    release = threading.Event()
    service._executor.submit(release.wait, 10)  # the model thread is busy elsewhere
    timeout, service.timeout_s = service.timeout_s, 0.2
    try:
        assert client.post("/api/predict", files={"file": ("x.png", test_image)}).status_code == 504
    finally:
        service.timeout_s = timeout
        release.set()
    assert client.post("/api/predict", files={"file": ("x.png", test_image)}).status_code == 200


def test_concurrent_requests_share_the_one_model_safely(service, trained_run):
    paths = sorted((trained_run["root"] / "test").rglob("*.png"))[:6]
    predictor = service.predictor
    images, _, _, facts = predictor.decode_with_facts(paths)
    alone = [service.analyse(img, f, p.name) for img, f, p in zip(images, facts, paths)]

    async def together():
        return await asyncio.gather(*[service.submit(service.analyse, img, f, p.name)
                                      for img, f, p in zip(images[:3], facts, paths)])

    service_limit = service.queue_limit
    at_once = asyncio.run(together())
    assert service.queue_limit == service_limit and service.in_flight == 0
    for a, b in zip(alone, at_once):
        assert a["label"] == b["label"]
        assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-5)


def test_the_serve_command_warns_off_loopback_without_a_token(trained_run, monkeypatch, capsys):
    import uvicorn

    from xraynet.cli import main

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: served.update(host=host, port=port))
    monkeypatch.delenv("XRAYNET_TOKEN", raising=False)
    run_dir = str(trained_run["result"].run_dir)
    assert main(["serve", run_dir, "--host", "0.0.0.0", "--port", "8123"]) == 0
    assert served == {"host": "0.0.0.0", "port": 8123}
    assert "without a token" in capsys.readouterr().err
    monkeypatch.setenv("XRAYNET_TOKEN", "s3cret")
    assert main(["serve", run_dir, "--host", "0.0.0.0"]) == 0
    assert "without a token" not in capsys.readouterr().err
    assert main(["serve", run_dir]) == 0 and served["host"] == "127.0.0.1"
