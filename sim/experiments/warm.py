"""Imported once by the fork server (``sim.experiments.forkserver``): load the model so every
forked worker starts with it — imports, one BLAS thread, and the compiled turn's Numba cache.

The warm-up run compiles a shipped scenario without the per-process cache (``compile_condition``,
not ``compiled``), so no compiled input is inherited by workers: each compiles and fingerprints
its own job's files as before. A failure here only costs speed; the worker reports real errors.
"""

from __future__ import annotations

import contextlib

from sim.experiments.worker import limit_threads

limit_threads()  # before numpy loads: the server's environment already caps BLAS (prestart); this makes sure


def warm() -> None:
    import numpy as np

    from sim.engine.ensemble import simulate
    from sim.inputs.compile import compile_condition
    from sim.inputs.condition import Condition
    from sim.inputs.library import DEFAULT_SCENARIO

    spec = compile_condition(Condition(str(DEFAULT_SCENARIO)))
    with np.errstate(all="ignore"):
        for events in (False, True):
            simulate(spec, 0, 2, events=events)
    import pyarrow.parquet  # noqa: F401 - the worker writes its tables with it


with contextlib.suppress(Exception):
    warm()
