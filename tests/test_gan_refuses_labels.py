"""A GAN takes no labels: `fit(x, y)` and datasets of (images, labels) are refused before any
weight changes (they used to be ignored without a word); ConditionalGAN and Pix2Pix keep taking y."""

import keras
import numpy as np
import pytest

import keras_gan
from keras_gan import networks
from tests.conftest import to_numpy, weights_of


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(one_torch_thread):
    """See `tests.conftest.one_torch_thread`."""
    yield


def compiled(model):
    model.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
    return model


def toy_gan():
    return compiled(keras_gan.GAN(networks.mlp_generator(latent_dim=2, units=8),
                                  networks.mlp_discriminator(units=8), seed=1))


def toy_data(n=16):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 2)).astype("float32"), (np.arange(n) % 4).astype("int32")


class _Batches(keras.utils.PyDataset):
    def __init__(self, *arrays):
        super().__init__()
        self.arrays = arrays

    def __len__(self):
        return 2

    def __getitem__(self, i):
        parts = tuple(a[i * 8 : (i + 1) * 8] for a in self.arrays)
        return parts if len(parts) > 1 else parts[0]


def _refused(gan, *args, match, **kwargs):
    before = weights_of(gan)
    with pytest.raises(ValueError, match=match) as info:
        gan.fit(*args, epochs=1, verbose=0, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "ConditionalGAN" in message and "GAN takes no labels" in message
    assert int(to_numpy(gan.d_optimizer.iterations)) == 0
    for a, b in zip(before, weights_of(gan), strict=True):
        np.testing.assert_array_equal(a, b)


def test_gan_fit_refuses_y_arrays():
    x, y = toy_data()
    _refused(toy_gan(), x, y, batch_size=8, match=r"fit\(\) got y \(shape \(16,\)\)")
    _refused(toy_gan(), x, batch_size=8, validation_data=(x, y), match=r"validation_data got y")


def test_gan_fit_refuses_datasets_of_images_and_labels():
    import tensorflow as tf

    x, y = toy_data()
    _refused(toy_gan(), tf.data.Dataset.from_tensor_slices((x, y)).batch(8), shuffle=False,
             match=r"a dataset yielding \(images, labels\)")
    _refused(toy_gan(), _Batches(x, y), match=r"a PyDataset yielding \(images, labels\)")
    # Images alone, in each form, still train.
    for data in (x, tf.data.Dataset.from_tensor_slices(x).batch(8), _Batches(x)):
        gan = toy_gan()
        options = dict(batch_size=8) if isinstance(data, np.ndarray) else dict(shuffle=False)
        history = gan.fit(data, epochs=1, verbose=0, **options)
        assert int(to_numpy(gan.d_optimizer.iterations)) == 2
        assert np.isfinite(history.history["d_loss"][-1])


def test_wgan_gp_refuses_labels_too():
    x, y = toy_data()
    model = keras_gan.WGANGP(networks.mlp_generator(latent_dim=2, units=8), networks.mlp_discriminator(units=8),
                             n_critic=1, seed=1)
    model.compile()
    with pytest.raises(ValueError, match="WGANGP takes no labels"):
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)


def test_conditional_gan_and_pix2pix_keep_taking_y():
    x, y = toy_data()
    cgan = compiled(keras_gan.ConditionalGAN(
        networks.conditional_mlp_generator(latent_dim=2, num_classes=4, widths=(8,)),
        networks.conditional_mlp_discriminator(num_classes=4, widths=(8,)), seed=1))
    cgan.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x, y))
    assert int(to_numpy(cgan.d_optimizer.iterations)) == 2
    size = 16
    p2p = keras_gan.Pix2Pix(networks.unet_generator(image_size=size, ngf=4, levels=2),
                            networks.patchgan_discriminator(image_size=size, ndf=4, n_layers=1))
    p2p.compile()
    rng = np.random.default_rng(1)
    a, b = (rng.uniform(-1, 1, (2, size, size, 3)).astype("float32") for _ in range(2))
    p2p.fit(a, b, batch_size=1, epochs=1, verbose=0)
    assert int(to_numpy(p2p.d_optimizer.iterations)) == 2
