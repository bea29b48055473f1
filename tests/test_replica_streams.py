"""`keras_gan.backend.replica_streams`: replica 0 keeps the one-device dropout stream, another
replica draws its own, the kept (latent) generator and the seed states are untouched.

The helper is what the TensorFlow step installs under a strategy and the torch step under
torchrun (MirroredStrategy's masks: tests/test_distribution.py); here it runs on every
backend with the replica index given directly.
"""

import keras
import numpy as np

from keras_gan.backend.replica_streams import give_each_replica_its_own_streams
from tests.conftest import to_numpy


def _dropout_model():
    return keras.Sequential([keras.Input((256,)), keras.layers.Dropout(0.5, seed=11)])


def _mask(model):
    return to_numpy(model(np.ones((1, 256), "float32"), training=True)) > 0


def test_replica_zero_keeps_the_stream_and_another_replica_draws_its_own():
    reference, replica0, replica1 = _dropout_model(), _dropout_model(), _dropout_model()
    latent = keras.random.SeedGenerator(5)
    replica1.latent = latent  # tracked like a model's latent generator, and kept as it is
    assert give_each_replica_its_own_streams(replica0, lambda: 0) == 1
    assert give_each_replica_its_own_streams(replica1, lambda: 1, keep=[latent]) == 1
    assert give_each_replica_its_own_streams(replica1, lambda: 1, keep=[latent]) == 0  # idempotent
    for _ in range(3):  # draw after draw
        first, zero, one = _mask(reference), _mask(replica0), _mask(replica1)
        np.testing.assert_array_equal(zero, first)
        assert 0.3 < (one != first).mean() < 0.7  # independent masks disagree on about half
    states = [to_numpy(m.layers[0].seed_generator.state) for m in (reference, replica0, replica1)]
    np.testing.assert_array_equal(states[0], states[1])  # the states advance alike everywhere
    np.testing.assert_array_equal(states[0], states[2])
    assert not getattr(latent, "_keras_gan_replica_streams", False)
