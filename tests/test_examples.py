"""The user-level example that defines a new adversarial model with the public step API
(`examples/hinge_r1_gan.py`) trains on real MNIST under this pass's backend, as the README shows."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image

from tests.conftest import REPO


def test_hinge_r1_example_trains_on_mnist(data_dir, tmp_path):
    import keras

    out = tmp_path / "samples.png"
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "examples", "hinge_r1_gan.py"), "--limit", "256", "--epochs", "1",
         "--out", str(out)],
        env=dict(os.environ, KERAS_BACKEND=keras.backend.backend(), KERAS_GAN_DATA_DIR=str(data_dir),
                 PYTHONPATH=REPO),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{keras.backend.backend()}: samples in" in proc.stdout
    logs = [line for line in proc.stdout.splitlines() if "d_loss:" in line]
    assert logs, proc.stdout
    values = dict(part.split(": ") for part in logs[-1].split(" - ")[3:])
    assert set(values) == {"d_loss", "g_loss", "r1"} and all(np.isfinite(float(v)) for v in values.values())
    assert float(values["r1"]) > 0  # the penalty was computed (a zero input gradient would give 0)
    grid = np.asarray(Image.open(out))
    assert grid.shape[:2] == (8 * 28 + 9, 8 * 28 + 9) and grid.std() > 0
