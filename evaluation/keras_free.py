"""keras_gan's modules that need no Keras, for the evaluation package: loaded from their files,
so that using them does not import Keras.

Why: `import keras_gan.<anything>` first runs `keras_gan/__init__.py`, which imports Keras (it
must: importing keras_gan is what registers its layers and models with Keras' serialization),
and with it TensorFlow on that backend, or under any backend through `keras.utils`. The
evaluation package must not: importing torch-fidelity or torchvision after TensorFlow aborts
the interpreter (see `evaluation.fidelity`), and its command lines answer `--help` without a
deep-learning framework. Yet some of what it needs has its one home in keras_gan: the papers'
numbers and the sha256 of a file. Those modules import only the standard library
(`KERAS_FREE`; `tests/test_one_place.py` checks it), so they are executed here from their own
files, under a private module name, without their package's `__init__`. When keras_gan has
been imported already, its own module is used instead: one source either way.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

#: keras_gan's modules that import nothing but the standard library (checked by the tests).
KERAS_FREE = ("keras_gan.utils.files", "keras_gan.zoo.papers")


def keras_gan_module(name: str) -> ModuleType:
    """The keras_gan module `name` (one of `KERAS_FREE`), without importing keras_gan or Keras."""
    if name not in KERAS_FREE:
        raise ValueError(f"{name} is not one of keras_gan's Keras-free modules {KERAS_FREE}")
    if name in sys.modules:  # keras_gan is imported: its own module
        return sys.modules[name]
    private = f"{__name__}.{name}"
    if private not in sys.modules:
        package = importlib.util.find_spec("keras_gan")  # finds the package without running its __init__
        path = os.path.join(package.submodule_search_locations[0], *name.split(".")[1:]) + ".py"
        spec = importlib.util.spec_from_file_location(private, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[private] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[private]
            raise
    return sys.modules[private]


files = keras_gan_module("keras_gan.utils.files")
papers = keras_gan_module("keras_gan.zoo.papers")
