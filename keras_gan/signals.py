"""SIGTERM and SIGINT during training: finish the step, write a backup, stop with a clear message.

Cloud machines are preempted with a SIGTERM and about 30 seconds' notice; a
user stops a run with Ctrl-C (SIGINT). Python's defaults end the process
wherever it is (SIGTERM) or raise `KeyboardInterrupt` in the middle of a step
or of a write (SIGINT): the atomic backups survive that, but the steps since
the last backup are lost.

Inside `stop_on_signals()` both signals only *ask* training to stop: the
handler notes the signal and returns, the step in flight finishes, and
`keras_gan.callbacks.ResumableBackup` writes a backup at the end of that step
and raises `TrainingStopped` (at an epoch's last step it lets the epoch's own
records and backup land first). The same command then resumes.

- A signal that arrives while a backup is being written is ignored with a
  message: the write finishes (`deferred()` does the same around a backup
  written outside `stop_on_signals`, and delivers the signal afterwards).
- A second signal at any other time stops at once as Python's default would
  (`KeyboardInterrupt`, or exit status 128 + signal number), without a new
  backup: the last one stays, whole.
- In a multi-process job (torchrun, or JAX's `keras.distribution`), every
  process learns at each step whether any of them was signalled (one small
  all-reduce per step), so they all stop after the same step and process 0's
  backup is the job's; a signal to one process ends the job cleanly. A
  TensorFlow `MultiWorkerMirroredStrategy` job (TF_CONFIG) does the same
  through the strategy the model was built under (`strategy=`, which
  `ResumableBackup` passes as `model.distribute_strategy`).

Only the main thread can set signal handlers; elsewhere these contexts do nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import threading
import weakref

#: The signals that ask a run to save and stop.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingStopped(Exception):
    """Training stopped on a signal after writing a backup (`ResumableBackup`).

    Attributes: `signal_name` ("SIGTERM"), `epoch` (epochs finished) and `batch`
    (batches of the next epoch finished; 0 at an epoch's end) of the state saved,
    `folder`: that state's folder, or None when none could be written here (data
    that cannot start mid-epoch: the previous backup is the one to resume from).
    """

    def __init__(self, signal_name: str, epoch: int, batch: int, folder: str | None):
        self.signal_name, self.epoch, self.batch, self.folder = signal_name, epoch, batch, folder
        where = (f"after epoch {epoch}" if not batch else f"after step {batch} of epoch {epoch + 1}")
        saved = f"backed up {where} in {folder}" if folder else "no new backup (the previous one stands)"
        super().__init__(f"stopped by {signal_name}: {saved}; run the same command to resume.")


@dataclasses.dataclass
class _Request:
    signals: tuple
    signum: int | None = None
    saving: bool = False
    extra: int = 0


_active: _Request | None = None


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _say(message: str) -> None:
    try:
        print(message, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # a closed or full stderr must not break the handler
        pass


def _handler(request: _Request):
    def handle(signum, frame):
        if request.signum is None:
            request.signum = signum
            _say(f"keras_gan: {_name(signum)} received: finishing the step in flight, then writing a "
                 "backup and stopping (a second signal stops at once, keeping the previous backup).")
            return
        if request.saving:
            request.extra += 1
            _say(f"keras_gan: {_name(signum)} received while writing the backup: ignored, the write finishes.")
            return
        _say(f"keras_gan: second signal ({_name(signum)}): stopping now; the last backup written stands.")
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    return handle


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def stop_on_signals(signals=STOP_SIGNALS):
    """Within this block, `signals` ask training to save and stop (see the module docstring)."""
    global _active
    if not _in_main_thread() or _active is not None:
        yield _active
        return
    request = _Request(tuple(signals))
    previous = {s: signal.signal(s, _handler(request)) for s in request.signals}
    _active = request
    try:
        yield request
    finally:
        _active = None
        for s, handler in previous.items():
            signal.signal(s, handler)


def stop_requested() -> str | None:
    """The name of the signal that asked this process to stop, or None."""
    return _name(_active.signum) if _active is not None and _active.signum is not None else None


def stop_agreed(strategy=None) -> str | None:
    """`stop_requested()`, agreed over the processes of a multi-process job: every process gets the
    same answer (the name of a signal, "a signal to another process", or None). A collective: in a
    job, every process must call it at the same steps (`ResumableBackup` does, after every step).
    `strategy`: a TensorFlow job's `MultiWorkerMirroredStrategy` (torch and JAX jobs need none)."""
    if _active is None:
        return None
    return stop_and_flag_agreed(False, strategy)[0]


def stop_and_flag_agreed(flag: bool, strategy=None) -> tuple[str | None, bool]:
    """`stop_agreed()` and whether `flag` is True on any process, in one collective.

    Why: a decision that differs between processes, such as "a backup is due"
    by each process's own clock (`ResumableBackup(every_minutes=...)`), must
    be taken by all of them together when the backup itself gathers from every
    process (torch's random states). Unlike `stop_agreed` this is a collective
    in a job even outside `stop_on_signals` (the stop is then None)."""
    local = stop_requested()
    others, flag = _any_process((local is not None, bool(flag)), strategy)
    if local is None and others:
        local = "a signal to another process of the job"
    return local, flag


def _any_process(flags: tuple[bool, ...], strategy=None) -> tuple[bool, ...]:
    """Each of `flags`, True where it is True on any process of this multi-process job (torch,
    JAX, or TensorFlow's `strategy` across workers): one all-reduce for all of them. Outside a
    job, `flags` as they are."""
    import keras

    from keras_gan.distributed import in_torch_job, tf_worker_count

    backend = keras.backend.backend()
    if in_torch_job():
        import torch

        value = torch.tensor([int(f) for f in flags], dtype=torch.int32)
        if torch.distributed.get_backend() == "nccl":
            value = value.cuda()
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return tuple(bool(v) for v in value.tolist())
    if backend == "jax":
        import jax

        if jax.process_count() > 1:
            import numpy as np
            from jax.experimental import multihost_utils

            gathered = multihost_utils.process_allgather(np.asarray(flags, np.int32))
            return tuple(bool(v) for v in np.max(np.reshape(gathered, (-1, len(flags))), axis=0))
    if backend == "tensorflow" and tf_worker_count(strategy) > 1:
        import tensorflow as tf

        total = _tf_sum_over_workers(strategy)(tf.constant([int(f) for f in flags], tf.int32))
        return tuple(bool(v) for v in total.numpy())
    return tuple(bool(f) for f in flags)


_TF_SUMS = weakref.WeakKeyDictionary()


def _tf_sum_over_workers(strategy):
    """A compiled function of a vector: its SUM over every replica of every worker of `strategy`
    (> 0 is "any": the strategies reduce by SUM or MEAN only). Compiled once per strategy, because
    TensorFlow runs an eager collective slowly and warns at every call."""
    fn = _TF_SUMS.get(strategy)
    if fn is None:
        import tensorflow as tf

        @tf.function
        def fn(local):
            per_replica = strategy.run(tf.identity, args=(local,))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        _TF_SUMS[strategy] = fn
    return fn


@contextlib.contextmanager
def deferred():
    """Around a backup's write: SIGTERM and SIGINT wait until the write has finished.

    Inside `stop_on_signals` a signal during the write is ignored with a message
    (a stop is already under way or will follow). Elsewhere, in the main thread,
    a signal that arrives during the write is delivered once it is done, with
    the handler that was there before.
    """
    if _active is not None:
        _active.saving = True
        try:
            yield
        finally:
            _active.saving = False
        return
    if not _in_main_thread():
        yield
        return
    arrived = []
    previous = {s: signal.signal(s, lambda signum, frame: arrived.append(signum)) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if arrived:
            signal.raise_signal(arrived[0])
