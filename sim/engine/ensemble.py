"""The ensemble path: the rules in ``sim.engine.rules`` advanced for many runs at once.

Runs that end are summarised and dropped from the batch, so a batch costs what its
live runs cost. Results are identical to the per-run Mesa path (``sim.engine.mesa_adapter``) run
by run, because both call the same rule functions with the same counter-based draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine import interrupt, rng, rules
from sim.engine.allocator import keep_freed_memory
from sim.engine.loop import run_batch
from sim.engine.outcomes import EventLog
from sim.inputs.compile import Spec

#: Runs advanced together. With the compiled utility loop (no (R, a, K) temporaries per product) the CPU
#: time per run is flat from 2,500 to 10,000 (``benchmarks/bench_batch.py``); the pre-kernel code was
#: memory-bound at 25,000 (1.36x slower than 5,000 in the performance review). 5,000 is also what jobs use.
DEFAULT_BATCH = 5_000


@dataclass
class Results:
    """The tables of one ensemble: a row per run, a row per actor-turn, injects fired."""

    runs: pd.DataFrame
    events: pd.DataFrame
    injects: pd.DataFrame


def simulate_batch(spec: Spec, seed: int, runs: np.ndarray, log: EventLog) -> dict:
    """Advance one batch of runs to their end; return the runs-table columns."""
    runs = np.asarray(runs, np.int64)
    st = rules.State.initial(spec, rng.run_keys(seed, runs), runs)
    return _concat(run_batch(spec, st, log, seed))


def _concat(parts: list[dict]) -> dict:
    if len(parts) == 1:
        return parts[0]
    out = {}
    for k in parts[0]:
        vals = [p[k] for p in parts]
        if isinstance(vals[0], pd.Categorical):
            out[k] = pd.Categorical.from_codes(np.concatenate([v.codes for v in vals]), dtype=vals[0].dtype)
        elif isinstance(vals[0], pd.api.extensions.ExtensionArray):  # nullable integers
            out[k] = type(vals[0])._concat_same_type(vals)
        elif isinstance(vals[0], list):
            out[k] = [x for v in vals for x in v]
        else:
            out[k] = np.concatenate(vals)
    return out


def runs_frame(cols: dict) -> pd.DataFrame:
    df = pd.DataFrame(cols)
    return df.sort_values("run", kind="stable").reset_index(drop=True)


def simulate(
    spec: Spec,
    seed: int,
    runs: int | np.ndarray,
    events: bool = True,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> Results:
    """Run ``runs`` (a count, or explicit run indices) of a compiled scenario under ``seed``.

    Ctrl-C is held while compiled code runs and raised as KeyboardInterrupt between turns
    (``sim.engine.interrupt``), never as the SystemError Numba gives for one raised inside a kernel."""
    keep_freed_memory()  # the batch's arrays are reused, not faulted in afresh every turn
    idx = np.arange(runs, dtype=np.int64) if np.isscalar(runs) else np.asarray(runs, np.int64)
    log = EventLog(spec, enabled=events)
    parts = []
    with interrupt.deferred():
        for start in range(0, len(idx), batch_size):
            chunk = idx[start:start + batch_size]
            parts.append(simulate_batch(spec, seed, chunk, log))
            if progress:
                progress(len(chunk))
    table = runs_frame(_concat(parts)) if parts else pd.DataFrame()
    return Results(runs=table, events=log.frame(), injects=log.inject_frame())
