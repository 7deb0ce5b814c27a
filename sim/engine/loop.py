"""The turn loop, written once: the ensemble, the Mesa adapter, the workshop and its forecast call it.

A turn is: :func:`begin` (the clock advances and due injects fire) -> decisions (every actor
scores its admissible options and draws one, or a caller supplies them: Mesa agents one by
one, workshop teams) -> :func:`finish` (all moves are resolved at once and the turn is logged).
:func:`advance` is one whole turn; :func:`run_batch` plays a batch of runs to their ends,
summarising and dropping runs as they finish.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.engine import interrupt, rules
from sim.engine.outcomes import EventLog, summarise
from sim.engine.state import Decision, State, TurnRecord
from sim.inputs.compile import Spec

#: ``decide(spec, st, reasons=...)``: the turn's decisions; ``reasons`` is whether the event log wants them.
Decide = Callable[..., Decision]


def begin(spec: Spec, st: State, log: EventLog, release: tuple[int, ...] = (), automatic: bool = True) -> list:
    """Advance the clock and fire the injects that fall due; return the (runs, inject) pairs fired.

    ``release`` lists contingency injects a facilitator released; ``automatic=False`` (the
    workshop) fires nothing on its own: the facilitator releases each inject.
    """
    fired = rules.begin_turn(spec, st, release, automatic=automatic)
    log.record_injects(fired, st.turn)
    return fired


def finish(spec: Spec, st: State, log: EventLog, dec: Decision) -> TurnRecord:
    """Resolve every actor's move at once and record the turn."""
    out = rules.resolve(spec, st, dec)
    log.record(st, dec, out)
    return out


def advance(spec: Spec, st: State, log: EventLog, decide: Decide = rules.decide,
            release: tuple[int, ...] = ()) -> TurnRecord:
    """One whole turn: injects, decisions (``decide``), resolution."""
    begin(spec, st, log, release)
    return finish(spec, st, log, decide(spec, st, reasons=log.enabled))


def run_batch(spec: Spec, st: State, log: EventLog, seed: int, decide: Decide = rules.decide,
              max_turn: int | None = None) -> list[dict]:
    """Play every run in ``st`` to its end (or to ``max_turn``); return the runs-table columns of the
    runs, in the order they finished (one summary for the whole batch: building a pandas table costs
    the same for one run as for thousands, so it is not done per turn)."""
    done: list[State] = []
    if max_turn is not None and st.turn >= max_turn:
        return [summarise(spec, st, seed)] if len(st.keys) else []
    while len(st.keys):
        interrupt.checkpoint()  # a Ctrl-C held while compiled code ran (``sim.engine.interrupt``)
        advance(spec, st, log, decide)
        fin = st.end > 0
        if max_turn is not None and st.turn >= max_turn:
            fin[:] = True
        if fin.any():
            done.append(st.take(np.flatnonzero(fin)))
            st = st.take(np.flatnonzero(~fin))
    return [summarise(spec, State.concat(done), seed)] if done else []
