"""The project's error types: bad input is one line and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input: reported as one line naming the file, field and line; exit code 2."""

    def __init__(self, path: str | Path, field: str, message: str, line: int | None = None):
        self.path, self.field, self.line, self.message = str(path), field, line, message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")

    def __reduce__(self):  # picklable, so worker processes can send it back unchanged
        return (type(self), (self.path, self.field, self.message, self.line))


class SessionError(InputError):
    """A facilitator action that is not allowed now (wrong phase, unknown actor, ...)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__("session", field, message)

    def __reduce__(self):
        return (type(self), (self.message, self.field))
