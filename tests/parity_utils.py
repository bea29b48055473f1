"""Helpers of the cross-backend parity tests and of their worker scripts.

A parity test runs one training step from the same weights and data under
every Keras backend (`parity_results`: the test's own backend in-process, each
other one in a subprocess, since Keras fixes its backend at import time), and
compares what the workers returned. The workers (`parity_worker*.py`) import
this module too, so it imports only numpy at the top: Keras is imported inside
the functions, after KERAS_BACKEND is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np


# ------------------------------------------------------------- test side
def global_norm(arrays: Iterable[np.ndarray]) -> float:
    """The L2 norm of all the arrays together, in float64."""
    return float(np.sqrt(sum(float(np.sum(np.asarray(x).astype("float64") ** 2)) for x in arrays)))


def global_rel(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """||a - b|| / ||b|| over all the arrays together (b is the reference).

    One number for a whole network, so that a tiny layer's round-off cannot
    fail the test alone while a wrong update of a large one still does.
    """
    num = np.sqrt(sum(float(np.sum((x.astype("float64") - y) ** 2)) for x, y in zip(a, b)))
    den = np.sqrt(sum(float(np.sum(y.astype("float64") ** 2)) for y in b))
    return num / max(den, 1e-30)


#: Each parity test's worker: the module whose `make_inputs()` draws its weights, data and noise
#: and the function of it that runs the step under the backend in use.
WORKERS = {
    "gan": ("tests.parity_worker", "run_all_steps"),
    "cgan": ("tests.parity_worker_cgan", "run_step"),
    "pix2pix": ("tests.parity_worker_pix2pix", "run_step"),
}
_RESULTS: dict[str, tuple[dict, dict]] = {}


def _worker(name: str):
    import importlib

    module, function = WORKERS[name]
    module = importlib.import_module(module)
    return module.make_inputs, getattr(module, function)


def parity_results(name: str, tmp_path_factory: Any, *, timeout: float = 1500) -> tuple[dict, dict]:
    """`WORKERS[name]`'s inputs and its outputs by backend.

    The first call runs every worker at once: on the backend of this test
    process in-process, and on each other backend in one subprocess that runs
    them all (Keras fixes its backend at import, and importing a backend costs
    more CPU than these small steps: one subprocess per backend, not per
    worker, keeps CI's parity tests to two imports). A worker that fails fails
    the test with the end of its stderr.
    """
    import keras

    from tests.conftest import BACKENDS, REPO  # not at the top: the workers import this module

    if not _RESULTS:
        folder = tmp_path_factory.mktemp("parity")
        here = keras.backend.backend()
        inputs = {name_: _worker(name_)[0]() for name_ in WORKERS}
        for name_, values in inputs.items():
            np.savez(folder / f"{name_}.inputs.npz", **values)
        outputs = {name_: {here: _worker(name_)[1](inputs[name_])} for name_ in WORKERS}
        for backend in BACKENDS:
            if backend == here:
                continue
            proc = subprocess.run([sys.executable, "-m", "tests.parity_utils", str(folder)],
                                  env=dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=REPO), cwd=REPO,
                                  capture_output=True, text=True, timeout=timeout)
            assert proc.returncode == 0, f"{backend} parity workers failed:\n{proc.stderr[-4000:]}"
            for name_ in WORKERS:
                outputs[name_][backend] = dict(np.load(folder / f"{name_}.{backend}.npz"))
        _RESULTS.update({name_: (inputs[name_], outputs[name_]) for name_ in WORKERS})
    return _RESULTS[name]


def _run_workers(folder: str) -> None:
    """Subprocess side of `parity_results`: every worker on KERAS_BACKEND's backend, from
    `folder/<name>.inputs.npz` to `folder/<name>.<backend>.npz`."""
    import keras

    for name in WORKERS:
        _, run = _worker(name)
        outputs = run(dict(np.load(os.path.join(folder, f"{name}.inputs.npz"))))
        np.savez(os.path.join(folder, f"{name}.{keras.backend.backend()}.npz"), **outputs)


# ----------------------------------------------------------- worker side
def random_initial_weights(rng: np.random.Generator, networks: Mapping[str, Any], prefix: str = "") -> dict:
    """`{prefix}{part}{i}`: each network's weights as built, kernels and biases redrawn N(0, 0.05).

    Drawn with numpy, so every backend starts from the same numbers; larger
    than the papers' initialisations, so that the generator's gradient
    through D is far above round-off. Other weights (batch-norm scales,
    moving statistics) keep their built values, which are the same everywhere.
    """
    import keras

    weights = {}
    for part, net in networks.items():
        for i, v in enumerate(net.weights):
            value = keras.ops.convert_to_numpy(v)
            if v.path.endswith(("kernel", "bias")):
                value = rng.normal(0.0, 0.05, value.shape).astype("float32")
            weights[f"{prefix}{part}{i}"] = value
    return weights


def assign_weights(networks: Mapping[str, Any], inputs: Mapping[str, np.ndarray], prefix: str = "") -> None:
    """Set each network's weights from `inputs[f"{prefix}{part}{i}"]`."""
    for part, net in networks.items():
        for i, v in enumerate(net.weights):
            v.assign(inputs[f"{prefix}{part}{i}"])


def dump_weights(networks: Mapping[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """Each network's weights as numpy arrays, under the keys `assign_weights` reads."""
    from keras import ops

    return {f"{prefix}{part}{i}": ops.convert_to_numpy(v) for part, net in networks.items()
            for i, v in enumerate(net.weights)}


def last_logs(history: Any, prefix: str = "") -> dict[str, np.float64]:
    """The last value of every metric of a `fit` history, as `{prefix}log_{name}`."""
    return {f"{prefix}log_{k}": np.float64(v[-1]) for k, v in history.history.items()}


def compile_with_sgd(model: Any, learning_rate: float, momentum: float) -> None:
    """SGD with momentum for both players, compiled with XLA where the backend has it (not torch).

    SGD, not Adam: Adam's first step moves every weight by about
    lr * sign(gradient), which would hide differences in the gradients.
    """
    import keras

    model.compile(
        d_optimizer=keras.optimizers.SGD(learning_rate, momentum=momentum),
        g_optimizer=keras.optimizers.SGD(learning_rate, momentum=momentum),
        jit_compile=keras.backend.backend() != "torch",
    )


if __name__ == "__main__":  # python -m tests.parity_utils FOLDER (see parity_results)
    _run_workers(sys.argv[1])
