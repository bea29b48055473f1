"""Models of the adversarial-nets family."""

from keras_gan.models.adversarial_model import AdversarialModel
from keras_gan.models.gan import GAN

__all__ = ["AdversarialModel", "GAN"]
