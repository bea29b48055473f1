"""Models of the adversarial-nets family."""

from keras_gan.models.adversarial_model import AdversarialModel, default_optimizer
from keras_gan.models.conditional_gan import ConditionalGAN
from keras_gan.models.gan import GAN
from keras_gan.models.generator_average import (
    generator_average,
    has_generator_average,
    reset_generator_average,
    with_generator_average,
)
from keras_gan.models.pix2pix import Pix2Pix

__all__ = [
    "AdversarialModel",
    "ConditionalGAN",
    "GAN",
    "Pix2Pix",
    "default_optimizer",
    "generator_average",
    "has_generator_average",
    "reset_generator_average",
    "with_generator_average",
]
