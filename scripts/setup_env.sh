#!/usr/bin/env bash
# Create (if missing) the project's virtual environment and install xraynet with its backends.
# Usage: source-free; prints the venv's python path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${XRAYNET_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[jax,tensorflow,torch,pretrained,hub,reference,serve,dicom,export,dev,bench]" >&2
# Debian's Chromium renders report.html in the browser test (Playwright drives the system binary;
# it never downloads a browser). Installed when missing, where apt-get and root rights exist.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  { apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; } \
    || echo "warning: could not install chromium; the report rendering test will fail under CI" >&2
fi
echo "$VENV/bin/python"
