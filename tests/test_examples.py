"""The user-level example that defines a new adversarial model with the public step API
(`examples/hinge_r1_gan.py`) trains on real MNIST under this pass's backend, as the README shows."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image

from tests.conftest import REPO, one_pass


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


@one_pass("jax", "the README's first command; the example's training is fit, tested on every backend elsewhere")
def test_first_command_shows_the_short_run_beside_the_trained_zoo_model(data_dir, tmp_path):
    """`bash scripts/demo.sh` runs this script: after a short run it writes the zoo checkpoint's samples
    and a side-by-side image, and says on screen what the user is looking at."""
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "examples", "train_gan_mnist.py"), "--epochs", "1", "--limit", "500",
         "--out", str(tmp_path), "--data-dir", str(data_dir)],
        env=dict(os.environ, PYTHONPATH=REPO), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("samples.png", "zoo_samples.png", "comparison.png", "losses.png"):
        assert (tmp_path / name).is_file(), name
    assert "that is normal, not a bug" in proc.stdout and "1256 epochs" in proc.stdout
    short, trained = (np.asarray(Image.open(tmp_path / n), dtype="float32") for n in ("samples.png", "zoo_samples.png"))
    side = np.asarray(Image.open(tmp_path / "comparison.png"))
    assert side.shape[1] == short.shape[1] + trained.shape[1] + 12
    assert trained.std() > 30  # the trained model's digits: strokes on a dark background, not a blank grid
