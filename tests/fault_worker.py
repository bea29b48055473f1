"""Run `python -m zoo.train ARGS` and SIGKILL it at a chosen point (for tests/test_resume.py).

    python -m tests.fault_worker FAULT -- zoo.train arguments

FAULT is one of
  mid-epoch:E:B        kill while fetching batch B of epoch E (0-based)
  backup-write:E       kill halfway through writing the backup after epoch E:
                       the weights file is cut to half its bytes, then the process dies
  between-callbacks:E  kill after epoch E's history row was written, before its backup

A SIGKILL gives no chance to clean up, which is the point: what is on disk
afterwards is what a power cut or an OOM kill would leave.
"""

from __future__ import annotations

import os
import signal
import sys


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(fault: str) -> None:
    kind, *where = fault.split(":")
    where = [int(w) for w in where]
    import keras

    from keras_gan import resumable
    from keras_gan.datasets import EpochShuffledArrays

    if kind == "mid-epoch":
        original = EpochShuffledArrays.__getitem__

        def getitem(self, index):
            if (self.epoch, index) == tuple(where):
                _die()
            return original(self, index)

        EpochShuffledArrays.__getitem__ = getitem
    elif kind == "backup-write":
        original_fsync = resumable._fsync

        def fsync(path):
            if path.endswith(f"epoch-{where[0] + 1:06d}{os.sep}state.weights.h5"):
                size = os.path.getsize(path)
                with open(path, "r+b") as f:
                    f.truncate(size // 2)
                _die()
            original_fsync(path)

        resumable._fsync = fsync
    elif kind == "between-callbacks":
        original_end = keras.callbacks.CSVLogger.on_epoch_end

        def on_epoch_end(self, epoch, logs=None):
            original_end(self, epoch, logs)
            if epoch == where[0]:
                _die()

        keras.callbacks.CSVLogger.on_epoch_end = on_epoch_end
    else:
        raise SystemExit(f"unknown fault {fault!r}")


if __name__ == "__main__":
    fault, separator, *argv = sys.argv[1:]
    assert separator == "--", "usage: python -m tests.fault_worker FAULT -- ARGS"
    os.environ["KERAS_BACKEND"] = argv[argv.index("--backend") + 1] if "--backend" in argv else \
        os.environ.get("KERAS_BACKEND", "jax")
    install(fault)
    from zoo.train import main

    sys.exit(main(argv))
