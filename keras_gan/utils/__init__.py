"""Small helpers."""

from keras_gan.utils.images import image_grid, save_image_grid

__all__ = ["image_grid", "save_image_grid"]
