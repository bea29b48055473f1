"""The papers' training recipes, one per zoo entry.

A recipe says what to train on, how to build and compile the model, for how
long by default, and how to score it on the validation split for model
selection. `zoo/train.py` runs any of them the same way.

- gan-mnist (Goodfellow et al. 2014; goodfeli/adversarial `mnist.yaml`): SGD,
  batch 100, lr 0.1 divided by 1.000004 every update (min 1e-6), momentum 0.5
  -> 0.7 linearly over epochs 1..250, k = 1, non-saturating generator loss,
  generator output bias from the data marginals, dropout 0.2 / 0.5 in D.
- dcgan-mnist (not in the paper; Radford et al. 2016's guidelines): the
  convolutional pair of `keras_gan.networks.dcgan`, z ~ N(0, I), Adam 2e-4 /
  beta_1 0.5, batch 128, 25 epochs; selected like gan-mnist.
- wgan-gp-mnist (Gulrajani et al. 2017, Algorithm 1): the dcgan-mnist pair
  (critic without dropout), z ~ N(0, I) of size 128, lambda = 10, n_critic = 5,
  Adam(1e-4, beta_1 0, beta_2 0.9), minibatch m = 50 per critic update (the
  paper's MNIST code), so batch 250 = 5 x 50 and 200 generator iterations per
  epoch; selected like gan-mnist.
- cgan-mnist (Mirza & Osindero 2014, section 4.1): the same SGD rule with
  decay factor 1.00004, batch 100, the paper's networks; validation Parzen on
  10,000 samples split evenly over the 10 digits. The paper's dropout in G and
  z from the unit hypercube collapse (its card measures why), so the recipe
  trains the zoo config: no dropout in G, z ~ U(-sqrt 3, sqrt 3), the GAN
  code's pixel dropout 0.2 in D and the maxout paper's column-norm cap 1.9365,
  on top of the paper's dropout 0.5 in D; seed 1 (seed 0 collapses).
- pix2pix-facades (Isola et al. 2017, section 3.2 and 4): labels -> photo,
  Adam 2e-4, beta1 0.5, batch 1, lambda = 100, random jitter (resize to 286,
  random crop 256, mirror) re-drawn every epoch, 200 epochs in the paper;
  the last epoch is exported, as the paper reports its final model. The L1 of
  the 28 validation pairs (translated as in the paper's test mode, fixed
  dropout seed) is logged each epoch, not used for selection.
- pix2pix-facades-l1 / -cgan / -gan / -l1-gan: the paper's Table 1 ablations
  of that recipe, everything else equal: the L1 loss alone (no
  discriminator), the cGAN loss alone (lambda = 0), and the unconditioned-D
  GAN loss alone or with L1 (D sees only the photo).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np


@dataclasses.dataclass
class Recipe:
    name: str
    epochs: int
    batch_size: int
    load_data: Callable  # (data_dir, limit) -> dict with "train" (first `limit` examples), "validation"
    build: Callable  # (data) -> uncompiled model, initialised as the paper
    compile: Callable  # (model, steps_per_epoch) -> None
    fit_inputs: Callable  # (data) -> x for model.fit
    score: Callable | None  # (model, data) -> float, higher is better (validation)
    sample_grid: Callable | None = None  # (model, data, seed) -> (images, value_range, cols) for a PNG grid
    description: str = ""
    #: (model, data_dir) -> {metric: value} on the test split, the card's numbers.
    evaluate: Callable | None = None
    #: the command that measures the same numbers on a shipped checkpoint.
    evaluate_command: str = ""
    #: every way the recipe departs from the paper, with the reason (for the card).
    deviations: tuple = ()
    #: the seed `zoo.train` uses without --seed: the one the shipped checkpoint was trained with,
    #: so the bare recipe command reproduces it (the cards say where other seeds fail).
    seed: int = 0
    #: which epoch `zoo.train` exports: "best" by `score`, or "last" (only logs the score).
    keep: str = "best"
    #: the name the validation score is logged under (OUT/<score_name>.csv).
    score_name: str = "val_parzen"
    #: True for the recipes that train on your own folder (zoo/folder_recipes.py): no registry entry.
    from_folder: bool = False
    #: (data) -> the architecture dict its export carries (keras_gan.folder_models), for folder recipes.
    architecture: Callable | None = None
    #: True: `batch_size` is each process's batch and a job of N processes trains on global batches
    #: of N x batch_size (pix2pix: one image per process, as its reference's data-parallel runs);
    #: False: `batch_size` is the global batch, split over the processes.
    per_replica_batch: bool = False


# ------------------------------------------------------------------ gan-mnist
def _mnist_data(data_dir, limit=None):
    from keras_gan import datasets

    return {
        "train": datasets.mnist("train", data_dir=data_dir, limit=limit),
        "validation": datasets.mnist("validation", data_dir=data_dir, limit=1000),
    }


def _gan_mnist_build(data):
    from keras_gan import networks, zoo

    model = zoo.build("gan-mnist")
    # pylearn2's init_sigmoid_bias_from_marginals on the training set.
    bias = networks.sigmoid_bias_from_marginals(data["train"].images)
    model.generator.get_layer("y").bias.assign(bias)
    return model


def _paper_sgd_compile(decay_factor):
    def compile_(model, steps_per_epoch):
        from keras_gan.optimizers import paper_sgd

        model.compile(
            d_optimizer=paper_sgd(steps_per_epoch, decay_factor),
            g_optimizer=paper_sgd(steps_per_epoch, decay_factor),
        )

    return compile_


#: How the MNIST recipes choose the epoch they export (a deviation the cards name).
PARZEN_MODEL_SELECTION = (
    "Model selection: the exported epoch is the best by Parzen log-likelihood on 1000 validation "
    "images (train[50000:51000], sigma re-chosen each time); the test split is used once, for the card."
)


def validation_parzen(samples: np.ndarray, validation: np.ndarray) -> float:
    """Mean Parzen log-likelihood of the validation images, sigma chosen on them (paper grid)."""
    from keras_gan.metrics import select_sigma

    _, scores = select_sigma(samples.reshape(len(samples), -1), validation.reshape(len(validation), -1),
                             np.logspace(-1, 0, 10))
    return float(max(scores.values()))


def _gan_mnist_score(model, data):
    return validation_parzen(model.generate(10000, seed=0), data["validation"].images)


def _dcgan_compile(model, steps_per_epoch):
    """DCGAN's optimiser (Radford et al. 2016, section 4): Adam, lr 2e-4, beta_1 0.5, both networks."""
    import keras

    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))


def _cgan_mnist_build(data):
    from keras_gan import networks, zoo

    model = zoo.build("cgan-mnist")
    bias = networks.sigmoid_bias_from_marginals(data["train"].images)
    model.generator.get_layer("x").bias.assign(bias)
    return model


def balanced_labels(num_samples: int = 10000, num_classes: int = 10) -> np.ndarray:
    """`num_samples` labels split evenly over the classes (the CGAN paper's evaluation)."""
    from keras_gan.metrics import class_labels

    return class_labels(num_samples, num_classes)


def _cgan_mnist_score(model, data):
    return validation_parzen(model.generate(balanced_labels(), seed=0), data["validation"].images)


def _facades_data(data_dir, limit=None):
    from keras_gan import datasets

    return {
        "train": datasets.FacadesDataset("train", batch_size=1, data_dir=data_dir, seed=0, limit=limit),
        "validation": datasets.facades("val", data_dir=data_dir),
    }


def _registry_build(name):
    def build(data):
        from keras_gan import zoo

        return zoo.build(name)

    return build


def _pix2pix_compile(model, steps_per_epoch):
    model.compile()  # the paper's Adam(2e-4, beta_1=0.5) for both networks


def parzen_test_metrics(model, data_dir) -> dict:
    """The GAN paper's Parzen protocol on the MNIST test set (`evaluation.parzen`)."""
    from evaluation.parzen import evaluate

    result = evaluate(model, data_dir=data_dir, progress=True)
    metrics = {"parzen_ll": round(result.mean, 2), "parzen_se": round(result.se, 2),
               "parzen_sigma": round(result.sigma, 4)}
    if result.baseline is not None:
        metrics["real_data_parzen_ll"] = round(result.baseline.mean, 2)
    return metrics


def conditional_mnist_test_metrics(model, data_dir) -> dict:
    """The Parzen protocol, plus how often the asked digit is drawn (`evaluation.label_agreement`):
    Parzen pools the classes, so it cannot tell a CGAN that ignores its label."""
    from evaluation.label_agreement import label_agreement

    metrics = parzen_test_metrics(model, data_dir)
    agreement = label_agreement(model, data_dir=data_dir, progress=True)
    metrics["label_agreement"] = round(agreement.agreement, 4)
    metrics["classifier_test_accuracy"] = round(agreement.classifier_test_accuracy, 4)
    return metrics


def paired_test_metrics(model, data_dir) -> dict:
    """L1 / PSNR / SSIM of the test translations, as the paper tests (`evaluation.paired`)."""
    from evaluation.paired import evaluate_paired

    result = evaluate_paired(model, "test", data_dir=data_dir, progress=True)
    return {"l1": round(result.l1, 4), "psnr": round(result.psnr, 2), "ssim": round(result.ssim, 4)}


def _pix2pix_score(model, data):
    """Minus the mean L1 (on [-1, 1]) of the validation translations: higher is better."""
    inputs, targets = data["validation"]
    outputs = model.translate(inputs, batch_size=1, seed=0)
    return -float(np.mean(np.abs(outputs - targets)))


def translation_grid(model, data, seed, count: int = 4):
    """Rows of input | translation | target for the first `count` validation pairs."""
    inputs, targets = data["validation"]
    inputs, targets = inputs[:count], targets[:count]
    outputs = model.translate(inputs, batch_size=1, seed=seed)
    rows = np.stack([inputs, outputs, targets], axis=1).reshape((-1,) + inputs.shape[1:])
    return rows, (-1.0, 1.0), 3


def _pix2pix_recipe(name):
    return Recipe(
        name=name,
        epochs=200,
        batch_size=1,
        load_data=_facades_data,
        build=_registry_build(name),
        compile=_pix2pix_compile,
        fit_inputs=lambda data: data["train"],
        score=_pix2pix_score,
        sample_grid=translation_grid,
        description=__doc__,
        evaluate=paired_test_metrics,
        evaluate_command=f"python -m evaluation.paired {name} --split test",
        keep="last",  # the paper reports its final model; validation L1 is logged only
        per_replica_batch=True,  # a batch of 1 per process under the launchers (global: processes x 1)
        score_name="val_minus_l1",
        deviations=(() if name.endswith("-paper") else (
            "Network width: ngf = ndf = 16 instead of 64 (the paper's U-Net is 54 M parameters, "
            "218 MB, which can neither be committed nor trained on 2 CPU cores).",
        )),
    )


RECIPES: dict[str, Recipe] = {
    "gan-mnist": Recipe(
        name="gan-mnist",
        epochs=300,
        batch_size=100,
        load_data=_mnist_data,
        build=_gan_mnist_build,
        compile=_paper_sgd_compile(1.000004),
        fit_inputs=lambda data: data["train"].images,
        score=_gan_mnist_score,
        sample_grid=lambda model, data, seed: (model.generate(100, seed=seed), (0.0, 1.0), 10),
        description=__doc__,
        evaluate=parzen_test_metrics,
        evaluate_command="python -m evaluation.parzen gan-mnist",
        deviations=(PARZEN_MODEL_SELECTION,),
    ),
    "dcgan-mnist": Recipe(
        name="dcgan-mnist",
        epochs=25,
        batch_size=128,
        load_data=_mnist_data,
        build=_registry_build("dcgan-mnist"),
        compile=_dcgan_compile,
        fit_inputs=lambda data: data["train"].images,
        score=_gan_mnist_score,
        sample_grid=lambda model, data, seed: (model.generate(100, seed=seed), (0.0, 1.0), 10),
        description=__doc__,
        evaluate=parzen_test_metrics,
        evaluate_command="python -m evaluation.parzen dcgan-mnist",
        deviations=(
            PARZEN_MODEL_SELECTION,
            "Not the GAN paper's networks: a DCGAN-style pair (strided convolutions, batch norm in G, "
            "LeakyReLU and dropout 0.3 in D), z ~ N(0, I), Adam(2e-4, beta_1 0.5), batch 128 (DCGAN's "
            "optimiser settings); the GAN objective with the non-saturating generator loss.",
        ),
    ),
    "wgan-gp-mnist": Recipe(
        name="wgan-gp-mnist",
        epochs=40,
        batch_size=250,
        load_data=_mnist_data,
        build=_registry_build("wgan-gp-mnist"),
        compile=lambda model, steps_per_epoch: model.compile(),  # Algorithm 1's Adam(1e-4, 0, 0.9)
        fit_inputs=lambda data: data["train"].images,
        score=_gan_mnist_score,
        sample_grid=lambda model, data, seed: (model.generate(100, seed=seed), (0.0, 1.0), 10),
        description=__doc__,
        evaluate=parzen_test_metrics,
        evaluate_command="python -m evaluation.parzen wgan-gp-mnist; python -m evaluation.fidelity wgan-gp-mnist",
        deviations=(
            PARZEN_MODEL_SELECTION,
            "Networks: the dcgan-mnist pair at width 32 (the paper's MNIST code: DIM 64, 5x5 kernels, no "
            "batch norm in G), so that the two entries differ only in the objective; 40 epochs (8000 "
            "generator iterations) instead of the code's 200 000 iterations, for 2 CPU cores.",
        ),
    ),
    "cgan-mnist": Recipe(
        name="cgan-mnist",
        epochs=300,
        batch_size=100,
        load_data=_mnist_data,
        build=_cgan_mnist_build,
        compile=_paper_sgd_compile(1.00004),
        fit_inputs=lambda data: (data["train"].images, data["train"].labels),
        score=_cgan_mnist_score,
        sample_grid=lambda model, data, seed: (model.generate(balanced_labels(100), seed=seed), (0.0, 1.0), 10),
        description=__doc__,
        evaluate=conditional_mnist_test_metrics,
        evaluate_command="python -m evaluation.parzen cgan-mnist; python -m evaluation.label_agreement cgan-mnist",
        deviations=(
            PARZEN_MODEL_SELECTION,
            "No dropout in G (the paper: 0.5). With it, G uses its dropout masks as its noise and ignores "
            "z: one image per digit in inference mode (measured on the card).",
            "z ~ U(-sqrt 3, sqrt 3), as the GAN paper's code, instead of the unit hypercube U(0, 1) "
            "(measured: the unit hypercube run collapses to one image).",
            "Discriminator regularised as pylearn2 maxout nets: dropout 0.2 on the pixels (the GAN code's "
            "mnist.yaml) and maxout column norms <= 1.9365 (max_col_norm of the maxout paper's "
            "mnist_pi.yaml), both unstated in the CGAN paper. "
            "Without them the discriminator wins within 3-7 epochs (measured on the card).",
            "Seed 1: the same recipe with seed 0 collapsed (D(G(z)) 3e-5 by epoch 11); the card "
            "reports both.",
        ),
        seed=1,
    ),
    "pix2pix-facades": _pix2pix_recipe("pix2pix-facades"),
    "pix2pix-facades-paper": _pix2pix_recipe("pix2pix-facades-paper"),
    # Table 1's ablations of the pix2pix-facades recipe (same width, data, jitter, optimiser, epochs).
    "pix2pix-facades-l1": _pix2pix_recipe("pix2pix-facades-l1"),
    "pix2pix-facades-cgan": _pix2pix_recipe("pix2pix-facades-cgan"),
    "pix2pix-facades-gan": _pix2pix_recipe("pix2pix-facades-gan"),
    "pix2pix-facades-l1-gan": _pix2pix_recipe("pix2pix-facades-l1-gan"),
}


# Recipes that train on your own folder (python -m zoo.train pix2pix-folder --data PATH): zoo/folder_recipes.py.
from zoo import folder_recipes  # noqa: E402 - it builds on Recipe, defined above

RECIPES.update(folder_recipes.recipes())
