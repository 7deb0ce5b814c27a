"""One writer per folder: an advisory lock that names its holder.

A job holds ``OUT/.lock`` while it writes a results folder (``sim.experiments.jobs.execute``), so a
second job on the same ``--out`` is refused at once with one line naming the first (pid, host,
start time, command) instead of mixing its rows into the first one's results. The lock is an
``flock`` on the file, which the kernel releases when the holder dies, however it dies: a lock
file left by a killed process is stale and is taken over. The file also records the holder's
pid and process start time, so a stale file is recognised even where ``flock`` is not enforced
(a live holder is one whose pid runs on this host with the same start time).

Usage::

    with FolderLock(out, flag="--out", what="results folder"):
        ...  # write
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sim.errors import InputError

LOCK_FILE = ".lock"


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), which tells a pid reused by
    another process from the original."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def holder_alive(info: dict) -> bool:
    """True if the process recorded in a lock file is still running (on this host)."""
    pid = info.get("pid")
    if not isinstance(pid, int) or pid <= 0 or info.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = start_ticks(pid)
    return start is None or info.get("start_ticks") in (None, start)


def describe(info: dict) -> str:
    """The holder in words: pid, host, start time, command."""
    if not info:
        return "another process (it has not yet recorded itself)"
    cmd = " ".join(str(x) for x in info.get("command") or [])[:160]
    return (f"pid {info.get('pid')} on {info.get('host')}, started {info.get('started')}"
            + (f" ({cmd})" if cmd else ""))


def _read(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 65536).decode("utf-8", "replace") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class FolderLock:
    """An exclusive, advisory lock on a folder (the file ``LOCK_FILE`` in it), refused at once if held."""

    def __init__(self, folder: str | Path, flag: str = "--out", what: str = "results folder"):
        self.folder, self.flag, self.what = Path(folder), flag, what
        self.path = self.folder / LOCK_FILE
        self.fd: int | None = None
        self.stale: dict = {}  # what a dead holder had recorded, if its lock was taken over

    def acquire(self) -> FolderLock:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise InputError(self.folder, self.flag, f"cannot create the lock file: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                info = _read(fd)
                os.close(fd)
                raise InputError(self.folder, self.flag, f"this {self.what} is in use by {describe(info)}; wait "
                                 f"for it to finish, or use another {self.flag}") from None
            try:  # the previous holder may have removed (and another process re-created) the file meanwhile
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = _read(fd)
        if info and info.get("pid") != os.getpid() and holder_alive(info):  # flock not enforced here
            os.close(fd)
            raise InputError(self.folder, self.flag, f"this {self.what} is in use by {describe(info)}; wait for "
                             f"it to finish, or use another {self.flag}")
        self.stale = info
        mine = {"pid": os.getpid(), "host": socket.gethostname(), "start_ticks": start_ticks(os.getpid()),
                "started": datetime.now(UTC).isoformat(timespec="seconds"), "command": sys.argv[:20]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(mine) + "\n").encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):  # remove it while still holding it: no one can be waiting on it
            if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                self.path.unlink()
        os.close(fd)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
