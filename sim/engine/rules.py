"""The rules of the crisis, written once over arrays with a leading run axis: the engine's index.

A turn is :func:`begin_turn` (injects, scripted moves; ``sim.engine.injects``) ->
:func:`decide` (each actor scores its admissible options and draws one; ``sim.engine.decisions``)
-> :func:`resolve` (accidents, encounters, channels, perception, hostility, relations,
termination; ``sim.engine.resolution``). ``sim.engine.loop`` strings them together for the
ensemble, the Mesa adapter and the workshop. Randomness comes from ``sim.engine.rng`` keyed by
(run, turn, stream, lane), and every formula is elementwise, so a run's trajectory does not
depend on which other runs share its batch.
"""

from __future__ import annotations

from sim.engine.channels import answer_prob
from sim.engine.decisions import (
    REASON_NAMES,
    Scored,
    admissible,
    decide,
    firebreak_penalty,
    mask,
    merge,
    score,
    state_terms,
    targets,
    term_values,
    utility,
)
from sim.engine.injects import apply_inject, begin_turn, decline, due, release
from sim.engine.resolution import resolve
from sim.engine.state import Decision, State, TurnRecord

__all__ = [
    "REASON_NAMES", "Decision", "Scored", "State", "TurnRecord", "admissible", "answer_prob", "apply_inject",
    "begin_turn", "decide", "decline", "due", "firebreak_penalty", "mask",
    "merge", "release", "resolve", "score", "state_terms", "targets", "term_values", "utility",
]
