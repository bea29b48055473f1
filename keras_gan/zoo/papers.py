"""The papers' published numbers, in one place (the registry, cards, README and the evaluation
commands cite these).

- Goodfellow et al. 2014, Table 1: Parzen window log-likelihood of the MNIST
  test set, GAN 225 +- 2 nats (and the table's other models).
- Mirza & Osindero 2014, Table 1: Parzen log-likelihood of the conditional
  adversarial net on MNIST, 132 +- 1.8.
- Isola et al. 2017, Table 1: FCN-scores (per-pixel accuracy, per-class
  accuracy, class IoU) of labels -> photo on Cityscapes, for each loss.

This module imports nothing (the standard library at most): the evaluation package, which must
not start Keras, loads it from this file without importing keras_gan (`evaluation/keras_free.py`).
"""

from __future__ import annotations

GAN_PAPER = "Goodfellow et al. 2014, Table 1 (Parzen window estimate, MNIST test)"
CGAN_PAPER = "Mirza & Osindero 2014, Table 1 (Parzen window estimate, MNIST test)"
PIX2PIX_TABLE1 = "Isola et al. 2017, Table 1 (Cityscapes labels -> photo, FCN-8s scores)"

#: Parzen window log-likelihoods of the MNIST test set (nats), per model: (model, mean, standard
#: error, where published). The GAN paper's Table 1, and the CGAN paper's conditional net.
PARZEN_MNIST = {
    "gan": ("Adversarial nets", 225.0, 2.0, "Goodfellow et al. 2014, Table 1"),
    "dbn": ("DBN", 138.0, 2.0, "Goodfellow et al. 2014, Table 1"),
    "stacked_cae": ("Stacked CAE", 121.0, 1.6, "Goodfellow et al. 2014, Table 1"),
    "deep_gsn": ("Deep GSN", 214.0, 1.1, "Goodfellow et al. 2014, Table 1"),
    "cgan": ("Conditional adversarial net", 132.0, 1.8, "Mirza & Osindero 2014, Table 1"),
}

GAN_MNIST_PARZEN = {"parzen_ll": PARZEN_MNIST["gan"][1], "parzen_se": PARZEN_MNIST["gan"][2]}
CGAN_MNIST_PARZEN = {"parzen_ll": PARZEN_MNIST["cgan"][1], "parzen_se": PARZEN_MNIST["cgan"][2]}

#: Table 1 rows: (per-pixel accuracy, per-class accuracy, class IoU).
PIX2PIX_FCN_SCORES = {
    "L1": (0.42, 0.15, 0.11),
    "GAN": (0.22, 0.05, 0.01),
    "cGAN": (0.57, 0.22, 0.16),
    "L1+GAN": (0.64, 0.20, 0.15),
    "L1+cGAN": (0.66, 0.23, 0.17),
    "Ground truth": (0.80, 0.26, 0.21),
}


def pix2pix_row(row: str) -> dict:
    """A Table 1 row as paper metrics: the three scores and their source."""
    pixel, per_class, iou = PIX2PIX_FCN_SCORES[row]
    return {"fcn_per_pixel_accuracy": pixel, "fcn_per_class_accuracy": per_class, "fcn_class_iou": iou,
            "source": f"{PIX2PIX_TABLE1}: {row} per-pixel {pixel}, per-class {per_class}, class IoU {iou}"}
