"""Recipes that train on your own folder: pix2pix-folder, gan-folder, cgan-folder.

    python -m zoo.train pix2pix-folder --data my_pairs --out runs/my_pix2pix
    python -m zoo.train gan-folder --data my_photos --image-size 64 --out runs/my_gan
    python -m zoo.train cgan-folder --data my_classes --out runs/my_cgan

They run through `zoo.train` exactly as the zoo entries do (backups that survive a
kill, exact resume, sample grids, history, the export with its sha256, the
launchers), with the data and the architecture taken from the folder:

- pix2pix-folder (Isola et al. 2017): `keras_gan.datasets.PairedImageFolder`
  (aligned A|B images in train/, or A/ and B/; `--direction AtoB|BtoA`), the
  paper's jitter fresh each epoch, U-Net + 70x70 PatchGAN (`--width`: ngf = ndf,
  64 in the paper), Adam 2e-4 / 0.5, lambda 100, batch 1, 200 epochs. The L1 of
  the val/ (else test/, else the first train) pairs, translated in the paper's
  test mode with a fixed dropout seed, is logged each epoch; the last epoch is
  exported, as the paper reports its final model.
- gan-folder / cgan-folder: `keras_gan.datasets.ImageFolderDataset` (labels from
  sub-folder names for cgan), the DCGAN-style pair of
  `keras_gan.networks.image_dcgan` at the images' size (`--image-size`, default
  the files' own), z ~ N(0, I) of size 100, Adam 2e-4 / 0.5 (DCGAN), batch 64,
  25 epochs, the last epoch exported. Logged each epoch: the samples' diversity
  (mean per-pixel standard deviation of 100 seeded samples; near 0 is a
  collapse). The export carries its architecture (`keras_gan.folder_models`).

Under the launchers each process trains on its own batches (`--batch-size` per
process, as the pix2pix reference's data-parallel runs).
"""

from __future__ import annotations

import argparse

import numpy as np

FAMILIES = {"pix2pix-folder": "pix2pix", "gan-folder": "gan", "cgan-folder": "cgan"}
#: What each option is when not given, per family.
DEFAULTS = {
    "pix2pix": {"image_size": 256, "width": 64, "batch_size": 1, "epochs": 200},
    "gan": {"image_size": None, "width": 64, "batch_size": 64, "epochs": 25},
    "cgan": {"image_size": None, "width": 64, "batch_size": 64, "epochs": 25},
}
LATENT_DIM = 100
#: Validation pairs scored and shown per epoch (pix2pix).
VALIDATION_PAIRS = 8


def add_folder_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the folder recipes (refused with the zoo entries)."""
    group = parser.add_argument_group("folder recipes (pix2pix-folder, gan-folder, cgan-folder)")
    group.add_argument("--image-size", type=int, default=None,
                       help="side of the square images trained on (pix2pix: 256, a multiple of 32; GANs: the "
                            "files' own size, which must then be the same for all)")
    group.add_argument("--direction", choices=("AtoB", "BtoA"), default=None,
                       help="pix2pix: translate A to B (default) or B to A")
    group.add_argument("--width", type=int, default=None,
                       help="network width: pix2pix's ngf = ndf (64 in the paper), the GANs' first layer (64)")
    group.add_argument("--batch-size", type=int, default=None,
                       help="images per batch and process (pix2pix: 1, the paper's; GANs: 64)")
    group.add_argument("--skip-bad-files", action="store_true",
                       help="skip unreadable images (left out up front; one that goes bad during training "
                            "is replaced by the next readable one and counted in the log) instead of "
                            "stopping with an error naming the file")


def check_folder_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """parser.error (exit 2, nothing written) on options that do not fit the recipe."""
    folder = args.name in FAMILIES
    given = [f"--{name.replace('_', '-')}" for name in ("image_size", "direction", "width", "batch_size")
             if getattr(args, name) is not None] + (["--skip-bad-files"] if args.skip_bad_files else [])
    if not folder:
        if given:
            parser.error(f"{', '.join(given)} apply to the folder recipes ({', '.join(FAMILIES)}); "
                         f"{args.name} trains the paper's data and networks")
        return
    if args.data_dir is None:
        parser.error(f"{args.name} trains on your folder: pass --data PATH (README: 'Your own images')")
    if args.init_from is not None:
        parser.error(f"--init-from continues a zoo entry's weights; {args.name} starts from its "
                     "initialisation (a stopped run resumes from its --out backup by itself)")
    family = FAMILIES[args.name]
    if args.direction is not None and family != "pix2pix":
        parser.error("--direction applies to pix2pix-folder (which half is the input)")
    for name in ("image_size", "width", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if family == "pix2pix" and args.image_size is not None and args.image_size % 32:
        parser.error(f"--image-size {args.image_size}: pix2pix-folder's U-Net halves the image 5 or more "
                     "times and its PatchGAN needs >= 32 pixels: use a multiple of 32 (256 in the paper)")
    if family != "pix2pix" and args.image_size is not None and (args.image_size < 8 or args.image_size % 2):
        parser.error(f"--image-size {args.image_size}: the GAN networks need an even size >= 8 (e.g. 32, 64)")


def options_from(args: argparse.Namespace) -> dict:
    """The folder options of a command line, defaults filled in (run.json records them)."""
    family = FAMILIES[args.name]
    options = dict(DEFAULTS[family])
    for name in ("image_size", "width", "batch_size"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    options["direction"] = args.direction or "AtoB"
    options["skip_bad_files"] = bool(args.skip_bad_files)
    options["path"] = args.data_dir
    return options


def configure(recipe, args: argparse.Namespace):
    """The recipe a command line runs: a folder recipe bound to its folder and options; others as they are."""
    if args.name not in FAMILIES:
        return recipe
    return folder_recipe(args.name, options_from(args))


def folder_recipe(name: str, options: dict):
    """The `zoo.recipes.Recipe` of a folder recipe with these options (defaults filled in)."""
    from zoo.recipes import Recipe  # here: zoo.recipes imports this module at its end

    family = FAMILIES[name]
    options = {**DEFAULTS[family], "direction": "AtoB", "skip_bad_files": False, "path": None, **options}
    if family == "pix2pix":
        recipe = Recipe(
            name=name, epochs=options["epochs"], batch_size=options["batch_size"],
            load_data=lambda data_dir, limit: _pix2pix_data(options, limit),
            build=_build, compile=lambda model, steps_per_epoch: model.compile(),
            fit_inputs=lambda data: data["train"], score=_pix2pix_score, sample_grid=_translation_grid,
            description=__doc__, keep="last", score_name="val_minus_l1", architecture=_architecture,
        )
    else:
        recipe = Recipe(
            name=name, epochs=options["epochs"], batch_size=options["batch_size"],
            load_data=lambda data_dir, limit: _gan_data(family, options, limit),
            build=_build, compile=_adam_compile, fit_inputs=lambda data: data["train"],
            score=_sample_diversity, sample_grid=_sample_grid, description=__doc__, keep="last",
            score_name="sample_diversity", architecture=_architecture,
        )
    recipe.from_folder = True
    recipe.per_replica_batch = True  # each process its own batches under the launchers
    return recipe


def _architecture(data: dict) -> dict:
    """The architecture the export carries (keras_gan.folder_models), as the data loader recorded it."""
    return data["architecture"]


# ---------------------------------------------------------------- pix2pix
def _pix2pix_data(options: dict, limit: int | None) -> dict:
    from keras_gan.datasets import PairedImageFolder
    from keras_gan.datasets.paired_folder import has_split

    path, size = options["path"], options["image_size"]
    common = dict(image_size=size, direction=options["direction"], skip_bad_files=options["skip_bad_files"])
    train = PairedImageFolder(path, "train", batch_size=options["batch_size"], seed=0, limit=limit, **common)
    split = next((s for s in ("val", "test") if has_split(path, s)), None)
    if split is not None:
        validation = PairedImageFolder(path, split, limit=VALIDATION_PAIRS, **common).arrays()
    else:  # no held-out pairs: show (and score) the first training pairs, without jitter
        validation = PairedImageFolder(path, "train", limit=VALIDATION_PAIRS, augment=False, shuffle=False,
                                       channels=train.channels, **common).arrays()
    architecture = {"family": "pix2pix", "image_size": size, "in_channels": train.input_channels,
                    "out_channels": train.target_channels, "ngf": options["width"], "ndf": options["width"],
                    "l1_weight": 100.0, "direction": options["direction"], "validation_split": split or "train"}
    return {"train": train, "validation": validation, "architecture": architecture}


def _pix2pix_score(model, data) -> float:
    """Minus the mean L1 (on [-1, 1]) of the validation translations (paper's test mode, seed 0)."""
    inputs, targets = data["validation"]
    return -float(np.mean(np.abs(model.translate(inputs, batch_size=1, seed=0) - targets)))


def _translation_grid(model, data, seed):
    """Rows of input | translation | target (grey images shown in 3 channels beside colour ones)."""
    inputs, targets = data["validation"]
    inputs, targets = inputs[:4], targets[:4]
    outputs = model.translate(inputs, batch_size=1, seed=seed)
    channels = max(inputs.shape[-1], targets.shape[-1])
    rows = [np.repeat(a, channels // a.shape[-1], axis=-1) for a in (inputs, outputs, targets)]
    return np.stack(rows, axis=1).reshape((-1,) + rows[1].shape[1:]), (-1.0, 1.0), 3


# ------------------------------------------------------------- GAN / CGAN
def _gan_data(family: str, options: dict, limit: int | None) -> dict:
    from keras_gan.datasets import DataFileError, ImageFolderDataset
    from keras_gan.networks.image_dcgan import halvings

    train = ImageFolderDataset(options["path"], batch_size=options["batch_size"], image_size=options["image_size"],
                               with_labels=family == "cgan", seed=0, limit=limit,
                               skip_bad_files=options["skip_bad_files"])
    height, width, channels = train.image_shape
    if height != width:
        raise DataFileError(f"The images in {options['path']} are {width}x{height}; the GAN networks make square "
                            "images: pass --image-size N to resize them to N x N.")
    try:
        halvings(height)
    except ValueError:
        raise DataFileError(f"The images in {options['path']} are {width}x{height}; the GAN networks need an even "
                            "size >= 8: pass --image-size (e.g. 32 or 64).") from None
    if family == "cgan" and train.num_classes < 2:
        raise DataFileError(f"{options['path']} has {train.num_classes} class folder(s); a CGAN needs two or more "
                            "sub-folders, one per class (or train gan-folder).")
    architecture = {"family": family, "image_size": height, "channels": channels, "latent_dim": LATENT_DIM,
                    "width": options["width"]}
    if family == "cgan":
        architecture["class_names"] = list(train.class_names)
    return {"train": train, "architecture": architecture}


def _adam_compile(model, steps_per_epoch):
    """DCGAN's optimiser (Radford et al. 2016, section 4): Adam, lr 2e-4, beta_1 0.5, both networks."""
    import keras

    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))


def _labels_for(model, count: int) -> np.ndarray:
    classes = min(model.num_classes, 10)
    return np.repeat(np.arange(classes), max(1, count // classes))


def _samples(model, count: int, seed: int) -> np.ndarray:
    if hasattr(model, "num_classes"):
        return model.generate(_labels_for(model, count), seed=seed)
    return model.generate(count, seed=seed)


def _sample_diversity(model, data) -> float:
    """Mean per-pixel standard deviation of 100 seeded samples: near 0 when G collapsed to one image."""
    return float(np.mean(np.std(_samples(model, 100, 0), axis=0)))


def _sample_grid(model, data, seed):
    """8 x 8 samples (CGAN: a row per class, up to 10 classes)."""
    if hasattr(model, "num_classes"):
        labels = np.repeat(np.arange(min(model.num_classes, 10)), 8)
        return model.generate(labels, seed=seed), (0.0, 1.0), 8
    return model.generate(64, seed=seed), (0.0, 1.0), 8


def _build(data):
    from keras_gan.folder_models import build_model

    return build_model(data["architecture"])


def recipes() -> dict:
    """The folder recipes with their defaults, for `zoo.recipes.RECIPES`."""
    return {name: folder_recipe(name, {}) for name in FAMILIES}


# ------------------------------------------------------------- run records
OPTIONS_FILE = "folder.json"


def record_options(out: str, args: argparse.Namespace) -> None:
    """OUT/folder.json: the folder and options the run started with (a resume must repeat them)."""
    import json
    import os

    from keras_gan.utils.files import write_text_atomically

    options = {k: v for k, v in options_from(args).items() if k != "epochs"}
    options["path"] = os.path.abspath(options["path"])
    write_text_atomically(os.path.join(out, OPTIONS_FILE), json.dumps(options, indent=2))


def options_mismatch(out: str, args: argparse.Namespace, restored) -> str | None:
    """Why this resume cannot go on with these folder options, or None (mixing two data sets or
    two architectures in one run would make its records and export describe neither)."""
    import json
    import os

    path = os.path.join(out, OPTIONS_FILE)
    if restored is None or not os.path.isfile(path):
        return None
    with open(path) as f:
        recorded = json.load(f)
    now = {k: v for k, v in options_from(args).items() if k not in ("epochs", "skip_bad_files")}
    now["path"] = os.path.abspath(now["path"])
    changed = [f"{key} {recorded.get(key)!r} (now {value!r})" for key, value in now.items()  # skip_bad_files may change
               if recorded.get(key) != value]
    if not changed:
        return None
    return (f"this run was started with {', '.join(changed)}; a resume must keep its folder and options. "
            "Pass the recorded values (OUT/folder.json), or start a new --out folder.")


def _skipped_files_log():
    import keras

    class SkippedFilesLog(keras.callbacks.Callback):
        """Adds `skipped_files` (bad files skipped so far: left out by the scan, and reads replaced
        during training) to each epoch's logs, so history.csv counts them."""

        def __init__(self, dataset):
            super().__init__()
            self.dataset = dataset

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["skipped_files"] = float(len(self.dataset.skipped) + self.dataset.skipped_reads)

    return SkippedFilesLog


def __getattr__(name):  # SkippedFilesLog needs Keras, which zoo.train imports after choosing the backend
    if name == "SkippedFilesLog":
        return _skipped_files_log()
    raise AttributeError(name)
