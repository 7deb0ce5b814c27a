"""Where local pool workers come from: a fork server that has already loaded the model.

Why: a spawned worker pays its own start-up, about 2-3 s on this project's machines (imports, then
the Numba cache load of the compiled turn), every job, in every worker; with the compiled turn that
is a tenth of a 100,000-run job. A fork server (``multiprocessing``'s "forkserver" start method) is
one clean process, started without the caller's threads or locks, that imports the model once
(``sim.experiments.warm``) with one BLAS thread and then forks each worker in milliseconds, for
every pool this process makes. ``prestart`` starts it early, so its start-up overlaps the caller's
own imports (the command line calls it before importing the job machinery).

A worker's parent is the fork server, which exits when this process does (it watches a pipe this
process holds), so ``watch_parent`` still ends orphaned workers. Where the platform has no fork
server, pools spawn as before. This module imports nothing heavy: the command line loads it first (it also holds the
worker-count rule, so the command line and the job decide alike).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing.context import BaseContext

PRELOAD = ["sim.experiments.warm"]
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
AUTO_PARALLEL_MIN_RUNS = 20_000  # below this, starting a pool (~2 s) costs more than it saves


def default_workers() -> int:
    """The CPUs this process may use (its affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def auto_workers(runs: int, backend: str = "local") -> int:
    """Workers when the user gave no --jobs: a pool only when the job is big enough to pay for it."""
    return default_workers() if backend == "dask" or runs >= AUTO_PARALLEL_MIN_RUNS else 1


def available() -> bool:
    return sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods()


def context() -> BaseContext:
    """The start method for local pools: the warm fork server where there is one, else spawn."""
    if not available():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def prestart() -> None:
    """Start the fork server now (it loads the model while the caller goes on); idempotent.

    The server inherits the environment at this moment: the BLAS thread caps are set for it and
    this process's own values are put back, so only the workers run one BLAS thread each."""
    if not available():
        return
    from multiprocessing import forkserver

    context()
    saved = {v: os.environ.get(v) for v in BLAS_VARS}
    os.environ.update(dict.fromkeys(BLAS_VARS, "1"))
    try:
        forkserver.ensure_running()
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old
