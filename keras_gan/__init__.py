"""keras-gan: the adversarial-nets family for Keras 3 on TensorFlow, JAX and PyTorch."""

from keras_gan import callbacks, datasets, layers, losses, networks, utils
from keras_gan.layers import Maxout
from keras_gan.models import GAN, AdversarialModel
from keras_gan.version import __version__

__all__ = [
    "GAN",
    "AdversarialModel",
    "Maxout",
    "__version__",
    "callbacks",
    "datasets",
    "layers",
    "losses",
    "networks",
    "utils",
]
