"""Small helpers."""

from keras_gan.utils.images import image_grid, save_image_grid
from keras_gan.utils.plots import save_history_plot, save_score_plot

__all__ = ["image_grid", "save_history_plot", "save_image_grid", "save_score_plot"]
