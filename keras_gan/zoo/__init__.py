"""The model zoo: `keras_gan.zoo.load(name)` and `keras_gan.zoo.list()`.

    import keras_gan
    gan = keras_gan.zoo.load("gan-mnist")        # verified pretrained weights
    images = gan.generate(16, seed=0)

Entries live in `keras_gan/zoo/registry.py` (one place); weights are found as
described in `keras_gan/zoo/weights.py`. This is the *library's* zoo API; the
top-level `zoo/` package is the workshop that trains and documents the entries
(`python -m zoo.train NAME`, cards, result files) and is never imported here.
"""

from __future__ import annotations

import os

import keras

from keras_gan.zoo import builders
from keras_gan.zoo.registry import ENTRIES, UnknownModelError, ZooEntry, get_entry, names
from keras_gan.zoo.weights import (
    ALLOW_UNVERIFIED_ENV,
    ZOO_DIR_ENV,
    ZooWeightsError,
    resolve,
    sha256_of,
    verify_named_file,
    write_sidecar,
)


def list() -> "list[dict]":  # noqa: A001 - the public name the zoo promises
    """Every entry as a dict: name, family, description, data, recipe, measured and paper metrics."""
    return [entry.as_dict() for entry in ENTRIES]


def build(name: str) -> keras.Model:
    """The entry's architecture, freshly initialised (no weights loaded)."""
    entry = get_entry(name)
    return getattr(builders, entry.builder)(**entry.config)


def load(name: str, weights: str | None = "pretrained", allow_unverified: bool = False) -> keras.Model:
    """Build a zoo model and load its weights.

    Args:
        name: a registry name (`keras_gan.zoo.names()`).
        weights: `"pretrained"` (the registry's verified checkpoint), `None`
            (random initialisation), or a path to a `.weights.h5` file of the
            same architecture (e.g. your own `python -m zoo.train` export).
        allow_unverified: load a file named like the entry's checkpoint even
            when neither the registry's sha256 nor the file's own `.sha256`
            record matches it (see `weights.verify_named_file`).

    Raises:
        UnknownModelError: unknown name (the message lists the names).
        ZooWeightsError: missing, corrupt or mismatching weights; nothing is loaded.
    """
    model = build(name)
    if weights is None:
        return model
    _load_weights(model, weights_path(name, weights, allow_unverified), name)
    return model


def weights_path(name: str, weights: str, allow_unverified: bool = False) -> str:
    """The file `load(name, weights)` reads: `"pretrained"` resolves the registry's
    checkpoint (sha256 checked), anything else must be an existing file (sha256
    checked too when it is named like the entry's checkpoint)."""
    entry = get_entry(name)
    if weights == "pretrained":
        return resolve(entry.name, entry.weights_file, entry.sha256, entry.url)
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise ZooWeightsError(f"Weights file {path} for {name!r} does not exist.")
    return verify_named_file(path, entry.name, entry.weights_file, entry.sha256, allow_unverified)


def _load_weights(model: keras.Model, path: str, name: str) -> None:
    if not path.endswith(".weights.h5"):
        raise ZooWeightsError(f"Zoo weights must be a `.weights.h5` file; got {path}.")
    try:
        model.load_weights(path)
    except Exception as e:  # h5py OSError on truncated files, ValueError on shape mismatch
        raise ZooWeightsError(
            f"Could not load {path} into zoo model {name!r}: {e}. The file is corrupt, truncated "
            "or holds another architecture."
        ) from e


__all__ = [
    "ALLOW_UNVERIFIED_ENV",
    "ENTRIES",
    "UnknownModelError",
    "ZOO_DIR_ENV",
    "ZooEntry",
    "ZooWeightsError",
    "build",
    "get_entry",
    "list",
    "load",
    "names",
    "sha256_of",
    "verify_named_file",
    "weights_path",
    "write_sidecar",
]
