"""Imports run one way: evaluation/ and zoo/ use keras_gan, never the reverse (the design card),
so `pip install keras-gan` alone is a complete library."""

import pkgutil
import subprocess
import sys

import keras_gan
from tests.conftest import REPO

#: every module of the library; the per-backend step modules are imported by keras_gan.backend
#: for the active backend (each backend's test pass covers its own).
MODULES = sorted(m.name for m in pkgutil.walk_packages(keras_gan.__path__, "keras_gan.")
                 if not m.name.endswith(("_step", "torch_adam")))


def test_importing_keras_gan_never_imports_the_applications():
    """One fresh interpreter imports every library module; none may pull in evaluation or zoo."""
    code = (f"import sys, {', '.join(['keras_gan'] + MODULES)}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('evaluation', 'zoo')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_the_evaluation_command_lines_keep_the_kernel_defaults():
    from evaluation import parzen
    from keras_gan.metrics import parzen as kernel

    assert parzen.SIGMA_GRID_DEFAULT == kernel.SIGMA_GRID == parzen.SIGMA_GRID
    assert parzen.BATCH_SIZE_DEFAULT == kernel.BATCH_SIZE
    assert parzen.select_sigma is kernel.select_sigma
