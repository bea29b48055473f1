"""Layers used by the papers' networks."""

from keras_gan.layers.maxout import Maxout

__all__ = ["Maxout"]
