"""Evaluators: where a job's chunks are computed (EMA-Workbench style, one class per backend).

``SequentialEvaluator`` computes in this process (no start-up cost, easy to debug),
``ProcessPoolEvaluator`` on a local pool of processes forked from a warm server (the default for ``jobs > 1``, no
server) and ``DaskEvaluator`` on a Dask cluster (a scheduler address, or a local cluster). They
all run ``sim.experiments.worker.run_chunk``, so results do not depend on the evaluator. Pass
your own instance as ``evaluator=`` to reuse a pool or a Dask client across jobs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_futures
from types import TracebackType
from typing import Any

from sim.engine import interrupt
from sim.errors import InputError
from sim.experiments import forkserver
from sim.experiments.forkserver import default_workers
from sim.experiments.worker import ChunkResult, Task, init_pool_worker, run_chunk, run_chunk_limited

LOST_WORKERS_TIMEOUT = 60.0  # seconds a Dask job waits with no worker at all before it fails
WORKER_POLL = 2.0  # seconds between checks that a Dask cluster still has workers


class Evaluator(ABC):
    """Computes tasks somewhere: submit, wait for the first to finish, cancel the rest.

    Subclasses start their resources lazily and release them in ``close``; use them as
    context managers (``with ProcessPoolEvaluator(4) as ev: run_job(..., evaluator=ev)``).
    """

    name = "base"

    def __init__(self) -> None:
        self.workers = 1

    @property
    def capacity(self) -> int:
        """Tasks kept in flight: two per worker hides the hand-over gap and bounds memory."""
        return 2 * self.workers

    def __enter__(self) -> Evaluator:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(cancel=exc_type is not None)

    def start(self) -> None:  # noqa: B027 - optional hook: most backends need no start-up
        """Start the backend's workers (optional)."""

    @abstractmethod
    def submit(self, task: Task) -> Any:
        """Start one task; return a future-like handle."""

    def wait(self, futures: Sequence[Any]) -> Iterable[Any]:
        """Block until at least one future is done; return the done ones."""
        done, _ = wait_futures(futures, return_when=FIRST_COMPLETED)
        return done

    def result(self, future: Any) -> ChunkResult:
        """The finished chunk (a bug in the worker is raised here)."""
        return future.result()

    def cancel(self, futures: Iterable[Any]) -> None:
        for f in futures:
            f.cancel()

    def close(self, cancel: bool = False) -> None:  # noqa: B027 - optional hook
        """Stop the backend's workers (optional)."""


class SequentialEvaluator(Evaluator):
    """In this process, one chunk at a time (``--jobs 1``): no start-up cost, easy to debug."""

    name = "sequential"
    capacity = 1

    def submit(self, task: Task) -> Future:
        f: Future = Future()
        try:
            f.set_result(run_chunk(task))
        except Exception as exc:  # a bug surfaces from result(), like in the pools
            f.set_exception(exc)
        return f


class ProcessPoolEvaluator(Evaluator):
    """A local process pool (the default backend): workers from the warm fork server, one BLAS thread each."""

    name = "local"

    def __init__(self, workers: int | None = None):
        super().__init__()
        self.workers = workers or default_workers()
        self._ex = None

    def start(self) -> None:
        if self._ex is None:
            from concurrent.futures import ProcessPoolExecutor

            # forked from the warm fork server (clean: no inherited threads or locks; the model already
            # loaded, one BLAS thread), or spawned where there is none (sim.experiments.forkserver)
            self._ex = ProcessPoolExecutor(self.workers, mp_context=forkserver.context(),
                                           initializer=init_pool_worker, initargs=(os.getpid(),))

    def submit(self, task: Task) -> Future:
        self.start()
        # submitting may start a worker: a Ctrl-C between the fork server's fork and the pool's record
        # of the child would leave it out of close(), to die on its own after this process has exited
        # and print a traceback; it is held until the pool knows the worker (sim.engine.interrupt)
        with interrupt.deferred():
            return self._ex.submit(run_chunk, task)

    def result(self, future: Future) -> ChunkResult:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            raise OSError(errno.ECHILD, "a worker process died (out of memory or killed); completed chunks "
                          "are kept: re-run with --resume", "worker") from None

    def close(self, cancel: bool = False) -> None:
        ex, self._ex = self._ex, None
        if ex is None:
            return
        if cancel:  # stop now: running chunks are discarded (their parts were never written)
            procs = list((getattr(ex, "_processes", None) or {}).values())
            ex.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                p.terminate()
            for p in procs:
                p.join(5)
        else:
            ex.shutdown(wait=True)


class DaskEvaluator(Evaluator):
    """A Dask cluster: ``scheduler="tcp://host:8786"``, an existing ``client``, or a LocalCluster.

    Workers need this package and the scenario files at the same paths (e.g. the same
    checkout on a shared filesystem); they verify the input hashes before computing.
    Results come back to this process, which writes every file, so workers need no
    access to the output directory.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None, client: Any = None,
                 processes: bool = True, connect_timeout: float = 10.0, lost_timeout: float = LOST_WORKERS_TIMEOUT):
        super().__init__()
        self.scheduler, self.client, self.processes = scheduler, client, processes
        self.n_local = workers or default_workers()
        self.timeout = connect_timeout
        self.lost_timeout = lost_timeout
        self._own: list = []

    def start(self) -> None:
        if self.client is None:
            try:
                import logging

                from distributed import Client, LocalCluster
            except ImportError:
                raise InputError("--backend", "dask", "needs the optional dependency: "
                                 "pip install 'crisis-sim[dask]'") from None
            if self.scheduler:
                try:
                    self.client = Client(self.scheduler, timeout=self.timeout)
                except (OSError, TimeoutError) as exc:
                    raise OSError(errno.ECONNREFUSED, f"cannot connect to the Dask scheduler ({exc})",
                                  self.scheduler) from None
                self._own = [self.client]
            else:
                # worker processes talk TCP on the loopback only; threads (processes=False) use Dask's
                # in-process transport and open no socket at all
                net = {"host": "127.0.0.1"} if self.processes else {}
                cluster = LocalCluster(n_workers=self.n_local, threads_per_worker=1, processes=self.processes,
                                       dashboard_address=None, silence_logs=logging.ERROR, **net)
                self.client = Client(cluster)
                self._own = [self.client, cluster]  # its worker processes exit with this one (Dask's nannies)
        self.workers = max(1, sum(self.client.nthreads().values()))

    def submit(self, task: Task) -> Any:
        if self.client is None:
            self.start()
        import uuid

        from sim.experiments.worker import ship

        # the compiled inputs travel with the task: workers need no shared filesystem or checkout
        return self.client.submit(run_chunk_limited, ship(task), pure=False, key=f"{task.key}-{uuid.uuid4().hex[:8]}")

    def wait(self, futures: Sequence[Any]) -> Iterable[Any]:
        """The done futures; fail (exit 1, finished parts kept) once the cluster has had no worker
        for ``lost_timeout`` seconds, instead of waiting for ever."""
        from distributed import wait

        gone_since = None
        while True:
            try:
                return wait(list(futures), timeout=WORKER_POLL, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                pass
            try:
                alive = bool(self.client.nthreads())
            except Exception:  # the scheduler itself is unreachable
                alive = False
            if alive:
                gone_since = None
                continue
            gone_since = gone_since or time.monotonic()
            if time.monotonic() - gone_since >= self.lost_timeout:
                raise OSError(errno.EHOSTDOWN, f"no Dask worker for {self.lost_timeout:g} s (all gone); completed "
                              "chunks are kept: re-run with --resume once workers are back",
                              self.scheduler or "dask")

    def cancel(self, futures: Iterable[Any]) -> None:
        if self.client is not None:
            self.client.cancel(list(futures))

    def close(self, cancel: bool = False) -> None:
        for obj in self._own:
            with contextlib.suppress(Exception):
                obj.close()
        if self._own:
            self.client = None
        self._own = []


EVALUATORS: dict[str, Callable[..., Evaluator]] = {
    "local": lambda jobs, scheduler: SequentialEvaluator() if jobs == 1 else ProcessPoolEvaluator(jobs),
    "dask": lambda jobs, scheduler: DaskEvaluator(scheduler=scheduler, workers=jobs),
}


MAX_JOBS = 1024
#: A Dask scheduler address: ``[tcp|tls|ws|wss|ucx://]host:port`` (or Dask's ``inproc://`` in one process).
SCHEDULER_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))"
                               r":(\d{1,5})$")


def check_backend(backend: str, scheduler: str | None, jobs: int | None) -> None:
    """Reject impossible execution arguments before any work (they are bad input: exit 2)."""
    if backend not in EVALUATORS:
        raise InputError("--backend", str(backend)[:80], f"unknown backend (known: {', '.join(EVALUATORS)})")
    if scheduler:
        if backend != "dask":
            raise InputError("--scheduler", str(scheduler)[:80], "needs --backend dask")
        m = SCHEDULER_ADDRESS.match(scheduler) if isinstance(scheduler, str) else None
        in_process = isinstance(scheduler, str) and re.match(r"^inproc://[\w.:/-]+$", scheduler)
        if not in_process and (m is None or not 0 < int(m.group(1)) < 65536):
            raise InputError("--scheduler", str(scheduler)[:80], "expected an address such as tcp://10.0.0.5:8786 "
                             "(host and port 1-65535)")
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise InputError("--jobs", "", f"must be from 1 to {MAX_JOBS} (got {jobs})")


def make_evaluator(backend: str = "local", jobs: int | None = None, scheduler: str | None = None,
                   tasks: int | None = None) -> Evaluator:
    """The evaluator for a backend. Locally, never more workers than chunks to compute."""
    check_backend(backend, scheduler, jobs)
    n = jobs or default_workers()
    if backend == "local" and tasks is not None:
        n = max(1, min(n, tasks))
    return EVALUATORS[backend](n, scheduler)

