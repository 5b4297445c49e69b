"""Optional test dependencies: headless Chromium for the page and report tests (Debian's
chromium, driven by Playwright; no browser download) and the serve extra. Missing under CI is a
failure: scripts/setup_env.sh installs them."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browser_or_skip():
    """Playwright's sync API; skips (fails under CI) without chromium."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: scripts/setup_env.sh installs Debian's package")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api")


def require(module: str):
    """Import ``module``; skips without it (fails under CI, where set-up installs it)."""
    try:
        return pytest.importorskip(module)
    except pytest.skip.Exception:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed: scripts/setup_env.sh installs the serve extra")
        raise
