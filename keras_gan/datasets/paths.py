"""Where local data sets are found: a `data_dir` argument or `KERAS_GAN_DATA_DIR`."""

from __future__ import annotations

import os

DATA_DIR_ENV = "KERAS_GAN_DATA_DIR"


def configured_root(data_dir: str | None) -> str | None:
    """The data folder the user configured: `data_dir`, else `$KERAS_GAN_DATA_DIR`, else None."""
    return data_dir if data_dir is not None else (os.environ.get(DATA_DIR_ENV) or None)


def resolve_data_dir(data_dir: str | None, subdir: str, marker: str) -> str | None:
    """Return the folder holding `marker` for a data set, or None if none is configured.

    `data_dir` (else `$KERAS_GAN_DATA_DIR`) may be the data set's own folder or
    a parent holding it as `subdir/` (e.g. `../shared/data` with `mnist/`).
    """
    root = configured_root(data_dir)
    if not root:
        return None
    root = os.path.expanduser(root)
    for candidate in (os.path.join(root, subdir), root):
        if os.path.exists(os.path.join(candidate, marker)) or os.path.exists(
            os.path.join(candidate, marker.removesuffix(".gz"))
        ):
            return candidate
    source = "data_dir" if data_dir is not None else f"${DATA_DIR_ENV}"
    raise FileNotFoundError(
        f"{source} is {root!r}, but neither it nor {os.path.join(root, subdir)!r} contains "
        f"{marker}. Point it at the folder holding the {subdir} files."
    )
