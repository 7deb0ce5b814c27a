"""``session.jsonl``, the one record of a workshop: append-only, fsynced, chained, one writer.

Each line is one event (a JSON object) ending in a newline. ``seq`` counts the events from 0 and
``digest`` chains each line to the one before it (a short SHA-256 of the previous digest and the
line's own content), so a line that was edited, duplicated, dropped or moved is named on load
instead of replaying into a different session. Logs written before the digest existed load as
they are: lines without a digest may only come before the first line that has one.

A line is complete only with its newline. A crash in the middle of a write leaves a torn tail: it
was never acknowledged (the call had not returned), so loading reports it and the writer cuts it
off before appending, so that nothing is ever written after a fragment. A write that fails (disk
full) is cut back the same way and reported; the session then rolls its live state back to the log.

One process writes a session at a time: :class:`WriterLock` is an advisory ``flock`` on
``session.lock``, which names its holder (pid, start time, command, and the console's address when
a server holds it). The kernel drops the lock when the holder dies, so a stale lock file from a
dead process is taken over (and said so) rather than blocking the session for good.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import InputError, SessionError
from sim.experiments.lock import holder_alive, start_ticks

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no advisory locks (the project runs on Linux)
    fcntl = None

LOG = "session.jsonl"
LOCK = "session.lock"
DIGEST = "digest"


class CorruptLog(InputError):
    """The log cannot be replayed as written: one line naming the file and the line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        super().__init__(path, "", f"line {line} {message}" if line else message)
        self.what, self.line = message, line

    def __reduce__(self):
        return (type(self), (self.path, self.what, self.line))


class LogWriteError(SessionError):
    """An event could not be written (disk full, I/O error): it was not recorded and not applied."""


class SessionLocked(SessionError):
    """Another process is writing this session."""


def canonical(ev: dict) -> str:
    """The event as hashed and written: sorted keys, no digest, no NaN or infinity."""
    return json.dumps({k: v for k, v in ev.items() if k != DIGEST}, sort_keys=True, default=str, allow_nan=False)


def chain(previous: str, text: str) -> str:
    """The digest of a line: its content chained to the digest of the line before it."""
    return hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()[:16]


@dataclass
class Loaded:
    """A log as read: its events, the line each came from, where the good part ends."""

    events: list[dict]
    lines: list[int]  # 1-based line number of each event
    end: int  # bytes of the complete, valid lines
    head: str  # digest of the last event ("" for an empty log)
    torn: int = 0  # bytes of a torn last line after ``end`` (never acknowledged)


def read(path: Path) -> Loaded:
    """Parse and check a log; a torn tail is left out (and counted), anything else wrong is an error."""
    data = path.read_bytes()
    events: list[dict] = []
    lines: list[int] = []
    head, end, pos, seen_digest = "", 0, 0, False
    chunks = data.split(b"\n")
    for n, raw in enumerate(chunks, start=1):
        last = n == len(chunks)
        size = len(raw) + (0 if last else 1)
        if last:  # the bytes after the final newline: empty, or a write that was cut off
            return Loaded(events, lines, end, head, torn=len(raw))
        if not raw.strip(b" \t\r"):
            pos += size
            end = pos
            continue
        try:
            ev = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            if not b"".join(chunks[n:]).strip(b" \t\r\n\x00"):
                # the last line, unreadable: a write cut off (or zero-filled) by a crash
                return Loaded(events, lines, end, head, torn=len(data) - end)
            raise CorruptLog(path, "is corrupt (not a JSON event); the lines after it cannot be trusted", n) from None
        if not isinstance(ev, dict):
            raise CorruptLog(path, "is not an event (a JSON object)", n)
        if not isinstance(ev.get("type"), str):
            raise CorruptLog(path, "is an event without a type", n)
        if ev.get("seq") != len(events):
            raise CorruptLog(path, f"has seq {ev.get('seq')!r} where {len(events)} was expected "
                                   "(a line was duplicated, removed or moved)", n)
        try:
            text = canonical(ev)
        except ValueError:
            raise CorruptLog(path, "holds a number that is not finite", n) from None
        digest = chain(head, text)
        if DIGEST in ev:
            if ev[DIGEST] != digest:
                raise CorruptLog(path, "fails its integrity check (it, or a line before it, was changed "
                                       "after it was written)", n)
            seen_digest = True
        elif seen_digest:
            raise CorruptLog(path, "has no integrity digest although the lines before it do", n)
        head = digest
        events.append(ev)
        lines.append(n)
        pos += size
        end = pos
    return Loaded(events, lines, end, head)  # pragma: no cover - split always yields a last chunk


# ---------------------------------------------------------------------------- the writer


class Writer:
    """Appends events to a log whose good part ends at ``loaded.end`` (a torn tail is cut first)."""

    def __init__(self, path: Path, loaded: Loaded | None) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        self.size = loaded.end if loaded else 0
        self.head = loaded.head if loaded else ""
        self.broken: OSError | None = None
        if os.fstat(self.fd).st_size != self.size:
            os.ftruncate(self.fd, self.size)
            os.fsync(self.fd)

    def _write(self, fd: int, data: bytes) -> int:
        """One ``write`` call (a test stands in a failing one here)."""
        return os.write(fd, data)

    def append(self, ev: dict) -> dict:
        """Write one event, fsync it, and return it with its digest; on failure nothing stays."""
        if self.broken is not None:
            raise LogWriteError(f"the session log could not be repaired after a failed write ({self.broken.strerror}); "
                                "restart the console: everything acknowledged is in the log")
        try:
            text = canonical(ev)
        except ValueError:
            raise SessionError("a value is not a finite number") from None
        digest = chain(self.head, text)
        data = (json.dumps({**json.loads(text), DIGEST: digest}, sort_keys=True) + "\n").encode()
        try:
            os.lseek(self.fd, self.size, os.SEEK_SET)
            done = 0
            while done < len(data):
                done += self._write(self.fd, data[done:])
            os.fsync(self.fd)
        except OSError as exc:
            try:
                os.ftruncate(self.fd, self.size)
                os.fsync(self.fd)
            except OSError as again:
                self.broken = again
            raise LogWriteError(f"could not write to {self.path.name}: {exc.strerror or exc}; the action was not "
                                "recorded (free some space and try again)") from None
        self.size += len(data)
        self.head = digest
        return {**ev, DIGEST: digest}

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# ---------------------------------------------------------------------------- one writer per session


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")




def describe(info: dict) -> str:
    """The holder of a lock, in words."""
    where = f" at {info['url']}" if info.get("url") else ""
    return (f"pid {info.get('pid', '?')} on {info.get('host', '?')} ({info.get('command', '?')}{where}, "
            f"since {info.get('started', '?')})")


@dataclass
class WriterLock:
    """An advisory lock on a session folder, held for as long as this process writes to it."""

    directory: Path
    fd: int = -1
    info: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return Path(self.directory) / LOCK

    def acquire(self, command: str | None = None) -> str | None:
        """Take the lock or raise :class:`SessionLocked` naming the holder; returns a note when a
        stale lock (its process is gone) was taken over."""
        if self.fd >= 0:
            return None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_info(fd)
                os.close(fd)
                raise SessionLocked(f"{self.directory} is open for writing by {describe(holder)}; a second "
                                    "writer is refused: attach to it (--attach) or open it --read-only") from None
        before = _read_info(fd)
        note = None
        if before.get("pid") and before.get("pid") != os.getpid() and not holder_alive(before):
            note = f"took over a stale lock left by pid {before['pid']} (no longer running)"
        self.fd = fd
        self.info = {"pid": os.getpid(), "start_ticks": start_ticks(os.getpid()), "host": socket.gethostname(),
                     "command": command or " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:3]) or "python",
                     "started": _now()}
        self._write_info()
        return note

    def update(self, **info: Any) -> None:
        """Add to what the lock says about its holder (e.g. the console's address)."""
        if self.fd >= 0:
            self.info.update(info)
            self._write_info()

    def _write_info(self) -> None:
        data = json.dumps(self.info, sort_keys=True).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)
        os.fsync(self.fd)

    def release(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)  # closing drops the flock
            self.fd = -1


def _read_info(fd: int) -> dict:
    try:
        raw = os.pread(fd, 4096, 0)
        info = json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def holder(directory: Path) -> dict | None:
    """Who writes this session now (None if nobody does)."""
    path = Path(directory) / LOCK
    if fcntl is None or not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_info(fd) or {"pid": "?"}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
