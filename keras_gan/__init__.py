"""keras-gan: the adversarial-nets family for Keras 3 on TensorFlow, JAX and PyTorch."""

from keras_gan import (
    callbacks,
    datasets,
    distributed,
    folder_models,
    layers,
    losses,
    networks,
    optimizers,
    theory,
    utils,
    zoo,
)
from keras_gan.layers import Maxout
from keras_gan.models import (
    GAN,
    AdversarialModel,
    ConditionalGAN,
    Pix2Pix,
    WGANGP,
    generator_average,
    with_generator_average,
)
from keras_gan.backend import Step
from keras_gan.export import export_generator
from keras_gan.version import __version__

__all__ = [
    "GAN",
    "AdversarialModel",
    "ConditionalGAN",
    "Maxout",
    "Pix2Pix",
    "Step",
    "WGANGP",
    "__version__",
    "callbacks",
    "datasets",
    "distributed",
    "export_generator",
    "folder_models",
    "generator_average",
    "layers",
    "losses",
    "networks",
    "optimizers",
    "theory",
    "utils",
    "with_generator_average",
    "zoo",
]
