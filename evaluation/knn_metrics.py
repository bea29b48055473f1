"""Precision, recall, density and coverage of two feature sets: k-NN manifold metrics, numpy in and out.

    from evaluation.knn_metrics import prdc
    scores = prdc(real_features, fake_features)   # {"precision", "recall", "density", "coverage", ...}

Why these four: FID and the Parzen estimate fold quality and diversity into one
number, so a generator that draws only a few modes perfectly can score like one
that draws every mode badly. Kynkaanniemi et al. 2019 ("Improved precision and
recall", k = 3) estimate each set's manifold as the union of balls reaching each
point's k-th nearest neighbour: precision is the share of fake points inside the
real manifold (quality), recall the share of real points inside the fake one
(diversity; it falls under mode collapse). Naeem et al. 2020 (k = 5) replace
them by density (how many real balls hold each fake point, / k: about 1 for a
match, it need not stay below 1) and coverage (the share of real points whose
own ball holds a fake point), which outliers in the fake set cannot inflate.

Nothing is reimplemented: precision/recall/density/coverage come from the
`prdc` package (Naeem et al.'s code), and precision/recall again from
torch-fidelity 0.4 (`torch_fidelity_precision_recall`) as a check. The two
compute the same k-NN balls and differ only at a distance exactly equal to a
radius (prdc counts it outside, torch-fidelity inside), which needs exactly
repeated points (e.g. a generator collapsed onto identical outputs).

The numbers depend on the set sizes (the balls shrink as a set grows): compare
only results computed with the same numbers of real and fake points.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

#: k of the paper each metric comes from: Kynkaanniemi et al. 2019 (precision, recall), Naeem et al. 2020.
PR_K = 3
DC_K = 5
METRICS = ("precision", "recall", "density", "coverage")


def _checked_features(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    real = np.asarray(real, dtype=np.float32)
    fake = np.asarray(fake, dtype=np.float32)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be two 2-D arrays (N, d) with the same d; got {real.shape} and "
                         f"{fake.shape}. Flatten images or take an extractor's features first.")
    smallest = min(len(real), len(fake))
    if smallest <= k:
        raise ValueError(f"each set needs more than k = {k} points for a k-th nearest neighbour; got "
                         f"{len(real)} real and {len(fake)} fake.")
    if not (np.all(np.isfinite(real)) and np.all(np.isfinite(fake))):
        raise ValueError("features contain NaN or inf; check the samples the features came from.")
    return real, fake


def prdc(real: np.ndarray, fake: np.ndarray, *, pr_k: int = PR_K, dc_k: int = DC_K) -> dict[str, float]:
    """Precision and recall at `pr_k` neighbours, density and coverage at `dc_k`, by the `prdc` package.

    Args:
        real: (N, d) features of real data (the reference manifold).
        fake: (M, d) features of generated samples.
        pr_k, dc_k: the k of each pair (defaults: the papers' 3 and 5).

    Returns:
        {"precision", "recall", "density", "coverage"} as floats, plus
        "pr_k", "dc_k", "num_real", "num_fake".
    """
    import prdc as prdc_package

    real, fake = _checked_features(real, fake, max(pr_k, dc_k))
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the sizes
        at_pr = prdc_package.compute_prdc(real, fake, nearest_k=pr_k)
        at_dc = at_pr if dc_k == pr_k else prdc_package.compute_prdc(real, fake, nearest_k=dc_k)
    return {"precision": float(at_pr["precision"]), "recall": float(at_pr["recall"]),
            "density": float(at_dc["density"]), "coverage": float(at_dc["coverage"]),
            "pr_k": int(pr_k), "dc_k": int(dc_k), "num_real": len(real), "num_fake": len(fake)}


# ------------------------------------------------------- torch-fidelity's precision/recall
_BOOT = (
    "import torch_fidelity  # first: before anything that may import tensorflow\n"
    "import sys\n"
    "from evaluation.knn_metrics import _worker_main\n"
    "sys.exit(_worker_main(sys.argv[1]))\n"
)
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _torch_fidelity_safe_here() -> bool:
    """torch-fidelity (torchvision, triton) imported after TensorFlow aborts the interpreter;
    see evaluation/fidelity.py. Safe when TensorFlow is absent or torchvision came first."""
    return "tensorflow" not in sys.modules or "torchvision" in sys.modules


def _torch_fidelity_pr(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    import torch
    from torch_fidelity.metric_prc import calculate_precision_recall_part

    # torch-fidelity's convention: features_1 generated, features_2 real; blocks bound the memory. In float64:
    # torch.cdist's matrix-product form loses float32 digits when the points are far from the origin
    # compared with their spacing (the ring: one point in 600 fell on the other side of a radius).
    precision, recall = calculate_precision_recall_part(torch.from_numpy(fake).double(),
                                                        torch.from_numpy(real).double(),
                                                        neighborhood=k, batch_size=2000)
    return {"precision": float(precision), "recall": float(recall)}


def torch_fidelity_precision_recall(real: np.ndarray, fake: np.ndarray, *, k: int = PR_K) -> dict[str, float]:
    """Precision and recall at `k` neighbours by torch-fidelity 0.4 (`metric_prc`), on the same features.

    In a process that has imported TensorFlow (and not torchvision) this runs
    in a fresh interpreter that imports torch-fidelity first (a few seconds to
    start), the features travelling through temporary `.npy` files; to check
    several pairs, `torch_fidelity_precision_recall_many` starts it once.
    """
    return torch_fidelity_precision_recall_many([(real, fake)], k=k)[0]


def torch_fidelity_precision_recall_many(pairs, *, k: int = PR_K) -> list[dict[str, float]]:
    """`torch_fidelity_precision_recall` of each (real, fake) pair, in one worker process at most."""
    pairs = [_checked_features(real, fake, k) for real, fake in pairs]
    if _torch_fidelity_safe_here():
        import torch_fidelity  # noqa: F401  (before anything that may import tensorflow)

        return [_torch_fidelity_pr(real, fake, k) for real, fake in pairs]
    with tempfile.TemporaryDirectory(prefix="keras_gan_knn_") as folder:
        for i, (real, fake) in enumerate(pairs):
            np.save(os.path.join(folder, f"real{i}.npy"), real)
            np.save(os.path.join(folder, f"fake{i}.npy"), fake)
        with open(os.path.join(folder, "request.json"), "w") as f:
            json.dump({"k": int(k), "pairs": len(pairs)}, f)
        python_path = os.environ.get("PYTHONPATH")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([_PACKAGE_PARENT] + ([python_path] if python_path else [])))
        subprocess.run([sys.executable, "-c", _BOOT, folder], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)
        result_path = os.path.join(folder, "result.json")
        if not os.path.exists(result_path):
            raise RuntimeError("torch-fidelity's precision/recall worker exited without a result; its messages "
                               "on stderr say why.")
        with open(result_path) as f:
            result = json.load(f)
    if "error" in result:
        raise RuntimeError(f"torch-fidelity's precision/recall worker failed: {result['error']}")
    return result["scores"]


def _worker_main(folder: str) -> int:
    """The worker side of `torch_fidelity_precision_recall_many` (a process that imported torch-fidelity first)."""
    try:
        with open(os.path.join(folder, "request.json")) as f:
            request = json.load(f)
        scores = []
        for i in range(request["pairs"]):
            real = np.load(os.path.join(folder, f"real{i}.npy"), allow_pickle=False)
            fake = np.load(os.path.join(folder, f"fake{i}.npy"), allow_pickle=False)
            scores.append(_torch_fidelity_pr(real, fake, request["k"]))
        result, status = {"scores": scores}, 0
    except Exception as e:  # reported to the parent
        result, status = {"error": f"{type(e).__name__}: {e}"}, 1
    with open(os.path.join(folder, "result.json"), "w") as f:
        json.dump(result, f)
    return status


def both_libraries(real: np.ndarray, fake: np.ndarray, *, pr_k: int = PR_K, dc_k: int = DC_K) -> dict[str, float]:
    """`prdc(...)` plus torch-fidelity's precision/recall on the same features, as
    "tf_precision" / "tf_recall", and the larger absolute difference as "pr_disagreement"."""
    scores = prdc(real, fake, pr_k=pr_k, dc_k=dc_k)
    check = torch_fidelity_precision_recall(real, fake, k=pr_k)
    scores.update(tf_precision=check["precision"], tf_recall=check["recall"],
                  pr_disagreement=max(abs(check["precision"] - scores["precision"]),
                                      abs(check["recall"] - scores["recall"])))
    return scores


def per_class(real: np.ndarray, real_labels: np.ndarray, fake: np.ndarray, fake_labels: np.ndarray,
              num_classes: int, *, pr_k: int = PR_K, dc_k: int = DC_K) -> list[dict[str, float]]:
    """`prdc` within each class: the real points of class c against the fake points asked for class c.

    Does a conditional generator cover each class? A per-class recall or
    coverage far below the real reference's says which classes it misses.
    """
    real_labels, fake_labels = np.asarray(real_labels), np.asarray(fake_labels)
    if len(real_labels) != len(real) or len(fake_labels) != len(fake):
        raise ValueError(f"one label per point: got {len(real_labels)} labels for {len(real)} real points and "
                         f"{len(fake_labels)} for {len(fake)} fake ones.")
    return [prdc(real[real_labels == c], fake[fake_labels == c], pr_k=pr_k, dc_k=dc_k) for c in range(num_classes)]


def ring(samples: np.ndarray, *, num_modes: int = 8, radius: float = 2.0, std: float = 0.05,
         seed: int = 12345) -> dict[str, float]:
    """The four metrics of 2-D samples against as many fresh points of the ring of Gaussians, beside the mode count.

    The ring (`keras_gan.datasets.ring_of_gaussians`) is the mode-collapse
    picture: the mode count says how many of its `num_modes` modes received
    samples (`count_covered_modes`); recall and coverage put a number on the
    same thing without knowing where the modes are, which is what makes them
    usable on images. The points themselves are the features. `seed` draws
    the real set (a seed the training data is unlikely to use).
    """
    from keras_gan.datasets.toy import count_covered_modes, ring_of_gaussians

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(f"ring samples must be 2-D points (N, 2); got shape {samples.shape}.")
    real = ring_of_gaussians(len(samples), num_modes=num_modes, radius=radius, std=std, seed=seed)
    scores = prdc(real, samples)
    modes, near_fraction = count_covered_modes(samples, num_modes=num_modes, radius=radius, std=std)
    scores.update(modes_covered=modes, num_modes=num_modes, near_mode_fraction=near_fraction)
    return scores
