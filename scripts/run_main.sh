#!/usr/bin/env bash
# The main job: set up the environment, run the Hyperband search (resuming an interrupted one),
# then retrain the best model, export it and print its report.
# Data: $XRAYNET_DATA, else ../shared/data/Covid19-dataset; backend: $KERAS_BACKEND (default tensorflow,
# measured fastest on CPU: BENCHMARKS.md);
# runs go under $XRAYNET_OUT (default runs/). Extra arguments go to the search (tune.py), whose data
# settings train_best.py reuses: e.g. `bash scripts/run_main.sh --resize crop --project crop`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/setup_env.sh | tail -n 1)
DATA=${XRAYNET_DATA:-../shared/data/Covid19-dataset}
OUT=${XRAYNET_OUT:-runs}
export KERAS_BACKEND=${KERAS_BACKEND:-tensorflow}
"$PY" scripts/tune.py --data "$DATA" --out "$OUT" "$@"
"$PY" scripts/train_best.py --data "$DATA" --out "$OUT"
