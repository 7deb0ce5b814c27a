"""The workshop's one door into the engine.

A workshop is run ``run_index`` of ``seed`` played one move at a time through the same turn loop
as every batch (:mod:`sim.engine.loop`): a move starts with ``loop.begin(automatic=False)`` (the
facilitator, not the clock, releases injects), the teams' moves replace ``rules.decide`` and
``loop.finish`` resolves them. Every call the session makes on the rules, the random streams and
the compiled arrays is here, so the rest of ``sim.workshop`` handles names and text only.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib

import numpy as np

from sim.analysis import stats
from sim.engine import interrupt, loop, rng, rules
from sim.engine.outcomes import EventLog
from sim.inputs.compile import Spec, compiled
from sim.inputs.condition import Condition
from sim.inputs.spec import CInject
from sim.names import END_REASONS, OUTCOMES, Stream
from sim.workshop.records import Adjudication, MoveRecord, Submission

FORECAST_SALT = 1_000_003  # spreads the forecast's key stream from the run keys of the session's seed


def new_world(condition: Condition, seed: int, run_index: int) -> tuple[Spec, rules.State, EventLog]:
    """Run ``run_index`` of ``seed`` under ``condition``: the very run a batch or the Mesa model plays."""
    spec = compiled(condition)
    st = rules.State.initial(spec, rng.run_keys(seed, [run_index]), np.array([run_index]))
    return spec, st, EventLog(spec)


def start_move(spec: Spec, st: rules.State, log: EventLog) -> None:
    """Advance the clock one turn; nothing fires by itself (the facilitator releases)."""
    loop.begin(spec, st, log, automatic=False)


def release(spec: Spec, st: rules.State, log: EventLog, index: int, inj: CInject | None = None,
            drawn: bool = True) -> bool:
    """Fire inject ``index`` (or ``inj``, an edited or new one; ``index`` -1 if new); did it happen?

    Its ``probability`` is drawn as a batch run draws it when it falls due. ``drawn=False``
    releases it for certain: that is how logs written before the draw replay unchanged.
    """
    if not drawn:
        inj = dataclasses.replace(inj or spec.injects[index], probability=1.0)
    happened = bool(rules.release(spec, st, index, inj)[0])
    if happened and index >= 0:
        log.record_injects([(st.run.copy(), index)], st.turn)
    return happened


def decline(spec: Spec, st: rules.State, index: int) -> None:
    """Skip inject ``index`` for good, as the engine declines one whose chance failed: a release
    that cannot happen (probability 0), so the rules, not the workshop, mark it."""
    rules.release(spec, st, index, dataclasses.replace(spec.injects[index], probability=0.0))


def due(spec: Spec, st: rules.State) -> list[str]:
    """Ids of the scripted injects due now (contingency ones are never due by themselves)."""
    return [inj.source.id for inj in spec.injects if inj.kind != "contingency" and rules.due(spec, st, inj)[0]]


def already_fired(st: rules.State, index: int) -> bool:
    """Whether scripted inject ``index`` has happened (a new inject, -1, never has)."""
    return bool(index >= 0 and st.fired[0, index])


def options(spec: Spec, st: rules.State, a: int) -> dict[str, list[str]]:
    """Actions actor ``a`` may take now, each with the targets it may address."""
    allowed = rules.admissible(spec, st, a)[0]
    advs = [spec.actor_ids[b] for b in np.flatnonzero(spec.dyads.adversary[a])]
    allies = [spec.actor_ids[b] for b in np.flatnonzero(spec.dyads.commitment[a] > 0)]
    out = {}
    for j in np.flatnonzero(allowed):
        act = spec.catalogue.actions[spec.options.action[a, j]]
        out[act.id] = advs if act.target == "adversary" else allies if act.target == "ally" else []
    return out


def advice(spec: Spec, st: rules.State, a: int, top: int = 3) -> dict:
    """What the model would do as actor ``a`` now: its ``top`` options by probability, each with the
    two terms that push toward it most and the one that holds it back most (relative to holding),
    and the seeded draw an AI seat plays. A move the scenario scripts for this turn is the only option."""
    rows = np.array([a])
    acts = spec.catalogue.actions
    scored = rules.score(spec, st, rows)
    p = scored.probabilities[0, 0]
    scripted = bool(st.forced[0, a] >= 0)
    order = [int(st.forced[0, a])] if scripted else [int(j) for j in np.argsort(-p, kind="stable")[:top] if p[j] > 0]
    options = []
    for j in order:
        forced = st.forced.copy()
        forced[0, a] = j
        dec = rules.decide(spec, dataclasses.replace(st, forced=forced), rows)  # the reasons for option j
        act = acts[spec.options.action[a, j]]
        tgt = int(dec.target[0, 0])
        terms = [(rules.REASON_NAMES[int(r)], float(w)) for r, w in zip(dec.reasons[0, 0], dec.contrib[0, 0],
                                                                           strict=True)]
        options.append({"action": act.id, "label": act.label, "rung": act.rung,
                        "target": spec.actor_ids[tgt] if tgt >= 0 else None,
                        "probability": 1.0 if scripted else float(p[j]), "drivers": terms[:2],
                        "restraint": terms[2]})
    dec = rules.decide(spec, st, rows)
    k = spec.options.action[a, int(dec.opt[0, 0])]
    tgt = int(dec.target[0, 0])
    draw = {"action": acts[k].id, "label": acts[k].label, "target": spec.actor_ids[tgt] if tgt >= 0 else None,
            "probability": float(dec.prob[0, 0]),
            "drivers": [(rules.REASON_NAMES[int(r)], float(w)) for r, w in zip(dec.reasons[0, 0][:2],
                                                                                dec.contrib[0, 0][:2], strict=True)]}
    return {"actor": spec.actor_ids[a], "options": options, "draw": draw, "scripted": scripted}


def matrix_roll(st: rules.State, move: int, lane: int) -> float:
    """A visible, reproducible die roll for matrix adjudication (its own random stream)."""
    return float(rng.draw(st.keys, move, Stream.ADJUDICATE, np.array([lane]))[0, 0])


def decision(spec: Spec, subs: dict[str, Submission], adj: dict[str, Adjudication]) -> rules.Decision:
    """The teams' moves as the engine's Decision; a move that failed adjudication is played as hold."""
    A = spec.n_actors
    opt = np.zeros((1, A), int)
    tgt = -np.ones((1, A), int)
    hold = spec.catalogue.action_index("hold")
    for i, a in enumerate(spec.actor_ids):
        sub = subs[a]
        ok = adj.get(a) is None or adj[a].success
        k = spec.catalogue.action_index(sub.action) if ok else hold
        opt[0, i] = int(np.flatnonzero(spec.options.action[i] == k)[0])
        if ok and sub.target:
            tgt[0, i] = spec.actor_index(sub.target)
    z = np.zeros((1, A, 3), int)
    none = -np.ones((1, A), int)
    return rules.Decision(opt=opt, target=tgt, prob=np.ones((1, A)), reasons=z, contrib=z.astype(float),
                          forced=np.zeros((1, A), bool), cause_actor=none, cause_action=none, cause_turn=none)


def resolve(spec: Spec, st: rules.State, log: EventLog, move: int, subs: dict[str, Submission],
            adj: dict[str, Adjudication], injects: list[str]) -> MoveRecord:
    """Resolve every team's move at once (``loop.finish``) and say what happened, in names."""
    tried, answered = st.tried[0].copy(), st.answered[0].copy()
    out = loop.finish(spec, st, log, decision(spec, subs, adj))
    _rest_of_move(spec, st, log)
    rung = [r.id for r in spec.catalogue.rungs]
    names = spec.actor_ids
    rec = MoveRecord(
        move=move, submissions=dict(subs), adjudications=dict(adj),
        realised={a: rung[int(out.realised[0, i])] for i, a in enumerate(names)},
        perceived_by={o: {a: rung[int(st.perc[0, j, i])] for i, a in enumerate(names) if i != j}
                      for j, o in enumerate(names)},
        answered={a: ("" if out.answered[0, i] < 0 else "yes" if out.answered[0, i] else "no")
                  for i, a in enumerate(names)},
        incidents=[a for i, a in enumerate(names) if out.incident[0, i]],
        injects=injects, crisis_rung=rung[int(st.crisis[0])])
    rec.intended = {a: rung[int(out.intended[0, i])] for i, a in enumerate(names)}
    used = np.flatnonzero(st.tried[0] > tried)
    for i, a in enumerate(names):
        if out.answered[0, i] < 0:
            continue
        mine = [c for c in used if a in spec.catalogue.channel(spec.channel_ids[c]).parties] or list(used)
        rec.calls[a] = [{"channel": spec.catalogue.channel(spec.channel_ids[c]).label,
                         "answered": bool(st.answered[0, c] > answered[c])} for c in mine]
    return rec


def _rest_of_move(spec: Spec, st: rules.State, log: EventLog) -> None:
    """A move longer than a day: the teams' moves open it, and the world runs on for the rest of its days
    (encounters, decay, windows) while every seat holds; nothing is released by itself."""
    hold = {a: Submission(a, "hold", None) for a in spec.actor_ids}
    for _ in range(spec.constants.steps_per_turn - 1):
        if st.end[0] > 0:
            return
        loop.begin(spec, st, log, automatic=False)
        loop.finish(spec, st, log, decision(spec, hold, {}))


def preview(spec: Spec, st: rules.State, subs: dict[str, Submission], adj: dict[str, Adjudication]) -> dict:
    """The realised rung per actor if the move were resolved now (on a copy: nothing changes)."""
    out = loop.finish(spec, copy.deepcopy(st), EventLog(spec, enabled=False), decision(spec, subs, adj))
    rung = [r.id for r in spec.catalogue.rungs]
    return {a: rung[int(out.realised[0, i])] for i, a in enumerate(spec.actor_ids)}


def end_reason(st: rules.State) -> str | None:
    """Why the model's rules would end the crisis now, in words (None while it goes on)."""
    return END_REASONS[int(st.end[0])].replace("_", " ") if st.end[0] > 0 else None


def forecast(spec: Spec, st: rules.State, seed: int, run_index: int, salt: int, runs: int,
             turns: int | None = None) -> dict:
    """Outcome spread of ``runs`` AI-played continuations of the live world (``loop.run_batch``).

    The continuations get their own keys (from the session's seed, run and ``salt``), so the room
    sees the same spread when it asks twice at the same point. Play goes on to the turn limit even
    where the model had called the crisis over: the facilitator, not the model, ends a workshop.
    """
    base = rng.run_keys(seed * 7919 + run_index, [Stream.FORECAST * FORECAST_SALT + salt])[0]
    with np.errstate(over="ignore"):
        keys = rng.mix(np.uint64(base) ^ rng.mix(np.arange(runs, dtype=np.uint64) + np.uint64(1)))
    batch = dataclasses.replace(st.take(np.zeros(runs, int)), keys=keys, run=np.arange(runs),
                                end=np.zeros(runs, st.end.dtype), calm=np.zeros(runs, st.calm.dtype))
    limit = spec.steps if turns is None else min(spec.steps, st.turn + turns * spec.constants.steps_per_turn)
    with interrupt.deferred():  # Ctrl-C on the console's main thread: a KeyboardInterrupt, not a SystemError
        done = loop.run_batch(spec, batch, EventLog(spec, enabled=False), seed, max_turn=limit)
    cls = np.concatenate([np.asarray(d["outcome"].codes) for d in done])
    peak = np.concatenate([d["peak_rung_index"] for d in done])
    k = np.bincount(cls, minlength=len(OUTCOMES))
    lo, hi = stats.wilson(k, len(cls))
    rung = [r.id for r in spec.catalogue.rungs]
    return {"runs": len(cls),
            "outcomes": {o: {"share": float(k[i] / len(cls)), "ci": [float(lo[i]), float(hi[i])]}
                         for i, o in enumerate(OUTCOMES)},
            "peak": {rung[r]: float(np.mean(peak == r)) for r in np.unique(peak)}}


def state_hash(st: rules.State) -> str:
    """A digest of the full simulation state: equal hashes mean identical worlds."""
    h = hashlib.sha256()
    for f in dataclasses.fields(st):
        v = getattr(st, f.name)
        if isinstance(v, np.ndarray):
            h.update(f.name.encode())
            h.update(np.ascontiguousarray(v).tobytes())
        elif v is not None:
            h.update(f"{f.name}={v}".encode())
    return h.hexdigest()
