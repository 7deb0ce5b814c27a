"""Ensembles at scale: chunked, parallel, resumable jobs on a process pool or a Dask cluster.

A job is cut into chunks of consecutive run indices. A worker receives only what to
compute — the scenario path, overrides/levers/overlays, the seed and the run range —
compiles the scenario itself (cached per process) and returns the chunk's tables as
Parquet bytes; the parent writes them as parts (``sim.experiments.store``). Every random draw is
a pure function of (seed, run index, turn, stream) derived from one
``numpy.random.SeedSequence(seed)`` (``sim.engine.rng``), and nothing else crosses the
process boundary, so results are identical for any number of workers, chunk size or
backend. Workers also check that their input files and model code hash the same as
the parent's, so a remote machine with a different checkout fails loudly instead of
changing results.

Backends are evaluators (one class each, EMA-Workbench style): ``SequentialEvaluator``
(in this process), ``ProcessPoolEvaluator`` (the default for ``jobs > 1``, no server)
and ``DaskEvaluator`` (a scheduler address, or a local cluster). Pass your own
instance as ``evaluator=`` to reuse a pool or a Dask client across jobs.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import socket
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as _cf_wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.experiments.store import (
    FORMAT,
    JOB_FILE,
    MANIFEST_FILE,
    TABLES,
    Chunk,
    Store,
    plan_chunks,
    read_json,
    write_json_atomic,
)
from sim.inputs.compile import compiled, remember
from sim.inputs.condition import Condition
from sim.inputs.library import OVERLAYS_DIR

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
BACKENDS = ("local", "dask")
MIN_AUTO_CHUNK, MAX_AUTO_CHUNK = 5_000, 20_000  # batches under ~5k runs are markedly slower per run
AUTO_PARALLEL_MIN_RUNS = 20_000  # below this, starting a pool (~2 s) costs more than it saves
MAX_RUNS = 100_000_000
RESULT_FILES = ("runs.parquet", "events.parquet", "injects.parquet", "design.parquet")


# ============================================================================ worker side


@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one chunk; no RNG state, no compiled arrays."""

    condition: Condition
    seed: int
    chunk: Chunk
    events: bool
    batch_size: int
    inputs: dict[str, str] = field(default_factory=dict)  # expected input fingerprint (see fingerprint())


class WorkerMismatch(OSError):
    """A worker's input files or model code differ from the parent's (not the same checkout)."""

    def __init__(self, host: str, keys: list[str]):
        super().__init__(errno.EINVAL, "worker inputs differ from this machine's (not the same checkout): "
                         + (", ".join(keys) or "model code"), host)
        self.host, self.keys = host, keys

    def __reduce__(self):
        return (type(self), (self.host, self.keys))


@dataclass
class ChunkResult:
    chunk: Chunk
    parts: dict[str, bytes]
    outcome: Any = None  # int8 outcome-class codes in run order (for --until-ci)
    force: Any = None  # bool use_of_force in run order
    error: Exception | None = None  # an InputError or WorkerMismatch, raised in the parent
    host: str = ""
    seconds: float = 0.0

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


_FINGERPRINTS: dict[Condition, dict[str, str]] = {}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The modules a worker computes with (a test checks this covers everything run_chunk loads).
MODEL_MODULES = ("errors", "names", "inputs", "inputs.catalogue", "inputs.compile", "inputs.condition",
                 "inputs.library", "inputs.loader", "inputs.schema", "engine", "engine.ensemble", "engine.loop",
                 "engine.outcomes", "engine.rng", "engine.rules", "experiments", "experiments.jobs",
                 "experiments.measures", "experiments.store")


def _hash_code() -> str:
    here = Path(__file__).resolve().parent.parent

    def source(module: str) -> Path:
        path = here.joinpath(*module.split("."))
        return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")

    return _sha(b"".join(_sha(source(m).read_bytes()).encode() for m in MODEL_MODULES))


# Taken when the package is imported (with the model code), not when first needed: source edited
# after import would otherwise hash as "the same code" while the running process has the old one.
_CODE_HASH = _hash_code()


def code_hash() -> str:
    """Hash of the model code (``MODEL_MODULES``): a worker running other code would give other results."""
    return _CODE_HASH


def fingerprint(spec) -> dict[str, str]:
    """Hashes of the files a compiled scenario was built from (postures, baseline, catalogue,
    the scenario file as written, overlays) and of the model code."""
    own = Path(spec.path).name
    fp = {f"file:{k}": v for k, v in spec.file_hashes.items() if k != own}
    fp[f"scenario:{own}"] = _sha(Path(spec.path).read_bytes())
    for name in spec.applied.overlays:
        fp[f"overlay:{name}"] = _sha((OVERLAYS_DIR / f"{name}.yaml").read_bytes())
    fp["code"] = code_hash()
    return fp


def run_chunk(task: Task) -> ChunkResult:
    """Simulate one chunk and return its tables as Parquet bytes (the worker entry point)."""
    import numpy as np
    import pyarrow as pa

    from sim.engine.ensemble import simulate
    from sim.experiments.store import parquet_bytes

    t0 = time.perf_counter()
    host = f"{socket.gethostname()}:{os.getpid()}"
    c = task.chunk
    try:
        spec = compiled(task.condition)
    except InputError as exc:
        return ChunkResult(c, {}, error=exc, host=host)
    if task.inputs:
        fp = _FINGERPRINTS.get(task.condition) or _FINGERPRINTS.setdefault(task.condition, fingerprint(spec))
        bad = sorted(k for k, v in task.inputs.items() if k in fp and fp[k] != v)
        if bad or "code" not in fp:
            return ChunkResult(c, {}, error=WorkerMismatch(host, bad), host=host)
    res = simulate(spec, task.seed, np.arange(c.start, c.stop, dtype=np.int64), events=task.events,
                   batch_size=max(1, min(task.batch_size, c.n)))
    frames = {"runs": res.runs, "injects": res.injects}
    if task.events:
        frames["events"] = res.events
    parts = {}
    for name, df in frames.items():
        if c.point is not None:
            df.insert(0, "point", np.full(len(df), c.point, np.int32))
        parts[name] = parquet_bytes(pa.Table.from_pandas(df, preserve_index=False))
    outcome = res.runs["outcome"].cat.codes.to_numpy(np.int8)
    force = res.runs["use_of_force"].to_numpy(bool)
    return ChunkResult(c, parts, outcome, force, host=host, seconds=time.perf_counter() - t0)


def _limit_threads() -> None:
    """One BLAS/OpenMP thread per worker: N workers on N cores, not N x N threads."""
    for var in BLAS_VARS:
        os.environ[var] = "1"
    if "numpy" in sys.modules:  # already loaded: env vars come too late, cap the pools directly
        with contextlib.suppress(ImportError):
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)


def _pool_worker_init() -> None:
    """Process-pool initialiser: runs before numpy is imported in a spawned worker."""
    import signal

    _limit_threads()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


_DASK_LIMITED = False


def _dask_run_chunk(task: Task) -> ChunkResult:
    global _DASK_LIMITED
    if not _DASK_LIMITED:
        _limit_threads()
        _DASK_LIMITED = True
    return run_chunk(task)


# ============================================================================ evaluators


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


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

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(cancel=exc_type is not None)

    def start(self) -> None:  # noqa: B027 - optional hook: most backends need no start-up
        """Start the backend's workers (optional)."""

    @abstractmethod
    def submit(self, task: Task) -> Any:
        """Start one task; return a future-like handle."""

    def wait(self, futures: Sequence[Any]) -> Iterable[Any]:
        """Block until at least one future is done; return the done ones."""
        done, _ = _cf_wait(futures, return_when=FIRST_COMPLETED)
        return done

    def result(self, future: Any) -> ChunkResult:
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
    """A local process pool (the default backend): spawned workers, one BLAS thread each."""

    name = "local"

    def __init__(self, workers: int | None = None):
        super().__init__()
        self.workers = workers or default_workers()
        self._ex = None

    def start(self) -> None:
        if self._ex is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: workers start clean (no inherited threads or locks) and import numpy
            # only after the initialiser has set the thread limits
            self._ex = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_pool_worker_init)

    def submit(self, task: Task) -> Future:
        self.start()
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

    def __init__(self, scheduler: str | None = None, workers: int | None = None, client=None,
                 processes: bool = True, connect_timeout: float = 10.0):
        super().__init__()
        self.scheduler, self.client, self.processes = scheduler, client, processes
        self.n_local = workers or default_workers()
        self.timeout = connect_timeout
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
                self._own = [self.client, cluster]
        self.workers = max(1, sum(self.client.nthreads().values()))

    def submit(self, task: Task):
        if self.client is None:
            self.start()
        return self.client.submit(_dask_run_chunk, task, pure=False)

    def wait(self, futures):
        from distributed import wait

        return wait(list(futures), return_when="FIRST_COMPLETED").done

    def cancel(self, futures) -> None:
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


def check_backend(backend: str, scheduler: str | None, jobs: int | None) -> None:
    if backend not in EVALUATORS:
        raise InputError("--backend", backend, f"unknown backend (known: {', '.join(EVALUATORS)})")
    if scheduler and backend != "dask":
        raise InputError("--scheduler", scheduler, "needs --backend dask")
    if jobs is not None and jobs < 1:
        raise InputError("--jobs", "", f"must be at least 1 (got {jobs})")


def make_evaluator(backend: str = "local", jobs: int | None = None, scheduler: str | None = None,
                   tasks: int | None = None) -> Evaluator:
    """The evaluator for a backend. Locally, never more workers than chunks to compute."""
    check_backend(backend, scheduler, jobs)
    n = jobs or default_workers()
    if backend == "local" and tasks is not None:
        n = max(1, min(n, tasks))
    return EVALUATORS[backend](n, scheduler)


# ============================================================================ the job driver


@dataclass(frozen=True)
class Point:
    """What one design point computes: a condition, a seed, and runs (the cap with --until-ci)."""

    index: int | None
    condition: Condition
    seed: int
    runs: int


@dataclass
class Job:
    """A job as the driver sees it (built by ``run_job`` or ``sim.experiments.sweep.run_sweep``)."""

    kind: str
    scenario: Path
    points: list[Point]
    events: bool
    identity: dict  # what must match on --resume (chunk_size is added by the driver)
    inputs: dict[str, str]
    title: str
    until_ci: float | None = None
    ci_step: int = 1_000
    manifest: Callable[[list[int], dict], dict] = lambda final, info: {}
    write_extra: Callable[[Path], None] | None = None
    error_field: Callable[[Chunk, str], tuple[str, str]] | None = None


@dataclass
class JobResult:
    """Where a finished job's results are, and how it ran."""

    out: Path
    runs: int
    point_runs: list[int]
    manifest: dict
    title: str = ""
    chunks_computed: int = 0
    chunks_reused: int = 0
    workers: int = 0
    backend: str = ""
    seconds: float = 0.0
    discarded: bool = False  # an interrupted job in ``out`` was discarded (no --resume)

    def read_runs(self, columns: list[str] | None = None):
        from sim.experiments.store import read_runs

        return read_runs(self.out, columns)

    @property
    def until_ci(self) -> dict | None:
        return self.manifest.get("until_ci")


class Progress:
    """A tqdm bar with ETA (``progress=True``) or a callback receiving run counts as they finish."""

    def __init__(self, progress, desc: str):
        self.cb = progress if callable(progress) else None
        self.enabled = bool(progress)
        self.desc = desc
        self.bar = None
        self.n = 0

    def start(self, total: int, initial: int) -> None:
        """(Re)start at ``initial`` runs already done, e.g. on --resume or after --until-ci settled."""
        if self.cb:
            if initial > self.n:
                self.cb(initial - self.n)
        elif self.enabled and self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="run", unit_scale=True, desc=self.desc,
                            file=sys.stderr, leave=False, disable=None, smoothing=0.05)
        elif self.bar is not None:
            self.bar.total, self.bar.n = total, initial
            self.bar.refresh()
        self.n = max(self.n, initial)

    def update(self, n: int) -> None:
        self.n += n
        if self.cb:
            self.cb(n)
        elif self.bar is not None:
            self.bar.update(n)

    def total(self, total: int) -> None:
        if self.bar is not None and self.bar.total != total:
            self.bar.total = total
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_bar(progress, desc: str) -> Progress:
    """A progress bar (``progress=True``), a callback receiving run counts, or nothing (``False``)."""
    return Progress(progress, desc)


def auto_chunk_size(runs_per_point: int, workers: int) -> int:
    """About four chunks per worker (load balance), each big enough for fast batches."""
    c = math.ceil(runs_per_point / (4 * max(1, workers)))
    return max(1, min(runs_per_point, max(MIN_AUTO_CHUNK, min(MAX_AUTO_CHUNK, c))))


def _describe_diff(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k} ({old.get(k)!r} in the job, {new.get(k)!r} now)" for k in keys[:4])


def _indicators(outcome, force):
    from sim.experiments.stopping import headline_codes

    return headline_codes(outcome, force)


def _part_codes(store: Store, chunk: Chunk):
    import numpy as np

    from sim.names import OUTCOMES

    t = store.read_part("runs", chunk, ["outcome", "use_of_force"]).to_pandas()
    pos = {name: i for i, name in enumerate(OUTCOMES)}
    codes = np.array([pos[x] for x in t["outcome"].astype(str)], np.int8)
    return codes, t["use_of_force"].to_numpy(bool)


def _trim(store: Store, chunk: Chunk) -> bool:
    """Cut an over-long part (computed under the --until-ci cap) down to its final run range."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from sim.experiments.store import parquet_bytes

    try:
        if pq.read_metadata(store.part("runs", chunk)).num_rows <= chunk.n:
            return False
        parts = {}
        for t in store.tables:
            tab = store.read_part(t, chunk)
            parts[t] = parquet_bytes(tab.filter(pc.less(tab["run"], chunk.stop)))
    except (OSError, ValueError):
        store.remove_chunk(chunk)
        return False
    store.write_chunk(chunk, parts)
    return True


def execute(job: Job, out: Path, *, jobs: int | None = None, backend: str = "local", scheduler: str | None = None,
            evaluator: Evaluator | None = None, chunk_size: int | None = None, resume: bool = False,
            batch_size: int = 5_000, progress=False, consolidate: bool = True) -> JobResult:
    """Run (or resume) a job into ``out``: plan chunks, compute the missing ones, consolidate."""
    from sim.experiments.store import prepare_outdir

    t_start = time.perf_counter()
    if evaluator is None:
        check_backend(backend, scheduler, jobs)
    if chunk_size is not None and chunk_size < 1:
        raise InputError("--chunk-size", "", f"must be at least 1 (got {chunk_size})")
    if batch_size < 1:
        raise InputError("--batch-size", "", "must be positive")
    out = prepare_outdir(Path(out))
    job_path, man_path = out / JOB_FILE, out / MANIFEST_FILE
    existing = read_json(job_path) if resume else None
    previous = read_json(man_path) if resume and existing is None else None
    sweep = job.kind == "sweep"
    caps = [p.runs for p in job.points]
    if chunk_size is None and existing:
        chunk_size = existing.get("identity", {}).get("chunk_size")
    if chunk_size is None and previous:
        chunk_size = previous.get("job", {}).get("chunk_size")
    if jobs is None and evaluator is None:  # automatic: a pool only when the job is big enough to pay for it
        jobs = default_workers() if backend == "dask" or sum(caps) >= AUTO_PARALLEL_MIN_RUNS else 1
    if chunk_size is None:
        chunk_size = auto_chunk_size(max(caps), evaluator.workers if evaluator else jobs)
    identity = {**job.identity, "chunk_size": chunk_size, "format": FORMAT}
    tables = TABLES if job.events else tuple(t for t in TABLES if t != "events")
    store = Store(out, tables)
    info = {"backend": evaluator.name if evaluator else backend, "chunk_size": chunk_size}

    # ---- where are we: complete already, an interrupted job, or a fresh start
    if existing is not None:
        if existing.get("identity") != identity:
            raise InputError(job_path, "", "--resume: this is not the interrupted job: it differs in "
                             + (_describe_diff(existing.get("identity", {}), identity) or "format")
                             + "; use the same arguments, or another --out to start afresh")
        job_id, final = existing["job_id"], existing.get("final_runs")
        done_man = read_json(man_path)
        if done_man and done_man.get("job_id") == job_id:  # finished; only the clean-up was interrupted
            _cleanup(store, job_path, consolidate)
            return _result(out, done_man, job, info, t_start)
    elif previous is not None and previous.get("job") == identity:
        return _result(out, previous, job, info, t_start)  # --resume of a job that already completed
    else:
        discarded = job_path.exists()
        job_path.unlink(missing_ok=True)
        store.clear()
        job_id, final = uuid.uuid4().hex, None
        store.prepare()
        if job.write_extra:
            job.write_extra(out)
        write_json_atomic({"format": FORMAT, "job_id": job_id, "kind": job.kind, "identity": identity,
                           "final_runs": None, "scenario": str(job.scenario),
                           "created": datetime.now(UTC).isoformat(timespec="seconds")}, job_path)
        info["discarded"] = discarded
    store.prepare()
    store.clean_tmp()

    bar = Progress(progress, job.title)
    stats = {"computed": 0, "reused": 0}
    with contextlib.ExitStack() as stack:
        ev_box: list[Evaluator] = []

        def get_ev(n_tasks: int) -> Evaluator:
            if not ev_box:
                ev = evaluator or make_evaluator(backend, jobs, scheduler, n_tasks)
                if evaluator is None:
                    stack.enter_context(ev)
                else:
                    ev.start()
                ev_box.append(ev)
            return ev_box[0]

        def task(c: Chunk) -> Task:
            p = job.points[c.point or 0]
            return Task(p.condition, p.seed, c, job.events, batch_size, job.inputs)

        def check(c: Chunk, res: ChunkResult) -> None:
            if isinstance(res.error, InputError) and job.error_field:
                path, fld = job.error_field(c, res.error.field)
                raise InputError(path, fld, res.error.message, res.error.line)
            res.raise_error()

        try:
            # ---- phase 1 (--until-ci): add chunks in run order until the intervals are narrow enough
            if final is None and job.until_ci is not None:
                from sim.experiments.stopping import CIPlanner

                planners = [CIPlanner(n, job.until_ci, job.ci_step) for n in caps]
                chunks = plan_chunks(caps, chunk_size, sweep)
                done = [c for c in chunks if store.is_done(c)]
                for c in done:
                    planners[c.point or 0].add(c.start, *_part_codes(store, c))
                bar.start(sum(caps), sum(c.n for c in done))

                def needed(c: Chunk) -> bool:
                    return planners[c.point or 0].needs(c.start)

                def on_plan(c: Chunk, res: ChunkResult) -> None:
                    check(c, res)
                    if needed(c):
                        store.write_chunk(c, res.parts)
                        planners[c.point or 0].add(c.start, res.outcome, res.force)
                        stats["computed"] += 1
                    bar.update(c.n)

                done_set = set(done)
                todo = [c for c in chunks if c not in done_set]
                drive(todo, task, lambda: get_ev(len(todo)), on_plan, needed)
                final = [pl.stop_at for pl in planners]
                bar.total(sum(final))
                write_json_atomic({**read_json(job_path), "final_runs": final}, job_path)
            final = final or caps

            # ---- phase 2: every chunk of the final plan, computing those not on disk yet
            chunks = plan_chunks(final, chunk_size, sweep)
            store.prune(chunks)
            for c in chunks:
                _trim(store, c)
            done = store.done(chunks)
            stats["reused"] = len(done) - stats["computed"]
            bar.start(sum(final), sum(c.n for c in done))
            todo = [c for c in chunks if c not in done]

            def on_result(c: Chunk, res: ChunkResult) -> None:
                check(c, res)
                store.write_chunk(c, res.parts)
                stats["computed"] += 1
                bar.update(c.n)

            drive(todo, task, lambda: get_ev(len(todo)), on_result)
        finally:
            bar.close()
        info["workers"] = ev_box[0].workers if ev_box else 0
        if ev_box:
            info["backend"] = ev_box[0].name

    # ---- finish: consolidate, manifest (its presence means complete), remove the parts
    info.update(stats)
    if job.until_ci is not None:
        info["until_ci"] = _ci_reports(store, job, final, chunk_size)
    produced = {f"{t}.parquet" for t in tables} | ({"design.parquet"} if job.write_extra else set())
    if consolidate:
        for t in tables:
            store.consolidate(t, chunks)
    for name in RESULT_FILES:
        if name not in produced:
            (out / name).unlink(missing_ok=True)
    man = job.manifest(final, info)
    man.update({"job_id": job_id, "job": identity, "events": job.events, "chunk_size": chunk_size,
                "consolidated": consolidate,
                "files": sorted(produced) if consolidate else [f"{t}/" for t in tables] + sorted(
                    produced - {f"{t}.parquet" for t in tables}),
                "execution": {k: info[k] for k in ("backend", "workers", "computed", "reused") if k in info}})
    if "until_ci" in info:
        man["until_ci"] = info["until_ci"] if sweep else info["until_ci"][0]
    write_json_atomic(man, man_path)
    _cleanup(store, job_path, consolidate)
    res = _result(out, man, job, info, t_start)
    res.discarded = bool(info.get("discarded"))
    return res


def _cleanup(store: Store, job_path: Path, consolidate: bool) -> None:
    if consolidate:
        store.remove_parts()
    job_path.unlink(missing_ok=True)


def _ci_reports(store: Store, job: Job, final: list[int], chunk_size: int) -> list[dict]:
    import numpy as np

    from sim.experiments.measures import HEADLINE
    from sim.experiments.stopping import ci_report

    sums = [np.zeros(len(HEADLINE), np.int64) for _ in final]
    for c in plan_chunks(final, chunk_size, job.kind == "sweep"):
        sums[c.point or 0] += _indicators(*_part_codes(store, c)).sum(axis=0)
    return [ci_report(job.until_ci, job.ci_step, p.runs, s, n)
            for p, s, n in zip(job.points, sums, final, strict=True)]


def _result(out: Path, man: dict, job: Job, info: dict, t0: float) -> JobResult:
    point_runs = man.get("point_runs") or [man.get("runs", 0)]
    return JobResult(out=out, runs=int(man.get("runs", sum(point_runs))), point_runs=list(point_runs), manifest=man,
                     title=job.title, chunks_computed=info.get("computed", 0), chunks_reused=info.get("reused", 0),
                     workers=info.get("workers", 0), backend=info.get("backend", ""),
                     seconds=time.perf_counter() - t0)


def drive(chunks: Sequence[Chunk], make_task: Callable[[Chunk], Task], get_ev: Callable[[], Evaluator],
           on_result: Callable[[Chunk, ChunkResult], None], needed: Callable[[Chunk], bool] = lambda c: True) -> None:
    """Keep at most two chunks per worker in flight (bounded memory), in run order, and hand
    each finished chunk to ``on_result``; drop chunks that ``needed`` no longer wants."""
    todo = iter(chunks)
    inflight: dict[Any, Chunk] = {}
    ev: Evaluator | None = None
    try:
        while True:
            while ev is None or len(inflight) < ev.capacity:
                c = next((c for c in todo if needed(c)), None)
                if c is None:
                    break
                ev = ev or get_ev()
                inflight[ev.submit(make_task(c))] = c
            if not inflight:
                return
            for f in ev.wait(list(inflight)):
                on_result(inflight.pop(f), ev.result(f))
            stale = [f for f, c in inflight.items() if not needed(c)]
            if stale:
                ev.cancel(stale)
                for f in stale:
                    del inflight[f]
    except BaseException:
        if ev is not None and inflight:
            ev.cancel(list(inflight))
        raise


# ============================================================================ the public API


def run_job(scenario: str | Path | None = None, runs: int = 10_000, seed: int = 0, out: str | Path | None = None, *,
            overrides: Sequence[tuple[str, Any]] = (), levers: Sequence[str] = (), overlays: Sequence[str] = (),
            events: bool = True, jobs: int | None = None, backend: str = "local", scheduler: str | None = None,
            evaluator: Evaluator | None = None, chunk_size: int | None = None, resume: bool = False,
            until_ci: float | None = None, ci_step: int = 1_000, batch_size: int = 5_000, progress=False,
            consolidate: bool = True, argv: list[str] | None = None) -> JobResult:
    """Run ``runs`` seeded runs of a scenario into ``out`` (chunked, parallel, resumable).

    ``jobs``: worker processes (1 = in this process; default: one per CPU for jobs of
    20,000+ runs, else 1; never more than chunks). ``backend``: "local" (process pool)
    or "dask" (``scheduler`` address, or a local cluster). ``resume``: finish the
    interrupted job in ``out`` (or start it).
    ``until_ci``: stop at the first multiple of ``ci_step`` runs where every headline
    probability's 95% half-width is below it; ``runs`` is then the cap. The results do not
    depend on ``jobs``, ``backend``, ``chunk_size`` or ``batch_size``. Read them with
    ``sim.experiments.store.read_runs(out)`` or ``result.read_runs()``.
    """
    from sim.experiments.manifest import manifest
    from sim.inputs.compile import compile_scenario
    from sim.inputs.library import DEFAULT_SCENARIO

    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise InputError("--runs", "", f"must be between 1 and {MAX_RUNS:,} (got {runs})")
    if until_ci is not None and not 0 < until_ci < 0.5:
        raise InputError("--until-ci", "", f"must be between 0 and 0.5 (got {until_ci})")
    if ci_step < 1:
        raise InputError("--until-ci", "step", "must be positive")
    cond = Condition.of(scenario or DEFAULT_SCENARIO, levers=levers, overlays=overlays, overrides=overrides)
    path = Path(cond.scenario)
    spec = compile_scenario(cond)
    abs_path = str(path.resolve())
    cond = replace(cond, scenario=abs_path)
    remember(cond, spec)  # --jobs 1 reuses this compile
    out = Path(out) if out else Path("results") / f"{spec.scenario.id}-seed{seed}"
    identity = {"kind": "run", "content_hash": spec.content_hash, "seed": int(seed), "runs": runs,
                "events": bool(events), "until_ci": until_ci, "ci_step": ci_step if until_ci else None}

    def build_manifest(final: list[int], info: dict) -> dict:
        return {**manifest(spec, int(seed), final[0], argv), "title": spec.scenario.title}

    job = Job(kind="run", scenario=Path(abs_path), points=[Point(None, cond, int(seed), runs)],
              events=events, identity=identity, inputs=fingerprint(spec), title=spec.scenario.id,
              until_ci=until_ci, ci_step=ci_step, manifest=build_manifest)
    return execute(job, out, jobs=jobs, backend=backend, scheduler=scheduler, evaluator=evaluator,
                   chunk_size=chunk_size, resume=resume, batch_size=batch_size, progress=progress,
                   consolidate=consolidate)
