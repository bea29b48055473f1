"""Writing small files so that a kill at any moment leaves the old file or the new one, never half."""

from __future__ import annotations

import os


def write_text_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through `path + ".writing"` and a rename (atomic on POSIX).

    Line ends are written as given (`newline=""`), so a CSV with `\\r\\n` rows keeps them.
    """
    tmp = path + ".writing"
    with open(tmp, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
