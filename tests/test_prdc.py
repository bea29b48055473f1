"""Precision / recall / density / coverage (`evaluation.knn_metrics`, `evaluation.prdc`).

Feature sets whose answers are known, through both libraries on the same
features (the prdc package, and torch-fidelity's precision / recall, started
once in a worker process); the command line's refusals (exit 2, nothing
written); one small real run. Backend-independent: one pass.
"""

import json
import os

import numpy as np
import pytest

from evaluation import knn_metrics, prdc
from keras_gan.datasets import ring_of_gaussians
from tests.conftest import one_pass

pytestmark = one_pass("tensorflow", why="metric math and command-line checks on numpy features")

N = 800


@pytest.fixture(scope="module")
def cases():
    """name -> (real, fake) feature sets with known answers."""
    rng = np.random.default_rng(0)
    same = rng.standard_normal((N, 16)).astype("float32")
    ring, labels = ring_of_gaussians(2 * N, seed=1, return_labels=True)
    three_modes = ring[labels < 3]  # a generator that draws 3 of the 8 modes, perfectly
    full_ring = ring_of_gaussians(len(three_modes), seed=2)
    return {"identical": (same, same), "disjoint": (same, same + 100.0), "three_of_eight": (full_ring, three_modes)}


@pytest.fixture(scope="module")
def both(cases):
    """Each case through the prdc package and through torch-fidelity (one worker for all)."""
    checks = knn_metrics.torch_fidelity_precision_recall_many(list(cases.values()))
    return {name: (knn_metrics.prdc(*pair), check) for (name, pair), check in zip(cases.items(), checks)}


def test_identical_sets_score_one(both):
    scores, check = both["identical"]
    assert [scores[k] for k in knn_metrics.METRICS] == [1.0, 1.0, 1.0, 1.0]
    assert (check["precision"], check["recall"]) == (1.0, 1.0)


def test_disjoint_sets_score_zero(both):
    scores, check = both["disjoint"]
    assert [scores[k] for k in knn_metrics.METRICS] == [0.0, 0.0, 0.0, 0.0]
    assert (check["precision"], check["recall"]) == (0.0, 0.0)


def test_three_of_eight_modes_recall_three_eighths_precision_one(both):
    scores, check = both["three_of_eight"]
    assert scores["precision"] > 0.95 and check["precision"] > 0.95
    assert abs(scores["recall"] - 3 / 8) < 0.05 and abs(check["recall"] - 3 / 8) < 0.05
    assert abs(scores["coverage"] - 3 / 8) < 0.05
    assert 0.8 < scores["density"] < 1.2  # the samples sit where real data is dense, as densely


def test_the_two_libraries_agree_on_the_same_features(both):
    for name, (scores, check) in both.items():
        assert abs(scores["precision"] - check["precision"]) < 1e-6, name
        assert abs(scores["recall"] - check["recall"]) < 1e-6, name


def test_ring_counts_modes_beside_recall(cases):
    result = knn_metrics.ring(cases["three_of_eight"][1])
    assert result["modes_covered"] == 3 and result["num_modes"] == 8
    assert abs(result["recall"] - 3 / 8) < 0.05 and result["precision"] > 0.95
    everything = knn_metrics.ring(ring_of_gaussians(N, seed=3))
    assert everything["modes_covered"] == 8 and everything["recall"] > 0.9


def test_per_class_finds_the_missing_class():
    """A conditional generator whose class 0 lands off the data: recall and coverage 0 there, high elsewhere."""
    real, real_labels = ring_of_gaussians(N, num_modes=2, seed=5, return_labels=True)
    fake, fake_labels = ring_of_gaussians(N, num_modes=2, seed=6, return_labels=True)
    fake = fake + np.where(fake_labels[:, None] == 0, 100.0, 0.0).astype("float32")
    rows = knn_metrics.per_class(real, real_labels, fake, fake_labels, 2)
    assert rows[0]["recall"] == 0.0 and rows[0]["coverage"] == 0.0 and rows[0]["precision"] == 0.0
    assert rows[1]["recall"] > 0.9 and rows[1]["coverage"] > 0.9 and rows[1]["precision"] > 0.9


@pytest.mark.parametrize("real, fake, message", [
    (np.zeros((10, 3)), np.zeros((10, 4)), "same d"),
    (np.zeros((5, 3)), np.zeros((10, 3)), "more than k"),
    (np.full((10, 3), np.nan), np.zeros((10, 3)), "NaN"),
])
def test_bad_features_say_what_is_wrong(real, fake, message):
    with pytest.raises(ValueError, match=message):
        knn_metrics.prdc(real, fake)


@pytest.mark.parametrize("argv, message", [
    (["real:nope"], "Unknown real set"),
    (["real:test", "--features", "inception", "--inception-weights", "/nonexistent/inception.pth"], "inception"),
    (["real:test", "--inception-weights", "w.pth"], "only used with --features inception"),
    (["real:test", "--num-samples", "5"], "more than k"),
    (["real:test", "--num-samples", "0"], None),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "out.json"
    assert prdc.main(argv + ["--json", str(out)]) == 2
    assert not out.exists() and os.listdir(tmp_path) == []
    if message:
        assert message.lower() in capsys.readouterr().err.lower()


def test_real_digits_against_noise(tmp_path, data_dir):
    """A small real run: real test digits cover the train manifold, uniform noise does not;
    the JSON states the counts and holds the per-digit rows."""
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).uniform(0, 1, (300, 28, 28)).astype("float32"))
    common = ["--num-samples", "300", "--num-reference", "300", "--per-class-samples", "20", "--data-dir", data_dir,
              "--no-check", "--quiet"]
    assert prdc.main(["real:test", *common, "--json", str(tmp_path / "real.json")]) == 0
    assert prdc.main([str(noise), *common, "--json", str(tmp_path / "noise.json")]) == 0
    real = json.loads((tmp_path / "real.json").read_text())
    fake = json.loads((tmp_path / "noise.json").read_text())
    assert (real["num_samples"], real["num_reference"]) == (300, 300) == (fake["num_samples"], fake["num_reference"])
    assert real["scores"]["precision"] > 0.7 and real["scores"]["recall"] > 0.7 and real["scores"]["coverage"] > 0.8
    assert fake["scores"]["precision"] < 0.05 and fake["scores"]["coverage"] < 0.05
    assert len(real["per_class"]) == 10 and real["per_class_samples"] == 20 and fake["per_class"] is None
