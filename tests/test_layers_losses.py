import keras
import numpy as np
import pytest

from keras_gan import Maxout, losses
from tests.conftest import to_numpy


def test_maxout_matches_numpy_and_groups_pieces_per_unit():
    layer = Maxout(3, 4)
    x = np.random.default_rng(0).normal(size=(5, 7)).astype("float32")
    y = to_numpy(layer(x))
    w, b = (to_numpy(v) for v in layer.weights)
    z = (x @ w + b).reshape(5, 3, 4)
    np.testing.assert_allclose(y, z.max(axis=-1), rtol=1e-5, atol=1e-6)
    assert y.shape == (5, 3)


def test_maxout_serialises_and_rejects_bad_arguments():
    layer = Maxout(6, 2, kernel_constraint=keras.constraints.MaxNorm(1.9365, axis=0), name="mx")
    clone = Maxout.from_config(layer.get_config())
    assert (clone.units, clone.pieces) == (6, 2)
    assert isinstance(clone.kernel_constraint, keras.constraints.MaxNorm)
    with pytest.raises(ValueError, match="units > 0"):
        Maxout(0, 5)


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def test_losses_match_equation_1_and_stay_finite_for_extreme_logits():
    real = np.array([2.0, -1.0, 0.5], "float32")
    fake = np.array([-3.0, 0.0, 1.5], "float32")
    d = float(to_numpy(losses.discriminator_loss(real, fake)))
    expect = -(np.mean(np.log(1 / (1 + np.exp(-real)))) + np.mean(np.log(1 - 1 / (1 + np.exp(-fake)))))
    assert d == pytest.approx(expect, rel=1e-5)
    ns = float(to_numpy(losses.generator_loss(fake, "non_saturating")))
    mm = float(to_numpy(losses.generator_loss(fake, "minimax")))
    assert ns == pytest.approx(-np.mean(_log_sigmoid(fake)), rel=1e-5)
    assert mm == pytest.approx(np.mean(np.log(1 - 1 / (1 + np.exp(-fake)))), rel=1e-5)
    extreme = np.array([200.0, -200.0], "float32")
    assert np.isfinite(to_numpy(losses.discriminator_loss(extreme, extreme)))
    assert float(to_numpy(losses.generator_loss(np.array([-200.0], "float32")))) == pytest.approx(200.0)
    with pytest.raises(ValueError, match="non_saturating"):
        losses.generator_loss(fake, "wasserstein")


def test_output_bias_from_marginals_clips_as_pylearn2():
    """pylearn2's init_sigmoid_bias_from_array: logit of the pixel means clipped to [1e-7, 1 - 1e-7]."""
    from keras_gan import networks

    images = np.zeros((4, 2, 2, 1), "float32")
    images[:, 0, 0] = 1.0  # always on
    images[:2, 0, 1] = 1.0  # on half the time
    bias = networks.sigmoid_bias_from_marginals(images)
    np.testing.assert_allclose(bias, [np.log((1 - 1e-7) / 1e-7), 0.0, -np.log((1 - 1e-7) / 1e-7),
                                      -np.log((1 - 1e-7) / 1e-7)], rtol=1e-5, atol=1e-6)
    assert networks.sigmoid_bias_from_marginals(images, eps=1e-3)[3] == pytest.approx(-np.log(999.0), rel=1e-5)
