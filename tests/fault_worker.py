"""Run `python -m zoo.train ARGS` and SIGKILL it at a chosen point (for tests/test_resume.py).

    python -m tests.fault_worker FAULT -- zoo.train arguments

FAULT is one of
  mid-epoch:E:B        kill while fetching batch B of epoch E (0-based)
  backup-write:E       kill halfway through writing the backup after epoch E:
                       the weights file is cut to half its bytes, then the process dies
  step-backup-write:E:B  the same, for the backup after B steps of epoch E (0-based)
  between-callbacks:E  kill after epoch E's history row was written, before its backup
  sigterm:E:B          send this process a SIGTERM while fetching batch B of epoch E
                       (the run is to finish the step, back up and exit 75)
  sigterm-rank:R:E:B   the same, in process R of a job only (torchrun, JAX or TF_CONFIG)
  enospc:WHAT:E[:B]    the write of WHAT fails with ENOSPC: `backup` (after epoch E, or
                       after B steps of epoch E), `history`, `export` or `grid` (epoch E)
  data-error:E:B       fetching batch B of epoch E raises a DataFileError naming a file

A SIGKILL gives no chance to clean up, which is the point: what is on disk
afterwards is what a power cut or an OOM kill would leave.
"""

from __future__ import annotations

import os
import signal
import sys


def _rank() -> int:
    """This process's index in a torchrun, JAX (keras.distribution) or TF_CONFIG job; 0 alone."""
    import json

    if "TF_CONFIG" in os.environ:
        return int(json.loads(os.environ["TF_CONFIG"])["task"]["index"])
    return int(os.environ.get("RANK", os.environ.get("KERAS_DISTRIBUTION_PROCESS_ID", "0")))


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _no_space(path: str = "") -> OSError:
    import errno

    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path or None)


def install(fault: str) -> None:
    kind, *where = fault.split(":")
    what = where.pop(0) if kind == "enospc" else None
    where = [int(w) for w in where]
    import keras

    from keras_gan import resumable
    from keras_gan.datasets import DataFileError, EpochShuffledArrays

    def on_batch(action):
        original = EpochShuffledArrays.__getitem__

        def getitem(self, index):
            if (self.epoch, index) == tuple(where):
                action()
            return original(self, index)

        EpochShuffledArrays.__getitem__ = getitem

    if kind == "sigterm-rank":  # one process of a job: sigterm-rank:R:E:B
        if _rank() == where.pop(0):
            on_batch(lambda: os.kill(os.getpid(), signal.SIGTERM))
    elif kind == "sigterm":
        on_batch(lambda: os.kill(os.getpid(), signal.SIGTERM))
    elif kind == "data-error":
        def bad():
            raise DataFileError("/data/train/0042.png is truncated: 1234 of 5678 bytes (met at epoch "
                                f"{where[0] + 1}, batch {where[1] + 1})")

        on_batch(bad)
    elif kind == "step-backup-write":
        original_fsync = resumable._fsync

        def fsync(path):
            if path.endswith(f"epoch-{where[0]:06d}-batch-{where[1]:06d}{os.sep}state.weights.h5"):
                with open(path, "r+b") as f:
                    f.truncate(os.path.getsize(path) // 2)
                _die()
            original_fsync(path)

        resumable._fsync = fsync
    elif kind == "enospc" and what == "backup":
        name = f"epoch-{where[0]:06d}" + (f"-batch-{where[1]:06d}" if len(where) > 1 else "")
        original_fsync = resumable._fsync

        def fsync(path):
            if path.endswith(f"{name}{os.sep}state.weights.h5"):
                with open(path, "r+b") as f:  # half written, then the disk is full
                    f.truncate(os.path.getsize(path) // 2)
                raise _no_space(path)
            original_fsync(path)

        resumable._fsync = fsync
    elif kind == "enospc" and what == "history":
        original_end = keras.callbacks.CSVLogger.on_epoch_end

        def on_epoch_end(self, epoch, logs=None):
            if epoch == where[0]:
                self.csv_file.write("3,0.5")  # a partial row, then the disk is full
                self.csv_file.flush()
                raise _no_space()
            original_end(self, epoch, logs)

        keras.callbacks.CSVLogger.on_epoch_end = on_epoch_end
    elif kind == "enospc" and what == "export":
        from zoo import selection

        original_end = selection.BestValidationExport.on_epoch_end

        def on_epoch_end(self, epoch, logs=None):
            if epoch == where[0]:
                fn = self.save_fn or self.model.save_weights

                def half_then_full(path):
                    fn(path)
                    with open(path, "r+b") as f:
                        f.truncate(os.path.getsize(path) // 2)
                    raise _no_space(path)

                self.save_fn, self.best = half_then_full, float("-inf")  # this epoch exports
            original_end(self, epoch, logs)

        selection.BestValidationExport.on_epoch_end = on_epoch_end
    elif kind == "enospc" and what == "grid":
        from zoo import training_callbacks

        original_end = training_callbacks.RecipeGrid.on_epoch_end

        def on_epoch_end(self, epoch, logs=None):
            if epoch == where[0]:
                raise _no_space(os.path.join(self.folder, f"samples_epoch_{epoch + 1:03d}.png"))
            original_end(self, epoch, logs)

        training_callbacks.RecipeGrid.on_epoch_end = on_epoch_end
    elif kind == "mid-epoch":
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
