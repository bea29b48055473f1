"""Helpers of the cross-backend parity tests and of their worker scripts.

A parity test runs one training step from the same weights and data under
every Keras backend, each in its own subprocess (Keras fixes its backend at
import time), and compares what the workers saved. The workers
(`parity_worker*.py`) import this module too, so it imports only numpy at the
top: Keras is imported inside the functions, after KERAS_BACKEND is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
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


def run_parity_workers(
    worker: str, inputs: Mapping[str, Any], folder: Path, *, timeout: float = 600
) -> dict[str, dict[str, np.ndarray]]:
    """Run `tests/<worker> INPUTS.npz OUTPUT.npz` under every backend; its outputs by backend.

    `inputs` is saved to `folder/inputs.npz`; a worker that fails fails the
    test with the end of its stderr.
    """
    from tests.conftest import BACKENDS, REPO  # not at the top: the workers import this module

    np.savez(folder / "inputs.npz", **inputs)
    out = {}
    for backend in BACKENDS:
        target = folder / f"{backend}.npz"
        proc = subprocess.run(
            [sys.executable, os.path.join(REPO, "tests", worker), str(folder / "inputs.npz"), str(target)],
            env=dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=REPO),
            capture_output=True, text=True, timeout=timeout,
        )
        assert proc.returncode == 0, f"{backend} worker failed:\n{proc.stderr[-4000:]}"
        out[backend] = dict(np.load(target))
    return out


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
