"""Models of the adversarial-nets family."""

from keras_gan.models.adversarial_model import AdversarialModel, default_optimizer, mean_of
from keras_gan.models.conditional_gan import ConditionalGAN
from keras_gan.models.gan import GAN
from keras_gan.models.generator_average import (
    generator_average,
    has_generator_average,
    reset_generator_average,
    with_generator_average,
)
from keras_gan.models.pix2pix import Pix2Pix
from keras_gan.models.wgan_gp import WGANGP

__all__ = [
    "AdversarialModel",
    "ConditionalGAN",
    "GAN",
    "Pix2Pix",
    "WGANGP",
    "default_optimizer",
    "mean_of",
    "generator_average",
    "has_generator_average",
    "reset_generator_average",
    "with_generator_average",
]
