"""The worker side of a job: what one chunk needs, computing it, and proving it is the same model.

A worker receives only what to compute — a ``Condition`` (scenario path plus levers, overlays and
overrides), the seed and the run range — compiles the scenario itself (cached per process,
``sim.inputs.compile.compiled``) and returns the chunk's tables as Parquet bytes; the parent
writes them as parts (``sim.experiments.store``). Every random draw is a pure function of (seed,
run index, turn, stream) derived from one ``numpy.random.SeedSequence(seed)`` (``sim.engine.rng``),
and nothing else crosses the process boundary, so results are identical for any number of
workers, chunk size or backend. Workers also check that their input files and model code hash
the same as the parent's, so a remote machine with a different checkout fails loudly instead of
changing results.

The model (``sim.inputs.compile``, ``sim.engine``), numpy and pyarrow are imported inside
``run_chunk``: a spawned pool worker imports this module (it holds the pool initialiser) before
the initialiser has capped the BLAS threads, which must happen before numpy loads.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.experiments.forkserver import BLAS_VARS
from sim.experiments.store import Chunk
from sim.inputs.condition import Condition
from sim.inputs.library import OVERLAYS_DIR

if TYPE_CHECKING:
    from sim.inputs.compile import Spec



@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one chunk; no RNG state, no compiled arrays."""

    condition: Condition
    seed: int
    chunk: Chunk
    events: bool
    batch_size: int
    inputs: dict[str, str] = field(default_factory=dict)  # expected input fingerprint (see fingerprint())
    group: tuple[tuple[int, Condition, int], ...] = ()  # a packed chunk: (point, condition, seed) of each point
    specs: tuple = ()  # compiled inputs shipped with the task (Dask: workers need no copy of the files)

    @property
    def key(self) -> str:
        """A readable task name: scenario, design point and chunk (Dask's dashboard and logs show it)."""
        c = self.chunk
        where = f"point{c.point}-" if c.point is not None else ""
        return f"{Path(self.condition.scenario).stem}-{where}chunk{c.index}"


def ship(task: Task) -> Task:
    """The task with its compiled inputs attached, so a worker on another machine (or in another
    folder) needs neither the scenario nor the postures; the hash check still runs there."""
    from dataclasses import replace

    from sim.inputs.compile import compiled

    members = task.group or ((task.chunk.point, task.condition, task.seed),)
    return replace(task, specs=tuple(compiled(cond) for _, cond, _ in members))


def _shipped_mismatch(spec: Spec, inputs: dict[str, str]) -> list[str]:
    """With shipped inputs a worker checks what it can: its model code against the parent's, and
    that the shipped inputs are the ones the parent fingerprinted."""
    bad = [k for k, v in spec.file_hashes.items() if inputs.get(f"file:{k}", v) != v]
    return [*bad, *(["code"] if inputs.get("code") not in (None, code_hash()) else [])]


class WorkerMismatch(OSError):
    """A worker's input files or model code differ from the parent's (not the same checkout)."""

    def __init__(self, host: str, keys: list[str]):
        super().__init__(errno.EINVAL, "worker inputs differ from this machine's (not the same checkout): "
                         + (", ".join(keys) or "model code"), host)
        self.host, self.keys = host, keys

    def __reduce__(self) -> tuple:
        return (type(self), (self.host, self.keys))


@dataclass
class ChunkResult:
    """A computed chunk (its tables as Parquet bytes), or the input error that stopped it."""

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


_FINGERPRINTS: dict[tuple, dict[str, str]] = {}  # by the files a spec was built from (bounded: not per point)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The modules a worker computes with (a test checks this covers everything run_chunk loads).
MODEL_MODULES = ("errors", "names", "inputs", "inputs.catalogue", "inputs.compile", "inputs.condition",
                 "inputs.injects", "inputs.library", "inputs.loader", "inputs.parameters", "inputs.paths",
                 "inputs.postures",
                 "inputs.schema", "inputs.spec", "engine", "engine.allocator", "engine.channels", "engine.decisions",
                 "engine.ensemble",
                 "engine.injects", "engine.interrupt", "engine.kernel", "engine.loop", "engine.outcomes",
                 "engine.resolution",
                 "engine.resolve_kernel", "engine.rng", "engine.rules", "engine.state", "engine.columns", "experiments",
                 "experiments.forkserver", "experiments.measures", "experiments.store", "experiments.worker")


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


def fingerprint(spec: Spec) -> dict[str, str]:
    """Hashes of the files a compiled scenario was built from (postures, baseline, catalogue,
    the scenario file as written, overlays) and of the model code."""
    own = Path(spec.path).name
    fp = {f"file:{k}": v for k, v in spec.file_hashes.items() if k != own}
    fp[f"scenario:{own}"] = _sha(Path(spec.path).read_bytes())
    for name in spec.applied.overlays:
        fp[f"overlay:{name}"] = _sha((OVERLAYS_DIR / f"{name}.yaml").read_bytes())
    fp["code"] = code_hash()
    return fp


def _fingerprint(spec: Spec) -> dict[str, str]:
    """``fingerprint(spec)``, cached by the files it hashes (a sweep's points share them)."""
    own = Path(spec.path).name
    key = (spec.path, tuple(spec.applied.overlays), tuple(sorted((k, v) for k, v in spec.file_hashes.items()
                                                                 if k != own)))
    fp = _FINGERPRINTS.get(key)
    if fp is None:
        if len(_FINGERPRINTS) > 64:
            _FINGERPRINTS.clear()
        fp = _FINGERPRINTS[key] = fingerprint(spec)
    return fp


def run_chunk(task: Task) -> ChunkResult:
    """Simulate one chunk and return its tables as Parquet bytes (the worker entry point)."""
    import numpy as np
    import pyarrow as pa

    from sim.engine.ensemble import simulate
    from sim.experiments.store import combine_tables, parquet_bytes
    from sim.inputs.compile import compiled

    t0 = time.perf_counter()
    host = f"{socket.gethostname()}:{os.getpid()}"
    c = task.chunk
    members = task.group or ((c.point, task.condition, task.seed),)
    tables: dict[str, list[pa.Table]] = {}
    outcome, force = [], []
    for i, (point, condition, seed) in enumerate(members):
        one = c if len(members) == 1 else Chunk(point, 0, c.start, c.stop)  # errors name the point
        if task.specs:
            spec = task.specs[i]
            bad = _shipped_mismatch(spec, task.inputs)
            if bad:
                return ChunkResult(one, {}, error=WorkerMismatch(host, bad), host=host)
        else:
            try:
                spec = compiled(condition)
            except InputError as exc:
                return ChunkResult(one, {}, error=exc, host=host)
        if task.inputs and not task.specs:
            fp = _fingerprint(spec)
            bad = sorted(k for k, v in task.inputs.items() if k in fp and fp[k] != v)
            if bad or "code" not in fp:
                return ChunkResult(one, {}, error=WorkerMismatch(host, bad), host=host)
        res = simulate(spec, seed, np.arange(c.start, c.stop, dtype=np.int64), events=task.events,
                       batch_size=max(1, min(task.batch_size, c.stop - c.start)))
        frames = {"runs": res.runs, "injects": res.injects}
        if task.events:
            frames["events"] = res.events
        for name, df in frames.items():
            if point is not None:
                df.insert(0, "point", np.full(len(df), point, np.int32))
            tables.setdefault(name, []).append(pa.Table.from_pandas(df, preserve_index=False))
        outcome.append(res.runs["outcome"].cat.codes.to_numpy(np.int8))
        force.append(res.runs["use_of_force"].to_numpy(bool))
    parts = {name: parquet_bytes(ts[0] if len(ts) == 1 else combine_tables(ts), name) for name, ts in tables.items()}
    return ChunkResult(c, parts, np.concatenate(outcome), np.concatenate(force), host=host,
                       seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------------------- one BLAS thread per worker


def limit_threads() -> None:
    """One BLAS/OpenMP thread per worker: N workers on N cores, not N x N threads."""
    for var in BLAS_VARS:
        os.environ[var] = "1"
    if "numpy" in sys.modules:  # already loaded: env vars come too late, cap the pools directly
        with contextlib.suppress(ImportError):
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)


PARENT_POLL = 0.5  # seconds between a worker's checks that its parent is alive


def watch_parent(parent: int | None = None, poll: float = PARENT_POLL) -> None:
    """Exit this worker process within ``poll`` seconds of the job's process's death (however it
    died: SIGKILL or the OOM killer run no clean-up, and an orphaned worker would otherwise finish
    its chunk and then wait for work for ever). A daemon thread waits on a pidfd of ``parent``
    (Linux: readable once that process has exited; it need not be this process's parent, as with
    workers forked by the fork server), else compares this process's parent pid."""
    import select
    import threading

    ppid = os.getppid()
    parent = ppid if parent is None else parent
    try:
        fd = os.pidfd_open(parent)
    except ProcessLookupError:  # gone already
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here: the parent pid changes when the parent dies
        fd = None

    def watch() -> None:
        while True:
            if fd is not None:
                if select.select([fd], [], [], poll)[0]:
                    os._exit(1)
            else:
                time.sleep(poll)
                if os.getppid() != ppid:
                    os._exit(1)

    threading.Thread(target=watch, name="crisis-sim-parent-watch", daemon=True).start()


def init_pool_worker(parent: int | None = None) -> None:
    """Process-pool initialiser: caps the threads (before numpy loads in a spawned worker; a worker forked
    from the warm server has numpy already, with one BLAS thread), leaves Ctrl-C to the parent, and
    exits when ``parent``, the job's process, does."""
    import signal

    limit_threads()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    watch_parent(parent)


_LIMITED = False


def run_chunk_limited(task: Task) -> ChunkResult:
    """``run_chunk`` in a worker this package did not start (Dask): cap its threads on first use."""
    global _LIMITED
    if not _LIMITED:
        limit_threads()
        _LIMITED = True
    return run_chunk(task)
