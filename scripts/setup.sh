#!/usr/bin/env bash
# Create the project's virtual environment (.venv) with all three Keras backends
# and the evaluation stack (torch-fidelity, torchvision, scikit-image).
# Idempotent: re-running only re-installs when pyproject.toml or this file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
# The demo's browser test drives the OS's Chromium (Playwright's own browser download needs a
# host that is not a package registry). Installed here when missing and we may (root, apt-get);
# if it cannot be, say so: the test then fails under CI=true and skips elsewhere.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "setup: could not install chromium; the demo's browser test will fail under CI" >&2
  else
    echo "setup: no chromium (install the OS package 'chromium'); the demo's browser test needs it" >&2
  fi
fi
STAMP="$VENV/.installed-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$STAMP" ]; then exit 0; fi
python3 -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip
# torch + torchvision as one matching pair: torch-fidelity needs torchvision, and
# PyPI's torchvision does not import beside a CPU-only torch wheel built
# elsewhere ("operator torchvision::nms does not exist"). Installed first so the
# extras do not pull another build. The CUDA build runs on the CPU too.
$PIP install -q ${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
$PIP install -q -e ".[all,eval,test,demo,export]"
rm -f "$VENV"/.installed-*
touch "$STAMP"
echo "environment ready: $VENV"
