"""Models trained on your own folders: their architecture, kept inside their weights file.

A zoo entry's architecture lives in the registry; a model `python -m zoo.train
pix2pix-folder` (or gan-folder, cgan-folder) trained on your images has the
sizes, channels and classes of your data. Its export is one `.weights.h5` file
that also carries a small JSON architecture (an HDF5 attribute on the file,
which Keras' `load_weights` ignores), so `python -m keras_gan.translate` and
`python -m keras_gan.generate` rebuild the model from the file alone and no
second file can get separated from it or go stale.

Architecture: `{"family": "pix2pix" | "gan" | "cgan", ...}` with the arguments
of `build_model` (image size, channels, widths, latent size, class names).
"""

from __future__ import annotations

import json
import os

import keras

#: The HDF5 attribute of a `.weights.h5` file that holds the architecture (JSON).
ARCHITECTURE_ATTRIBUTE = "keras_gan_architecture"
FAMILIES = ("pix2pix", "gan", "cgan")


class ModelFileError(ValueError):
    """A model name or file cannot be loaded (the message says why and what to pass instead)."""


def build_model(architecture: dict, seed: int | None = None) -> keras.Model:
    """A fresh, uncompiled model of `architecture` (see the module docstring)."""
    from keras_gan import networks
    from keras_gan.models import GAN, ConditionalGAN, Pix2Pix
    from keras_gan.networks.image_dcgan import image_discriminator, image_generator

    family = architecture.get("family")
    if family == "pix2pix":
        size = int(architecture["image_size"])
        return Pix2Pix(
            networks.unet_generator(image_size=size, in_channels=int(architecture["in_channels"]),
                                    out_channels=int(architecture["out_channels"]),
                                    ngf=int(architecture["ngf"]), seed=seed),
            networks.patchgan_discriminator(image_size=size, in_channels=int(architecture["in_channels"]),
                                            target_channels=int(architecture["out_channels"]),
                                            ndf=int(architecture["ndf"])),
            l1_weight=float(architecture.get("l1_weight", 100.0)),
        )
    if family in ("gan", "cgan"):
        classes = len(architecture.get("class_names") or ()) if family == "cgan" else 0
        size, channels = int(architecture["image_size"]), int(architecture["channels"])
        latent, width = int(architecture["latent_dim"]), int(architecture["width"])
        generator = image_generator(size, channels, latent_dim=latent, width=width, num_classes=classes)
        discriminator = image_discriminator(size, channels, width=width, num_classes=classes, seed=seed)
        if family == "gan":
            return GAN(generator, discriminator, latent_dim=latent, latent_prior="normal", seed=seed)
        return ConditionalGAN(generator, discriminator, latent_prior="normal", seed=seed)
    raise ModelFileError(f"Unknown model family {family!r} in an architecture; expected one of {FAMILIES}.")


def record_architecture(weights_path: str, architecture: dict) -> None:
    """Store `architecture` inside the `.weights.h5` file (before its sha256 is recorded)."""
    import h5py

    with h5py.File(weights_path, "a") as f:
        f.attrs[ARCHITECTURE_ATTRIBUTE] = json.dumps(architecture, sort_keys=True)


def read_architecture(weights_path: str) -> dict | None:
    """The architecture stored in a weights file, or None (a zoo export, or Keras' own file)."""
    import h5py

    try:
        with h5py.File(weights_path, "r") as f:
            raw = f.attrs.get(ARCHITECTURE_ATTRIBUTE)
    except OSError as e:
        raise ModelFileError(f"{weights_path} is not a readable .weights.h5 file ({e}); it is corrupt or "
                             "truncated: export it again.") from e
    if raw is None:
        return None
    return json.loads(raw if isinstance(raw, str) else raw.decode())


def load_model(model: str, allow_unverified: bool = False) -> tuple[keras.Model, dict | None]:
    """`(model, architecture or None)` for a zoo name, a zoo export `NAME.weights.h5`, or a folder
    model's export (architecture inside). Raises ModelFileError / zoo errors with a one-line cause."""
    from keras_gan import zoo

    if not model.endswith(".h5") and not os.path.exists(model):
        try:
            return zoo.load(model, allow_unverified=allow_unverified), None
        except zoo.UnknownModelError as e:
            raise ModelFileError(f"{model!r} is neither a file nor a zoo model: {e}") from e
    if not os.path.isfile(model):
        raise ModelFileError(f"{model}: no such file; give a zoo name ({', '.join(zoo.names()[:3])}, ...) or "
                             "an exported .weights.h5 file.")
    if not model.endswith(".weights.h5"):
        raise ModelFileError(f"{model} is not a .weights.h5 file; give a zoo name or the export of a "
                             "`python -m zoo.train` run (OUT/export/NAME.weights.h5).")
    architecture = read_architecture(model)
    if architecture is None:
        name = os.path.basename(model)[: -len(".weights.h5")]
        if name not in zoo.names():
            raise ModelFileError(f"{model} holds no architecture and is not named like a zoo model's export "
                                 f"(NAME.weights.h5 with NAME one of {', '.join(zoo.names())}); export it with "
                                 "`python -m zoo.train`.")
        return zoo.load(name, weights=model, allow_unverified=allow_unverified), None
    _verify_record(model, allow_unverified)
    built = build_model(architecture)
    try:
        built.load_weights(model)
    except Exception as e:  # h5py OSError on truncated files, ValueError on shape mismatch
        raise ModelFileError(f"Could not load {model}: {e}. The file is corrupt or truncated; export it "
                             "again.") from e
    return built, architecture


def _verify_record(path: str, allow_unverified: bool) -> None:
    """Check the file against the sha256 zoo.train recorded beside it (`<file>.sha256`), if any."""
    from keras_gan.zoo.weights import ALLOW_UNVERIFIED_ENV, SIDECAR_SUFFIX
    from keras_gan.utils.files import sha256_of

    sidecar = path + SIDECAR_SUFFIX
    if allow_unverified or os.environ.get(ALLOW_UNVERIFIED_ENV) == "1" or not os.path.isfile(sidecar):
        return
    with open(sidecar) as f:
        recorded = (f.read().split() or [None])[0]
    found = sha256_of(path)
    if recorded is not None and found != recorded:
        raise ModelFileError(f"{path} has sha256 {found}, but its record {os.path.basename(sidecar)} says "
                             f"{recorded}: a damaged or altered copy. Copy the export again, or pass "
                             "--allow-unverified if you trust it.")
