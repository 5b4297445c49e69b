"""The page in headless Chromium against the real server (``python -m xraynet serve`` on a free
loopback port), with a small model trained on the real dataset: a leak-free test X-ray through
the file input gets its label, probability bars and a heatmap; a non-X-ray gets the quality
warning; a file name holding markup is shown as text; the console stays free of errors."""

import base64
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from browser import ARGS, CHROMIUM, browser_or_skip, require

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def real_model(tmp_path_factory, real_data):
    from xraynet import ModelConfig, Trainer, XRayClassifier, XRayDataModule

    dm = XRayDataModule(root=real_data, image_size=64, cache_dir=tmp_path_factory.mktemp("cache")).setup()
    module = XRayClassifier(model=ModelConfig(image_size=64, depth=3, base_filters=8, seed=0),
                            learning_rate=3e-3)
    trainer = Trainer(epochs=8, batch_size=16, seed=0, out_dir=tmp_path_factory.mktemp("runs"), verbose=0)
    result = trainer.fit(module, dm)
    return result.run_dir, dm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(real_model):
    require("uvicorn")
    run_dir, _ = real_model
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "xraynet", "serve", str(run_dir), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"xraynet serve exited: {proc.stdout.read()}")
        try:
            urllib.request.urlopen(url + "/api/health", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("xraynet serve did not answer within 120 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _red_photo() -> bytes:
    rng = np.random.default_rng(0)
    pixels = np.stack([np.full((300, 400), 200.0), rng.normal(40, 10, (300, 400)),
                       rng.normal(40, 10, (300, 400))], -1)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_the_page_diagnoses_an_xray_and_warns_on_a_photo(server, real_model, tmp_path):
    sync_api = browser_or_skip()
    _, dm = real_model
    xray = dm.root / dm.test_leak_free.paths[0]
    errors = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server + "/")
            page.locator("#model-body dl").wait_for()
            page.set_input_files("#file", {"name": "<img src=x onerror=alert(1)>.jpeg",
                                           "mimeType": "image/jpeg", "buffer": xray.read_bytes()})
            card = page.locator(".card").first
            card.locator("xpath=self::*[@data-state]").wait_for(timeout=60_000)
            assert card.get_attribute("data-state") == "done"
            label = card.locator(".label").inner_text()
            bar_values = card.locator(".bar .value").all_inner_texts()
            bar_widths = card.locator(".bar .fill").evaluate_all("els => els.map(e => e.style.width)")
            name = card.locator(".name").inner_text()
            heat_src = card.locator(".heat").get_attribute("src")
            heat_loaded = card.locator(".heat").evaluate("img => img.complete && img.naturalWidth > 0")
            page.screenshot(path=str(tmp_path / "xray.png"), full_page=True)

            page.set_input_files("#file", {"name": "red.jpg", "mimeType": "image/jpeg",
                                           "buffer": _red_photo()})
            photo = page.locator(".card").first
            page.locator(".card").nth(1).wait_for()
            photo.locator("xpath=self::*[@data-state]").wait_for(timeout=60_000)
            warning = photo.locator(".quality")
            warning_text = warning.inner_text() if warning.is_visible() else ""
            page.screenshot(path=str(tmp_path / "photo.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert label.removesuffix(" (unreliable)") in dm.class_names
    assert len(bar_values) == len(bar_widths) == len(dm.class_names)
    assert abs(sum(float(v) for v in bar_values) - 1) < 0.02
    assert all(w.endswith("%") for w in bar_widths)
    assert name == "<img src=x onerror=alert(1)>.jpeg"  # shown as text, never as markup
    heat = np.asarray(Image.open(io.BytesIO(base64.b64decode(heat_src.split(",", 1)[1]))))
    assert heat_loaded and heat.std() > 0
    assert warning_text.startswith("Input-quality warning: colour image")
    assert (tmp_path / "xray.png").stat().st_size > 10_000


def test_the_api_docs_render_with_no_network(server, tmp_path):
    """/docs in headless Chromium with every request outside the server refused: Swagger UI
    (from the installed swagger-ui-py) shows the API's operations, and nothing breaks the
    page's CSP."""
    sync_api = browser_or_skip()
    errors, outside = [], []

    def only_the_server(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_the_server)
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server + "/docs")
            page.locator(".opblock-summary-path").first.wait_for(timeout=30_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            title = page.locator(".info .title").inner_text()
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
        finally:
            browser.close()
    assert outside == [] and errors == []
    assert "xraynet" in title
    assert {"/api/predict", "/api/model", "/api/health"} <= {p.replace("\u200b", "") for p in paths}
    assert (tmp_path / "docs.png").stat().st_size > 10_000
