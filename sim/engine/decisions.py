"""Decisions: each actor scores the moves in its repertoire and draws one (a quantal response).

Utility = sum of posture-weighted terms + affinity (the state's habits) + the repertoire prior.
Every term is written once, in :data:`TERMS`, as a sum of parts (a state quantity times an
option feature); the same table gives the utility of every option (parts grouped by feature,
which is fast) and the reasons a choice is logged with (each term's contribution to the chosen
move relative to holding). The choice is a logit at the actor's temperature, per day: over a turn
of ``dt`` days an actor holds only if it would hold every day, so a move's timing does not
depend on the turn length. Actors see the perceived world: the threat they feel, the rung they
believe their adversary stands at, who has hurt them lately and which red lines were crossed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.engine import kernel, rng
from sim.engine.channels import answer_prob
from sim.engine.state import Decision, State
from sim.inputs.spec import Spec
from sim.names import TERM_NAMES, WEIGHTED_TERMS, ChannelStatus, Stream, TargetKind, Threshold

#: Names of the reasons a choice logs (the weighted terms, then affinity).
REASON_NAMES = TERM_NAMES
#: Below this probability a chosen move is flagged as a long-odds draw in the log.
LONG_ODDS = 0.05

#: The utility, one row per weighted term: (state quantity, option feature) parts, summed.
#: ``inertia`` and ``firebreak`` are the two terms that are not products; their state part is the
#: constant ``one`` and their feature is computed from state and option together.
TERMS: dict[str, tuple[tuple[str, str], ...]] = {
    "threat": (("threat", "esc"),),
    "stakes": (("stakes_threat", "esc"), ("minus_stakes", "concede")),  # yielding gives up what is at stake
    "reciprocity": (("recip2", "esc"), ("minus_one", "esc2")),  # peaks at matching the perceived level
    "inertia": (("minus_one", "jump2"),),
    "cost": (("minus_one", "cost"), ("minus_restrained", "esc_up")),
    "firebreak": (("minus_one", "firebreak"),),
    "alliance": (("ally", "support"),),
    "entrapment": (("minus_entrap", "esc"),),
    "audience": (("aud", "esc"), ("minus_committed", "deesc")),
    "interdependence": (("minus_interdep", "econ"),),
    "channel": (("chan", "channel"),),
    "climate": (("minus_climate", "esc"),),
    "grievance": (("griev", "esc"),),
    "response": (("owed", "answer"),),
    "deterrence": (("minus_deter", "war"),),
    "fatigue": (("fatigue", "settle"),),
}
assert tuple(TERMS) == WEIGHTED_TERMS, "TERMS must list sim.names.WEIGHTED_TERMS in order"
assert (kernel.OPEN, kernel.SUSPENDED, kernel.ADVERSARY, kernel.ALLY) == (
    ChannelStatus.OPEN, ChannelStatus.SUSPENDED, TargetKind.ADVERSARY, TargetKind.ALLY), "kernel codes follow sim.names"
#: The option features the terms use, in order of first use in :data:`TERMS`.
FEATURES = tuple(dict.fromkeys(x for parts in TERMS.values() for _, x in parts))
#: :data:`TERMS` for the kernel: per part, its quantity's index in ``kernel.SITUATION``, its feature's in
#: :data:`FEATURES` and its term's, in order.
PARTS = tuple(np.array(col, np.int64) for col in zip(*((kernel.SITUATION.index(q), FEATURES.index(x), t)
                                                        for t, parts in enumerate(TERMS.values())
                                                        for q, x in parts), strict=True))


def targets(spec: Spec, st: State, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whom each actor would address: the most threatening rival (an adversary, or anyone who lately
    hurt it or crossed one of its red lines), and the committed ally most under threat (``kernel.targets``)."""
    return kernel.targets(np.asarray(rows, np.int64), np.float32(st.day(spec)), spec.dyads.adversary,
                          spec.dyads.commitment, st.owed_until, st.wronged_until, st.H, st.attacked)


def state_terms(spec: Spec, st: State, rows: np.ndarray, t_adv: np.ndarray, t_ally: np.ndarray | None) -> dict:
    """The state quantities of the terms, one value per (run, actor) (``kernel.SITUATION``; all of them as
    one table under ``table``), and what the rest of the decision reads: the utility's coefficients per
    feature (``coef``), the computed features' inputs (``computed_inputs``) and
    the dynamic preconditions (``admissible``, see :func:`mask`). One pass of ``kernel.situation``."""
    rows = np.asarray(rows, np.int64)
    k, bh, o, day = spec.constants, spec.behaviour, spec.options, st.day(spec)
    ch = spec.channels
    Q, C, bits, since, own, crowd, ok = kernel.situation(
        rows, t_adv, answer_prob(spec, st, rows, t_adv, ch.bilateral),
        answer_prob(spec, st, rows, t_adv, ch.forums), day, np.float32(day), min(1.0, day / k.fatigue_days),
        (float(k.credibility_floor), float(k.captive_restraint), float(k.captive_pressure),
         np.float32(k.response_days), np.float32(1e-6)),  # each declared answer carries the credibility once
        (spec.catalogue.threshold(Threshold.FORCE),), *PARTS, np.ascontiguousarray(bh.weights[rows], float),
        spec.ladder.esc, spec.ladder.unit, spec.dyads.adversary, spec.dyads.commitment,
        (spec.dyads.commitment > 0).any(axis=0),  # a fearful ally aligns more closely with its patron
        np.stack([bh.stakes, bh.pressure, bh.election_sens, bh.stress_sens, bh.aband_fear, bh.entrap_fear]
                 ).astype(float), bh.election, bh.deterrent, bh.interdependence, ch.bilateral, ch.forums,
        np.stack([o.req_channel, o.req_crisis, o.req_own, o.target_kind]),
        np.stack([o.valid, o.multilateral, o.req_talks, o.war]), o.interval, st.level, st.crisis, st.crossed,
        st.own_crossed, st.H, st.attacked, st.rel, st.perc, st.committed, st.frustration, st.restrained,
        st.restrained_until, st.captive, st.owed, st.owed_until, st.wronged, st.wronged_until, st.stakes_shift,
        st.stress, st.talks, st.offers, st.ch_status, st.last_used)
    return {"table": Q, **{name: Q[..., j] for j, name in enumerate(kernel.SITUATION)},
            "level": np.ascontiguousarray(Q[..., kernel.SITUATION.index("level")]), "coef": C, "owed_bits": bits,
            "since": since, "own": own, "crowd": crowd, "admissible": ok,
            "option_esc": of_rows(o.esc, rows).astype(float, copy=False),
            "option_firebreak": of_rows(o.firebreak, rows, 1).astype(float, copy=False),
            "last_used": of_rows(st.last_used, rows, 1)}


def computed_inputs(spec: Spec, st: State, rows: np.ndarray, s: dict) -> tuple:
    """What the kernel needs to compute the state-dependent features (jump2, firebreak, answer)."""
    return (s["option_esc"], s["level"], s["option_firebreak"], s["own"], s["crowd"], s["owed_bits"],
            s["last_used"], s["since"])


def of_rows(arr: np.ndarray, rows: np.ndarray, axis: int = 0) -> np.ndarray:
    """``arr`` for actor ``rows`` along ``axis``, contiguous; no copy when ``rows`` are all actors in order
    (the ensemble), where taking them would copy a (runs, actors, options) table every turn."""
    if len(rows) == arr.shape[axis] and (rows == np.arange(len(rows))).all():
        return np.ascontiguousarray(arr)
    return np.ascontiguousarray(np.take(arr, rows, axis=axis))


def firebreak_penalty(spec: Spec, st: State, rows: np.ndarray, s: dict, pick: np.ndarray | None = None) -> np.ndarray:
    """Salience of the firebreaks each option would cross, (R, a, K), or of the picked option only, (R, a)
    (``kernel.situation`` says which thresholds count, ``kernel.firebreak`` computes it).

    A threshold nobody has crossed in this crisis counts in full; one only others have crossed
    counts half; one the actor has itself chosen to cross no longer restrains it. Answering a blow
    in kind crosses nothing: thresholds up to the unit of what the target lately did to the actor
    (as the actor perceived it) are waived, which is what makes proportional retaliation a choice.
    """
    return _computed(spec, st, rows, s, pick)["firebreak"]


def _computed(spec: Spec, st: State, rows: np.ndarray, s: dict, pick: np.ndarray | None) -> dict:
    none = np.zeros((0, 0), np.int64)
    out = kernel.computed_features(*computed_inputs(spec, st, rows, s),
                                   none if pick is None else np.ascontiguousarray(pick, np.int64))
    return {name: out[c - 1] if pick is None else out[c - 1][..., 0] for name, c in kernel.DYNAMIC.items()}


def features(spec: Spec, st: State, rows: np.ndarray, s: dict, pick: np.ndarray | None = None,
             computed: bool = True, shifted: bool = True) -> dict:
    """Option features for ``rows``: all options (R, a, K), or the picked one (R, a). ``computed=False``
    leaves out the state-dependent ones (jump2, firebreak, answer), which ``score`` has the kernel
    compute inside the utility loop instead of building their (R, a, K) tables; ``shifted=False``
    leaves the state's affinity shift out of ``affinity`` (``score`` hands it to the kernel, see
    :func:`affinity_shift`)."""
    a = np.arange(len(rows))[None, :]
    R = np.arange(len(st.keys))[:, None]
    opts = spec.options

    def g(arr: np.ndarray) -> np.ndarray:
        arr = arr[rows]
        return arr[None].astype(float) if pick is None else arr[a, pick].astype(float)

    def dyn(arr: np.ndarray) -> np.ndarray:
        return arr if pick is None else arr[R, a, pick]

    esc = g(opts.esc)
    aff = g(opts.affinity)
    if shifted and st.aff_shift is not None:
        aff = aff + dyn(st.aff_shift[:, rows])
    out = {"esc": esc, "esc2": esc * esc, "esc_up": np.maximum(esc, 0.0), "cost": g(opts.cost),
           "support": g(opts.support), "deesc": g(opts.deesc), "econ": g(opts.econ), "channel": g(opts.channel),
           "war": g(opts.war), "settle": g(opts.settle), "concede": g(opts.concede),
           "affinity": aff}
    if computed:
        out.update(_computed(spec, st, rows, s, pick))
    return out


def term_values(s: dict, f: dict):
    """Yield (term, value) for every weighted term, from :data:`TERMS`; ``s`` and ``f`` broadcast, so the
    same code scores all options or re-scores the chosen one."""
    for term, parts in TERMS.items():
        yield term, sum(s[q] * f[x] for q, x in parts)


def utility(spec: Spec, st: State, rows: np.ndarray, s: dict, f: dict, shift: np.ndarray | None = None
            ) -> np.ndarray:
    """Utility of every option, (R, a, K): the parts of :data:`TERMS` grouped by option feature, so each
    feature is multiplied once (``s["coef"]``, summed by ``kernel.situation``; ``tests/test_decisions.py``
    checks it equals the term-by-term sum). The computed features are computed by the kernel; ``shift``
    is the affinity shift when ``f`` leaves it out (:func:`affinity_shift`)."""
    tp = np.ascontiguousarray(spec.behaviour.tau[rows][:, None] * spec.options.prior[rows], float)
    return kernel.utility_table(np.ascontiguousarray(f["affinity"], float), _shift(shift, len(rows)), tp,
                                s["coef"], *feature_table(f, len(rows)), *computed_inputs(spec, st, rows, s))


def affinity_shift(st: State, rows: np.ndarray) -> np.ndarray | None:
    """The state's shift of each option's affinity for ``rows`` (R, a, K), None if it has none."""
    return None if st.aff_shift is None else of_rows(st.aff_shift, rows, 1).astype(float, copy=False)


def _shift(shift: np.ndarray | None, n_rows: int) -> np.ndarray:
    return np.zeros((0, n_rows, 1)) if shift is None else shift


def feature_table(f: dict, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The static option features of :data:`FEATURES` as one (a, X, K) table, and each feature's kernel code
    (``kernel.STATIC``, or the computed feature the kernel evaluates in its loop instead: even if ``f`` has
    its table, the values are the same)."""
    static = np.zeros((n_rows, len(FEATURES), f["affinity"].shape[2]))
    code = np.zeros(len(FEATURES), np.int64)
    for j, x in enumerate(FEATURES):
        if x in kernel.DYNAMIC:
            code[j] = kernel.DYNAMIC[x]
        else:
            static[:, j] = f[x][0]
    return static, code


def mask(spec: Spec, st: State, rows: np.ndarray, t_adv: np.ndarray) -> np.ndarray:
    """Dynamic preconditions (channel status, talks, crisis stage, tempo, someone to aim at, and for
    major war a fight under way: the actor stands at the use of force, or the target has lately used
    force against it; no bolt from the blue) as a (R, a, K) mask (``kernel.situation``)."""
    return state_terms(spec, st, rows, t_adv, None)["admissible"]


def admissible(spec: Spec, st: State, actor: int) -> np.ndarray:
    """Option indices the actor may take now in each run, as a (runs, options) mask."""
    rows = np.array([actor])
    t_adv, _ = targets(spec, st, rows)
    return mask(spec, st, rows, t_adv)[:, 0]


@dataclass
class Scored:
    """All options scored for a set of actors: the inputs to the draw and to the reasons."""

    rows: np.ndarray
    probabilities: np.ndarray  # (R, a, K) the chance of each option over this turn, 0 if inadmissible
    t_adv: np.ndarray
    t_ally: np.ndarray
    state: dict
    features: dict | None = None  # the static option features (``features(..., computed=False, shifted=False)``)


def score(spec: Spec, st: State, rows: np.ndarray | None = None) -> Scored:
    """Score every admissible option for the actors in ``rows`` and give each its chance this turn."""
    rows = np.arange(spec.n_actors) if rows is None else np.asarray(rows)
    t_adv, t_ally = targets(spec, st, rows)
    s = state_terms(spec, st, rows, t_adv, t_ally)
    f = features(spec, st, rows, s, computed=False, shifted=False)
    util = utility(spec, st, rows, s, f, affinity_shift(st, rows))
    e = np.exp(kernel.logits(util, spec.behaviour.tau[rows].astype(float), s["admissible"], util), out=util)
    p = np.divide(e, e.sum(axis=2, keepdims=True), out=e)  # in place: the same values, no new (R, a, K) tables
    return Scored(rows=rows, probabilities=over_turn(p, spec.options.hold[rows], spec.dt), t_adv=t_adv,
                  t_ally=t_ally, state=s, features=f)


def over_turn(p_day: np.ndarray, hold: np.ndarray, dt: float) -> np.ndarray:
    """Daily choice probabilities turned into a turn's: the actor holds through the turn only if it would
    hold every day; otherwise its move is the first non-hold move, in the daily proportions."""
    if dt == 1.0:
        return np.ascontiguousarray(p_day)
    a = np.arange(p_day.shape[1])[None, :]
    R = np.arange(p_day.shape[0])[:, None]
    ph = p_day[R, a, hold[None, :]]
    stay = ph ** dt
    scale = np.where(ph < 1.0, (1.0 - stay) / np.maximum(1.0 - ph, 1e-300), 0.0)
    out = p_day * scale[..., None]
    out[R, a, hold[None, :]] = stay
    return np.ascontiguousarray(out)


def decide(spec: Spec, st: State, rows: np.ndarray | None = None, reasons: bool = True) -> Decision:
    """Each actor in ``rows`` draws one scored option; scripted moves replace the draw; each move is aimed
    at its target kind's target, and answers that target's last hostile move against the actor, if any
    (``kernel.choose``).

    ``reasons=False`` (no event log) skips the reasons, which only the log reads and which cost a
    fifth of the decision; they come back as -1 (no term) with weight NaN. Choices are unaffected.
    """
    sc = score(spec, st, rows)
    rows, s = sc.rows, sc.state
    opt, prob, forced, tgt, cause_actor, cause_action, cause_turn = kernel.choose(
        sc.probabilities, rng.draw(st.keys, st.turn, Stream.CHOICE, rows), rows, st.forced, st.forced_tgt,
        spec.options.target_kind, sc.t_adv, sc.t_ally, st.last_hostile, st.last_hostile_turn)
    if reasons:
        order, contrib = _reasons(spec, st, rows, s, sc.features, opt)
    else:
        order, contrib = np.full((*opt.shape, 3), -1, np.int8), np.full((*opt.shape, 3), np.nan)
    return Decision(opt=opt, target=tgt, prob=prob, reasons=order, contrib=contrib, forced=forced,
                    cause_actor=cause_actor, cause_action=cause_action, cause_turn=cause_turn)


def _reasons(spec: Spec, st: State, rows: np.ndarray, s: dict, f: dict, opt: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """The two terms that most favoured the chosen move over holding, and the one that most held it back
    (``kernel.reasons``: the terms of :data:`TERMS`, as ``term_values`` gives them, at the two options)."""
    return kernel.reasons(s["table"], *PARTS, np.ascontiguousarray(spec.behaviour.weights[rows], float),
                          *feature_table(f, len(rows)), np.ascontiguousarray(f["affinity"], float),
                          _shift(affinity_shift(st, rows), len(rows)),
                          np.ascontiguousarray(opt, np.int64), np.ascontiguousarray(spec.options.hold[rows], np.int64),
                          *computed_inputs(spec, st, rows, s))


def merge(decisions: list[Decision]) -> Decision:
    """Join per-actor decisions (Mesa agents decide one at a time) along the actor axis."""
    return Decision(*(np.concatenate([getattr(d, f.name) for d in decisions], axis=1)
                      for f in fields(Decision)))
