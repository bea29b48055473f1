"""numpy kernels of the papers' metrics, used by the library's callbacks and by `evaluation/`.

- `parzen`: the GAN paper's Parzen-window log-likelihood (sigma grid, per-example
  log-likelihoods, sigma selection, standard error).
- `labels`: labels split evenly over the classes (the CGAN paper's evaluation).

Importing this package imports numpy only (the package `keras_gan` itself starts Keras).
"""

from keras_gan.metrics.labels import class_labels
from keras_gan.metrics.parzen import SIGMA_GRID, parzen_log_likelihood, parzen_log_likelihoods, select_sigma, standard_error

__all__ = ["SIGMA_GRID", "class_labels", "parzen_log_likelihood", "parzen_log_likelihoods", "select_sigma",
           "standard_error"]
