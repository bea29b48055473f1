#!/usr/bin/env bash
# Run the whole test suite once per Keras backend; fail if any backend fails.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
PY=${VENV:-.venv}/bin/python
passed=0; failed=0; failures=""
for backend in tensorflow jax torch; do
  echo "=== KERAS_BACKEND=$backend ==="
  if KERAS_BACKEND=$backend "$PY" -m pytest -q -p no:cacheprovider "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures="$failures $backend"
  fi
done
[ -n "$failures" ] && echo "failed backends:$failures"
echo "backends: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
