"""Files: the one sha256 of a file, and writing small files so that a kill at any moment leaves the
old file or the new one, never half.

This module imports only the standard library: `evaluation` loads it from its file without
importing keras_gan (and so Keras), see `evaluation/keras_free.py`.
"""

from __future__ import annotations

import hashlib
import os


def sha256_of(source) -> str:
    """Hex sha256 of a file's bytes: `source` is the file's path (read in 1 MiB blocks), or its
    bytes already read (bytes-like), hashed as they are.

    The one sha256 of keras_gan and its applications: zoo checkpoints and their `.sha256` records,
    resumable backups, the evaluation networks' checkpoints, the Facades files' SHA256SUMS.
    """
    digest = hashlib.sha256()
    if isinstance(source, (bytes, bytearray, memoryview)):
        digest.update(source)
        return digest.hexdigest()
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through `path + ".writing"` and a rename (atomic on POSIX).

    Line ends are written as given (`newline=""`), so a CSV with `\\r\\n` rows keeps them.
    """
    tmp = path + ".writing"
    with open(tmp, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
