"""The paper's SGD schedule: learning-rate decay and the per-epoch momentum ramp."""

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
        RampedMomentumSGD(0.1, start=5, saturate=5)
