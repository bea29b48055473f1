"""One writer per run folder: an OS lock on `FOLDER/run.lock`, with who holds it written inside.

Two runs writing one folder interleave their backups and records and leave a
state neither run had. `RunLock` takes `fcntl.flock` on the folder's
`run.lock`: the kernel holds that lock for the life of the process and drops
it when the process ends in any way (SIGKILL, a power cut's reboot), so a lock
left by a killed run is never in force: the next run takes it over, and says
so when the record inside shows the previous run did not end cleanly. The
record (pid, host, start time, command) is only for the message; the lock
itself is the kernel's. Where the file system cannot lock (some network file
systems), the record decides: a pid alive on this host holds the folder.

    lock = RunLock(out)
    holder = lock.holder()      # who holds it now (None: free); reads only
    taken_over = lock.acquire() # creates the folder and the file; raises RunLocked
    ...
    lock.release()              # clears the record: a clean end
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import socket
import sys

LOCK_FILE = "run.lock"


class RunLocked(RuntimeError):
    """Another live process holds the run folder's lock."""


def describe(record: dict) -> str:
    """'pid 123 on host h, started 2026-12-07 05:40:01 UTC (python -m zoo.train ...)'."""
    said = f"pid {record.get('pid')} on host {record.get('host')}"
    if record.get("started"):
        said += f", started {record['started']}"
    if record.get("command"):
        said += f" ({record['command'][:200]})"
    return said


class RunLock:
    """The lock of the run folder `folder` (see the module docstring)."""

    def __init__(self, folder: str):
        self.folder = folder
        self.path = os.path.join(folder, LOCK_FILE)
        self._fd: int | None = None

    # ---------------------------------------------------------------- reading
    def _record(self, fd: int | None = None) -> dict:
        try:
            if fd is not None:
                os.lseek(fd, 0, os.SEEK_SET)
                text = os.read(fd, 1 << 16).decode("utf-8", "replace")
            else:
                with open(self.path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
            return json.loads(text) if text.strip() else {}
        except (OSError, ValueError):
            return {}

    def holder(self) -> dict | None:
        """The record of the live process that holds the lock, or None when it is free
        (no file, or the last holder ended). Creates and changes nothing."""
        if self._fd is not None:
            return None  # this object holds it
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except OSError:
            return None  # unreadable: acquire() will say what is wrong
        try:
            return self._held_by_other(fd)
        finally:
            os.close(fd)

    def _held_by_other(self, fd: int) -> dict | None:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._record(fd) or {"pid": "?", "host": "?"}
        except OSError as e:  # no locking on this file system: the record decides
            if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            record = self._record(fd)
            return record if record and _alive_here(record) else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None

    # ---------------------------------------------------------------- holding
    def acquire(self, command: str | None = None) -> dict | None:
        """Take the lock (creating the folder and the file) and write this process's record.

        Returns the record of a previous holder that did not end cleanly (a stale
        lock taken over), else None. Raises `RunLocked` naming the holder when a
        live process holds it, and `OSError` when the folder cannot be written.
        """
        import fcntl

        if self._fd is not None:
            return None
        os.makedirs(self.folder, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunLocked(self._refusal(self._record(fd) or {"pid": "?", "host": "?"})) from None
            except OSError as e:
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                record = self._record(fd)
                if record and _alive_here(record) and record.get("pid") != os.getpid():
                    raise RunLocked(self._refusal(record)) from None
            previous = self._record(fd)
            record = {"pid": os.getpid(), "host": socket.gethostname(),
                      "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                      "command": command if command is not None else " ".join([sys.executable, *sys.argv])}
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(record).encode())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return previous or None

    def release(self) -> None:
        """Clear the record (a clean end) and drop the lock. The file stays: removing it could let
        two later runs lock two different files of one name."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass  # a stale record only makes the next run say it took the lock over
        finally:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def _refusal(self, record: dict) -> str:
        return (f"{self.folder} is in use by another run: {describe(record)}. Wait for it to end, stop it, "
                "or give another output folder.")

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def _alive_here(record: dict) -> bool:
    """Whether the record's process runs on this host (a record from another host counts as alive:
    nothing here can tell)."""
    if record.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(record.get("pid")), 0)
    except (ProcessLookupError, TypeError, ValueError):
        return False
    except PermissionError:
        return True
    return True
