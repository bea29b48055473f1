"""The generator's weight average: kept by its optimizer, lent to the generator, saved and restored."""

import keras
import numpy as np
import pytest

import keras_gan
from keras_gan.models import generator_average, has_generator_average, reset_generator_average
from tests.conftest import to_numpy
from tests.test_gan import images, small_gan


def averaged_gan(momentum=0.5):
    gan = small_gan()
    # Adam: its steps have the size of the learning rate however small the
    # generator's gradients through a freshly initialised D are.
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
                g_optimizer=keras.optimizers.Adam(1e-2))
    keras_gan.with_generator_average(gan, momentum)
    return gan


def generator_weights(gan):
    return [to_numpy(v).copy() for v in gan.generator.trainable_variables]


def test_average_follows_the_ema_of_the_iterates_and_training_goes_on_from_the_iterates():
    gan = averaged_gan(momentum=0.5)
    assert has_generator_average(gan) and gan.g_optimizer.get_config()["ema_momentum"] == 0.5
    assert gan.g_optimizer.get_config()["learning_rate"] == pytest.approx(1e-2)  # settings kept
    data = images(16)
    gan.fit(data, batch_size=16, epochs=1, verbose=0)  # update 1: the average starts at w1
    w1 = generator_weights(gan)
    gan.fit(data, batch_size=16, epochs=1, verbose=0)  # update 2: average = 0.5 w1 + 0.5 w2
    w2 = generator_weights(gan)
    assert max(np.abs(a - b).max() for a, b in zip(w1, w2)) > 1e-4  # the step moved G
    expected = [0.5 * a + 0.5 * b for a, b in zip(w1, w2)]
    with generator_average(gan) as lent:
        assert lent is gan
        for got, want in zip(generator_weights(gan), expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        averaged_samples = to_numpy(gan.generate(4, seed=3))
    # The raw iterate is back: fit continues from w2, not from the average.
    for got, want in zip(generator_weights(gan), w2):
        np.testing.assert_array_equal(got, want)
    assert np.abs(averaged_samples - to_numpy(gan.generate(4, seed=3))).max() > 1e-6
    # The discriminator never averages.
    assert not gan.d_optimizer.use_ema


def test_raw_weights_come_back_after_an_error_inside_the_block():
    gan = averaged_gan()
    gan.fit(images(32), batch_size=16, epochs=1, verbose=0)
    raw = generator_weights(gan)
    with pytest.raises(RuntimeError, match="inside"):
        with generator_average(gan):
            raise RuntimeError("inside")
    for got, want in zip(generator_weights(gan), raw):
        np.testing.assert_array_equal(got, want)


def test_reset_starts_the_average_at_the_current_weights():
    gan = averaged_gan(momentum=0.9)
    gan.fit(images(32), batch_size=16, epochs=1, verbose=0)
    for v in gan.generator.trainable_variables:  # as a warm start copies in other weights
        v.assign(to_numpy(v) + 1.0)
    reset_generator_average(gan)
    current = generator_weights(gan)
    with generator_average(gan):
        for got, want in zip(generator_weights(gan), current):
            np.testing.assert_array_equal(got, want)
    gan.fit(images(32), batch_size=16, epochs=1, verbose=0)  # and training still runs after it


def test_keras_file_round_trip_keeps_the_average(tmp_path):
    gan = averaged_gan(momentum=0.75)
    gan.fit(images(32), batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert has_generator_average(loaded) and loaded.g_optimizer.get_config()["ema_momentum"] == 0.75
    with generator_average(gan):
        want = generator_weights(gan)
    with generator_average(loaded):
        for got, expected in zip(generator_weights(loaded), want):
            np.testing.assert_array_equal(got, expected)


def test_misuse_is_explained():
    plain = small_gan()
    with pytest.raises(ValueError, match="compile"):
        keras_gan.with_generator_average(plain)
    plain.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    assert not has_generator_average(plain)
    with pytest.raises(ValueError, match="with_generator_average"):
        with generator_average(plain):
            pass
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        keras_gan.with_generator_average(plain, 1.0)
    plain.fit(images(16), batch_size=16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="before `fit`"):
        keras_gan.with_generator_average(plain, 0.99)
