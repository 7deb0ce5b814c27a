"""Is the compiled turn in Numba's on-disk cache yet? Asked by the command line before a job, so a
first run after installing (or after an edit, or with a new ``NUMBA_CACHE_DIR``) says why it is slow.

Why: the turn's kernels (``KERNEL_MODULES``, all ``@njit(cache=True)``) take about half a minute
to compile; afterwards each process loads them from Numba's cache in a second or two. Nothing
else tells the user which of the two a run is about to do.

How: each cached dispatcher already knows its cache (``dispatcher._cache``, a
``numba.core.caching.FunctionCache``): Numba's own locator chose the folder (the package's
``__pycache__``, ``NUMBA_CACHE_DIR``, or a user-wide folder when the package is read-only), and its
index file (``<function>-<line>.py312.nbi``) maps each compiled signature to a data file. Reading
an index is what Numba does before loading, and costs microseconds: an index that is missing, from
another Numba version or from an older copy of the source file reads as empty (Numba's own
``_load_index``), and one whose entries were compiled from other bytecode or for another CPU
(``_index_key``) will not be used either. Nothing is compiled to find out. This uses Numba
internals; if they change, ``cold_cache`` answers None (say nothing) rather than fail a run.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

#: Every module with ``@njit(cache=True)`` functions (tests/test_kernel.py checks the list is whole).
KERNEL_MODULES = ("sim.engine.rng", "sim.engine.kernel", "sim.engine.resolve_kernel")
#: Cached kernels a run never calls (``rules.firebreak_penalty`` and ``decisions.features`` with the
#: computed features, used by tests and analysis), or calls only when its scenario asks (a scripted
#: collision: a few seconds to compile on first use), so a warm cache may lack them; tests/test_kernel.py
#: checks that a run leaves every other one cached.
OFF_RUN_PATH = ("sim.engine.kernel.computed_features", "sim.engine.kernel.draw_options",
                "sim.engine.resolve_kernel.scripted_collision")


def qualified(dispatcher) -> str:
    return f"{dispatcher.py_func.__module__}.{dispatcher.py_func.__qualname__}"


def cached_dispatchers(run_path: bool = False) -> list:
    """The on-disk-cached Numba dispatchers of ``KERNEL_MODULES`` (none with ``NUMBA_DISABLE_JIT=1``);
    ``run_path``: only those a run compiles (not ``OFF_RUN_PATH``)."""
    from numba.core.caching import FunctionCache
    from numba.core.dispatcher import Dispatcher

    found = []
    for name in KERNEL_MODULES:
        for obj in vars(importlib.import_module(name)).values():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == name \
                    and isinstance(obj._cache, FunctionCache) and not (run_path and qualified(obj) in OFF_RUN_PATH):
                found.append(obj)
    return found


def _usable(dispatcher, magic: tuple | None) -> bool:
    """The dispatcher's cache index holds an entry compiled from this bytecode (for this CPU)."""
    func = dispatcher.py_func
    if func.__closure__ is not None:  # the kernels have none; keying a closure needs Numba's pickler
        return bool(dispatcher._cache._cache_file._load_index())
    code = (hashlib.sha256(func.__code__.co_code).hexdigest(), hashlib.sha256(b"").hexdigest())
    return any(key[2] == code and (magic is None or key[1] == magic)
               for key in dispatcher._cache._cache_file._load_index())


def cold_cache() -> Path | None:
    """The cache folder if some kernel has no usable entry in Numba's cache (the run will compile
    it), else None; None also when it cannot tell (JIT disabled, Numba internals changed)."""
    try:
        disps = cached_dispatchers(run_path=True)
        if not disps:
            return None
        try:
            magic = disps[0].targetctx.codegen().magic_tuple()  # this machine's target (LLVM triple, CPU)
        except Exception:  # then match on the bytecode alone
            magic = None
        for d in disps:
            if not _usable(d, magic):
                return Path(d._cache.cache_path)
    except Exception:  # a hint only: never fail a run over it
        return None
    return None


def compile_notice(where: Path) -> str:
    """The line the command line prints (on stderr) before a run that will compile."""
    return f"compiling the turn kernel once (about 30 s); later runs reuse Numba's cache in {where}"
