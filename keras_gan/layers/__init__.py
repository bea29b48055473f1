"""Layers used by the papers' networks."""

from keras_gan.layers.batch_norm import BatchNormalization, set_synchronized
from keras_gan.layers.concatenate import Concatenate
from keras_gan.layers.conv import Conv2D, Conv2DTranspose
from keras_gan.layers.maxout import Maxout

__all__ = ["BatchNormalization", "Concatenate", "Conv2D", "Conv2DTranspose", "Maxout", "set_synchronized"]
