"""What keeps a `zoo.train` run's folder whole when the run is stopped, preempted or starved.

- One writer per folder (`keras_gan.run_lock`): a second run on the same --out
  is refused with one line naming the first (pid, host, start time, command)
  before it writes anything; a lock left by a killed run is taken over.
- SIGTERM / SIGINT (`keras_gan.signals`): the step in flight finishes, a
  backup is written, and the run exits with `EXIT_STOPPED` (75).
- A write that fails (a full disk, a read-only folder, a quota) during a
  backup, an export or a record: one line saying what failed and which
  backup is the last good state, exit `EXIT_WRITE_FAILED` (74). Backups are
  written atomically and records after the last backup are rewound on
  resume, so nothing half-written is taken for a good state.
- Bad data found during training (a `DataFileError` naming the file): one
  line and the last good state, exit `EXIT_DATA_ERROR` (65).

Exit statuses follow BSD's sysexits.h: 75 is EX_TEMPFAIL ("a temporary
failure; the user is invited to retry"), which is what a preempted run that
saved its state is; it differs from 143 (128 + SIGTERM), which a shell reports
for a process *killed* by SIGTERM without saving, so a scheduler can tell a
clean, resumable stop from a kill. 74 is EX_IOERR, 65 EX_DATAERR; 2 stays
"refused before anything was written".
"""

from __future__ import annotations

import errno
import os
import sys

#: Stopped by SIGTERM or SIGINT after writing a backup: run the same command to resume.
EXIT_STOPPED = 75
#: A write failed (full disk, read-only folder, quota); the last good backup is named.
EXIT_WRITE_FAILED = 74
#: A data file turned out bad during training; the last good backup is named.
EXIT_DATA_ERROR = 65

#: The errors of a write that a full disk, a quota or a read-only folder gives.
WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)

_LOCK = None


def lock_holder_problem(out: str) -> str | None:
    """Why `out` cannot be trained in now (another live run holds it), or None. Reads only."""
    from keras_gan.run_lock import RunLock, describe

    holder = RunLock(out).holder()
    if holder is None:
        return None
    return (f"--out {out} is in use by another run: {describe(holder)}. Wait for it to end, stop it, "
            "or give another --out.")


def take_lock(out: str, command: str) -> str | None:
    """Hold `out`'s lock for this process (released by `release_lock`); an error line, or None."""
    global _LOCK
    from keras_gan.resumable import describe_os_error
    from keras_gan.run_lock import RunLock, RunLocked, describe

    lock = RunLock(out)
    try:
        stale = lock.acquire(command)
    except RunLocked:
        return lock_holder_problem(out) or f"--out {out} is in use by another run."
    except OSError as e:
        return f"--out {out}: cannot take the run's lock ({describe_os_error(e)})."
    _LOCK = lock
    if stale and stale.get("pid") not in (None, os.getpid()):
        print(f"zoo.train: took over {lock.path}: its run ({describe(stale)}) is no longer running.",
              file=sys.stderr)
    return None


def after_training(error: BaseException) -> tuple[int, str] | None:
    """(exit status, message) for a failed write after `fit` (the plots, summary, card), or None.
    The run's backups are all written by then."""
    if _LOCK is None:
        return None
    return one_line(error, os.path.join(_LOCK.folder, "backup"))


def stop_together() -> None:
    """After a stop on a signal, wait until every process of a torch or JAX job has said so: process 0
    has then written its backup and its message before a launcher (torchrun) tears the job down on
    the first process to exit."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "torch":
            import torch

            if torch.distributed.is_available() and torch.distributed.is_initialized():
                torch.distributed.barrier()
        elif backend == "jax":
            import jax

            if jax.process_count() > 1:
                from jax.experimental import multihost_utils

                multihost_utils.sync_global_devices("keras_gan stop")
    except Exception:  # noqa: BLE001 - a process already gone: nothing left to wait for
        pass


def release_lock() -> None:
    global _LOCK
    if _LOCK is not None:
        _LOCK.release()
        _LOCK = None


def last_good_state(backup_dir: str) -> str:
    """'the last good state is backup/epoch-000003 (after epoch 3)', read from the disk."""
    from keras_gan.resumable import BackupError, restorable_state

    try:
        state = restorable_state(backup_dir)
    except BackupError:
        state = None
    if state is None:
        return "no backup was written yet (the run starts over)"
    return f"the last good state is {os.path.dirname(state.weights_path)} ({state.where})"


def data_error(error: BaseException) -> str | None:
    """The message of a `DataFileError` raised by the data during `fit`, or None.

    TensorFlow reads a PyDataset inside its input pipeline and raises the
    Python error again as a `tf.errors` error whose message holds it.
    """
    from keras_gan.datasets import DataFileError

    if isinstance(error, DataFileError):
        return str(error)
    text = str(error)
    marker = "DataFileError: "
    if type(error).__module__.startswith("tensorflow") and marker in text:
        return text[text.rindex(marker) + len(marker):].split("\n")[0].strip()
    return None


def one_line(error: BaseException, backup_dir: str) -> tuple[int, str] | None:
    """(exit status, message) for an error that ends a run cleanly, or None for others."""
    from keras_gan.resumable import TrainingStopped, WriteFailed, describe_os_error

    if isinstance(error, TrainingStopped):
        return EXIT_STOPPED, f"zoo.train: {error} (exit status {EXIT_STOPPED})"
    if isinstance(error, WriteFailed):
        return EXIT_WRITE_FAILED, f"error: {error}; {last_good_state(backup_dir)}. Free space or fix the " \
                                  "folder, then run the same command to resume."
    if isinstance(error, OSError) and error.errno in WRITE_ERRNOS:  # a write outside the labelled ones
        return EXIT_WRITE_FAILED, f"error: a write failed: {describe_os_error(error)}; " \
                                  f"{last_good_state(backup_dir)}. Free space or fix the folder, then run the " \
                                  "same command to resume."
    problem = data_error(error)
    if problem is not None:
        return EXIT_DATA_ERROR, f"error: bad data during training: {problem}; {last_good_state(backup_dir)}. " \
                                "Fix or remove the file, then run the same command to resume."
    return None


def labelled(callback, what: str):
    """`callback` whose failed writes (an OSError at an epoch's end or the run's end) become
    `WriteFailed` naming `what`."""
    import keras

    from keras_gan.resumable import WriteFailed

    class _Labelled(keras.callbacks.Callback):
        def set_model(self, model):
            super().set_model(model)
            callback.set_model(model)

        def set_params(self, params):
            super().set_params(params)
            callback.set_params(params)

        def on_train_begin(self, logs=None):
            self._call(callback.on_train_begin, logs)

        def on_epoch_begin(self, epoch, logs=None):
            callback.on_epoch_begin(epoch, logs)

        def on_epoch_end(self, epoch, logs=None):
            self._call(callback.on_epoch_end, epoch, logs)

        def on_train_end(self, logs=None):
            self._call(callback.on_train_end, logs)

        @staticmethod
        def _call(fn, *args):
            try:
                fn(*args)
            except OSError as e:
                raise WriteFailed(what, e) from e

    wrapper = _Labelled()
    wrapper.wrapped = callback
    return wrapper
