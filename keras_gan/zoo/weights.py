"""Finding and verifying a zoo checkpoint file.

Search order (the first that exists wins, and must match the registry's sha256):
1. `$KERAS_GAN_ZOO_DIR/<file>`: a local folder of checkpoints (offline users, CI);
2. the Keras cache, `~/.keras/models/keras_gan/<file>` (where downloads land);
3. the repository's own `zoo/checkpoints/<file>` (checkpoints committed with the code);
4. the entry's URL, fetched with `keras.utils.get_file` and checked against the sha256.

A file whose hash differs (corrupt, truncated, or another training run) is an
error and nothing is loaded: silently loading other weights would make every
reported number wrong.
"""

from __future__ import annotations

import hashlib
import os

ZOO_DIR_ENV = "KERAS_GAN_ZOO_DIR"
CACHE_SUBDIR = os.path.join("models", "keras_gan")
REPO_CHECKPOINTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "zoo", "checkpoints")


class ZooWeightsError(RuntimeError):
    """A checkpoint is missing, corrupt or does not match the registry."""


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def candidate_paths(filename: str) -> list[str]:
    """The local places a checkpoint is looked for, in order."""
    places = []
    if os.environ.get(ZOO_DIR_ENV):
        places.append(os.path.join(os.path.expanduser(os.environ[ZOO_DIR_ENV]), filename))
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    places.append(os.path.join(keras_home, CACHE_SUBDIR, filename))
    places.append(os.path.join(REPO_CHECKPOINTS, filename))
    return places


def verify(path: str, sha256: str | None, name: str) -> str:
    """Check a checkpoint's hash; raise `ZooWeightsError` (nothing loaded) on mismatch."""
    if sha256 is None:
        return path
    found = sha256_of(path)
    if found != sha256:
        raise ZooWeightsError(
            f"Checkpoint {path} for {name!r} has sha256 {found}, but the registry records "
            f"{sha256}. The file is corrupt, truncated or from another run; delete it and "
            f"fetch it again, or retrain with `python -m zoo.train {name}`."
        )
    return path


def resolve(name: str, filename: str | None, sha256: str | None, url: str | None) -> str:
    """Path of the verified checkpoint for a zoo entry (see the module docstring)."""
    if not filename:
        raise ZooWeightsError(f"Zoo model {name!r} has no pretrained weights; use weights=None.")
    for path in candidate_paths(filename):
        if os.path.isfile(path):
            return verify(path, sha256, name)
    if url:
        import keras

        try:
            path = keras.utils.get_file(filename, origin=url, file_hash=sha256, cache_subdir=CACHE_SUBDIR)
        except Exception as e:  # network errors, hash mismatch of the download
            raise ZooWeightsError(
                f"Could not download the weights of {name!r} from {url}: {e}. "
                f"Place {filename} in ${ZOO_DIR_ENV} instead, or train them with "
                f"`python -m zoo.train {name}`."
            ) from e
        return verify(path, sha256, name)
    raise ZooWeightsError(
        f"No pretrained weights for {name!r}: {filename} was not found in "
        f"{', '.join(candidate_paths(filename))}, and no download URL is registered. "
        f"Produce them with `python -m zoo.train {name} --out DIR`, then set "
        f"{ZOO_DIR_ENV}=DIR/export (or pass weights=PATH)."
    )
