"""Hide installed packages from this interpreter, to measure what a one-backend install imports.

Used by `bench/_runner.py --one-backend-install`: with this folder first on
PYTHONPATH and `KERAS_GAN_BENCH_HIDE=jax,pandas,...` set, importing a hidden
package fails as if it were not installed. Why: this project's development
environment has all three frameworks and the evaluation extras, and `import
keras` imports whatever optional packages it finds (jax for its Orbax
callback, pandas, matplotlib), so a torch process here carries JAX's memory
too, which `pip install keras-gan[torch]` would not install. Only the
benchmark children use it; nothing in the library does.
"""

import importlib.abc
import importlib.util
import os
import sys

_HIDDEN = frozenset(filter(None, os.environ.get("KERAS_GAN_BENCH_HIDE", "").split(",")))


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by bench/one_backend_site)", name=name)
        return None


def _find_spec(name, package=None, _real=importlib.util.find_spec):
    """`importlib.util.find_spec`, None for a hidden package (as for one not installed: torch and
    Keras probe optional packages this way, and expect None, not an error)."""
    if not name.startswith(".") and name.partition(".")[0] in _HIDDEN:
        return None
    return _real(name, package)


if _HIDDEN:
    sys.meta_path.insert(0, _NotInstalled())
    importlib.util.find_spec = _find_spec
