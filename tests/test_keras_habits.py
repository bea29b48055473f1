"""What users of the keras.io GAN tutorials do by habit either works or stops with a message that
says how to fix it, the same on every backend."""

import keras
import numpy as np
import pytest
from PIL import Image

import keras_gan
from keras_gan import networks
from keras_gan.callbacks import SampleGrid
from tests.test_conditional_gan import compiled as compiled_cgan
from tests.test_conditional_gan import ring, toy_cgan
from tests.test_gan import compiled, images, small_gan


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(one_torch_thread):
    """See `tests.conftest.one_torch_thread`."""
    yield


def test_images_in_0_255_are_refused_with_the_scaling_for_the_generator():
    gan = compiled(small_gan())  # the paper's G ends in a sigmoid (behind a Reshape)
    with pytest.raises(ValueError, match=r"outputs lie in \[0, 1\].*use images / 255"):
        gan.fit(images(32) * 255, batch_size=16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"outputs lie in \[0, 1\]"):
        gan.fit(images(32) * 2 - 1, batch_size=16, epochs=1, verbose=0)  # [-1, 1] for a sigmoid G
    tanh_g = keras.Sequential([keras.Input((8,)), keras.layers.Dense(784, activation="tanh"),
                               keras.layers.Reshape((28, 28, 1))])
    tanh_gan = compiled(keras_gan.GAN(tanh_g, small_gan().discriminator, latent_dim=8))
    with pytest.raises(ValueError, match=r"outputs lie in \[-1, 1\].*images / 127.5 - 1"):
        tanh_gan.fit(images(32) * 255, batch_size=16, epochs=1, verbose=0)
    tanh_gan.fit(images(32) * 2 - 1, batch_size=16, epochs=1, verbose=0)  # the right range trains
    cgan = compiled_cgan(keras_gan.ConditionalGAN(networks.conditional_mnist_generator(),
                                                  networks.conditional_mnist_discriminator()))
    with pytest.raises(ValueError, match=r"outputs lie in \[0, 1\].*use images / 255"):
        cgan.fit(images(32) * 255, np.arange(32) % 10, batch_size=16, epochs=1, verbose=0)
    x, labels = ring(32)  # a linear G can produce any value: no range to enforce
    compiled_cgan(toy_cgan()).fit(x * 300, labels, batch_size=16, epochs=1, verbose=0)


def test_lists_and_dict_batches_are_refused_with_the_fix():
    gan = compiled(small_gan())
    with pytest.raises(ValueError, match=r"not a list of arrays \(fit\(x\), not fit\(\[x\]\)\)"):
        gan.fit([images(32)], batch_size=16, epochs=1, verbose=0)
    import tensorflow as tf

    dicts = tf.data.Dataset.from_tensor_slices({"image": images(32)}).batch(16)
    with pytest.raises(ValueError, match=r"ds.map\(lambda d: d\['image'\]\)"):
        gan.fit(dicts, epochs=1, verbose=0)
    gan.fit(dicts.map(lambda d: d["image"]), epochs=1, verbose=0)  # the suggested fix trains


def test_compile_refuses_metrics_it_would_ignore():
    for argument in ("metrics", "weighted_metrics", "loss_weights"):
        with pytest.raises(ValueError, match=f"does not take {argument}.*ParzenMonitor"):
            small_gan().compile(**{argument: ["accuracy"] if argument != "loss_weights" else [1.0]})


@pytest.mark.parametrize("source", ["array", "tf.data"])
def test_empty_data_is_one_clear_error(source):
    gan = compiled(small_gan())
    data = images(32)[:0]
    if source == "tf.data":
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices(images(32)).batch(16).take(0)
    with pytest.raises(ValueError, match="fit\\(\\) got no training batch"):
        gan.fit(data, batch_size=None if source == "tf.data" else 16, epochs=1, verbose=0)


def test_sample_grid_draws_a_tanh_generator_in_its_own_range(tmp_path):
    tanh_g = keras.Sequential([keras.Input((8,)), keras.layers.Dense(784, activation="tanh"),
                               keras.layers.Reshape((28, 28, 1))])
    gan = compiled(keras_gan.GAN(tanh_g, small_gan().discriminator, latent_dim=8))
    grid = SampleGrid(str(tmp_path), num_samples=4, seed=0)
    grid.set_model(gan)
    grid.on_epoch_end(0)
    samples = gan.generate(4, seed=0)
    assert grid._value_range(samples) == (-1.0, 1.0)
    pixels = np.asarray(Image.open(grid.paths[0]).convert("L"), dtype=np.float64)
    assert pixels.mean() == pytest.approx(255 * (samples.mean() + 1) / 2, abs=20)  # not clipped to black
    sigmoid_grid = SampleGrid(str(tmp_path / "s"), num_samples=4)
    sigmoid_grid.set_model(compiled(small_gan()))
    assert sigmoid_grid._value_range(np.zeros(1)) == (0.0, 1.0)
    assert SampleGrid(str(tmp_path), value_range=(0, 2))._value_range(np.zeros(1)) == (0, 2)
