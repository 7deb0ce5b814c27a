"""Paths given by the user: checked before use, so a bad one is one line and exit code 2.

- Every path given on the command line is text without NUL or other control characters and
  within the system's length limits (``check_text``; the CLI's argument type ``cli_path``).
- An output file or directory is checked before any work (``output_file``, ``output_dir``): its
  directory must exist (or be creatable) and be writable, a file must not be a directory, a device
  or a FIFO. So a long job never computes everything only to find it cannot write.
- A default output location is derived from a safe name and confined to its root
  (``confined``): a scenario id such as ``../../escaped`` can never write outside ``results/``.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from sim.errors import InputError

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255


def check_text(path: str | Path, flag: str) -> Path:
    """The path as a ``Path``, or an InputError if it cannot be a sensible file name."""
    text = os.fspath(path)
    if not text:
        raise InputError(flag, "", "empty path")
    if _CONTROL.search(text):
        raise InputError(flag, "", f"path contains a NUL or control character: {text[:80]!r}")
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_PATH_BYTES or any(len(part) > MAX_NAME_BYTES for part in raw.split(b"/")):
        raise InputError(flag, "", f"path is too long: {text[:40]!r}...")
    return Path(text)


def cli_path(text: str) -> Path:
    """argparse ``type=`` for paths: a bad one is reported by argparse (one line, exit 2)."""
    import argparse

    try:
        return check_text(text, "path")
    except InputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _writable_dir(d: Path, path: Path, flag: str, what: str = "output directory") -> None:
    """``d`` is a directory in which a file can be created (tried: permissions, read-only mounts and
    pseudo file systems such as /proc all answer the same way)."""
    if not d.is_dir():
        raise InputError(path, flag, f"{what} {d} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=d)
    except OSError:
        raise InputError(path, flag, f"{what} {d} is not writable") from None
    os.close(fd)
    os.unlink(probe)


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        if p.is_symlink():  # a dangling link: creating through it would write elsewhere
            return p
        p = p.parent
    return p


def output_dir(path: str | Path, flag: str = "--out", create: bool = True) -> Path:
    """An output directory: created (with its parents) when ``create``, else only checked that it
    could be; either way it must end up a writable directory."""
    path = check_text(path, flag)
    try:
        if path.exists():
            _writable_dir(path, path, flag)
            return path
        base = _existing_ancestor(path)
        if not base.is_dir():
            raise InputError(path, flag, f"cannot create the output directory: {base} is not a directory")
        _writable_dir(base, path, flag, "cannot create the output directory: directory")
        if create:
            path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(path, flag, f"cannot create the output directory: {exc.strerror}") from None
    return path


def output_file(path: str | Path, flag: str, make_parent: bool = False) -> Path:
    """An output file: not a directory or a special file, in a writable directory (which must
    exist unless ``make_parent``; it is not created here)."""
    path = check_text(path, flag)
    try:
        if path.is_symlink() or path.exists():
            st = path.stat()
            if stat.S_ISDIR(st.st_mode):
                raise InputError(path, flag, "is a directory; give a file name")
            if not stat.S_ISREG(st.st_mode):
                raise InputError(path, flag, "is not a regular file")
        parent = path.absolute().parent
        if make_parent and not parent.exists():
            output_dir(parent, flag, create=False)
        elif not parent.exists():
            raise InputError(path, flag, f"directory {path.parent} does not exist")
        else:
            _writable_dir(parent, path, flag, "directory")
    except OSError as exc:
        raise InputError(path, flag, f"cannot write here: {exc.strerror}") from None
    return path


def safe_name(name: str, fallback: str = "output") -> str:
    """A plain file name from any text: characters other than letters, digits, _ and - become _."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:80].strip("_-")
    return cleaned if cleaned and SAFE_NAME.match(cleaned) else fallback


def confined(root: str | Path, name: str, flag: str = "--out") -> Path:
    """``root / name`` for a safe ``name`` (one plain path component: no separator, no ``..``)."""
    if not (isinstance(name, str) and SAFE_NAME.match(name)):
        raise InputError(flag, "", f"cannot derive an output directory from {str(name)[:80]!r}; give {flag}")
    return Path(root) / name
