"""keras_gan as an installed library: the wheel carries the zoo's checkpoints, an installed copy
loads every shipped entry offline from outside the repository, and checkpoints download from a
mirror with their sha256 checked."""

import os
import shutil
import subprocess
import sys

import keras
import pytest

from keras_gan import zoo
from keras_gan.zoo import weights as zoo_weights
from tests.conftest import REPO

SHIPPED = [entry.name for entry in zoo.ENTRIES if entry.sha256]


def test_checkpoints_download_from_a_mirror_with_their_hash_checked(tmp_path, monkeypatch):
    entry = zoo.get_entry("gan-mnist")
    if not entry.sha256:
        pytest.skip("gan-mnist has no published checkpoint")
    shipped = zoo.weights_path("gan-mnist", "pretrained")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(shipped, mirror / entry.weights_file)
    home = tmp_path / "keras_home"
    monkeypatch.setattr(zoo_weights, "REPO_CHECKPOINTS", str(tmp_path / "no_checkpoints_here"))
    monkeypatch.delenv(zoo.ZOO_DIR_ENV, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv(zoo_weights.WEIGHTS_URL_ENV, mirror.as_uri() + "/")
    path = zoo.weights_path("gan-mnist", "pretrained")
    assert path == str(home / "models" / "keras_gan" / entry.weights_file)
    assert zoo.sha256_of(path) == entry.sha256
    assert zoo.load("gan-mnist").generate(2, seed=0).shape == (2, 28, 28, 1)
    # A mirror serving other bytes: refused, and nothing is left in the cache for the next load.
    os.remove(path)
    data = bytearray((mirror / entry.weights_file).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (mirror / entry.weights_file).write_bytes(bytes(data))
    with pytest.raises(zoo.ZooWeightsError, match=f"Could not download.*{zoo_weights.WEIGHTS_URL_ENV}"):
        zoo.weights_path("gan-mnist", "pretrained")
    assert not os.path.exists(path)
    # Offline (nothing at the URL): the message says what to do.
    monkeypatch.setenv(zoo_weights.WEIGHTS_URL_ENV, (tmp_path / "empty").as_uri() + "/")
    with pytest.raises(zoo.ZooWeightsError, match=f"place {entry.weights_file} in \\${zoo.ZOO_DIR_ENV}"):
        zoo.weights_path("gan-mnist", "pretrained")


_LOAD_EVERY_ENTRY = """
import os, sys, numpy as np
import keras_gan
from keras_gan import zoo
assert keras_gan.__file__.startswith(sys.argv[1]), keras_gan.__file__
assert "parzen_ll" in zoo.get_entry("gan-mnist").metrics  # the measured numbers travel in the wheel
for name in sys.argv[2:]:
    model = zoo.load(name)
    entry = zoo.get_entry(name)
    if entry.family == "pix2pix":
        size = entry.config["image_size"]
        out = model.translate(np.zeros((1, size, size, 3), "float32"), seed=0)
    elif entry.family == "cgan":
        out = model.generate(np.arange(4) % 10, seed=0)
    else:
        out = model.generate(4, seed=0)
    assert np.all(np.isfinite(out)), name
    print(name, zoo.weights_path(name, "pretrained"), out.shape)
"""


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "jax",
                    reason="builds and installs the wheel (about a minute): once, in the JAX pass")
def test_the_wheel_installs_and_loads_every_shipped_entry_from_outside_the_repository(tmp_path):
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", REPO, "--no-deps", "--no-build-isolation",
                            "-w", str(wheels), "-q"], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("keras_gan-*.whl")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target),
                              str(wheel), "-q"], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    for entry in zoo.ENTRIES:
        if entry.sha256:
            assert (target / "zoo" / "checkpoints" / entry.weights_file).is_file(), entry.name
    env = {k: v for k, v in os.environ.items() if k not in (zoo.ZOO_DIR_ENV, "PYTHONPATH")}
    env.update(PYTHONPATH=str(target), KERAS_HOME=str(tmp_path / "keras_home"),
               **{zoo_weights.WEIGHTS_URL_ENV: (tmp_path / "offline").as_uri() + "/"})  # no download
    proc = subprocess.run([sys.executable, "-c", _LOAD_EVERY_ENTRY, str(target), *SHIPPED], cwd=elsewhere,
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in SHIPPED:
        assert f"{name} {target}" in proc.stdout, proc.stdout
