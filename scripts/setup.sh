#!/usr/bin/env bash
# Create the project's virtual environment (.venv) with all three Keras backends.
# Idempotent: re-running only re-installs when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
STAMP="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ -f "$STAMP" ]; then exit 0; fi
python3 -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip
# The CPU build of torch (a local wheel on these machines; the CUDA build from
# PyPI works too but is several GB). Installed first so the extras do not pull
# another build.
$PIP install -q "${TORCH_SPEC:-torch==2.13.0}"
$PIP install -q -e ".[all,test]"
rm -f "$VENV"/.installed-*
touch "$STAMP"
echo "environment ready: $VENV"
