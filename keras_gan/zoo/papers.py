"""The papers' published numbers, in one place (the registry, cards and README cite these).

- Goodfellow et al. 2014, Table 1: Parzen window log-likelihood of the MNIST
  test set, GAN 225 +- 2 nats.
- Mirza & Osindero 2014, Table 1: Parzen log-likelihood of the conditional
  adversarial net on MNIST, 132 +- 1.8.
- Isola et al. 2017, Table 1: FCN-scores (per-pixel accuracy, per-class
  accuracy, class IoU) of labels -> photo on Cityscapes, for each loss.
"""

from __future__ import annotations

GAN_PAPER = "Goodfellow et al. 2014, Table 1 (Parzen window estimate, MNIST test)"
CGAN_PAPER = "Mirza & Osindero 2014, Table 1 (Parzen window estimate, MNIST test)"
PIX2PIX_TABLE1 = "Isola et al. 2017, Table 1 (Cityscapes labels -> photo, FCN-8s scores)"

GAN_MNIST_PARZEN = {"parzen_ll": 225.0, "parzen_se": 2.0}
CGAN_MNIST_PARZEN = {"parzen_ll": 132.0, "parzen_se": 1.8}

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
