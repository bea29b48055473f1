"""The GAN paper's section 4 on every backend: a discriminator trained by the library against a
fixed generator reaches D* (Proposition 1), the value it reaches is -log 4 + 2 JSD (Theorem 1),
and at p_g = p_data D stays at 1/2 and V at -log 4. Plus the closed forms themselves."""

import math

import keras
import numpy as np
import pytest

import keras_gan
from keras_gan import theory
from tests.conftest import to_numpy

#: Tolerances of the trained-D tests: |D - D*| on the region within 3 std of either density, and
#: |V(D, G) - C(G)| in nats. Measured on the three backends: |D - D*| 0.0013-0.0027 and
#: |V - C| 1e-5-2e-5 for the N(0, 1) / N(1.5, 1) pair.
D_TOLERANCE = 0.01
V_TOLERANCE = 0.001


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(one_torch_thread):
    """See `tests.conftest.one_torch_thread`."""
    yield


# ------------------------------------------------------------ closed forms
def test_jsd_and_the_training_criterion_have_the_papers_extremes():
    x = theory.grid(-12, 32, 16001)
    p = theory.gaussian_density(x, 0, 1)
    assert theory.integrate(p, x) == pytest.approx(1.0, abs=1e-9)
    assert theory.jensen_shannon(p, p, x) == pytest.approx(0.0, abs=1e-12)
    assert theory.training_criterion(p, p, x) == pytest.approx(-math.log(4), abs=1e-9)
    far = theory.gaussian_density(x, 20, 1)  # practically disjoint: JSD -> log 2, C(G) -> 0
    assert theory.jensen_shannon(p, far, x) == pytest.approx(math.log(2), abs=1e-6)
    assert theory.training_criterion(p, far, x) == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match="low < high"):
        theory.grid(1, 1)


@pytest.mark.parametrize("mean, std", [(1.5, 1.0), (0.5, 2.0), (0.0, 1.0)])
def test_theorem_1_v_at_the_optimal_d_is_minus_log_4_plus_2_jsd_and_d_star_is_the_maximum(mean, std):
    x = theory.grid(-15, 15, 12001)
    p_data, p_g = theory.gaussian_density(x, 0, 1), theory.gaussian_density(x, mean, std)
    d_star = theory.optimal_discriminator(p_data, p_g)
    v_star = theory.value_function(d_star, p_data, p_g, x)
    assert v_star == pytest.approx(theory.training_criterion(p_data, p_g, x), abs=1e-7)
    for bump in (0.05 * np.sin(x), -0.03 * np.ones_like(x)):  # any other D does worse (Prop. 1)
        other = np.clip(d_star + bump, 1e-6, 1 - 1e-6)
        assert theory.value_function(other, p_data, p_g, x) < v_star


def test_jsd_and_criterion_stay_finite_on_wide_grids():
    """On a wide grid p underflows to the smallest float64 where q is 0: (p + q) / 2 rounds to 0, and
    the textbook KL(p || m) was infinite. JSD is at most log 2, and C(G) equals V(D*, G)."""
    for low, high, points in [(-40, 40, 4001), (-60, 60, 20001), (-38.5, 45, 3001)]:
        x = theory.grid(low, high, points)
        p, q = theory.gaussian_density(x, 0, 1), theory.gaussian_density(x, 1.5, 1)
        if (low, high, points) == (-40, 40, 4001):  # the reported case really has the underflow
            assert np.any((p > 0) & (0.5 * (p + q) == 0))
        jsd = theory.jensen_shannon(p, q, x)
        assert 0 < jsd < math.log(2)
        v_star = theory.value_function(theory.optimal_discriminator(p, q), p, q, x)
        assert theory.training_criterion(p, q, x) == pytest.approx(v_star, abs=1e-9)
        assert v_star == pytest.approx(-0.94395, abs=1e-5)


@pytest.mark.parametrize("samples", [np.full(1000, 5.97),  # piled at the grid's edge
                                     np.random.default_rng(0).normal(4.0, 1.5, 5000)])  # partly outside
def test_histogram_densities_keep_their_mass_and_c_is_max_d_v(samples):
    x = theory.grid(-3, 6, 4001)
    p_g = theory.histogram_density(samples, x)
    inside = np.mean((samples >= -3) & (samples <= 6))
    assert theory.integrate(p_g, x) == pytest.approx(inside, abs=1e-12)
    p_data = theory.gaussian_density(x, 0, 1)
    v_star = theory.value_function(theory.optimal_discriminator(p_data, p_g), p_data, p_g, x)
    assert theory.training_criterion(p_data, p_g, x) == pytest.approx(v_star, abs=1e-6)
    for bump in (0.05 * np.sin(x), -0.03 * np.ones_like(x)):  # and it is the maximum over D
        other = np.clip(theory.optimal_discriminator(p_data, p_g) + bump, 1e-6, 1 - 1e-6)
        assert theory.value_function(other, p_data, p_g, x) < v_star


def test_optimal_discriminator_where_both_densities_vanish_is_one_half():
    assert theory.optimal_discriminator(np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.0, 2.0])).tolist() == [0.5, 0.5, 0.0]


def test_samples_per_mode_counts_the_ring():
    centres = keras_gan.datasets.ring_modes(8)
    points, labels = keras_gan.datasets.ring_of_gaussians(800, seed=0, return_labels=True)
    np.testing.assert_array_equal(theory.samples_per_mode(points, centres, std=0.05, within_std=6), np.bincount(labels, minlength=8))
    collapsed = np.repeat(centres[:2], 50, axis=0)
    assert theory.samples_per_mode(collapsed, centres, std=0.05).tolist() == [50, 50, 0, 0, 0, 0, 0, 0]


# ------------------------------------------------------------ trained D (the library's GAN)
def _fixed_generator_gan(scale: float, shift: float, d_start=(0.0, 0.0)) -> keras_gan.GAN:
    """x = scale z + shift, z ~ N(0, 1): p_g = N(shift, scale^2). D: a logistic regression on x,
    which can represent D* exactly for two Gaussians of equal variance (its logit is linear),
    started at logit = d_start[0] x + d_start[1]."""
    generator = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)], name="affine_g")
    generator.set_weights([np.array([[scale]], "float32"), np.array([shift], "float32")])
    discriminator = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)], name="logistic_d")
    discriminator.set_weights([np.array([[d_start[0]]], "float32"), np.array([d_start[1]], "float32")])
    gan = keras_gan.GAN(generator, discriminator, latent_prior="normal", seed=0)
    # G frozen: its optimizer's learning rate is 0, so only the discriminator learns (Prop. 1
    # holds G fixed). D: Adam with a decaying rate, to settle at the optimum.
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=100, decay_rate=0.3)
    gan.compile(d_optimizer=keras.optimizers.Adam(schedule), g_optimizer=keras.optimizers.SGD(0.0))
    return gan


def _train_d(gan, seed=0):
    keras.utils.set_random_seed(seed)
    real = np.random.default_rng(seed).standard_normal((32768, 1)).astype("float32")  # p_data = N(0, 1)
    before = [to_numpy(w).copy() for w in gan.generator.weights]
    gan.fit(real, batch_size=1024, epochs=10, verbose=0)
    for a, b in zip(before, gan.generator.weights):
        np.testing.assert_array_equal(a, to_numpy(b))  # G really stayed fixed


def _d_on(gan, x):
    logits = to_numpy(gan.discriminator(x[:, None].astype("float32"), training=False))[:, 0]
    return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))


def test_proposition_1_and_theorem_1_with_a_trained_discriminator():
    gan = _fixed_generator_gan(scale=1.0, shift=1.5)
    _train_d(gan)
    x = theory.grid(-10, 12, 8001)
    p_data, p_g = theory.gaussian_density(x, 0, 1), theory.affine_gaussian_density(x, 1.0, 1.5)
    d_star = theory.optimal_discriminator(p_data, p_g)
    d = _d_on(gan, x)
    support = (x > -3) & (x < 4.5)  # 3 std around each density
    error = np.max(np.abs(d - d_star)[support])
    print(f"max |D - D*| on the support: {error:.4f}")
    assert error < D_TOLERANCE
    v = theory.value_function(d, p_data, p_g, x)
    c = theory.training_criterion(p_data, p_g, x)
    print(f"V(D, G) = {v:.5f}, -log 4 + 2 JSD = {c:.5f}")
    assert abs(v - c) < V_TOLERANCE
    assert c > theory.MINUS_LOG_4 + 0.2  # a generator this far off is clearly above the minimum


def test_at_p_g_equal_p_data_d_goes_to_one_half_and_v_to_minus_log_4():
    """D starts far from 1/2 (logit 1.5 x + 1), so only training can bring it there."""
    gan = _fixed_generator_gan(scale=1.0, shift=0.0, d_start=(1.5, 1.0))
    x = theory.grid(-10, 10, 8001)
    p = theory.gaussian_density(x, 0, 1)
    assert np.max(np.abs(_d_on(gan, x) - 0.5)[(x > -3) & (x < 3)]) > 0.4
    assert theory.value_function(_d_on(gan, x), p, p, x) < theory.MINUS_LOG_4 - 0.3
    _train_d(gan)
    d = _d_on(gan, x)
    assert np.max(np.abs(d - 0.5)[(x > -3) & (x < 3)]) < D_TOLERANCE
    assert theory.value_function(d, p, p, x) == pytest.approx(theory.MINUS_LOG_4, abs=V_TOLERANCE)


def test_g_steps_trains_the_generator_several_times_per_discriminator_update():
    """The knob of the mode-collapse experiment (training G "too much without updating D")."""
    from tests.test_gan import compiled, images, small_gan

    gan = compiled(small_gan(g_steps=3))
    gan.fit(images(32), batch_size=16, epochs=1, verbose=0)
    assert int(to_numpy(gan.d_optimizer.iterations)) == 2 and int(to_numpy(gan.g_optimizer.iterations)) == 6
    assert keras_gan.GAN.from_config(gan.get_config()).g_steps == 3
    with pytest.raises(ValueError, match="g_steps must be an integer >= 1"):
        small_gan(g_steps=0)
    with pytest.raises(ValueError, match="update_rule='simultaneous'.*g_steps=2"):
        small_gan(g_steps=2, update_rule="simultaneous")
