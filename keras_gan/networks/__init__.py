"""The papers' networks, and a few that users expect beside them."""

from keras_gan.networks.conditional_mlp import (
    conditional_mlp_discriminator,
    conditional_mlp_generator,
    conditional_mnist_discriminator,
    conditional_mnist_generator,
)
from keras_gan.networks.dcgan import dcgan_discriminator, dcgan_generator
from keras_gan.networks.image_dcgan import image_discriminator, image_generator
from keras_gan.networks.mnist_mlp import (
    MNIST_SHAPE,
    mnist_discriminator,
    mnist_generator,
    sigmoid_bias_from_marginals,
)
from keras_gan.networks.pix2pix import patchgan_discriminator, unet_generator
from keras_gan.networks.toy import mlp_discriminator, mlp_generator

__all__ = [
    "MNIST_SHAPE",
    "conditional_mlp_discriminator",
    "conditional_mlp_generator",
    "conditional_mnist_discriminator",
    "conditional_mnist_generator",
    "dcgan_discriminator",
    "dcgan_generator",
    "image_discriminator",
    "image_generator",
    "mlp_discriminator",
    "mlp_generator",
    "mnist_discriminator",
    "mnist_generator",
    "patchgan_discriminator",
    "sigmoid_bias_from_marginals",
    "unet_generator",
]
