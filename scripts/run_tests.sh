#!/usr/bin/env bash
# The test command: sets up the environment (the torch extra's CPU wheel included), then runs the
# suite once per backend of $XRAYNET_TEST_BACKENDS (default: jax tensorflow torch); the study
# scripts' tests (tests/bench/) run in the first pass only (they test scripts/, not a backend;
# later passes list them as skipped, with that reason). Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/setup_env.sh | tail -n 1) || { echo "environment set-up failed" >&2; exit 1; }
backends=${XRAYNET_TEST_BACKENDS:-jax tensorflow torch}
status=0
first=""
for backend in $backends; do
  echo "=== KERAS_BACKEND=$backend ==="
  start=$SECONDS
  # the study scripts' tests (tests/bench/) run once, in the first backend's pass
  XRAYNET_BENCH_TESTED=$first KERAS_BACKEND=$backend "$PY" -m pytest -q "$@"
  rc=$?
  first=${first:-$backend}
  echo "=== KERAS_BACKEND=$backend: exit $rc in $((SECONDS - start)) s ==="
  if [ "$rc" -eq 5 ]; then
    echo "no tests were collected under $backend: failing" >&2
    rc=1
  fi
  [ "$rc" -eq 0 ] || status=$rc
done
exit $status
