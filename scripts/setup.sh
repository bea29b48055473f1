#!/usr/bin/env bash
# Create the project's virtual environment (.venv) with all three Keras backends
# and the evaluation stack (torch-fidelity, torchvision, scikit-image).
# Idempotent: re-running only re-installs when pyproject.toml or this file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
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
$PIP install -q -e ".[all,eval,test]"
rm -f "$VENV"/.installed-*
touch "$STAMP"
echo "environment ready: $VENV"
