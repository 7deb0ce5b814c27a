"""Jobs: chunked, parallel, resumable ensembles and sweeps, written to a results folder.

A job is a list of points — a condition, a seed and a number of runs: one point for ``run_job``,
one per design point for ``run_sweep`` — cut into chunks of consecutive run indices.
``execute`` works out where the output folder stands (fresh, interrupted or complete), with
``--until-ci`` first settles how many runs each point needs, computes the chunks not on disk yet
on an evaluator (``sim.experiments.evaluators``) with the worker code
(``sim.experiments.worker``), and finishes: consolidates the parts, writes the manifest (its
presence means complete) and removes the parts (``sim.experiments.store``). Results are identical
for any number of workers, chunk size, batch size or backend.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.experiments.evaluators import Evaluator, check_backend, make_evaluator
from sim.experiments.forkserver import auto_workers
from sim.experiments.lock import FolderLock
from sim.experiments.seeds import check_seed
from sim.experiments.store import (
    FORMAT,
    JOB_FILE,
    MANIFEST_FILE,
    STREAMED,
    TABLES,
    Chunk,
    Store,
    atomic_bytes,
    parquet_bytes,
    plan_chunks,
    prepare_outdir,
    read_json,
    write_json_atomic,
)
from sim.experiments.sweep import (
    DesignPoint,
    SweepFile,
    as_sweep,
    design_frame,
    design_points,
    probes,
    resolve_scenario,
)
from sim.experiments.worker import ChunkResult, Task, fingerprint
from sim.inputs.condition import Condition
from sim.inputs.paths import confined, safe_name

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sim.inputs.compile import Spec

MIN_AUTO_CHUNK, MAX_AUTO_CHUNK = 5_000, 20_000  # batches under ~5k runs are markedly slower per run
MAX_RUNS = 100_000_000
RESULT_FILES = ("runs.parquet", "events.parquet", "injects.parquet", "design.parquet")
#: ``progress=``: True for a tqdm bar, a callback receiving run counts as they finish, or False.
ProgressArg = bool | Callable[[int], object]


# ============================================================================ jobs and their results


@dataclass(frozen=True)
class Point:
    """What one design point computes: a condition, a seed, and runs (the cap with --until-ci)."""

    index: int | None
    condition: Condition
    seed: int
    runs: int


@dataclass
class Job:
    """A job as the driver sees it (built by ``run_job`` or ``run_sweep``)."""

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

    @property
    def caps(self) -> list[int]:
        """Runs per point (the most each may take with --until-ci)."""
        return [p.runs for p in self.points]

    @property
    def is_sweep(self) -> bool:
        """Sweep parts are named by point and chunk; a plain job's by chunk only."""
        return self.kind == "sweep"


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

    def read_runs(self, columns: list[str] | None = None) -> pd.DataFrame:
        from sim.experiments.store import read_runs

        return read_runs(self.out, columns)

    @property
    def until_ci(self) -> dict | None:
        return self.manifest.get("until_ci")


class Progress:
    """A tqdm bar with ETA (``progress=True``) or a callback receiving run counts as they finish."""

    def __init__(self, progress: ProgressArg, desc: str):
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

    @contextlib.contextmanager
    def combining(self, parts: int) -> Iterator[Callable[[], None]]:
        """A second bar while the parts are combined into the result files (a big event log takes
        a while, and a silent terminal after the runs reads as a hang); a no-op without a bar."""
        if not self.enabled or self.cb:
            yield lambda: None
            return
        from tqdm import tqdm

        with tqdm(total=parts, unit="part", desc="combining parts", file=sys.stderr, leave=False,
                  disable=None) as bar:
            yield bar.update


def progress_bar(progress: ProgressArg, desc: str) -> Progress:
    """A progress bar (``progress=True``), a callback receiving run counts, or nothing (``False``)."""
    return Progress(progress, desc)


def auto_chunk_size(runs_per_point: int, workers: int) -> int:
    """About four chunks per worker (load balance), each big enough for fast batches."""
    c = math.ceil(runs_per_point / (4 * max(1, workers)))
    return max(1, min(runs_per_point, max(MIN_AUTO_CHUNK, min(MAX_AUTO_CHUNK, c))))


def packed_chunk_size(runs_per_point: int, points: int, workers: int) -> int | None:
    """For a sweep of small points (fewer runs than a good batch): a chunk size holding several
    whole points (about four chunks per worker over the whole sweep), or None if they would not
    share a chunk anyway. Fewer, larger parts: no per-point file, fsync and read."""
    if runs_per_point >= MIN_AUTO_CHUNK:
        return None
    c = min(MAX_AUTO_CHUNK, math.ceil(runs_per_point * points / (4 * max(1, workers))))
    return (c // runs_per_point) * runs_per_point if c >= 2 * runs_per_point else None


# ============================================================================ executing a job


def execute(job: Job, out: Path, *, jobs: int | None = None, backend: str = "local", scheduler: str | None = None,
            evaluator: Evaluator | None = None, chunk_size: int | None = None, resume: bool = False,
            batch_size: int = 5_000, progress: ProgressArg = False, consolidate: bool = True,
            force: bool = True, say: Callable[[str], object] | None = None,
            starting: Callable[[], object] | None = None) -> JobResult:
    """Run (or resume) a job into ``out``: where are we, how many runs (--until-ci), compute, finish.

    ``force=False`` (the command line without ``--force``) refuses to replace completed results.
    ``say`` hears notes the user should have before the job computes (an interrupted job in ``out``
    is about to be discarded: how far it got, whether ``resume=True`` would continue it);
    ``starting`` is called once, just before the first chunk is computed (not at all if none is)."""
    t0 = time.perf_counter()
    if evaluator is None:
        check_backend(backend, scheduler, jobs)
    if chunk_size is not None and chunk_size < 1:
        raise InputError("--chunk-size", "", f"must be at least 1 (got {chunk_size})")
    if batch_size < 1:
        raise InputError("--batch-size", "", "must be positive")
    out = prepare_outdir(Path(out))
    with FolderLock(out, "--out", "results folder"):  # one writer per folder: a second job is refused
        if not (resume or force):
            refuse_completed(out)
        existing = read_json(out / JOB_FILE) if resume else None
        previous = read_json(out / MANIFEST_FILE) if resume and existing is None else None
        asked_chunk_size = chunk_size
        if chunk_size is None:  # resuming: the parts on disk are cut by the recorded size
            chunk_size = _recorded_chunk_size(existing, previous)
        if jobs is None and evaluator is None:  # automatic: a pool only when the job is big enough to pay for it
            jobs = auto_workers(sum(job.caps), backend)
        if chunk_size is None:
            workers = evaluator.workers if evaluator else jobs
            chunk_size = auto_chunk_size(max(job.caps), workers)
            if job.is_sweep and job.until_ci is None and len(set(job.caps)) == 1:
                chunk_size = packed_chunk_size(job.caps[0], len(job.caps), workers) or chunk_size
        run = _Execution(job, out, chunk_size, batch_size, consolidate, Progress(progress, job.title),
                         given=evaluator, backend=backend, jobs=jobs, scheduler=scheduler, say=say,
                         starting=starting, asked_chunk_size=asked_chunk_size)
        man = run.locate(existing, previous)
        if man is None:
            run.compute()
            man = run.finish()
        return run.result(man, t0)


def refuse_completed(out: Path) -> None:
    """A folder with a manifest holds finished results: replacing them needs ``--force``."""
    done = read_json(out / MANIFEST_FILE)
    if done is None:
        return
    what = f"{done.get('runs', '?'):,} runs" if isinstance(done.get("runs"), int) else "results"
    raise InputError(out, "--out", f"holds completed results ({what}, seed {done.get('seed', '?')}, "
                     f"{done.get('created', '')}); give --force to replace them, --resume to keep them, "
                     "or another --out")


def _recorded_chunk_size(existing: dict | None, previous: dict | None) -> int | None:
    """The chunk size of the interrupted job (``job.json``) or the completed one (``manifest.json``)."""
    if existing:
        size = existing.get("identity", {}).get("chunk_size")
        if size is not None:
            return size
    return previous.get("job", {}).get("chunk_size") if previous else None


@dataclass
class _Execution:
    """One execution of a job into ``out``: the state its steps share."""

    job: Job
    out: Path
    chunk_size: int
    batch_size: int
    consolidate: bool
    bar: Progress
    given: Evaluator | None = None  # the caller's evaluator: started here, closed by the caller
    backend: str = "local"
    jobs: int | None = None
    scheduler: str | None = None
    say: Callable[[str], object] | None = None  # notes for the user before computing (``execute``)
    starting: Callable[[], object] | None = None  # called before the first chunk is computed
    asked_chunk_size: int | None = None  # the chunk size the caller gave (None: automatic)
    job_id: str = ""
    final: list[int] | None = None  # runs per point, once settled
    chunks: list[Chunk] = field(default_factory=list)  # the final plan
    stats: dict[str, int] = field(default_factory=lambda: {"computed": 0, "reused": 0})
    ev: Evaluator | None = None
    identity: dict = field(init=False)
    store: Store = field(init=False)
    info: dict = field(init=False)
    stack: contextlib.ExitStack = field(init=False, default_factory=contextlib.ExitStack)

    def __post_init__(self) -> None:
        self.identity = {**self.job.identity, "chunk_size": self.chunk_size, "format": FORMAT}
        self.store = Store(self.out, TABLES if self.job.events else tuple(t for t in TABLES if t != "events"))
        self.info = {"backend": self.given.name if self.given else self.backend, "chunk_size": self.chunk_size}

    @property
    def job_path(self) -> Path:
        return self.out / JOB_FILE

    # ---------------------------------------------------------------- where are we
    def locate(self, existing: dict | None, previous: dict | None) -> dict | None:
        """The manifest if the job is complete already; else take up the interrupted job (--resume)
        or start afresh, and return None."""
        if existing is not None:
            if existing.get("identity") != self.identity:
                raise InputError(self.job_path, "", "--resume: this is not the interrupted job: it differs in "
                                 + (_describe_diff(existing.get("identity", {}), self.identity) or "format")
                                 + "; use the same arguments, or another --out to start afresh")
            self.job_id, self.final = existing["job_id"], existing.get("final_runs")
            done = read_json(self.out / MANIFEST_FILE)
            if done and done.get("job_id") == self.job_id:  # finished; only the clean-up was interrupted
                self.cleanup()
                return done
        elif previous is not None and previous.get("job") == self.identity:
            return previous  # --resume of a job that already completed
        else:
            self.start_afresh()
        self.store.prepare()
        self.store.clean_tmp()
        return None

    def start_afresh(self) -> None:
        """Forget what another job left in ``out``: its manifest first (the folder no longer claims
        to hold complete results), its result files and parts; then write ``job.json`` (--resume
        reads it). An interrupted job is discarded only after ``say`` has told how far it got."""
        self.info["discarded"] = self.job_path.exists()
        if self.info["discarded"] and self.say:
            self.say(self.discard_note())
        (self.out / MANIFEST_FILE).unlink(missing_ok=True)
        for name in RESULT_FILES:
            (self.out / name).unlink(missing_ok=True)
        self.job_path.unlink(missing_ok=True)
        self.store.clear()
        self.job_id = uuid.uuid4().hex
        self.store.prepare()
        if self.job.write_extra:
            self.job.write_extra(self.out)
        write_json_atomic({"format": FORMAT, "job_id": self.job_id, "kind": self.job.kind, "identity": self.identity,
                           "final_runs": None, "scenario": str(self.job.scenario),
                           "created": datetime.now(UTC).isoformat(timespec="seconds")}, self.job_path)

    def discard_note(self) -> str:
        """What starting afresh throws away: the interrupted job's finished chunks, and whether
        ``--resume`` (the same arguments) would have continued it instead of computing them again."""
        what = "sweep" if self.job.is_sweep else "job"
        try:
            old = read_json(self.job_path) or {}
        except InputError:
            old = {}
        ident = old.get("identity") if isinstance(old.get("identity"), dict) else {}
        size = ident.get("chunk_size")
        mine = {k: v for k, v in self.identity.items() if k != "chunk_size"}
        theirs = {k: v for k, v in ident.items() if k != "chunk_size"}
        if not (theirs == mine and isinstance(size, int) and size >= 1):
            n = len(self.store.part_files("runs"))
            differs = _describe_diff(theirs, mine) if ident else "an unreadable job.json"
            return (f"discarding the interrupted {what} in {self.out} ({n} finished chunk(s) of another {what}: it "
                    f"differs in {differs or 'format'}; --resume would refuse it) and starting this one afresh")
        final = old.get("final_runs")
        until_ci = self.job.until_ci is not None and not final
        plan = plan_chunks(final or self.job.caps, size, self.job.is_sweep, pack=self.job.until_ci is None)
        done = self.store.done(plan)
        how = "--resume" if self.asked_chunk_size in (None, size) else \
            f"--resume without --chunk-size (the job's own is {size})"
        return (f"discarding the interrupted {what} in {self.out}: {len(done)} of {'up to ' if until_ci else ''}"
                f"{len(plan)} chunks were done ({sum(c.n for c in done):,} of {sum(c.n for c in plan):,} runs) and "
                f"are computed again; {how} would have continued it")

    # ---------------------------------------------------------------- computing
    def compute(self) -> None:
        """Settle the runs per point (--until-ci), then compute every chunk not on disk yet."""
        with self.stack:
            try:
                if self.final is None and self.job.until_ci is not None:
                    self.settle_runs()
                self.final = self.final or self.job.caps
                self.compute_chunks()
            finally:
                self.bar.close()
            self.info["workers"] = self.ev.workers if self.ev else 0
            if self.ev:
                self.info["backend"] = self.ev.name

    def evaluator(self, n_tasks: int) -> Evaluator:
        """The evaluator, made on first use (nothing to compute: no pool) and closed with the job."""
        if self.ev is None:
            if self.starting:
                self.starting()
            ev = self.given or make_evaluator(self.backend, self.jobs, self.scheduler, n_tasks)
            if self.given is None:
                self.stack.enter_context(ev)
            else:
                ev.start()
            self.ev = ev
        return self.ev

    def task(self, c: Chunk) -> Task:
        p = self.job.points[c.point or 0]
        group = tuple((i, self.job.points[i].condition, self.job.points[i].seed) for i in c.members) \
            if c.points > 1 else ()
        return Task(p.condition, p.seed, c, self.job.events, self.batch_size, self.job.inputs, group)

    def check(self, c: Chunk, res: ChunkResult) -> None:
        """Raise a worker's error; an input error names the job's own file and field (and point)."""
        if isinstance(res.error, InputError) and self.job.error_field:
            path, fld = self.job.error_field(res.chunk, res.error.field)
            raise InputError(path, fld, res.error.message, res.error.line)
        res.raise_error()

    def settle_runs(self) -> None:
        """--until-ci: add chunks in run order until every point's intervals are narrow enough."""
        from sim.experiments.stopping import CIPlanner

        caps = self.job.caps
        planners = [CIPlanner(n, self.job.until_ci, self.job.ci_step) for n in caps]
        chunks = plan_chunks(caps, self.chunk_size, self.job.is_sweep)
        done = [c for c in chunks if self.store.is_done(c)]
        for c in done:
            planners[c.point or 0].add(c.start, *_part_codes(self.store, c))
        self.bar.start(sum(caps), sum(c.n for c in done))

        def needed(c: Chunk) -> bool:
            return planners[c.point or 0].needs(c.start)

        def on_result(c: Chunk, res: ChunkResult) -> None:
            self.check(c, res)
            if needed(c):
                self.store.write_chunk(c, res.parts)
                planners[c.point or 0].add(c.start, res.outcome, res.force)
                self.stats["computed"] += 1
            self.bar.update(c.n)

        done_set = set(done)
        todo = [c for c in chunks if c not in done_set]
        drive(todo, self.task, lambda: self.evaluator(len(todo)), on_result, needed)
        self.final = [pl.stop_at for pl in planners]
        self.bar.total(sum(self.final))
        write_json_atomic({**read_json(self.job_path), "final_runs": self.final}, self.job_path)

    def compute_chunks(self) -> None:
        """Every chunk of the final plan: reuse those on disk (trimmed to the plan), compute the rest."""
        self.chunks = plan_chunks(self.final, self.chunk_size, self.job.is_sweep, pack=self.job.until_ci is None)
        self.store.prune(self.chunks)
        for c in self.chunks:
            _trim(self.store, c)
        done = self.store.done(self.chunks)
        self.stats["reused"] = len(done) - self.stats["computed"]
        self.bar.start(sum(self.final), sum(c.n for c in done))
        todo = [c for c in self.chunks if c not in done]

        def on_result(c: Chunk, res: ChunkResult) -> None:
            self.check(c, res)
            self.store.write_chunk(c, res.parts)
            self.stats["computed"] += 1
            self.bar.update(c.n)

        drive(todo, self.task, lambda: self.evaluator(len(todo)), on_result)

    # ---------------------------------------------------------------- finishing
    def finish(self) -> dict:
        """Consolidate, write the manifest (its presence means complete), remove the parts."""
        tables = self.store.tables
        self.info.update(self.stats)
        if self.job.until_ci is not None:
            self.info["until_ci"] = _ci_reports(self.store, self.job, self.final, self.chunk_size)
        produced = {f"{t}.parquet" for t in tables} | ({"design.parquet"} if self.job.write_extra else set())
        if self.consolidate:
            with self.bar.combining(len(tables) * len(self.chunks)) as step:
                for t in sorted(tables, key=lambda t: t in STREAMED):  # streamed tables delete their parts: last
                    self.store.consolidate(t, self.chunks, on_part=step)
        for name in RESULT_FILES:
            if name not in produced:
                (self.out / name).unlink(missing_ok=True)
        man = self.manifest(produced)
        write_json_atomic(man, self.out / MANIFEST_FILE)
        self.cleanup()
        return man

    def manifest(self, produced: set[str]) -> dict:
        """The job's own manifest plus how it ran: identity, files, execution, --until-ci reports."""
        info, tables = self.info, self.store.tables
        man = self.job.manifest(self.final, info)
        man.update({"job_id": self.job_id, "job": self.identity, "events": self.job.events,
                    "chunk_size": self.chunk_size, "consolidated": self.consolidate,
                    "files": sorted(produced) if self.consolidate else [f"{t}/" for t in tables] + sorted(
                        produced - {f"{t}.parquet" for t in tables}),
                    "execution": {k: info[k] for k in ("backend", "workers", "computed", "reused") if k in info}})
        if "until_ci" in info:
            man["until_ci"] = info["until_ci"] if self.job.is_sweep else info["until_ci"][0]
        return man

    def cleanup(self) -> None:
        """Remove the parts (once consolidated) and job.json: what is left is the results."""
        if self.consolidate:
            self.store.remove_parts()
        self.job_path.unlink(missing_ok=True)

    def result(self, man: dict, t0: float) -> JobResult:
        """The result as the manifest records it (also for a job that was complete already)."""
        point_runs = man.get("point_runs") or [man.get("runs", 0)]
        info = self.info
        return JobResult(out=self.out, runs=int(man.get("runs", sum(point_runs))), point_runs=list(point_runs),
                         manifest=man, title=self.job.title, chunks_computed=info.get("computed", 0),
                         chunks_reused=info.get("reused", 0), workers=info.get("workers", 0),
                         backend=info.get("backend", ""), seconds=time.perf_counter() - t0,
                         discarded=bool(info.get("discarded")))


def _describe_diff(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k} ({old.get(k)!r} in the job, {new.get(k)!r} now)" for k in keys[:4])


def _part_codes(store: Store, chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """Outcome-class codes and use of force of a part on disk (for --until-ci)."""
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

    try:
        if pq.read_metadata(store.part("runs", chunk)).num_rows <= chunk.n:
            return False
        parts = {}
        for t in store.tables:
            tab = store.read_part(t, chunk)
            parts[t] = parquet_bytes(tab.filter(pc.less(tab["run"], chunk.stop)), t)
    except (OSError, ValueError):
        store.remove_chunk(chunk)
        return False
    store.write_chunk(chunk, parts)
    return True


def _ci_reports(store: Store, job: Job, final: list[int], chunk_size: int) -> list[dict]:
    """What --until-ci settled on per point, counted from the parts on disk."""
    import numpy as np

    from sim.experiments.measures import HEADLINE
    from sim.experiments.stopping import ci_report, headline_codes

    sums = [np.zeros(len(HEADLINE), np.int64) for _ in final]
    for c in plan_chunks(final, chunk_size, job.is_sweep):
        sums[c.point or 0] += headline_codes(*_part_codes(store, c)).sum(axis=0)
    return [ci_report(job.until_ci, job.ci_step, p.runs, s, n)
            for p, s, n in zip(job.points, sums, final, strict=True)]


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


def run_job(scenario: str | Path | Condition | None = None, runs: int = 10_000, seed: int = 0,
            out: str | Path | None = None, *, overrides: Sequence[tuple[str, Any]] = (), levers: Sequence[str] = (),
            overlays: Sequence[str] = (), events: bool = True, jobs: int | None = None, backend: str = "local",
            scheduler: str | None = None, evaluator: Evaluator | None = None, chunk_size: int | None = None,
            resume: bool = False, until_ci: float | None = None, ci_step: int = 1_000, batch_size: int = 5_000,
            progress: ProgressArg = False, consolidate: bool = True, argv: list[str] | None = None,
            force: bool = True, say: Callable[[str], object] | None = None,
            starting: Callable[[], object] | None = None) -> JobResult:
    """Run ``runs`` seeded runs of a condition into ``out`` (chunked, parallel, resumable).

    ``scenario``: a ``Condition`` or a scenario file (``levers``, ``overlays`` and ``overrides``
    are added to either). ``jobs``: worker processes (1 = in this process; default: one per CPU
    for jobs of 20,000+ runs, else 1; never more than chunks). ``backend``: "local" (process
    pool) or "dask" (``scheduler`` address, or a local cluster). ``resume``: finish the
    interrupted job in ``out`` (or start it).
    ``until_ci``: stop at the first multiple of ``ci_step`` runs where every headline
    probability's 95% half-width is below it; ``runs`` is then the cap. The results do not
    depend on ``jobs``, ``backend``, ``chunk_size`` or ``batch_size``. Read them with
    ``sim.experiments.store.read_runs(out)`` or ``result.read_runs()``. ``say``, ``starting``: see ``execute``.
    """
    from sim.experiments.manifest import manifest
    from sim.inputs.compile import compile_scenario, remember

    _check_runs(runs, until_ci, ci_step)
    seed = check_seed(seed)
    cond = Condition.of(scenario, levers=levers, overlays=overlays, overrides=overrides)
    spec = compile_scenario(cond)
    cond = replace(cond, scenario=str(Path(cond.scenario).resolve()))
    remember(cond, spec)  # --jobs 1 reuses this compile
    out = Path(out) if out else confined("results", f"{spec.scenario.id}-seed{seed}")
    identity = {"kind": "run", "content_hash": spec.content_hash, "seed": int(seed), "runs": runs,
                "events": bool(events), "until_ci": until_ci, "ci_step": ci_step if until_ci else None}

    def build_manifest(final: list[int], info: dict) -> dict:
        # ``condition``: what the user asked for (``overrides`` also holds what levers and overlays set)
        asked = {"scenario": cond.scenario, "levers": list(cond.levers), "overlays": list(cond.overlays),
                 "overrides": [list(kv) for kv in cond.overrides]}
        return {**manifest(spec, int(seed), final[0], argv), "title": spec.scenario.title, "condition": asked}

    job = Job(kind="run", scenario=Path(cond.scenario), points=[Point(None, cond, int(seed), runs)],
              events=events, identity=identity, inputs=fingerprint(spec), title=spec.scenario.id,
              until_ci=until_ci, ci_step=ci_step, manifest=build_manifest)
    return execute(job, out, jobs=jobs, backend=backend, scheduler=scheduler, evaluator=evaluator,
                   chunk_size=chunk_size, resume=resume, batch_size=batch_size, progress=progress,
                   consolidate=consolidate, force=force, say=say, starting=starting)


def _check_runs(runs: int, until_ci: float | None, ci_step: int) -> None:
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise InputError("--runs", "", f"must be between 1 and {MAX_RUNS:,} (got {runs})")
    if until_ci is not None and not 0 < until_ci < 0.5:
        raise InputError("--until-ci", "", f"must be between 0 and 0.5 (got {until_ci})")
    if ci_step < 1:
        raise InputError("--until-ci", "step", "must be positive")


def run_sweep(sweep: str | Path | SweepFile | dict, out: str | Path | None = None, *, jobs: int | None = None,
              backend: str = "local", scheduler: str | None = None, evaluator: Evaluator | None = None,
              chunk_size: int | None = None, resume: bool = False, batch_size: int = 5_000,
              progress: ProgressArg = False, consolidate: bool = True, argv: list[str] | None = None,
              force: bool = True, say: Callable[[str], object] | None = None,
              starting: Callable[[], object] | None = None) -> JobResult:
    """Run every design point of a sweep into ``out`` (chunked, parallel, resumable).

    ``sweep``: a sweep file, a ``SweepFile`` or a dict in its format. Read the results with
    ``sim.experiments.store.read_runs(out)`` and ``read_design(out)``, or per-point
    probabilities with ``sim.experiments.store.summarise(out)``. ``say``, ``starting``: see ``execute``.
    """
    sf, sweep_path, raw = as_sweep(sweep)
    where = str(sweep_path or "sweep")
    scenario = resolve_scenario(sf.scenario, sweep_path)
    points = design_points(sf, where, scenario)
    base = _compile_probes(sf, points, where)
    name = safe_name(sweep_path.stem) if sweep_path else base.scenario.id
    out = Path(out) if out else confined("results", f"sweep-{name}")
    job = _sweep_job(sf, points, base, scenario=scenario, where=where, raw=raw, argv=argv)
    return execute(job, out, jobs=jobs, backend=backend, scheduler=scheduler, evaluator=evaluator,
                   chunk_size=chunk_size or sf.chunk_size, resume=resume, batch_size=batch_size, progress=progress,
                   consolidate=consolidate, force=force, say=say, starting=starting)


def _compile_probes(sf: SweepFile, points: list[DesignPoint], where: str) -> Spec:
    """Compile points that use every factor value (``probes``) so a bad value fails before any
    compute, naming its factor; return the spec of point 0."""
    from sim.inputs.compile import compile_scenario, remember

    specs = {}
    for p in probes(sf, points):
        try:
            spec = compile_scenario(p.condition)
        except InputError as exc:
            fld = next((k for k in sf.design.factors if k in (exc.field or "")), None)
            what = f"value {p.values[fld]!r} rejected" if fld else "rejected"
            raise InputError(where, f"design.factors.{fld}" if fld else f"design point {p.index}",
                             f"{what}: {exc}") from None
        remember(p.condition, spec)
        specs[p.index] = spec
    return specs[0]


def _sweep_identity(sf: SweepFile, points: list[DesignPoint], inputs: dict[str, str]) -> dict:
    """What --resume must match: the inputs, the design (every point's condition and seed), the settings."""
    design_hash = hashlib.sha256(json.dumps(
        [[p.condition.overrides, p.condition.levers, p.condition.overlays, p.seed] for p in points],
        sort_keys=True, default=str).encode()).hexdigest()
    return {"kind": "sweep", "inputs": hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest(),
            "design": design_hash, "points": len(points), "runs_per_point": sf.runs_per_point,
            "seed": sf.seed, "common_random_numbers": sf.common_random_numbers, "events": sf.events,
            "until_ci": sf.until_ci, "ci_step": 1_000 if sf.until_ci else None}


def _sweep_job(sf: SweepFile, points: list[DesignPoint], base: Spec, *, scenario: Path, where: str, raw: bytes,
               argv: list[str] | None) -> Job:
    """A sweep as a job: a point per design point, plus its design file, manifest and error fields."""
    from sim.experiments.manifest import manifest

    design = design_frame(sf, points)
    inputs = fingerprint(base)

    def write_design(d: Path) -> None:
        import pyarrow as pa

        atomic_bytes(d / "design.parquet", parquet_bytes(pa.Table.from_pandas(design, preserve_index=False)))

    def build_manifest(final: list[int], info: dict) -> dict:
        m = manifest(base, sf.seed, sum(final), argv)
        for k in ("overrides", "levers", "overlays"):
            m.pop(k, None)
        m.update({"kind": "sweep", "sweep_file": where, "sweep_hash": hashlib.sha256(raw).hexdigest(),
                  "sweep": sf.model_dump(mode="json"), "scenario_file": str(scenario), "points": len(points),
                  "runs_per_point": sf.runs_per_point, "point_runs": final,
                  "common_random_numbers": sf.common_random_numbers})
        return m

    def error_field(c: Chunk, fld: str) -> tuple[str, str]:
        return where, f"design point {c.point}: {fld}"

    return Job(kind="sweep", scenario=scenario,
               points=[Point(p.index, p.condition, p.seed, sf.runs_per_point) for p in points],
               events=sf.events, identity=_sweep_identity(sf, points, inputs), inputs=inputs,
               title=sf.title or f"sweep {base.scenario.id}", until_ci=sf.until_ci, manifest=build_manifest,
               write_extra=write_design, error_field=error_field)
