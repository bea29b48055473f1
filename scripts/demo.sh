#!/usr/bin/env bash
# Train the GAN paper's MNIST model for a few epochs and write sample grids.
# Usage: bash scripts/demo.sh [--epochs N] [--backend jax|tensorflow|torch] [--data-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${VENV:-.venv}/bin/python" examples/train_gan_mnist.py "$@"
