"""Run conditions N times and get the tables back: the one in-memory experiment runner.

Modelled on EMA Workbench's ``perform_experiments``: give the conditions (scenario plus levers,
overlays and overrides), the runs and the seed, and optionally an evaluator (sequential by
default, a process pool, or Dask). Each condition is cut into chunks of consecutive runs and
computed by the same worker code as an on-disk job (``sim.experiments.worker.run_chunk``), so run
*i* of seed *s* is the same whichever evaluator computed it and however the runs were chunked.
With the same seed for every condition (the default), conditions are compared with common random
numbers: run *i* meets the same draws in each.

Lever studies, claims, the back-test, calibration, sensitivity analysis and the test harnesses
all call :func:`perform`; jobs that write results folders use ``sim.experiments.jobs.run_job``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from sim.engine.ensemble import Results
from sim.inputs.condition import Condition

if TYPE_CHECKING:
    from sim.experiments.evaluators import Evaluator

DEFAULT_CHUNK = 5_000


@dataclass(frozen=True)
class Experiment:
    """One condition of an experiment: what to run and how often."""

    name: str
    condition: Condition
    runs: int
    seed: int


def experiments(conditions: Mapping[str, Condition] | Sequence[Condition] | Condition, runs: int,
                seed: int | Sequence[int]) -> list[Experiment]:
    """Name each condition (mapping keys, else labels or readable names) and give it its seed."""
    if isinstance(conditions, Condition):
        conditions = [conditions]
    items = list(conditions.items()) if isinstance(conditions, Mapping) else [(c.name, c) for c in conditions]
    seeds = [int(seed)] * len(items) if isinstance(seed, int) else [int(s) for s in seed]
    if len(seeds) != len(items):
        raise ValueError(f"{len(seeds)} seeds for {len(items)} conditions")
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"conditions need distinct names (got {names})")
    return [Experiment(n, c, int(runs), s) for (n, c), s in zip(items, seeds, strict=True)]


def perform(conditions: Mapping[str, Condition] | Sequence[Condition] | Condition, runs: int,
            seed: int | Sequence[int] = 0, *, evaluator: Evaluator | None = None, events: bool = False,
            progress: bool | str = False, chunk_size: int = DEFAULT_CHUNK) -> dict[str, Results]:
    """Simulate ``runs`` runs of every condition; return ``{name: Results}`` (runs, events, injects).

    ``seed`` is one seed for all (common random numbers) or one per condition. ``evaluator``
    is any ``sim.experiments.evaluators.Evaluator``; by default the runs are computed in this process.
    Input errors come back as one ``InputError`` naming the condition's file and field.
    """
    from sim.experiments.evaluators import SequentialEvaluator
    from sim.experiments.jobs import drive, progress_bar
    from sim.experiments.store import Chunk, plan_chunks
    from sim.experiments.worker import ChunkResult, Task

    todo = experiments(conditions, runs, seed)
    chunks = plan_chunks([e.runs for e in todo], max(1, chunk_size), points=True)
    parts: dict[Chunk, dict[str, bytes]] = {}
    bar = progress_bar(progress, "experiments")
    bar.start(sum(e.runs for e in todo), 0)

    def task(c: Chunk) -> Task:
        e = todo[c.point]
        return Task(e.condition, e.seed, c, events, min(chunk_size, c.n))

    def on_result(c: Chunk, res: ChunkResult) -> None:
        res.raise_error()
        parts[c] = res.parts
        bar.update(c.n)

    try:
        drive(chunks, task, lambda: evaluator or SequentialEvaluator(), on_result)
    finally:
        bar.close()
    return {e.name: _results([parts[c] for c in chunks if c.point == p], events) for p, e in enumerate(todo)}


def _read(blob: bytes | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if blob is None:
        return pd.DataFrame()
    df = pq.read_table(io.BytesIO(blob)).to_pandas()
    return df.drop(columns=["point"]) if "point" in df.columns else df


def _results(parts: list[dict[str, bytes]], events: bool) -> Results:
    def cat(name: str) -> pd.DataFrame:
        frames = [_read(p.get(name)) for p in parts]
        frames = [f for f in frames if len(f.columns)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    return Results(runs=cat("runs"), events=cat("events") if events else pd.DataFrame(), injects=cat("injects"))
