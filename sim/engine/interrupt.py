"""Ctrl-C while the compiled turn runs: held until the turn ends, never raised inside Numba code.

Why: Python's default SIGINT handler raises KeyboardInterrupt at the next bytecode boundary. While
a compiled kernel runs, that boundary can be in a Python function the kernel calls back into (Numba
unpickles constants with ``numba.core.serialize._numba_unpickle``); the kernel then returns with the
exception set and the dispatcher raises ``SystemError: CPUDispatcher(...) returned a result with an
exception set``. That is an ``Exception``, not a KeyboardInterrupt: ``SequentialEvaluator`` hands it
on as a bug, and the command line printed a traceback and exited 1 instead of exit 130 with the
``--resume`` hint.

How: ``deferred()`` (around ``sim.engine.ensemble.simulate``, so every in-process computation: jobs
with one worker, ``perform`` and the commands built on it) puts a handler in place of Python's
default one that only notes the signal; ``checkpoint()``, called between turns by
``sim.engine.loop.run_batch`` (outside compiled code), raises KeyboardInterrupt, and so does leaving
``deferred()`` with a signal still noted. A turn of a batch takes milliseconds, so Ctrl-C stops a
chunk as soon as before. A second Ctrl-C before a checkpoint is reached (the first run's kernel
compile takes about 30 s) raises at once, as the default handler would; if that lands in compiled
code, the SystemError is turned back into the KeyboardInterrupt that caused it.

Nothing changes where SIGINT is not Python's default handler (pool workers ignore it, and their
parent waits for them in Python, where the default handler is safe; a caller's own handler) or off
the main thread (Dask's threads), where Python never runs signal handlers.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_pending = False  # a SIGINT arrived inside ``deferred()`` and has not been raised yet


def _note(signum: int, frame: object) -> None:
    global _pending
    if _pending:  # Ctrl-C again before a checkpoint: stop now
        raise KeyboardInterrupt
    _pending = True


def checkpoint() -> None:
    """Raise the KeyboardInterrupt of a Ctrl-C held by ``deferred()`` (call it outside compiled code)."""
    global _pending
    if _pending:
        _pending = False
        raise KeyboardInterrupt


def from_interrupt(exc: BaseException) -> bool:
    """``exc`` was caused by a KeyboardInterrupt (raised in Python code a compiled kernel called)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C until the next ``checkpoint()`` (or the end of the block); see the module docstring."""
    global _pending
    held = False
    install = threading.current_thread() is threading.main_thread() \
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if install:
        _pending = False
        signal.signal(signal.SIGINT, _note)
    try:
        yield
    except SystemError as exc:
        if from_interrupt(exc):
            raise KeyboardInterrupt from exc
        raise
    finally:
        if install:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            held, _pending = _pending, False  # nothing is left to a later checkpoint outside the block
    if install and held:  # a Ctrl-C after the last checkpoint: raised here, in Python
        raise KeyboardInterrupt
