"""Compile a scenario's injects (the MSEL): conditions and effects with every id resolved to an index.

Conditions are declarative trees (nothing in a scenario is executed); an inject that waits on
another in a cycle could never fire and is refused. ``compile_inject`` compiles a facilitator's
edited or new inject against a compiled scenario.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import InputError
from sim.inputs.catalogue import Catalogue
from sim.inputs.schema import Inject
from sim.inputs.spec import CInject, CondNode
from sim.names import ChannelStatus

if TYPE_CHECKING:
    from sim.inputs.spec import Spec


def need(idx: dict[str, int], actor: str, where: str, field: str) -> None:
    if actor not in idx:
        raise InputError(where, field, f"actor {actor} is not in the scenario")


def _compile_cond(c, idx, cat, flags, where, field, inject_ids, per_turn: int = 1) -> CondNode:
    if c.turn_at_least is not None:  # a scenario turn: from the first engine step of that turn
        return CondNode("turn", ((max(c.turn_at_least, 1) - 1) * per_turn + 1,))
    if c.day_at_least is not None:
        return CondNode("day", (c.day_at_least,))
    if c.crisis_rung_at_least is not None:
        return CondNode("crisis_rung", (_rung(cat, c.crisis_rung_at_least, where, field),))
    if c.actor_rung_at_least is not None:
        need(idx, c.actor_rung_at_least.actor, where, field)
        return CondNode("actor_rung", (idx[c.actor_rung_at_least.actor],
                                       _rung(cat, c.actor_rung_at_least.rung, where, field)))
    if c.action_taken is not None:
        need(idx, c.action_taken.actor, where, field)
        try:
            k = cat.action_index(c.action_taken.action)
        except KeyError:
            raise InputError(where, field + ".action_taken.action",
                             f"unknown action {c.action_taken.action!r}") from None
        return CondNode("action", (idx[c.action_taken.actor], k))
    if c.flag is not None:
        if c.flag not in flags:
            flags.append(c.flag)
        return CondNode("flag", (flags.index(c.flag),))
    if c.inject_fired is not None:
        if c.inject_fired not in inject_ids:
            raise InputError(where, field + ".inject_fired", f"unknown inject {c.inject_fired!r}")
        return CondNode("inject", (inject_ids.index(c.inject_fired),))
    if c.not_ is not None:
        inner = _compile_cond(c.not_, idx, cat, flags, where, field + ".not", inject_ids, per_turn)
        return CondNode("not", (), (inner,))
    kind = "all" if c.all is not None else "any"
    kids = c.all if c.all is not None else c.any
    return CondNode(kind, (), tuple(_compile_cond(k, idx, cat, flags, where, f"{field}.{kind}.{i}", inject_ids,
                                                  per_turn) for i, k in enumerate(kids or [])))


def _rung(cat: Catalogue, rung: str, where: str, field: str) -> int:
    try:
        return cat.rung_index(rung)
    except KeyError:
        raise InputError(where, field, f"unknown rung {rung!r}") from None


def compile_one(i, inj: Inject, idx, cat, opt_action, chans, flags, where, inject_ids,
                step: float = 1.0, per_turn: int = 1) -> CInject:
    f = f"injects.{i}"
    e = inj.effects
    for d in (*e.hostility, *e.relation):
        need(idx, d.a, where, f + ".effects"), need(idx, d.b, where, f + ".effects")
    for a in e.stakes:
        need(idx, a, where, f + ".effects.stakes")
    for pr in e.talks:
        need(idx, pr.a, where, f + ".effects.talks"), need(idx, pr.b, where, f + ".effects.talks")
    ch_ids = [c.id for c in chans]
    channels = []
    for cid, st in e.channels.items():
        if cid not in ch_ids:
            raise InputError(where, f"{f}.effects.channels.{cid}", "channel is not active in this scenario")
        channels.append((ch_ids.index(cid), int(ChannelStatus.parse(st))))
    for fl in e.flags:
        if fl not in flags:
            flags.append(fl)
    force = None
    if e.force_action is not None:
        fa = e.force_action
        need(idx, fa.actor, where, f + ".effects.force_action.actor")
        try:
            k = cat.action_index(fa.action)
        except KeyError:
            raise InputError(where, f + ".effects.force_action.action", f"unknown action {fa.action!r}") from None
        hits = np.flatnonzero(opt_action[idx[fa.actor]] == k)
        if hits.size == 0:
            raise InputError(where, f + ".effects.force_action.action",
                             f"{fa.actor} cannot take {fa.action!r} in this scenario (preconditions)")
        tgt = -1
        if fa.target is not None:
            need(idx, fa.target, where, f + ".effects.force_action.target")
            tgt = idx[fa.target]
        force = (idx[fa.actor], int(hits[0]), tgt)
    collision = None
    if e.collision is not None:
        need(idx, e.collision.by, where, f + ".effects.collision.by")
        need(idx, e.collision.against, where, f + ".effects.collision.against")
        if e.collision.by == e.collision.against:
            raise InputError(where, f + ".effects.collision.against",
                             "a side cannot be blamed for colliding with itself")
        collision = (idx[e.collision.by], idx[e.collision.against])
    shifts = []
    for j, sh in enumerate(e.affinity):
        need(idx, sh.actor, where, f"{f}.effects.affinity.{j}.actor")
        try:
            k = cat.action_index(sh.action)
        except KeyError:
            raise InputError(where, f"{f}.effects.affinity.{j}.action", f"unknown action {sh.action!r}") from None
        hits = np.flatnonzero(opt_action[idx[sh.actor]] == k)
        if hits.size == 0:
            raise InputError(where, f"{f}.effects.affinity.{j}.action",
                             f"{sh.actor} cannot take {sh.action!r} in this scenario (preconditions)")
        shifts.append((idx[sh.actor], int(hits[0]), sh.delta))
    cond = _compile_cond(inj.when, idx, cat, flags, where, f + ".when", inject_ids, per_turn) \
        if inj.when is not None else None
    return CInject(
        index=i, source=inj, kind=inj.kind, turn=_due_step(inj, step, per_turn), cond=cond, probability=inj.probability,
        hostility=tuple((idx[d.a], idx[d.b], d.value) for d in e.hostility),
        relation=tuple((idx[d.a], idx[d.b], d.value) for d in e.relation),
        stakes=tuple((idx[a], v) for a, v in e.stakes.items()),
        channels=tuple(channels), stress=e.stress,
        flags=tuple(flags.index(x) for x in e.flags), affinity=tuple(shifts), force=force,
        talks=tuple((idx[pr.a], idx[pr.b]) for pr in e.talks), collision=collision,
    )


def _due_step(inj: Inject, step: float, per_turn: int) -> int | None:
    """The engine step a scheduled inject falls due: the one containing its day, or the first of its turn."""
    if inj.day is not None:
        return max(1, math.ceil(inj.day / step - 1e-9))
    return None if inj.turn is None else (max(inj.turn, 1) - 1) * per_turn + 1


def check_cycles(injects: tuple[CInject, ...], where: str) -> None:
    """Injects that wait on each other (inject_fired) in a cycle could never fire."""
    def deps(node: CondNode | None) -> set[int]:
        if node is None:
            return set()
        own = {node.args[0]} if node.kind == "inject" else set()
        return own.union(*(deps(c) for c in node.children)) if node.children else own
    graph = {inj.index: deps(inj.cond) for inj in injects}
    state: dict[int, int] = {}

    def visit(i: int, trail: list[int]) -> None:
        state[i] = 1
        for j in graph[i]:
            if state.get(j) == 1:
                cyc = " -> ".join(injects[k].source.id for k in [*trail[trail.index(j):], i, j]) \
                    if j in trail else f"{injects[i].source.id} -> {injects[j].source.id}"
                raise InputError(where, f"injects.{i}.when", f"injects wait on each other in a cycle: {cyc}")
            if state.get(j) is None:
                visit(j, [*trail, i])
        state[i] = 2
    for i in graph:
        if state.get(i) is None:
            visit(i, [])


def compile_inject(spec: Spec, inject: Inject, index: int = -1) -> CInject:
    """Compile one inject against a compiled scenario (a facilitator's edit or new inject).

    Conditions may not refer to new flags here: a live inject applies at once.
    """
    idx = {a: i for i, a in enumerate(spec.actor_ids)}
    chans = [spec.catalogue.channel(c) for c in spec.channel_ids]
    flags = list(spec.flags)
    inj = compile_one(index, inject, idx, spec.catalogue, spec.options.action, chans, flags, "inject",
                      [i.source.id for i in spec.injects], spec.dt, spec.constants.steps_per_turn)
    if len(flags) != len(spec.flags):
        raise InputError("inject", "effects.flags", f"unknown flag(s): {', '.join(flags[len(spec.flags):])}")
    return inj
