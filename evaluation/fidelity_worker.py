"""Run `fidelity_engine.compute_with_torch_fidelity` in a separate Python process.

Why: in a process that has imported TensorFlow, importing torch-fidelity
(torchvision, triton) aborts the interpreter ("LLVM ERROR: inconsistency in
registered CommandLine options"); a fresh interpreter that imports
torch-fidelity *first* is safe, even if something it imports later loads
TensorFlow. The parent writes the uint8 images as `.npy` files and the
options as JSON into a temporary folder; the worker writes back the metrics,
or the type and message of its error, which the parent raises again.

This module imports neither torch nor torch-fidelity in the parent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from evaluation.inception_weights import InceptionWeightsError
from evaluation.sources import SourceError

REQUEST_FILE, SAMPLES_FILE, REFERENCE_FILE, RESULT_FILE = "request.json", "samples.npy", "reference.npy", "result.json"
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BOOT = (
    "import torch_fidelity  # first: before anything that may import tensorflow\n"
    "import sys\n"
    "from evaluation.fidelity_worker import worker_main\n"
    "sys.exit(worker_main(sys.argv[1]))\n"
)
#: errors the worker may report that the parent raises as the same type.
_ERRORS = {
    cls.__name__: cls
    for cls in (InceptionWeightsError, SourceError, FileNotFoundError, ValueError)
}


def _error_types() -> dict:
    from evaluation.mnist_classifier import ClassifierCheckpointError  # imports torch: only on error

    from evaluation.facade_segmenter import SegmenterCheckpointError

    return {**_ERRORS, "ClassifierCheckpointError": ClassifierCheckpointError,
            "SegmenterCheckpointError": SegmenterCheckpointError}


def run_in_worker(samples: np.ndarray, reference: np.ndarray | None, request: dict) -> dict[str, float]:
    """`compute_with_torch_fidelity(samples, reference, **request)` in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="keras_gan_fidelity_") as folder:
        np.save(os.path.join(folder, SAMPLES_FILE), samples)
        if reference is not None:
            np.save(os.path.join(folder, REFERENCE_FILE), reference)
        with open(os.path.join(folder, REQUEST_FILE), "w") as f:
            json.dump(request, f)
        python_path = os.environ.get("PYTHONPATH")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([_PACKAGE_PARENT] + ([python_path] if python_path else [])))
        # The worker's stdout goes to our stderr, keeping stdout for results.
        status = subprocess.run(
            [sys.executable, "-c", _BOOT, folder], env=env, stdin=subprocess.DEVNULL, stdout=_stderr_fd(),
        ).returncode
        result_path = os.path.join(folder, RESULT_FILE)
        if not os.path.exists(result_path):
            raise RuntimeError(
                f"The torch-fidelity worker process exited with status {status} without a result; "
                "its messages on stderr say why."
            )
        with open(result_path) as f:
            result = json.load(f)
    if "error" in result:
        kind, message = result["error"]["type"], result["error"]["message"]
        known = _error_types()
        raise known[kind](message) if kind in known else RuntimeError(f"{kind} in the torch-fidelity worker: {message}")
    return result["metrics"]


def _stderr_fd() -> int | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stderr without a file descriptor
        return None


def worker_main(folder: str) -> int:
    """The worker: read the request from `folder`, compute, write `result.json`
    ({"metrics": {...}} or {"error": {"type", "message"}}); 0 on success."""
    try:
        from evaluation.fidelity_engine import compute_with_torch_fidelity

        with open(os.path.join(folder, REQUEST_FILE)) as f:
            request = json.load(f)
        samples = np.load(os.path.join(folder, SAMPLES_FILE), allow_pickle=False)
        reference_path = os.path.join(folder, REFERENCE_FILE)
        reference = np.load(reference_path, allow_pickle=False) if os.path.exists(reference_path) else None
        result = {"metrics": compute_with_torch_fidelity(samples, reference, **request)}
        status = 0
    except Exception as e:  # reported to the parent, which raises it again with the same message
        result = {"error": {"type": type(e).__name__, "message": str(e)}}
        status = 1
    with open(os.path.join(folder, RESULT_FILE), "w") as f:
        json.dump(result, f)
    return status
