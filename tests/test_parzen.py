"""Parzen log-likelihood (evaluation.parzen) and the sample sources it reads (evaluation.sources).

The kernel is checked against an independent brute-force float64
implementation (explicit differences, no expansion), on random data and on
real MNIST where the expansion's cancellation is worst; plus cases with
closed-form answers.
"""

import math

import numpy as np
import pytest

import keras_gan
from evaluation import parzen, sources
from evaluation.sources import SourceError
from keras_gan import datasets, networks


def brute_force(samples, data, sigma):
    """log (1/n) sum_j N(x; s_j, sigma^2 I), float64, differences formed explicitly."""
    s = samples.reshape(len(samples), -1).astype(np.float64)
    x = data.reshape(len(data), -1).astype(np.float64)
    squared = np.concatenate([((x[i : i + 8, None, :] - s[None, :, :]) ** 2).sum(-1) for i in range(0, len(x), 8)])
    exponent = -squared / (2 * sigma**2)
    top = exponent.max(axis=1)
    log_mean = top + np.log(np.exp(exponent - top[:, None]).mean(axis=1))
    return log_mean - 0.5 * s.shape[1] * math.log(2 * math.pi * sigma**2)


# ------------------------------------------------------------------- kernel
@pytest.mark.parametrize("sigma", [0.05, 0.3, 2.0])
def test_matches_brute_force_on_random_data(sigma):
    rng = np.random.default_rng(0)
    samples = rng.uniform(0, 1, (300, 4, 5, 1)).astype("float32")
    data = rng.uniform(0, 1, (53, 4, 5, 1)).astype("float32")
    expected = brute_force(samples, data, sigma)
    for batch_size in (7, 500):  # chunks that do not divide N, and a single chunk
        got = parzen.parzen_log_likelihood(samples, data, sigma, batch_size=batch_size)
        assert got.shape == (53,) and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def mnist_parts(data_dir):
    """MNIST read once for the module: train[0:2000], validation[0:100], test[0:100]."""
    full = datasets.mnist("full_train", data_dir=data_dir).images
    test = datasets.mnist("test", data_dir=data_dir, limit=100).images
    return {"train": full[:2000], "validation": full[50000:50100], "test": test}


def test_matches_brute_force_on_real_mnist_at_every_grid_sigma(mnist_parts):
    """Where float32 cancellation in ||x||^2 + ||s||^2 - 2 x.s would exceed 1e-3 nats."""
    samples, data = mnist_parts["train"][:1500], mnist_parts["test"][:40]
    got = parzen.parzen_log_likelihoods(samples, data, parzen.SIGMA_GRID, batch_size=25)
    for k, sigma in enumerate(parzen.SIGMA_GRID):
        np.testing.assert_allclose(got[k], brute_force(samples, data, sigma), rtol=0, atol=1e-3)


def test_constant_term_with_one_sample_at_distance_zero():
    rng = np.random.default_rng(1)
    point = rng.uniform(0, 1, (1, 784)).astype("float32")
    for sigma in (0.1, 0.37, 1.0):
        ll = parzen.parzen_log_likelihood(point, point, sigma)
        np.testing.assert_allclose(ll, [-784 / 2 * math.log(2 * math.pi * sigma**2)], rtol=1e-12, atol=1e-9)


def test_closed_form_when_samples_are_the_data_points_far_apart():
    # Points 10 apart with sigma 0.1: every other kernel is e^-5000 below the
    # own one, so each point's LL = -d/2 log(2 pi sigma^2) - log(n).
    n, d, sigma = 6, 8, 0.1
    points = 10.0 * np.eye(n, d)
    ll = parzen.parzen_log_likelihood(points, points, sigma)
    expected = -d / 2 * math.log(2 * math.pi * sigma**2) - math.log(n)
    np.testing.assert_allclose(ll, np.full(n, expected), rtol=1e-12)


def test_log_mean_exp_is_stable_far_from_every_sample():
    # Every kernel underflows (exp(-5e5)) in a naive sum; the answer is finite and exact.
    samples = np.zeros((3, 4))
    data = np.full((1, 4), 50.0)  # squared distance 1e4 to every sample
    sigma = 0.1
    ll = parzen.parzen_log_likelihood(samples, data, sigma)
    expected = -1e4 / (2 * sigma**2) - 2 * math.log(2 * math.pi * sigma**2)
    np.testing.assert_allclose(ll, [expected], rtol=1e-12)


def test_select_sigma_picks_the_grid_value_with_the_best_validation_mean():
    rng = np.random.default_rng(2)
    samples = rng.uniform(0, 1, (200, 10))
    validation = rng.uniform(0, 1, (40, 10))
    grid = [1.0, 0.05, 0.3, 0.15, 0.6]  # unsorted on purpose
    best, means = parzen.select_sigma(samples, validation, grid)
    expected = {s: brute_force(samples, validation, s).mean() for s in grid}
    assert set(means) == set(grid)
    for s in grid:
        assert means[s] == pytest.approx(expected[s], abs=1e-6)
    assert best == max(expected, key=expected.get)
    assert best not in (min(grid), max(grid))  # an interior optimum: the search matters


def test_paper_grid_and_numbers():
    np.testing.assert_allclose(parzen.SIGMA_GRID, np.logspace(-1, 0, 10))
    assert (parzen.PAPER_NUMBERS["gan"].mean, parzen.PAPER_NUMBERS["gan"].se) == (225.0, 2.0)
    assert (parzen.PAPER_NUMBERS["cgan"].mean, parzen.PAPER_NUMBERS["cgan"].se) == (132.0, 1.8)


def test_standard_error_is_std_over_sqrt_n():
    values = np.array([1.0, 2.0, 4.0, 7.0])
    assert parzen.standard_error(values) == pytest.approx(np.std(values) / 2.0)


@pytest.mark.parametrize(
    "samples, data, sigma, message",
    [
        (np.zeros((5, 4)), np.zeros((3, 5)), 0.1, "4 values per example but data have 5"),
        (np.zeros((5, 4)), np.zeros((3, 4)), 0.0, "positive"),
        (np.zeros((5, 4)), np.full((3, 4), np.nan), 0.1, "NaN"),
        (np.zeros((0, 4)), np.zeros((3, 4)), 0.1, "non-empty"),
    ],
)
def test_bad_inputs_are_rejected(samples, data, sigma, message):
    with pytest.raises(ValueError, match=message):
        parzen.parzen_log_likelihood(samples, data, sigma)


# ----------------------------------------------------------------- protocol
def _small_gan(seed=7):
    g = networks.mnist_generator(latent_dim=8, hidden_units=32)
    d = networks.mnist_discriminator(units=16, pieces=3)
    return keras_gan.GAN(g, d, seed=seed)


def test_evaluate_runs_the_protocol_and_caches_the_real_data_baseline(data_dir, mnist_parts, tmp_path, monkeypatch):
    monkeypatch.setenv(parzen.CACHE_ENV, str(tmp_path / "cache"))
    gan = _small_gan()
    kwargs = dict(data_dir=data_dir, num_samples=300, num_validation=50, num_test=40, progress=False)
    result = parzen.evaluate(gan, **kwargs)

    samples = sources.load_samples(gan, 300, seed=0, progress=False)
    validation, test = mnist_parts["validation"][:50], mnist_parts["test"][:40]
    best, _ = parzen.select_sigma(samples, validation)
    lls = brute_force(samples, test, best)
    assert result.sigma == best and result.n == 40 and result.family == "gan"
    assert result.mean == pytest.approx(lls.mean(), abs=1e-3)
    assert result.se == pytest.approx(np.std(lls) / math.sqrt(40), abs=1e-3)
    assert result.paper == parzen.PAPER_NUMBERS["gan"]

    real = mnist_parts["train"][:300]
    real_sigma, _ = parzen.select_sigma(real, validation)
    assert result.baseline.sigma == real_sigma
    assert result.baseline.mean == pytest.approx(brute_force(real, test, real_sigma).mean(), abs=1e-3)
    # Real images explain real test images better than an untrained generator does.
    assert result.baseline.mean > result.mean + 50

    cached = list((tmp_path / "cache").glob("parzen_baseline_*.json"))
    assert len(cached) == 1
    monkeypatch.setattr(parzen, "_score", _fail_if_called, raising=True)
    again = parzen.real_data_baseline(validation, test, 300)  # from the cache: nothing recomputed
    assert again == result.baseline


def _fail_if_called(*args, **kwargs):
    raise AssertionError("the baseline was recomputed instead of read from the cache")


def test_evaluate_with_a_given_sigma_skips_the_search(data_dir, mnist_parts, tmp_path):
    path = str(tmp_path / "samples.npy")
    np.save(path, mnist_parts["train"][:200])
    result = parzen.evaluate(path, data_dir=data_dir, num_samples=200, sigma=0.25, num_test=30,
                             baseline=False, progress=False)
    assert result.sigma == 0.25 and result.validation_means == {} and result.baseline is None
    assert result.family is None and result.paper is None
    assert "samples file" in result.source and result.to_dict()["settings"]["sigma_given"] == 0.25


# ------------------------------------------------------------------ sources
def test_npy_uint8_and_float_sources(tmp_path):
    rng = np.random.default_rng(3)
    as_uint8 = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "u8.npy", as_uint8)
    np.save(tmp_path / "flat.npy", as_uint8.reshape(12, 784).astype("float64") / 255.0)
    np.save(tmp_path / "tanh.npy", as_uint8[..., None].astype("float32") / 127.5 - 1.0)
    a = sources.load_samples(str(tmp_path / "u8.npy"), 10)
    b = sources.load_samples(str(tmp_path / "flat.npy"), 10)
    c = sources.load_samples(str(tmp_path / "tanh.npy"), 10, value_range=(-1, 1))
    assert a.shape == (10, 28, 28, 1) and a.dtype == np.float32
    np.testing.assert_allclose(a[..., 0], as_uint8[:10] / 255.0, atol=1e-7)
    np.testing.assert_allclose(b, a, atol=1e-7)
    np.testing.assert_allclose(c, a, atol=1e-6)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.full((5, 28, 28), 1.5, "float32"), r"values in \[1\.5, 1\.5\].*\[0, 1\]"),
        (np.zeros((5, 32, 32), "float32"), r"shape \(5, 32, 32\)"),
        (np.zeros((5, 28, 28, 3), "float32"), r"shape \(5, 28, 28, 3\)"),
        (np.zeros((5, 28, 28), "int32"), "dtype int32"),
        (np.zeros((3, 784), "float32"), "holds 3 rows but 5 samples"),
    ],
)
def test_bad_npy_sources_are_rejected(tmp_path, array, message):
    path = str(tmp_path / "bad.npy")
    np.save(path, array)
    with pytest.raises(SourceError, match=message):
        sources.load_samples(path, 5)


def test_missing_corrupt_and_unknown_sources(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        sources.load_samples(str(tmp_path / "nothing.npy"), 5)
    corrupt = tmp_path / "corrupt.npy"
    corrupt.write_bytes(b"not an array")
    with pytest.raises(SourceError, match="corrupt"):
        sources.load_samples(str(corrupt), 5)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(SourceError, match="Cannot load the Keras model file"):
        sources.load_model(str(broken))
    with pytest.raises(SourceError, match="no-such-model") as info:
        sources.load_model("no-such-model")
    if hasattr(keras_gan, "zoo") and hasattr(keras_gan.zoo, "names"):
        assert keras_gan.zoo.names()[0] in str(info.value)  # the zoo's list of known names is kept


def test_gan_object_and_its_keras_file_give_the_same_samples(tmp_path):
    gan = _small_gan()
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    from_object = sources.load_samples(gan, 1500, seed=5, batch_size=1000, progress=False)
    from_file = sources.load_samples(path, 1500, seed=5, batch_size=1000, progress=False)
    assert from_object.shape == (1500, 28, 28, 1) and from_object.dtype == np.float32
    assert 0.0 <= from_object.min() and from_object.max() <= 1.0
    np.testing.assert_allclose(from_file, from_object, atol=1e-6)
    # The two batches come from different noise, not a repeated seed.
    assert not np.allclose(from_object[:500], from_object[1000:1500])
    assert not np.allclose(from_object, sources.load_samples(gan, 1500, seed=6, progress=False))
    assert sources.model_family(gan) == "gan" and sources.model_family(path) == "gan"
    assert sources.describe(path) == f"model file {path}"


class _LabelPainter:
    """Stand-in conditional generator: sample i is an image filled with label/10."""

    num_classes = 10
    name = "label_painter"

    def __init__(self):
        self.calls = []

    def generate(self, labels, seed=None):
        labels = np.asarray(labels)
        self.calls.append((len(labels), seed))
        return np.broadcast_to((labels / 10.0)[:, None, None, None], (len(labels), 28, 28, 1)).astype("float32")


def test_conditional_samples_are_split_evenly_over_the_classes():
    model = _LabelPainter()
    images = sources.load_samples(model, 1003, seed=0, batch_size=400, progress=False)
    labels = np.round(images[:, 0, 0, 0] * 10).astype(int)
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == 1003 and counts.max() - counts.min() <= 1
    assert np.all(np.diff(labels) >= 0)  # class c covers samples floor(cN/C) .. floor((c+1)N/C) - 1
    starts = [int(np.argmax(labels == c)) for c in range(10)]
    assert starts == [c * 1003 // 10 for c in range(10)]
    assert [n for n, _ in model.calls] == [400, 400, 203]
    assert len({s for _, s in model.calls}) == 3  # a different seed per batch
    assert sources.model_family(model) == "cgan"


def test_zoo_weights_files_are_sources_by_their_name(tmp_path):
    """`DIR/NAME.weights.h5` (a `zoo.train` export) loads into the zoo architecture NAME."""
    model = keras_gan.zoo.load("gan-mnist", weights=None)
    path = str(tmp_path / "gan-mnist.weights.h5")
    model.save_weights(path)
    keras_gan.zoo.write_sidecar(path)  # what zoo.train writes beside an export: the file is vouched for
    loaded = sources.load_model(path)
    np.testing.assert_allclose(loaded.generate(4, seed=2), model.generate(4, seed=2), atol=1e-6)
    assert sources.describe(path) == f"zoo weights file {path}"
    with pytest.raises(SourceError, match="not found"):
        sources.load_model(str(tmp_path / "missing" / "gan-mnist.weights.h5"))
    renamed = tmp_path / "mine.weights.h5"
    renamed.write_bytes(open(path, "rb").read())
    with pytest.raises(SourceError, match="must be a zoo entry"):
        sources.load_model(str(renamed))
    truncated = tmp_path / "t" / "gan-mnist.weights.h5"
    truncated.parent.mkdir()
    truncated.write_bytes(open(path, "rb").read()[:1000])
    with pytest.raises(SourceError, match="corrupt"):
        sources.load_model(str(truncated))
