"""keras-gan: the adversarial-nets family for Keras 3 on TensorFlow, JAX and PyTorch."""

from keras_gan import datasets, layers, losses, networks, utils
from keras_gan.layers import Maxout
from keras_gan.models import GAN, AdversarialModel
from keras_gan.version import __version__

__all__ = [
    "GAN",
    "AdversarialModel",
    "Maxout",
    "__version__",
    "datasets",
    "layers",
    "losses",
    "networks",
    "utils",
]
