"""The rules of the crisis, written once over arrays with a leading run axis.

The Mesa model (``sim.engine.mesa_adapter``) holds a batch of one run and lets each agent call
:func:`decide` for its own row; the ensemble path (``sim.engine.ensemble``) calls the same
functions for thousands of runs at once. Randomness comes from ``sim.engine.rng`` keyed by
(run, turn, stream, lane), and every formula is elementwise, so a run's trajectory
does not depend on which other runs share its batch.

A turn is: :func:`begin_turn` (injects, scripted moves) -> :func:`decide` (each
actor scores its admissible options and draws one) -> :func:`resolve` (accidents,
encounters, channels, perception, hostility, relations, termination).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.engine import rng
from sim.inputs.compile import TERMS, CondNode, Spec
from sim.names import (
    TERM_NAMES,
    ChannelEffect,
    ChannelStatus,
    EndReason,
    IcbViolence,
    MidLevel,
    Stream,
    TargetKind,
    Threshold,
)

REASON_NAMES = TERM_NAMES
TALK_WINDOW = 3
OFFER_WINDOW = 2
CALM_TURNS = 4
MISREAD_UP = 0.6  # share of misreadings that see a move as more escalatory than it was
REFUSAL_SIGNAL = 0.05
INCIDENT_SHOCK = 0.3
DELIBERATE_READ = 0.2


@dataclass
class State:
    """Mutable world state for a batch of runs (leading axis = run)."""

    keys: np.ndarray
    run: np.ndarray
    turn: int
    level: np.ndarray
    H: np.ndarray
    rel: np.ndarray
    perc: np.ndarray
    committed: np.ndarray
    frustration: np.ndarray
    conceded: np.ndarray
    talks: np.ndarray
    offers: np.ndarray
    ch_status: np.ndarray
    clarity: np.ndarray
    crisis: np.ndarray
    crossed: np.ndarray
    own_crossed: np.ndarray
    peak_mid: np.ndarray
    peak_viol: np.ndarray
    stakes_shift: np.ndarray
    stress: np.ndarray
    flags: np.ndarray
    fired: np.ndarray
    forced: np.ndarray
    forced_tgt: np.ndarray
    attacked: np.ndarray
    calm: np.ndarray
    end: np.ndarray
    end_turn: np.ndarray
    tried: np.ndarray
    answered: np.ndarray
    incidents: np.ndarray
    casualties: np.ndarray
    first_force: np.ndarray
    mediation: np.ndarray
    taken: np.ndarray
    hist: np.ndarray
    mediated: np.ndarray
    declined: np.ndarray
    aff_shift: np.ndarray | None = None

    @classmethod
    def initial(cls, spec: Spec, keys: np.ndarray, runs: np.ndarray) -> State:
        R, A = len(keys), spec.n_actors
        C = max(len(spec.channel_ids), 1)
        N = len(spec.catalogue.actions)
        lvl = np.broadcast_to(spec.level0, (R, A)).copy()
        crisis = np.full(R, int(spec.level0.max()))
        return cls(
            keys=np.asarray(keys, np.uint64), run=np.asarray(runs, np.int64), turn=0,
            level=lvl,
            H=np.broadcast_to(spec.H0, (R, A, A)).copy(),
            rel=np.broadcast_to(spec.rel0, (R, A, A)).copy(),
            perc=np.broadcast_to(spec.level0[None, :], (R, A, A)).copy(),
            committed=np.zeros((R, A), bool),
            frustration=np.zeros((R, A)),
            conceded=np.zeros((R, A), bool),
            talks=np.zeros((R, A, A), np.int8),
            offers=np.zeros((R, A, A), np.int8),
            ch_status=np.broadcast_to(
                spec.ch_status0 if len(spec.channel_ids) else np.zeros(1, int), (R, C)).copy(),
            clarity=np.zeros((R, A, A)),
            crisis=crisis,
            crossed=spec.rung_unit[crisis],
            own_crossed=spec.rung_unit[lvl].copy(),
            peak_mid=np.ones(R, np.int8),
            peak_viol=np.ones(R, np.int8),
            stakes_shift=np.zeros((R, A)),
            stress=np.full(R, spec.scenario.parameters.stress),
            flags=np.zeros((R, max(len(spec.flags), 1)), bool),
            fired=np.zeros((R, max(len(spec.injects), 1)), bool),
            forced=-np.ones((R, A), np.int64),
            forced_tgt=-np.ones((R, A), np.int64),
            attacked=np.zeros((R, A), bool),
            calm=np.zeros(R, np.int16),
            end=np.zeros(R, np.int8),
            end_turn=np.zeros(R, np.int16),
            tried=np.zeros((R, C), np.int16),
            answered=np.zeros((R, C), np.int16),
            incidents=np.zeros(R, np.int16),
            casualties=np.zeros(R, np.int16),
            first_force=-np.ones(R, np.int16),
            mediation=np.zeros(R, bool),
            taken=np.zeros((R, A, N), bool),
            hist=np.zeros((R, spec.turns + 1), np.int8),
            mediated=np.zeros(R, bool),
            declined=np.zeros((R, max(len(spec.injects), 1)), bool),
            aff_shift=np.zeros((R, A, spec.opt_action.shape[1])) if spec.has_affinity_shift else None,
        )

    def take(self, idx: np.ndarray) -> State:
        """The sub-batch of runs at ``idx`` (used to drop finished runs)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v[idx] if isinstance(v, np.ndarray) else v
        return State(**out)


@dataclass
class Decision:
    """What a set of actors chose this turn, and why."""

    opt: np.ndarray  # (R, a) option index into spec.opt_action
    target: np.ndarray  # (R, a) target actor index, -1 for none
    prob: np.ndarray  # (R, a) probability of the chosen option
    reasons: np.ndarray  # (R, a, 3) terms: two strongest drivers, then the strongest restraint
    contrib: np.ndarray  # (R, a, 3) their contributions relative to holding
    forced: np.ndarray  # (R, a) scripted move (inject) rather than a choice


@dataclass
class Outcome:
    """What happened in one resolved turn: the per-actor event record."""

    action: np.ndarray
    target: np.ndarray
    intended: np.ndarray
    realised: np.ndarray
    perceived: np.ndarray
    mid: np.ndarray
    incident: np.ndarray
    answered: np.ndarray


# --------------------------------------------------------------------------- injects


def _eval(node: CondNode, st: State) -> np.ndarray:
    R = len(st.keys)
    if node.kind == "turn":
        return np.full(R, st.turn >= node.args[0])
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
    parts = [_eval(c, st) for c in node.children]
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
        d = _eval(inj.cond, st)
    else:
        d = np.full(len(st.keys), i in release)
        if inj.cond is not None:
            d &= _eval(inj.cond, st)
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


def admissible(spec: Spec, st: State, actor: int) -> np.ndarray:
    """Option indices the actor may take now in each run, as a (runs, options) mask."""
    rows = np.array([actor])
    t_adv, _ = targets(spec, st, rows)
    return mask(spec, st, rows, t_adv)[:, 0]


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
        st.talks[mask, a, b] = TALK_WINDOW
        st.talks[mask, b, a] = TALK_WINDOW
    for a, opt, delta in inj.affinity:
        if st.aff_shift is None:  # a facilitator's new inject may shift preferences mid-game
            st.aff_shift = np.zeros((len(st.keys), *spec.opt_action.shape))
        st.aff_shift[:, a, opt] += delta * m
    if inj.force is not None:
        a, opt, tgt = inj.force
        st.forced[mask, a] = opt
        st.forced_tgt[mask, a] = tgt


# --------------------------------------------------------------------------- decisions


def targets(spec: Spec, st: State, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adversary and ally each actor would address: the most threatening adversary,
    and the ally it is committed to that is most under threat."""
    adv = spec.adv[rows]
    t_adv = np.argmax(np.where(adv[None], st.H[:, rows, :], -np.inf), axis=2)
    threat_to = st.H.max(axis=2) + st.attacked
    com = spec.commit[rows]
    t_ally = np.argmax(np.where(com[None] > 0, com[None] * threat_to[:, None, :], -np.inf), axis=2)
    return t_adv, t_ally


def _answer_prob(spec: Spec, st: State, c: np.ndarray, a, b) -> np.ndarray:
    """P(a call on channel c from a is answered by b): politics, not technology.

    ``c`` has a leading run axis; ``a`` and ``b`` broadcast against it. Zero unless open.
    """
    if not len(spec.channel_ids):
        return np.zeros(c.shape)
    R = np.arange(len(st.keys)).reshape((-1,) + (1,) * (c.ndim - 1))
    cc = np.maximum(c, 0)
    z = (spec.ch_logit[cc] + spec.ch_clim[cc] * st.rel[R, a, b] - spec.ch_prov[cc] * st.H[R, b, a])
    p = 1.0 / (1.0 + np.exp(-z))
    return np.where((c >= 0) & (st.ch_status[R, cc] == ChannelStatus.OPEN), p, 0.0)


def best_open(spec: Spec, st: State, table: np.ndarray, a, b) -> tuple[np.ndarray, np.ndarray]:
    """Among the channels (or forums) between a and b, the open one most likely to be
    answered, and that probability; channel -1 (probability 0) when none is open."""
    c = table[a, b]
    p = _answer_prob(spec, st, c, np.asarray(a)[..., None], np.asarray(b)[..., None])
    j = np.argmax(p, axis=-1)
    best = np.take_along_axis(p, j[..., None], -1)[..., 0]
    chosen = np.take_along_axis(c, j[..., None], -1)[..., 0]
    return np.where(best > 0, chosen, -1), best


def first_with_status(spec: Spec, st: State, table: np.ndarray, a, b, status: int) -> np.ndarray:
    """The first channel between a and b with this status (-1 if none)."""
    c = table[a, b]
    R = np.arange(len(st.keys)).reshape((-1,) + (1,) * (c.ndim - 1))
    s = np.where(c >= 0, st.ch_status[R, np.maximum(c, 0)], -9) == status
    j = np.argmax(s, axis=-1)
    return np.where(s.any(axis=-1), np.take_along_axis(c, j[..., None], -1)[..., 0], -1)


def state_terms(spec: Spec, st: State, rows: np.ndarray, t_adv: np.ndarray, t_ally: np.ndarray) -> dict:
    """The state side of each decision term, one value per (run, actor)."""
    R = np.arange(len(st.keys))[:, None]
    A = rows[None, :]
    esc = spec.rung_esc
    lvl = esc[st.level]
    threat = st.H[R, A, t_adv]
    patron = spec.commit[:, rows].max(axis=0)
    threat = threat * (1.0 + spec.aband_fear[rows] * (1.0 - patron) * (patron > 0))[None, :]
    adv_max = np.where(spec.adv[None], lvl[:, None, :], -1.0).max(axis=2)
    excess = np.clip(lvl - adv_max, 0.0, None)
    com = spec.commit[rows]
    entrap = np.where(com[None] > 0, excess[:, None, :], 0.0).max(axis=2) * spec.entrap_fear[rows][None]
    threat_to = st.H.max(axis=2) + st.attacked
    ally = np.where(com[None] > 0, com[None] * threat_to[:, None, :], 0.0).max(axis=2)
    aud = (spec.pressure[rows][None] + spec.election[rows][None] * spec.election_sens[rows][None]
           + st.stress[:, None] * spec.stress_sens[rows][None])
    _, p_bil = best_open(spec, st, spec.chan_list, np.broadcast_to(A, t_adv.shape), t_adv)
    _, p_fo = best_open(spec, st, spec.forum_list, np.broadcast_to(A, t_adv.shape), t_adv)
    ch = np.maximum(p_bil, p_fo)
    return {
        "threat": threat,
        "stakes": spec.stakes[rows][None] + st.stakes_shift[:, rows],
        "recip": esc[st.perc[R, A, t_adv]],
        "level": lvl[:, rows],
        "ally": ally,
        "entrap": entrap,
        "aud": aud,
        "committed": st.committed[:, rows].astype(float),
        "interdep": spec.interdep[rows[None, :], t_adv],
        "chan": ch,
        "climate": st.rel[R, A, t_adv],
        "griev": st.frustration[:, rows],
    }


def term_values(s: dict, f: dict):
    """Yield (term, value) for every decision term: the one definition of the utility.

    ``s`` holds state scalars and ``f`` option features; they broadcast against each
    other, so the same code scores all options or re-scores the chosen one.
    """
    esc = f["esc"]
    jump = np.maximum(esc - s["level"], 0.0)
    yield "threat", s["threat"] * esc
    yield "stakes", s["stakes"] * s["threat"] * esc
    yield "reciprocity", (2.0 * s["recip"] - esc) * esc
    yield "inertia", -jump * jump
    yield "cost", -f["cost"]
    yield "firebreak", -f["fb"]
    yield "alliance", s["ally"] * f["support"]
    yield "entrapment", -s["entrap"] * esc
    yield "audience", s["aud"] * esc - s["committed"] * f["deesc"]
    yield "interdependence", -s["interdep"] * f["econ"]
    yield "channel", s["chan"] * f["chan"]
    yield "climate", -s["climate"] * esc
    yield "grievance", s["griev"] * esc


def firebreak_penalty(spec: Spec, st: State, rows: np.ndarray) -> np.ndarray:
    """Salience of the firebreaks each option would cross, (R, a, K).

    A threshold nobody has crossed in this crisis counts in full; one that only others
    have crossed counts half (it has lost some salience, but the actor has not yet made
    the choice itself); one the actor has crossed no longer restrains it.
    """
    a = np.arange(len(rows))[None, :]
    table = spec.opt_firebreak[:, rows]  # (units, a, K)
    return 0.5 * table[st.own_crossed[:, rows], a] + 0.5 * table[st.crossed[:, None], a]


def _features(spec: Spec, st: State, rows: np.ndarray, pick: np.ndarray | None = None) -> dict:
    """Option features for ``rows``; all options (R, a, K) or the picked one (R, a)."""
    a = np.arange(len(rows))[None, :]

    def g(name):
        arr = getattr(spec, name)[rows]
        return arr[None].astype(float) if pick is None else arr[a, pick].astype(float)
    fb = firebreak_penalty(spec, st, rows)
    fb = fb if pick is None else fb[np.arange(len(st.keys))[:, None], a, pick]
    aff = g("opt_affinity")
    if st.aff_shift is not None:
        shift = st.aff_shift[:, rows]
        aff = aff + (shift if pick is None else shift[np.arange(len(st.keys))[:, None], a, pick])
    return {"esc": g("opt_esc"), "cost": g("opt_cost"), "fb": fb, "support": g("opt_support"),
            "deesc": g("opt_deesc"), "econ": g("opt_econ"), "chan": g("opt_chan"), "affinity": aff}


def mask(spec: Spec, st: State, rows: np.ndarray, t_adv: np.ndarray) -> np.ndarray:
    """Dynamic preconditions (channel status, talks, crisis stage) as a (R, a, K) mask."""
    R = np.arange(len(st.keys))[:, None]
    A = rows[None, :]
    valid = np.broadcast_to(spec.opt_valid[rows][None], (len(st.keys), len(rows), spec.opt_valid.shape[1]))
    AA = np.broadcast_to(A, t_adv.shape)
    any_open = first_with_status(spec, st, spec.chan_list, AA, t_adv, ChannelStatus.OPEN) >= 0
    any_susp = first_with_status(spec, st, spec.chan_list, AA, t_adv, ChannelStatus.SUSPENDED) >= 0
    req = spec.opt_req_channel[rows][None]
    ok = ((req < 0) | ((req == ChannelStatus.OPEN) & any_open[..., None])
          | ((req == ChannelStatus.SUSPENDED) & any_susp[..., None]))
    fo_open = first_with_status(spec, st, spec.forum_list, AA, t_adv, ChannelStatus.OPEN) >= 0
    ok &= ~spec.opt_multi[rows][None] | fo_open[..., None]
    talks = (st.talks[R, A, t_adv] > 0) | (st.talks[R, t_adv, A] > 0)
    ok &= ~spec.opt_req_talks[rows][None] | talks[..., None]
    ok &= spec.opt_req_crisis[rows][None] <= st.crisis[:, None, None]
    ok &= spec.opt_req_own[rows][None] <= st.level[:, rows][..., None]
    return valid & ok


@dataclass
class Scored:
    """All options scored for a set of actors: the inputs to the draw and to the reasons."""

    rows: np.ndarray
    weights: np.ndarray  # (R, a, K) unnormalised choice weights exp((U - max U) / tau), 0 if inadmissible
    t_adv: np.ndarray
    t_ally: np.ndarray
    state: dict

    @property
    def probabilities(self) -> np.ndarray:
        return self.weights / self.weights.sum(axis=2, keepdims=True)


def utility(spec: Spec, st: State, rows: np.ndarray, s: dict) -> np.ndarray:
    """Utility of every option, (R, a, K): the terms of ``term_values`` regrouped.

    Terms linear in the option's escalation share one state coefficient, and the parts
    that depend only on the option are summed once per actor, which makes this several
    times faster than summing the terms one by one. ``tests/test_decisions.py`` checks
    that it equals the weighted sum of ``term_values`` plus affinity.
    """
    W = {t: spec.W[rows, j][None, :] for j, t in enumerate(TERMS)}
    esc = spec.opt_esc[rows][None]
    lin = (W["threat"] * s["threat"] + W["stakes"] * s["stakes"] * s["threat"]
           + 2.0 * W["reciprocity"] * s["recip"] - W["entrapment"] * s["entrap"] + W["audience"] * s["aud"]
           - W["climate"] * s["climate"] + W["grievance"] * s["griev"])
    static = (spec.opt_affinity[rows] - spec.tau[rows][:, None] * spec.opt_crowd[rows]
              - W["reciprocity"][0][:, None] * spec.opt_esc[rows] ** 2 - W["cost"][0][:, None] * spec.opt_cost[rows])
    jump = np.maximum(esc - s["level"][..., None], 0.0)
    fb = firebreak_penalty(spec, st, rows)
    static = static[None] if st.aff_shift is None else static[None] + st.aff_shift[:, rows]
    return (static + lin[..., None] * esc
            - W["inertia"][..., None] * (jump * jump) - W["firebreak"][..., None] * fb
            + (W["alliance"] * s["ally"])[..., None] * spec.opt_support[rows][None]
            - (W["audience"] * s["committed"])[..., None] * spec.opt_deesc[rows][None]
            - (W["interdependence"] * s["interdep"])[..., None] * spec.opt_econ[rows][None]
            + (W["channel"] * s["chan"])[..., None] * spec.opt_chan[rows][None])


def score(spec: Spec, st: State, rows: np.ndarray | None = None) -> Scored:
    """Score every admissible option for the actors in ``rows``.

    Utility = sum of posture-weighted terms (``term_values``) + affinity; choice is a
    logit (quantal response) at the actor's temperature. Options that share a rung
    split that rung's prior mass, so adding synonyms to the catalogue does not shift
    escalation odds.
    """
    rows = np.arange(spec.n_actors) if rows is None else np.asarray(rows)
    t_adv, t_ally = targets(spec, st, rows)
    s = state_terms(spec, st, rows, t_adv, t_ally)
    util = utility(spec, st, rows, s)
    tau = spec.tau[rows][None, :, None]
    ok = mask(spec, st, rows, t_adv)
    v = np.where(ok, util / tau, -np.inf)
    v = v - v.max(axis=2, keepdims=True)
    return Scored(rows=rows, weights=np.ascontiguousarray(np.exp(v)), t_adv=t_adv, t_ally=t_ally, state=s)


def decide(spec: Spec, st: State, rows: np.ndarray | None = None) -> Decision:
    """Each actor in ``rows`` draws one scored option; scripted moves replace the draw."""
    sc = score(spec, st, rows)
    rows, e, t_adv, t_ally, s = sc.rows, sc.weights, sc.t_adv, sc.t_ally, sc.state
    W = spec.W[rows]
    cum = np.cumsum(e, axis=2)
    u = rng.draw(st.keys, st.turn, Stream.CHOICE, rows) * cum[..., -1]
    opt = np.argmax(cum > u[..., None], axis=2)
    forced = st.forced[:, rows] >= 0
    opt = np.where(forced, st.forced[:, rows], opt)
    prob = np.take_along_axis(e, opt[..., None], 2)[..., 0] / cum[..., -1]
    prob = np.where(forced, 1.0, prob)
    # why: each term's contribution to the chosen option relative to holding
    hold = np.broadcast_to(spec.hold_opt[rows][None], opt.shape)
    fc, fh = _features(spec, st, rows, opt), _features(spec, st, rows, hold)
    diffs = [W[None, :, j] * (vc - vh) for j, ((_, vc), (_, vh))
             in enumerate(zip(term_values(s, fc), term_values(s, fh), strict=True))]
    diffs.append(fc["affinity"] - fh["affinity"])
    D = np.stack(diffs, axis=2)
    order = np.argsort(-D, axis=2, kind="stable")
    order = np.concatenate([order[..., :2], order[..., -1:]], axis=2)
    kind = spec.opt_target_kind[rows[None, :], opt]
    tgt = np.where(kind == TargetKind.ADVERSARY, t_adv, np.where(kind == TargetKind.ALLY, t_ally, -1))
    ft = st.forced_tgt[:, rows]
    tgt = np.where(forced & (ft >= 0), ft, tgt)
    return Decision(opt=opt, target=tgt, prob=prob, reasons=order,
                    contrib=np.take_along_axis(D, order, 2), forced=forced)


def merge(decisions: list[Decision]) -> Decision:
    """Join per-actor decisions (Mesa agents decide one at a time) along the actor axis."""
    return Decision(*(np.concatenate([getattr(d, f.name) for d in decisions], axis=1)
                      for f in fields(Decision)))


# --------------------------------------------------------------------------- resolution


def resolve(spec: Spec, st: State, dec: Decision) -> Outcome:
    """Apply all actors' moves simultaneously and update the world."""
    t = st.turn
    R, A = len(st.keys), spec.n_actors
    rr = np.arange(R)
    ar = np.arange(A)
    act = spec.opt_action[ar[None, :], dec.opt]
    tgt = dec.target
    has_t = tgt >= 0
    tg = np.maximum(tgt, 0)
    intended = spec.act_rung[act]
    top = len(spec.rung_esc) - 1
    up = rng.draw(st.keys, t, Stream.FRICTION, A) < spec.rung_friction[intended]
    realised = np.minimum(intended + up, top)
    mid = np.where(up, np.maximum(spec.act_mid[act], spec.rung_min_mid[realised]), spec.act_mid[act])
    viol = spec.act_viol[act]
    incident = np.zeros((R, A), bool)
    harass = spec.catalogue.threshold(Threshold.FORCE)

    # encounters: routine contact that can become an accident
    prm = spec.scenario.parameters
    E = len(spec.enc_rate)
    if E:
        u = rng.draw(st.keys, t, Stream.ENCOUNTER, 6 * E).reshape(R, E, 6)
        grey = spec.catalogue.threshold(Threshold.GREY)
        for e in range(E):
            p, q = spec.enc_p[e], spec.enc_q[e]
            dom = spec.enc_domain[e]
            on_p = spec.act_encounter[act[:, p]] == dom
            on_q = spec.act_encounter[act[:, q]] == dom
            activity = on_p.astype(float) + on_q
            occurs = u[:, e, 0] < np.minimum(1.0, spec.enc_rate[e] * (1.0 + activity))
            aggressive = (realised[:, p] >= grey) | (realised[:, q] >= grey)
            unsafe_p = np.minimum(1.0, spec.enc_unsafe[e] * (1.0 - prm.encounter_rules * spec.enc_covered[e])
                                  * (1.0 + 2.0 * aggressive))
            hit = occurs & (u[:, e, 1] < unsafe_p) & (u[:, e, 2] < spec.enc_collision[e])
            if not hit.any():
                continue
            cas = hit & (u[:, e, 3] < spec.enc_casualties[e])
            # the side whose units were pressing in this domain is responsible; else a toss-up
            resp = np.where(on_p & ~on_q, p, np.where(on_q & ~on_p, q, np.where(u[:, e, 5] < 0.5, p, q)))
            victim = np.where(resp == p, q, p)
            st.incidents += hit
            st.casualties += cas
            incident[rr, resp] |= hit
            realised[rr, resp] = np.where(hit, np.maximum(realised[rr, resp], harass), realised[rr, resp])
            mid[rr, resp] = np.where(hit, np.maximum(mid[rr, resp], MidLevel.USE_OF_FORCE), mid[rr, resp])
            viol[rr, resp] = np.where(cas, np.maximum(viol[rr, resp], IcbViolence.MINOR_CLASHES), viol[rr, resp])
            deliberate = u[:, e, 4] < (1.0 - st.clarity[rr, victim, resp])
            shock = hit * (INCIDENT_SHOCK + DELIBERATE_READ * deliberate)
            st.H[rr, victim, resp] = np.minimum(st.H[rr, victim, resp] + shock, 1.0)
            st.H[rr, resp, victim] = np.minimum(st.H[rr, resp, victim] + hit * INCIDENT_SHOCK * 0.5, 1.0)

    # channels: calls, forums, suspensions
    answered = -np.ones((R, A), np.int8)
    clarity = st.clarity * 0.5
    ua = rng.draw(st.keys, t, Stream.ANSWER, A)
    chan_eff = spec.act_chan[act]
    for a in range(A):
        ce = chan_eff[:, a]
        if not (ce > 0).any():
            continue
        b = tg[:, a]
        av = np.full(R, a)
        for kind, table in ((ChannelEffect.USE, spec.chan_list), (ChannelEffect.MULTILATERAL, spec.forum_list)):
            use = (ce == kind) & has_t[:, a]
            if not use.any():
                continue
            c, p = best_open(spec, st, table, av, b)
            ok = use & (c >= 0)
            ans = ok & (ua[:, a] < p)
            cc = np.maximum(c, 0)
            np.add.at(st.tried, (rr[ok], cc[ok]), 1)
            np.add.at(st.answered, (rr[ans], cc[ans]), 1)
            answered[:, a] = np.where(ok, ans, answered[:, a])
            cl = np.where(ans, spec.ch_clarity[cc], 0.0)
            clarity[rr, a, b] = np.maximum(clarity[rr, a, b], cl)
            clarity[rr, b, a] = np.maximum(clarity[rr, b, a], cl)
            st.H[rr, a, b] = np.where(ok & ~ans, np.minimum(st.H[rr, a, b] + REFUSAL_SIGNAL, 1.0), st.H[rr, a, b])
            # an answered call or forum is an off-ramp: it opens a window of talks
            st.talks[rr[ans], a, b[ans]] = TALK_WINDOW
            st.talks[rr[ans], b[ans], a] = TALK_WINDOW
        for kind, before, after in ((ChannelEffect.SUSPEND, ChannelStatus.OPEN, ChannelStatus.SUSPENDED),
                                    (ChannelEffect.RESTORE, ChannelStatus.SUSPENDED, ChannelStatus.OPEN)):
            c = first_with_status(spec, st, spec.chan_list, av, b, before)
            sel = (ce == kind) & has_t[:, a] & (c >= 0)
            st.ch_status[rr[sel], c[sel]] = after
    if len(spec.channel_ids):
        for a in range(A):
            b = tg[:, a]
            hit = spec.ch_susp[:, act[:, a]].T & spec.ch_party[None, :, a] & spec.ch_party[:, b].T & has_t[:, [a]]
            st.ch_status[hit] = np.minimum(st.ch_status[hit], ChannelStatus.SUSPENDED)
    st.clarity = clarity

    # perception: each observer reads each move, misreading more without an answered channel
    fog = prm.fog
    u1 = rng.draw(st.keys, t, Stream.PERCEIVE, A * A).reshape(R, A, A)
    u2 = rng.draw(st.keys, t, Stream.PERCEIVE_DIR, A * A).reshape(R, A, A)
    mis = u1 < fog * (1.0 - clarity)
    shift = np.where(u2 < MISREAD_UP, 1, -1) * mis
    perc = np.clip(realised[:, None, :] + shift, 0, top)
    perc[:, ar, ar] = realised
    st.perc = perc
    perceived = np.where(has_t, perc[rr[:, None], tg, ar[None, :]], -1)

    # hostility and relations
    gain = spec.baseline.hostility_gain.value
    spill = spec.baseline.ally_spillover.value
    prev_esc = np.clip(spec.rung_esc[st.level], 0.0, None)
    st.H *= 1.0 - prm.hostility_decay
    esc = spec.rung_esc
    st.attacked = np.zeros((R, A), bool)
    for a in range(A):
        k = act[:, a]
        b = tg[:, a]
        hit_adv = has_t[:, a] & (spec.act_target_kind[k] == TargetKind.ADVERSARY)
        h = np.clip(esc[perc[rr, b, a]], 0.0, None)
        relief = spec.act_relief[k] * (1.0 - prev_esc[:, a])
        d = hit_adv * (prm.hostility_decay * gain * h + spec.act_provocation[k] - relief)
        st.H[rr, b, a] = np.clip(st.H[rr, b, a] + d, 0.0, 1.0)
        for c in range(A):
            w = spec.commit[c, :][b] * hit_adv * (c != a)
            if w.any():
                hc = np.clip(esc[perc[:, c, a]], 0.0, None)
                st.H[:, c, a] = np.clip(st.H[:, c, a] + prm.hostility_decay * spill * w * gain * hc, 0.0, 1.0)
        st.H[:, :, a] = np.clip(st.H[:, :, a] + spec.redline[:, a, :][:, k].T, 0.0, 1.0)
        force = hit_adv & (realised[:, a] >= harass)
        st.attacked[rr[force], b[force]] = True
        # reassurance: an ally addressed by a relief move feels less threatened by its adversaries
        to_ally = has_t[:, a] & (spec.act_target_kind[k] == TargetKind.ALLY) & (spec.act_relief[k] > 0)
        if to_ally.any():
            rel_ally = (spec.act_relief[k] * to_ally)[:, None] * spec.adv[b]
            st.H[rr, b, :] = np.clip(st.H[rr, b, :] - rel_ally, 0.0, 1.0)
        dr = spec.act_relation[k] * has_t[:, a]
        st.rel[rr, a, b] = st.rel[rr, b, a] = np.clip(st.rel[rr, a, b] + dr, -1.0, 1.0)

    # concessions, grievances, talks, offers, commitments
    received = np.zeros((R, A), bool)
    um = rng.draw(st.keys, t, Stream.MEDIATE, A)
    st.talks = np.maximum(st.talks - 1, 0).astype(np.int8)
    st.offers = np.maximum(st.offers - 1, 0).astype(np.int8)
    for a in range(A):
        k = act[:, a]
        b = tg[:, a]
        ok = has_t[:, a] & (spec.act_target_kind[k] == TargetKind.ADVERSARY)
        received[rr[ok], b[ok]] |= (spec.act_relief[k] > 0)[ok]
        st.conceded[:, a] |= spec.act_concession[k] & ok
        talk = ok & spec.act_talks[k]
        st.talks[rr[talk], a, b[talk]] = TALK_WINDOW
        offer = ok & spec.act_agreement[k]
        st.offers[rr[offer], a, b[offer]] = OFFER_WINDOW
        st.committed[:, a] |= spec.act_commit[k]
        med = ok & spec.act_mediation[k]
        st.mediation |= med
        found = med & (um[:, a] < prm.mediation)
        st.mediated |= found
        st.talks[rr[found], a, b[found]] = TALK_WINDOW
        st.talks[rr[found], b[found], a] = TALK_WINDOW
        st.taken[rr, a, k] = True
    has_adv = spec.adv.any(axis=1)[None, :]
    st.frustration = np.where(received, st.frustration * 0.5,
                              np.minimum(st.frustration + spec.grievance_rate[None, :] * has_adv, 1.0))

    # trackers
    st.level = realised
    turn_max = realised.max(axis=1)
    st.crisis = np.maximum(st.crisis, turn_max)
    st.crossed = spec.rung_unit[st.crisis]
    st.own_crossed = np.maximum(st.own_crossed, spec.rung_unit[realised])
    st.peak_mid = np.maximum(st.peak_mid, mid.max(axis=1)).astype(np.int8)
    st.peak_viol = np.maximum(st.peak_viol, viol.max(axis=1)).astype(np.int8)
    st.first_force = np.where((st.first_force < 0) & (turn_max >= harass), t, st.first_force).astype(np.int16)
    st.hist[:, t] = turn_max
    st.forced[:] = -1
    st.forced_tgt[:] = -1

    # termination
    calm_top = spec.catalogue.threshold(Threshold.CALM_CEILING)
    st.calm = np.where(turn_max <= calm_top, st.calm + 1, 0).astype(np.int16)
    # settled: an agreement offer between adversaries met by an offer or a cooperative move
    coop = realised <= spec.catalogue.threshold(Threshold.COOPERATIVE_CEILING)
    accepted = (st.offers.transpose(0, 2, 1) > 0) | coop[:, None, :]  # [r, a, b]: b offered back or cooperates
    agreed = ((st.offers > 0) & accepted & spec.adv[None]).any(axis=(1, 2))
    end = np.zeros(R, np.int8)
    end[t >= spec.turns] = EndReason.TIME_LIMIT
    end[st.calm >= CALM_TURNS] = EndReason.FADED
    end[agreed] = EndReason.AGREEMENT
    end[turn_max >= spec.catalogue.threshold(Threshold.WAR)] = EndReason.MAJOR_WAR
    end[turn_max >= spec.catalogue.threshold(Threshold.NUCLEAR)] = EndReason.NUCLEAR_USE
    st.end = end
    st.end_turn = np.where(end > 0, t, st.end_turn).astype(np.int16)
    return Outcome(action=act, target=tgt, intended=intended, realised=realised, perceived=perceived,
                   mid=mid, incident=incident, answered=answered)
