"""Finding and verifying a zoo checkpoint file.

Search order (the first that exists wins, and must match the registry's sha256):
1. `$KERAS_GAN_ZOO_DIR/<file>`: a local folder of checkpoints (offline users, CI);
2. the Keras cache, `~/.keras/models/keras_gan/<file>` (where downloads land);
3. the checkpoints shipped with the code: `zoo/checkpoints/<file>` beside the
   `keras_gan` package (the repository's folder, or the wheel's package data,
   which installs `zoo/checkpoints` next to `keras_gan` in site-packages);
4. a download: `<base URL><file>` with `keras.utils.get_file`, checked against
   the sha256, the base URL `$KERAS_GAN_WEIGHTS_URL` (a mirror) or the release's
   (`DEFAULT_WEIGHTS_URL`), or an entry's own `url`.

A file whose hash differs (corrupt, truncated, or another training run) is an
error and nothing is loaded: silently loading other weights would make every
reported number wrong.
"""

from __future__ import annotations

import os

from keras_gan.utils.files import sha256_of  # noqa: F401 - public here (keras_gan.zoo.sha256_of)

ZOO_DIR_ENV = "KERAS_GAN_ZOO_DIR"
#: Base URL of the checkpoints for download (a folder: `<base><file>`); override for mirrors.
WEIGHTS_URL_ENV = "KERAS_GAN_WEIGHTS_URL"
#: Where each release publishes its checkpoints (its GitHub release assets).
DEFAULT_WEIGHTS_URL = "https://github.com/keras-gan/keras-gan/releases/download/v0.1.0/"
#: Set to 1 to load a file named like a zoo checkpoint whose bytes nothing vouches for
#: (the command lines' `--allow-unverified` sets it).
ALLOW_UNVERIFIED_ENV = "KERAS_GAN_ALLOW_UNVERIFIED"
#: Beside each export, `python -m zoo.train` writes `<file>.sha256`: the run's own record.
SIDECAR_SUFFIX = ".sha256"
CACHE_SUBDIR = os.path.join("models", "keras_gan")
#: `zoo/checkpoints` beside the `keras_gan` package: the repository's folder, or in an installed
#: wheel the package data that site-packages holds next to `keras_gan` (read as files only).
REPO_CHECKPOINTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "zoo", "checkpoints")


class ZooWeightsError(RuntimeError):
    """A checkpoint is missing, corrupt or does not match the registry."""


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


def download_url(filename: str, url: str | None) -> str:
    """Where a checkpoint is downloaded from: `$KERAS_GAN_WEIGHTS_URL` + file, else the entry's
    own `url`, else the release's base URL + file."""
    base = os.environ.get(WEIGHTS_URL_ENV)
    if base:
        return base if base.endswith(filename) else base.rstrip("/") + "/" + filename
    return url or DEFAULT_WEIGHTS_URL + filename


def resolve(name: str, filename: str | None, sha256: str | None, url: str | None) -> str:
    """Path of the verified checkpoint for a zoo entry (see the module docstring)."""
    if not filename:
        raise ZooWeightsError(f"Zoo model {name!r} has no pretrained weights; use weights=None.")
    for path in candidate_paths(filename):
        if os.path.isfile(path):
            return verify(path, sha256, name)
    if sha256:  # only a checkpoint with a recorded hash is downloaded: it is checked on arrival
        url = download_url(filename, url)
        import keras

        keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
        try:  # Keras falls back to /tmp/.keras when the cache folder does not exist yet
            os.makedirs(os.path.join(keras_home, CACHE_SUBDIR), exist_ok=True)
        except OSError:
            pass
        try:
            print(f"downloading the {name!r} checkpoint from {url}", flush=True)
            path = keras.utils.get_file(filename, origin=url, file_hash=sha256, hash_algorithm="sha256",
                                        cache_subdir=CACHE_SUBDIR, cache_dir=keras_home)
        except Exception as e:  # network errors, hash mismatch of the download
            partial = os.path.join(keras_home, CACHE_SUBDIR, filename)
            if os.path.isfile(partial) and sha256_of(partial) != sha256:
                os.remove(partial)  # never leave a wrong file where the next load would find it
            raise ZooWeightsError(
                f"Could not download the weights of {name!r} from {url}: {type(e).__name__}: {e}. "
                f"Offline or behind a firewall: place {filename} in ${ZOO_DIR_ENV}, or set "
                f"${WEIGHTS_URL_ENV} to a mirror; or train them with `python -m zoo.train {name}`."
            ) from e
        return verify(path, sha256, name)
    raise ZooWeightsError(
        f"No pretrained weights for {name!r}: {filename} was not found in "
        f"{', '.join(candidate_paths(filename))}, and no download URL is registered. "
        f"Produce them with `python -m zoo.train {name} --out DIR`, then set "
        f"{ZOO_DIR_ENV}=DIR/export (or pass weights=PATH)."
    )


def write_sidecar(path: str) -> str:
    """Record `path`'s sha256 beside it (`<path>.sha256`), as zoo.train does for its exports."""
    digest = sha256_of(path)
    from keras_gan.utils.files import write_text_atomically

    write_text_atomically(path + SIDECAR_SUFFIX, f"{digest}  {os.path.basename(path)}\n")
    return digest


def verify_named_file(path: str, name: str, filename: str | None, sha256: str | None,
                      allow_unverified: bool = False) -> str:
    """Check a weights file given by path when it carries a zoo entry's file name.

    A file named like the zoo's checkpoint (`gan-mnist.weights.h5`) is taken
    for it; altered bytes would then give wrong numbers under the zoo's name.
    It must match the registry's sha256 or its own `<file>.sha256` record
    (zoo.train writes one beside each export). Other file names, and
    `allow_unverified=True` (or `$KERAS_GAN_ALLOW_UNVERIFIED=1`), skip the check.
    """
    if (allow_unverified or os.environ.get(ALLOW_UNVERIFIED_ENV) == "1" or filename is None
            or os.path.basename(path) != filename):
        return path
    sidecar = path + SIDECAR_SUFFIX
    recorded = None
    if os.path.isfile(sidecar):
        with open(sidecar) as f:
            recorded = (f.read().split() or [None])[0]
    if sha256 is None and recorded is None:
        return path  # nothing to check against: an entry without shipped weights, an unrecorded file
    found = sha256_of(path)
    if found in (sha256, recorded):
        return path
    said = " or ".join(f"{what} {value}" for what, value in
                       (("the registry's", sha256), (f"its record {os.path.basename(sidecar)}'s", recorded))
                       if value)
    raise ZooWeightsError(
        f"{path} is named like zoo model {name!r}'s checkpoint, but its sha256 is {found}, not "
        f"{said}: a damaged (corrupt or truncated) or altered copy. Use the zoo's own file (load({name!r})), or, if these "
        "are weights you trust, pass allow_unverified=True (command lines: --allow-unverified)."
    )
