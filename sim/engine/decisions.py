"""Decisions: each actor scores its admissible options and draws one (a quantal response).

Utility = sum of posture-weighted terms (:func:`term_values`) + affinity; the choice is a logit
at the actor's temperature. Options that share a rung split that rung's prior mass, so adding
synonyms to the catalogue does not shift escalation odds. Actors see the perceived world: the
threat they feel, the rung they believe their adversary stands at.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.engine import rng
from sim.engine.channels import best_open, first_with_status
from sim.engine.state import Decision, State
from sim.inputs.spec import Spec
from sim.names import TERM_NAMES, WEIGHTED_TERMS, ChannelStatus, Stream, TargetKind

#: Names of the reasons a choice logs (the weighted terms, then affinity).
REASON_NAMES = TERM_NAMES


def targets(spec: Spec, st: State, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adversary and ally each actor would address: the most threatening adversary,
    and the ally it is committed to that is most under threat."""
    adv = spec.dyads.adversary[rows]
    t_adv = np.argmax(np.where(adv[None], st.H[:, rows, :], -np.inf), axis=2)
    threat_to = st.H.max(axis=2) + st.attacked
    com = spec.dyads.commitment[rows]
    t_ally = np.argmax(np.where(com[None] > 0, com[None] * threat_to[:, None, :], -np.inf), axis=2)
    return t_adv, t_ally


def state_terms(spec: Spec, st: State, rows: np.ndarray, t_adv: np.ndarray, t_ally: np.ndarray) -> dict:
    """The state side of each decision term, one value per (run, actor)."""
    R = np.arange(len(st.keys))[:, None]
    A = rows[None, :]
    esc = spec.ladder.esc
    lvl = esc[st.level]
    threat = st.H[R, A, t_adv]
    patron = spec.dyads.commitment[:, rows].max(axis=0)
    threat = threat * (1.0 + spec.behaviour.aband_fear[rows] * (1.0 - patron) * (patron > 0))[None, :]
    adv_max = np.where(spec.dyads.adversary[None], lvl[:, None, :], -1.0).max(axis=2)
    excess = np.clip(lvl - adv_max, 0.0, None)
    com = spec.dyads.commitment[rows]
    entrap = np.where(com[None] > 0, excess[:, None, :], 0.0).max(axis=2) * spec.behaviour.entrap_fear[rows][None]
    threat_to = st.H.max(axis=2) + st.attacked
    ally = np.where(com[None] > 0, com[None] * threat_to[:, None, :], 0.0).max(axis=2)
    bh = spec.behaviour
    aud = (bh.pressure[rows][None] + bh.election[rows][None] * bh.election_sens[rows][None]
           + st.stress[:, None] * bh.stress_sens[rows][None])
    _, p_bil = best_open(spec, st, spec.channels.bilateral, np.broadcast_to(A, t_adv.shape), t_adv)
    _, p_fo = best_open(spec, st, spec.channels.forums, np.broadcast_to(A, t_adv.shape), t_adv)
    ch = np.maximum(p_bil, p_fo)
    return {
        "threat": threat,
        "stakes": spec.behaviour.stakes[rows][None] + st.stakes_shift[:, rows],
        "recip": esc[st.perc[R, A, t_adv]],
        "level": lvl[:, rows],
        "ally": ally,
        "entrap": entrap,
        "aud": aud,
        "committed": st.committed[:, rows].astype(float),
        "interdep": spec.behaviour.interdependence[rows[None, :], t_adv],
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
    table = spec.options.firebreak[:, rows]  # (units, a, K)
    return 0.5 * table[st.own_crossed[:, rows], a] + 0.5 * table[st.crossed[:, None], a]


def features(spec: Spec, st: State, rows: np.ndarray, pick: np.ndarray | None = None) -> dict:
    """Option features for ``rows``; all options (R, a, K) or the picked one (R, a)."""
    a = np.arange(len(rows))[None, :]

    def g(name):
        arr = getattr(spec.options, name)[rows]
        return arr[None].astype(float) if pick is None else arr[a, pick].astype(float)
    fb = firebreak_penalty(spec, st, rows)
    fb = fb if pick is None else fb[np.arange(len(st.keys))[:, None], a, pick]
    aff = g("affinity")
    if st.aff_shift is not None:
        shift = st.aff_shift[:, rows]
        aff = aff + (shift if pick is None else shift[np.arange(len(st.keys))[:, None], a, pick])
    return {"esc": g("esc"), "cost": g("cost"), "fb": fb, "support": g("support"),
            "deesc": g("deesc"), "econ": g("econ"), "chan": g("channel"), "affinity": aff}


def mask(spec: Spec, st: State, rows: np.ndarray, t_adv: np.ndarray) -> np.ndarray:
    """Dynamic preconditions (channel status, talks, crisis stage) as a (R, a, K) mask."""
    R = np.arange(len(st.keys))[:, None]
    A = rows[None, :]
    valid = np.broadcast_to(spec.options.valid[rows][None], (len(st.keys), len(rows), spec.options.valid.shape[1]))
    AA = np.broadcast_to(A, t_adv.shape)
    any_open = first_with_status(spec, st, spec.channels.bilateral, AA, t_adv, ChannelStatus.OPEN) >= 0
    any_susp = first_with_status(spec, st, spec.channels.bilateral, AA, t_adv, ChannelStatus.SUSPENDED) >= 0
    req = spec.options.req_channel[rows][None]
    ok = ((req < 0) | ((req == ChannelStatus.OPEN) & any_open[..., None])
          | ((req == ChannelStatus.SUSPENDED) & any_susp[..., None]))
    fo_open = first_with_status(spec, st, spec.channels.forums, AA, t_adv, ChannelStatus.OPEN) >= 0
    ok &= ~spec.options.multilateral[rows][None] | fo_open[..., None]
    talks = (st.talks[R, A, t_adv] > 0) | (st.talks[R, t_adv, A] > 0)
    ok &= ~spec.options.req_talks[rows][None] | talks[..., None]
    ok &= spec.options.req_crisis[rows][None] <= st.crisis[:, None, None]
    ok &= spec.options.req_own[rows][None] <= st.level[:, rows][..., None]
    return valid & ok


def admissible(spec: Spec, st: State, actor: int) -> np.ndarray:
    """Option indices the actor may take now in each run, as a (runs, options) mask."""
    rows = np.array([actor])
    t_adv, _ = targets(spec, st, rows)
    return mask(spec, st, rows, t_adv)[:, 0]


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
    W = {t: spec.behaviour.weights[rows, j][None, :] for j, t in enumerate(WEIGHTED_TERMS)}
    esc = spec.options.esc[rows][None]
    lin = (W["threat"] * s["threat"] + W["stakes"] * s["stakes"] * s["threat"]
           + 2.0 * W["reciprocity"] * s["recip"] - W["entrapment"] * s["entrap"] + W["audience"] * s["aud"]
           - W["climate"] * s["climate"] + W["grievance"] * s["griev"])
    opts = spec.options
    static = (opts.affinity[rows] - spec.behaviour.tau[rows][:, None] * opts.crowd[rows]
              - W["reciprocity"][0][:, None] * opts.esc[rows] ** 2 - W["cost"][0][:, None] * opts.cost[rows])
    jump = np.maximum(esc - s["level"][..., None], 0.0)
    fb = firebreak_penalty(spec, st, rows)
    static = static[None] if st.aff_shift is None else static[None] + st.aff_shift[:, rows]
    return (static + lin[..., None] * esc
            - W["inertia"][..., None] * (jump * jump) - W["firebreak"][..., None] * fb
            + (W["alliance"] * s["ally"])[..., None] * spec.options.support[rows][None]
            - (W["audience"] * s["committed"])[..., None] * spec.options.deesc[rows][None]
            - (W["interdependence"] * s["interdep"])[..., None] * spec.options.econ[rows][None]
            + (W["channel"] * s["chan"])[..., None] * spec.options.channel[rows][None])


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
    tau = spec.behaviour.tau[rows][None, :, None]
    ok = mask(spec, st, rows, t_adv)
    v = np.where(ok, util / tau, -np.inf)
    v = v - v.max(axis=2, keepdims=True)
    return Scored(rows=rows, weights=np.ascontiguousarray(np.exp(v)), t_adv=t_adv, t_ally=t_ally, state=s)


def decide(spec: Spec, st: State, rows: np.ndarray | None = None) -> Decision:
    """Each actor in ``rows`` draws one scored option; scripted moves replace the draw."""
    sc = score(spec, st, rows)
    rows, e, t_adv, t_ally, s = sc.rows, sc.weights, sc.t_adv, sc.t_ally, sc.state
    W = spec.behaviour.weights[rows]
    cum = np.cumsum(e, axis=2)
    u = rng.draw(st.keys, st.turn, Stream.CHOICE, rows) * cum[..., -1]
    opt = np.argmax(cum > u[..., None], axis=2)
    forced = st.forced[:, rows] >= 0
    opt = np.where(forced, st.forced[:, rows], opt)
    prob = np.take_along_axis(e, opt[..., None], 2)[..., 0] / cum[..., -1]
    prob = np.where(forced, 1.0, prob)
    # why: each term's contribution to the chosen option relative to holding
    hold = np.broadcast_to(spec.options.hold[rows][None], opt.shape)
    fc, fh = features(spec, st, rows, opt), features(spec, st, rows, hold)
    diffs = [W[None, :, j] * (vc - vh) for j, ((_, vc), (_, vh))
             in enumerate(zip(term_values(s, fc), term_values(s, fh), strict=True))]
    diffs.append(fc["affinity"] - fh["affinity"])
    D = np.stack(diffs, axis=2)
    order = np.argsort(-D, axis=2, kind="stable")
    order = np.concatenate([order[..., :2], order[..., -1:]], axis=2)
    kind = spec.options.target_kind[rows[None, :], opt]
    tgt = np.where(kind == TargetKind.ADVERSARY, t_adv, np.where(kind == TargetKind.ALLY, t_ally, -1))
    ft = st.forced_tgt[:, rows]
    tgt = np.where(forced & (ft >= 0), ft, tgt)
    return Decision(opt=opt, target=tgt, prob=prob, reasons=order,
                    contrib=np.take_along_axis(D, order, 2), forced=forced)


def merge(decisions: list[Decision]) -> Decision:
    """Join per-actor decisions (Mesa agents decide one at a time) along the actor axis."""
    return Decision(*(np.concatenate([getattr(d, f.name) for d in decisions], axis=1)
                      for f in fields(Decision)))
