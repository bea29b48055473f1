"""The paper's SGD schedule: learning-rate decay and the per-epoch momentum ramp."""

import math

import keras
import numpy as np
import pytest

from keras_gan.optimizers import InverseExponentialDecay, RampedMomentumSGD, paper_sgd
from tests.conftest import to_numpy


def test_learning_rate_decays_by_the_factor_and_stops_at_the_floor():
    schedule = InverseExponentialDecay(0.1, 1.000004, 1e-6)
    assert float(to_numpy(schedule(0))) == pytest.approx(0.1)
    assert float(to_numpy(schedule(500))) == pytest.approx(0.1 / 1.000004**500, rel=1e-5)
    assert float(to_numpy(InverseExponentialDecay(0.1, 2.0, 1e-6)(100))) == pytest.approx(1e-6)
    with pytest.raises(ValueError, match="decay_factor"):
        InverseExponentialDecay(0.1, 0.5)


def test_momentum_ramps_once_per_epoch_from_start_to_saturate():
    opt = RampedMomentumSGD(0.1, steps_per_epoch=10, initial_momentum=0.5, final_momentum=0.7,
                            start=1, saturate=5)
    expected = {0: 0.5, 9: 0.5, 10: 0.55, 25: 0.6, 40: 0.7, 1000: 0.7}
    for step, value in expected.items():
        opt.iterations.assign(step)
        assert float(to_numpy(opt.current_momentum())) == pytest.approx(value, abs=1e-6), step


def test_update_is_the_velocity_rule_with_the_current_momentum():
    w = keras.Variable(np.array([1.0, -2.0], "float32"))
    opt = RampedMomentumSGD(0.1, steps_per_epoch=1, initial_momentum=0.5, final_momentum=0.7,
                            start=1, saturate=3)
    grads = [np.array([0.5, 1.0], "float32"), np.array([-1.0, 2.0], "float32"), np.array([1.0, 1.0], "float32")]
    v = np.zeros(2)
    ref = np.array([1.0, -2.0])
    for epoch, g in enumerate(grads):
        opt.apply([keras.ops.convert_to_tensor(g)], [w])
        m = 0.5 + 0.2 * min(max(epoch / 2.0, 0.0), 1.0)
        v = m * v - 0.1 * g
        ref = ref + v
        np.testing.assert_allclose(to_numpy(w), ref, rtol=1e-6)


def test_round_trips_through_its_config():
    opt = paper_sgd(steps_per_epoch=500, decay_factor=1.00004)
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(clone, RampedMomentumSGD) and clone.saturate == 250 and clone.final_momentum == 0.7
    assert clone.learning_rate is not None
    assert float(to_numpy(clone._get_current_learning_rate())) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="saturate"):
        RampedMomentumSGD(0.1, steps_per_epoch=10, start=5, saturate=5)


@pytest.mark.parametrize("make", [paper_sgd, lambda *a: RampedMomentumSGD(0.1, *a)], ids=["paper_sgd", "RampedMomentumSGD"])
def test_steps_per_epoch_is_required_and_checked(make):
    # It used to default to 500 (MNIST at batch 100): a run on a subset got a wrong ramp silently.
    for bad, said in ((None, "needs steps_per_epoch (its momentum ramps once per epoch)"),
                      (0, "got 0"), (2.5, "got 2.5"), (True, "got True")):
        with pytest.raises(ValueError, match=r"steps_per_epoch") as info:
            make() if bad is None else make(bad)
        message = str(info.value)
        assert said in message and "math.ceil(len(images) / batch_size)" in message and "\n" not in message


def test_the_ramp_moves_at_the_epochs_of_a_subset():
    """A GAN fit on 45 images at batch 10 (5 batches an epoch, the last ragged) with
    paper_sgd(5): the momentum moves after each epoch's 5 updates, not after 500."""
    import keras_gan
    from keras_gan import networks

    gan = keras_gan.GAN(networks.mlp_generator(latent_dim=2, units=8), networks.mlp_discriminator(units=8), seed=3)
    steps = math.ceil(45 / 10)
    gan.compile(d_optimizer=paper_sgd(steps), g_optimizer=paper_sgd(steps))
    x = np.random.default_rng(0).normal(size=(45, 2)).astype("float32")
    gan.fit(x, batch_size=10, epochs=2, verbose=0)
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert int(to_numpy(optimizer.iterations)) == 2 * steps
        # epoch index 2 next: 0.5 + 0.2 * (2 + 1 - 1) / (250 - 1)
        assert float(to_numpy(optimizer.current_momentum())) == pytest.approx(0.5 + 0.2 * 2 / 249, abs=1e-7)
