"""Injects: scheduled, conditional and contingency events that change the world or script a move.

A scheduled inject falls due at its turn, a conditional one when its condition holds, a
contingency one only when a facilitator releases it. Its ``probability`` is drawn once, when it
first falls due (or is released), from the INJECT stream: a run in which it does not happen has
it declined for good.
"""

from __future__ import annotations

import numpy as np

from sim.engine import resolution, resolve_kernel, rng
from sim.engine.state import State
from sim.inputs.spec import CondNode, Spec
from sim.names import Stream, Threshold


def _eval(node: CondNode, st: State, spec: Spec) -> np.ndarray:
    R = len(st.keys)
    if node.kind == "turn":
        return np.full(R, st.turn >= node.args[0])
    if node.kind == "day":
        return np.full(R, st.day(spec) >= node.args[0])
    if node.kind == "crisis_rung":
        return st.crisis >= node.args[0]
    if node.kind == "actor_rung":
        return st.level[:, node.args[0]] >= node.args[1]
    if node.kind == "action":
        return st.taken[:, node.args[0], node.args[1]].copy()
    if node.kind == "flag":
        return st.flags[:, node.args[0]].copy()
    if node.kind == "inject":
        return st.fired[:, node.args[0]].copy()
    parts = [_eval(c, st, spec) for c in node.children]
    if node.kind == "not":
        return ~parts[0]
    if node.kind == "all":
        return np.logical_and.reduce(parts) if parts else np.ones(R, bool)
    return np.logical_or.reduce(parts) if parts else np.zeros(R, bool)


def due(spec: Spec, st: State, inj, release: tuple[int, ...] = ()) -> np.ndarray:
    """Which runs this inject falls due in at the current turn (not yet fired or declined).

    Scheduled injects are due at their turn, conditional ones when their condition holds,
    contingency ones only when a facilitator releases them.
    """
    i = inj.index
    if inj.kind == "scheduled":
        d = np.full(len(st.keys), max(inj.turn, 1) == st.turn)
    elif inj.kind == "conditional":
        d = _eval(inj.cond, st, spec)
    else:
        d = np.full(len(st.keys), i in release)
        if inj.cond is not None:
            d &= _eval(inj.cond, st, spec)
    return d & ~st.fired[:, i] & ~st.declined[:, i]


def begin_turn(spec: Spec, st: State, release: tuple[int, ...] = (),
               automatic: bool = True) -> list[tuple[np.ndarray, int]]:
    """Advance the clock and fire due injects; return (runs, inject index) pairs fired.

    Contingency injects fire only when listed in ``release`` (a facilitator's call); with
    ``automatic=False`` nothing fires by itself (a workshop, where the facilitator releases).
    """
    st.turn += 1
    fired = []
    if not spec.injects or not automatic:
        return fired
    u = rng.draw(st.keys, st.turn, Stream.INJECT, len(spec.injects))
    for inj in spec.injects:
        i = inj.index
        d = due(spec, st, inj, release)
        mask = d & (u[:, i] < inj.probability)
        st.declined[:, i] |= d & ~mask  # the chance is drawn once, when the inject first falls due
        if not mask.any():
            continue
        apply_inject(spec, st, inj.index, mask)
        fired.append((st.run[mask], i))
    return fired


def release(spec: Spec, st: State, index: int, inj=None) -> np.ndarray:
    """Fire inject ``index`` now, by a facilitator's call; return the runs where it happened.

    The inject's ``probability`` is drawn exactly as when it falls due in a batch run (stream
    INJECT, lane ``index``, this turn): a release that fails is declined, as in the batch.
    ``inj`` is an edited or new inject (``compile.compile_inject``; ``index`` -1 for a new one).
    """
    chosen = inj if inj is not None else spec.injects[index]
    lane = max(index, 0)
    u = rng.draw(st.keys, st.turn, Stream.INJECT, np.array([lane]))[:, 0]
    happened = u < chosen.probability
    if index >= 0:
        st.declined[:, index] |= ~happened
    if happened.any():
        apply_inject(spec, st, index, happened, inj=inj)
    return happened


def apply_inject(spec: Spec, st: State, index: int, mask: np.ndarray, inj=None) -> None:
    """Apply one inject's effects to the runs in ``mask``.

    ``inj`` lets a facilitator apply an edited or newly written inject (compiled with
    ``compile.compile_inject``); ``index`` is then -1 for a new one.
    """
    inj = inj if inj is not None else spec.injects[index]
    if index >= 0:
        st.fired[mask, index] = True
    m = mask.astype(float)
    for a, b, v in inj.hostility:
        st.H[:, a, b] = np.clip(st.H[:, a, b] + v * m, 0.0, 1.0)
    for a, b, v in inj.relation:
        st.rel[:, a, b] = st.rel[:, b, a] = np.clip(st.rel[:, a, b] + v * m, -1.0, 1.0)
    for a, v in inj.stakes:
        st.stakes_shift[:, a] += v * m
    for c, s in inj.channels:
        st.ch_status[mask, c] = s
    if inj.stress is not None:
        st.stress[mask] = inj.stress
    for f in inj.flags:
        st.flags[mask, f] = True
    for a, b in inj.talks:
        st.talks[mask, a, b] = spec.constants.talk_days
        st.talks[mask, b, a] = spec.constants.talk_days
    for a, opt, delta in inj.affinity:
        if st.aff_shift is None:  # a facilitator's new inject may shift preferences mid-game
            st.aff_shift = np.zeros((len(st.keys), *spec.options.action.shape))
        st.aff_shift[:, a, opt] += delta * m
    if inj.collision is not None:
        resp, victim = inj.collision
        day32, until = resolution.when(spec, st)
        resolve_kernel.scripted_collision(
            np.flatnonzero(mask), victim, resp, spec.catalogue.threshold(Threshold.FORCE), st.turn, day32, until,
            resolution.collision_trigger(spec), spec.behaviour.red_lines, st.H, st.incidents, resolution.blows(st),
            resolution.lines(spec))
    if inj.force is not None:
        a, opt, tgt = inj.force
        st.forced[mask, a] = opt
        st.forced_tgt[mask, a] = tgt


def decline(st: State, index: int) -> None:
    """The inject will not happen in these runs (a facilitator skipped it)."""
    st.declined[:, index] = True
