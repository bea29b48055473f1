"""The model zoo's registry: one entry per trained model, in one place.

Like timm's `list_models` / keras-hub's presets, an entry holds everything
needed to rebuild, fetch, verify and cite a model: the architecture config,
the data set and split it was trained on, the training recipe, the checkpoint
file name and sha256, the metrics measured on it (with the command that
measured them) and the paper's numbers beside ours. Model cards in
`zoo/cards/` tell the full story.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from typing import Any

from keras_gan.zoo import papers

#: where published checkpoints can be downloaded from (None: local files only).
RELEASE_URL = None


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    name: str
    family: str  # "gan" | "cgan" | "pix2pix"
    description: str
    builder: str  # function name in keras_gan.zoo.builders
    config: dict
    dataset: str
    recipe: str  # the command that trained it
    weights_file: str | None = None
    sha256: str | None = None
    url: str | None = None
    metrics: dict = dataclasses.field(default_factory=dict)
    paper_metrics: dict = dataclasses.field(default_factory=dict)
    card: str | None = None
    #: What holds for every run of the recipe (architecture, data), for the card a run of
    #: `python -m zoo.train` writes; None: `description` already says only that. `description`
    #: may also speak of the shipped checkpoint (how it was averaged, that none ships), which a
    #: run's card must not claim for the run.
    run_description: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_PAPER_GAN = papers.GAN_PAPER
_PAPER_CGAN = papers.CGAN_PAPER

def _pix2pix_ablation(name: str, row: str, change: str, config: dict, epochs_run: int | None = None) -> ZooEntry:
    """A Table 1 row of the pix2pix-facades recipe that ships no weights (an ablation)."""
    return ZooEntry(
        name=name,
        family="pix2pix",
        description=f"pix2pix's Table 1 '{row}' row on facades: the pix2pix-facades pair {change}. "
                    "An ablation: no weights ship.",
        run_description=f"pix2pix's Table 1 '{row}' row on facades: the pix2pix-facades pair {change}.",
        builder="pix2pix",
        config={"image_size": 256, "ngf": 16, "ndf": 16, **config},
        dataset="CMP Facade base, train = cmp_b0001..0300 (val 0301..0328 logged only)",
        recipe=f"python -m zoo.train {name}",
        weights_file=f"{name}.weights.h5",
        sha256=None,
        metrics={} if epochs_run is None else {"epochs": epochs_run, "backend": "tensorflow"},
        paper_metrics=papers.pix2pix_row(row),
        card="zoo/cards/pix2pix-facades.md",
    )


ENTRIES: tuple[ZooEntry, ...] = (
    ZooEntry(
        name="gan-mnist",
        family="gan",
        description="The GAN paper's MLP generator / maxout discriminator on MNIST train[0:50000]; "
                    "the weights are the moving average of the generator's iterates (card).",
        run_description="The GAN paper's MLP generator / maxout discriminator on MNIST train[0:50000].",
        builder="gan_mnist",
        config={"latent_dim": 100, "hidden_units": 1200, "units": 240, "pieces": 5, "latent_prior": "uniform"},
        dataset="MNIST train[0:50000] (validation train[50000:60000] for model selection)",
        recipe="python -m zoo.train gan-mnist",
        weights_file="gan-mnist.weights.h5",
        sha256="420b772581c5fc5962159143b627096eeae9e8e2eab564ad2cfa4ea072f566a7",
        metrics={"epochs": 1256, "generator_average": 0.99995,
                 "backend": "tensorflow", "command": "python -m evaluation.parzen gan-mnist"},
        paper_metrics={**papers.GAN_MNIST_PARZEN, "source": _PAPER_GAN},
        card="zoo/cards/gan-mnist.md",
    ),
    ZooEntry(
        name="dcgan-mnist",
        family="gan",
        description="A DCGAN-style convolutional pair (Radford et al. 2016, adapted to 28x28; width 32 "
                    "for CPU training) with the GAN objective on MNIST train[0:50000]; not in the GAN paper.",
        builder="dcgan_mnist",
        config={"latent_dim": 100, "width": 32, "dropout": 0.3},
        dataset="MNIST train[0:50000] (validation train[50000:60000] for model selection)",
        recipe="python -m zoo.train dcgan-mnist",
        weights_file="dcgan-mnist.weights.h5",
        sha256="b788a40714182d8e8e470cc7aa459b6602336245aad66c2a800f16f80776163d",
        metrics={"epochs": 25, "backend": "jax", "command": "python -m evaluation.parzen dcgan-mnist"},
        paper_metrics={**papers.GAN_MNIST_PARZEN,
                       "source": _PAPER_GAN + "; the paper's MLP GAN, for comparison"},
        card="zoo/cards/dcgan-mnist.md",
    ),
    ZooEntry(
        name="wgan-gp-mnist",
        family="gan",
        description="WGAN-GP (Gulrajani et al. 2017, Algorithm 1: lambda 10, n_critic 5, Adam 1e-4 / "
                    "(0, 0.9)) with the dcgan-mnist pair (width 32, critic without dropout) on MNIST "
                    "train[0:50000]; written on the public step API. The checkpoint is epoch 39 of 40 (7800 of "
                    "the paper code's 200 000 generator iterations; card).",
        run_description="WGAN-GP (Gulrajani et al. 2017, Algorithm 1: lambda 10, n_critic 5, Adam 1e-4 / (0, 0.9)) "
                        "with the dcgan-mnist pair (width 32, critic without dropout) on MNIST train[0:50000].",
        builder="wgan_gp_mnist",
        config={"latent_dim": 128, "width": 32, "n_critic": 5, "gp_weight": 10.0},
        dataset="MNIST train[0:50000] (validation train[50000:60000] for model selection)",
        recipe="python -m zoo.train wgan-gp-mnist",
        weights_file="wgan-gp-mnist.weights.h5",
        sha256="1f53acc5c9cede86da726d552d0009fba495248337d18ca79b97b4f6bbd450eb",
        metrics={"epochs": 39, "backend": "jax", "command": "python -m evaluation.fidelity wgan-gp-mnist"},
        paper_metrics={"source": "Gulrajani et al. 2017 report no MNIST number (Figure 5: samples only); "
                                 "compare with dcgan-mnist, the same networks with the GAN objective"},
        card="zoo/cards/wgan-gp-mnist.md",
    ),
    ZooEntry(
        name="cgan-mnist",
        family="cgan",
        description="The CGAN paper's conditional MLP pair on MNIST train[0:50000], conditioned on the digit; "
                    "no dropout in G, z ~ U(-sqrt 3, sqrt 3) and pylearn2's maxout regularisers in D (card).",
        builder="cgan_mnist",
        # The paper's networks (section 4.1) without G's dropout, z ~ U(-sqrt 3, sqrt 3) and the
        # pylearn2 maxout regularisers in D (pixel dropout 0.2 from the GAN code, column norms
        # <= 1.9365 from the maxout paper): the paper's exact configuration collapses
        # here (measured: zoo/cards/cgan-mnist.md); the builder's defaults are the paper's.
        config={"latent_dim": 100, "num_classes": 10, "dropout": 0.5, "generator_dropout": 0.0,
                "discriminator_input_dropout": 0.2, "discriminator_max_col_norm": 1.9365,
                "latent_prior": "uniform"},
        dataset="MNIST train[0:50000] with labels (validation train[50000:60000] for model selection)",
        recipe="python -m zoo.train cgan-mnist",
        weights_file="cgan-mnist.weights.h5",
        sha256="89740df28fce91ecad1fa07753891b8fb3390177926abbf80ff9761103b2edde",
        metrics={"epochs": 170, "backend": "jax",
                 "command": "python -m evaluation.parzen cgan-mnist; python -m evaluation.label_agreement cgan-mnist"},
        paper_metrics={**papers.CGAN_MNIST_PARZEN, "source": _PAPER_CGAN},
        card="zoo/cards/cgan-mnist.md",
    ),
    ZooEntry(
        name="pix2pix-facades",
        family="pix2pix",
        description="pix2pix labels -> photo, 256x256, CMP facades train split; a narrow network "
                    "(ngf = ndf = 16) trained on CPU.",
        run_description="pix2pix labels -> photo, 256x256, CMP facades train split; a narrow network "
                        "(ngf = ndf = 16).",
        builder="pix2pix",
        config={"image_size": 256, "ngf": 16, "ndf": 16, "l1_weight": 100.0},
        dataset="CMP Facade base, train = cmp_b0001..0300 (val 0301..0328 for model selection)",
        recipe="python -m zoo.train pix2pix-facades",
        weights_file="pix2pix-facades.weights.h5",
        sha256="7a7c55074dcd92f29743efe781487b233b5516b62cf70a3d2f389f70ee89e673",
        # L1 / PSNR / SSIM measured on TensorFlow; the FCN-scores (zoo.pix2pix_table1) on torch.
        metrics={"split": "test", "epochs": 200, "backend": "tensorflow",
                 "command": "python -m evaluation.paired pix2pix-facades --split test"},
        paper_metrics=papers.pix2pix_row("L1+cGAN"),
        card="zoo/cards/pix2pix-facades.md",
    ),
    ZooEntry(
        name="pix2pix-facades-l1",
        family="pix2pix",
        description="pix2pix's Table 1 'L1' row on facades: the pix2pix-facades U-Net (ngf = 16) trained "
                    "on the L1 loss alone (no discriminator), same data, jitter, optimiser and epochs.",
        builder="pix2pix",
        config={"image_size": 256, "ngf": 16, "ndf": 16, "l1_weight": 100.0, "gan_weight": 0.0},
        dataset="CMP Facade base, train = cmp_b0001..0300 (val 0301..0328 logged only)",
        recipe="python -m zoo.train pix2pix-facades-l1",
        weights_file="pix2pix-facades-l1.weights.h5",
        sha256="5b3c84a8c7e9edabf420a1dedea12310e9b3731fca41f3dc7659b1bcfece9b5d",
        metrics={"split": "test", "epochs": 200, "backend": "tensorflow",
                 "command": "python -m evaluation.paired pix2pix-facades-l1 --split test"},
        paper_metrics=papers.pix2pix_row("L1"),
        card="zoo/cards/pix2pix-facades.md",
    ),
    # Table 1's ablations without shipped weights: the pix2pix-facades recipe, one loss changed.
    _pix2pix_ablation("pix2pix-facades-cgan", "cGAN", "trained on the conditional GAN loss alone (lambda = 0)",
                      {"l1_weight": 0.0}, epochs_run=75),
    _pix2pix_ablation("pix2pix-facades-gan", "GAN",
                      "with an unconditioned D (it sees only the photo) and no L1 term",
                      {"l1_weight": 0.0, "conditional_discriminator": False}, epochs_run=75),
    _pix2pix_ablation("pix2pix-facades-l1-gan", "L1+GAN", "with an unconditioned D (it sees only the photo)",
                      {"l1_weight": 100.0, "conditional_discriminator": False}, epochs_run=75),
    ZooEntry(
        name="pix2pix-facades-paper",
        family="pix2pix",
        description="pix2pix labels -> photo with the paper's full-width U-Net (ngf = ndf = 64, "
                    "about 54 M parameters). No weights ship: train with the recipe on a GPU.",
        run_description="pix2pix labels -> photo with the paper's full-width U-Net (ngf = ndf = 64, "
                        "about 54 M parameters).",
        builder="pix2pix",
        config={"image_size": 256, "ngf": 64, "ndf": 64, "l1_weight": 100.0},
        dataset="CMP Facade base train split (or the official 400-image facades train split)",
        recipe="python -m zoo.train pix2pix-facades-paper",
        weights_file="pix2pix-facades-paper.weights.h5",
        sha256=None,
        metrics={},
        paper_metrics={"source": "Isola et al. 2017, facades: 200 epochs, batch 1, Adam 2e-4"},
        card="zoo/cards/pix2pix-facades.md",
    ),
)

#: The measured numbers, generated from `zoo/cards/results/*.json` by `python -m zoo.numbers`
#: (one source of truth; `tests/test_zoo_numbers.py` fails when this file is stale).
MEASURED_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "measured.json")


def _with_measured(entries: tuple) -> tuple:
    measured = {}
    if os.path.isfile(MEASURED_PATH):
        with open(MEASURED_PATH) as f:
            measured = json.load(f)
    return tuple(dataclasses.replace(entry, metrics={**entry.metrics, **measured.get(entry.name, {})})
                 for entry in entries)


ENTRIES = _with_measured(ENTRIES)
_BY_NAME = {entry.name: entry for entry in ENTRIES}


class UnknownModelError(ValueError):
    """No zoo entry has this name."""


def names() -> list[str]:
    return sorted(_BY_NAME)


def get_entry(name: str) -> ZooEntry:
    """The registry entry for `name`; unknown names get the list and the closest match."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    close = difflib.get_close_matches(str(name), names(), n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownModelError(
        f"Unknown zoo model {name!r}.{hint} Available: {', '.join(names())} "
        "(keras_gan.zoo.list() describes them)."
    )
