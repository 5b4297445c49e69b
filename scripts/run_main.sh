#!/usr/bin/env bash
# The main job: set up the environment, then train on the dataset and print the report.
# Data: $XRAYNET_DATA, else ../shared/data/Covid19-dataset; backend: $KERAS_BACKEND (default jax).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/setup_env.sh | tail -n 1)
DATA=${XRAYNET_DATA:-../shared/data/Covid19-dataset}
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
"$PY" -m xraynet.cli fit --data "$DATA" --out "${XRAYNET_OUT:-runs}" "$@"
