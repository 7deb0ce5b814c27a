"""Keep the batch's freed arrays in the heap for reuse instead of handing them back to the OS.

Why: a batch replaces its arrays every turn (runs that end are dropped from the state, temporaries of
a few MB come and go). glibc's malloc serves blocks above a (dynamic) threshold with fresh ``mmap``
pages and returns freed heap tops to the OS, so the same memory is faulted in and zeroed again and
again: 16 page faults per run on ``korean_peninsula``, 8-10% of a job's time spent in the OS kernel.
Measured with ``/usr/bin/time -f "%S sys %R faults" python run_sim.py run korean_peninsula --runs
50000 --jobs 1 --no-events``: 806,000 faults and 2.2 s of 22.7 s before, 60,000 and 0.35 s of
19.5-19.9 s after. Raising the two thresholds once per process keeps those blocks for reuse; results
do not change (only where memory comes from). A process keeps up to ``TRIM_THRESHOLD`` of freed
memory instead of returning it. Nothing is done on other C libraries.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

#: Blocks below this come from the heap (reused) rather than from fresh mmap pages. Above the largest
#: array a 5,000-run batch allocates (a few MB), far below a worker's memory (``bench_scaling.py``).
MMAP_THRESHOLD = 64 * 2**20
#: Free memory at the top of the heap kept for reuse before it is returned to the OS.
TRIM_THRESHOLD = 256 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)

_done = False


@functools.cache
def _glibc() -> bool:  # platform.libc_ver reads the interpreter's binary: once, not per simulate call
    return platform.libc_ver()[0] == "glibc"


def keep_freed_memory() -> bool:
    """Set glibc's thresholds for this process (once; idempotent); False where there is no glibc."""
    global _done
    if _done:
        return True
    if not _glibc():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and \
            libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    except (OSError, AttributeError):
        return False
    _done = ok
    return ok
