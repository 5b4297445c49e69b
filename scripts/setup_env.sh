#!/usr/bin/env bash
# Create (if missing) the project's virtual environment and install xraynet with its backends.
# Usage: source-free; prints the venv's python path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${XRAYNET_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[jax,tensorflow,dev,bench]" >&2
echo "$VENV/bin/python"
