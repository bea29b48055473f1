#!/usr/bin/env bash
# Run the whole test suite once per Keras backend; fail if any backend fails.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
#
# The three passes run side by side (KERAS_GAN_TEST_JOBS at once, default 3):
# each pass is mostly one Python thread waiting on small computations and
# subprocesses, so on CI's 2 cores running them together takes far less wall
# time than one after the other (which was close to CI's 40-minute limit).
# Each pass writes its own log (ending with its 15 slowest tests: what to trim when CI nears its
# 40-minute limit) and temporary folder; the logs are printed in
# backend order as the passes finish. KERAS_GAN_TEST_JOBS=1 runs them in turn.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
PY=${VENV:-.venv}/bin/python
JOBS=${KERAS_GAN_TEST_JOBS:-3}
BACKENDS=(tensorflow jax torch)
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/keras-gan-tests.XXXXXX")
trap 'rm -rf "$LOGS"' EXIT

run_pass() {  # backend: its pytest run, output to $LOGS/backend.log, exit status to $LOGS/backend.rc
  local backend=$1 start=$SECONDS
  shift
  KERAS_BACKEND=$backend "$PY" -m pytest -q -p no:cacheprovider --durations=15 --basetemp="$LOGS/tmp-$backend" "$@" \
    > "$LOGS/$backend.log" 2>&1
  echo $? > "$LOGS/$backend.rc"
  echo "=== KERAS_BACKEND=$backend: $((SECONDS - start)) s" >> "$LOGS/$backend.log"
}

running=0
for backend in "${BACKENDS[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
  echo "=== KERAS_BACKEND=$backend started"
  run_pass "$backend" "$@" &
  running=$((running + 1))
done
wait

passed=0; failed=0; failures=""
for backend in "${BACKENDS[@]}"; do
  echo "=== KERAS_BACKEND=$backend ==="
  cat "$LOGS/$backend.log"
  if [ "$(cat "$LOGS/$backend.rc" 2>/dev/null)" = "0" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures="$failures $backend"
  fi
done
[ -n "$failures" ] && echo "failed backends:$failures"
echo "backends: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
