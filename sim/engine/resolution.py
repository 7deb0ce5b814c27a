"""Resolution: every actor's move of the turn is applied at once, in the order MODEL.md §3.4-3.5 gives.

realise (friction can carry a move one rung higher) -> encounters (routine contact that can
become an accident) -> channels (calls, forums, suspensions) -> perception (each observer reads
each move, misreading more without an answered channel) -> hostility and relations ->
commitments (concessions, grievances, talks, offers, mediation) -> trackers -> termination.
Each step reads and writes the batch ``State``; draws are keyed by (run, turn, stream, lane).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import resolve_kernel, rng
from sim.engine.channels import best_open, first_with_status
from sim.engine.state import Decision, State, TurnRecord
from sim.inputs.spec import Spec
from sim.names import (
    Cause,
    ChannelEffect,
    ChannelStatus,
    EndReason,
    IcbViolence,
    MidLevel,
    Stream,
    Threshold,
)

#: Lanes of the ENCOUNTER stream per encounter: occurs, unsafe, collision, casualties, read as deliberate,
#: who is responsible when both or neither side pressed.
_ENCOUNTER_LANES = 6
#: When both sides (or neither) were pressing, blame for a collision is a toss-up (no information).
_TOSS_UP = 0.5


@dataclass
class Move:
    """The turn's moves as the resolution steps see them (mutated as accidents and incidents occur)."""

    opt: np.ndarray  # (R, A) option index
    act: np.ndarray  # (R, A) catalogue action
    target: np.ndarray  # (R, A) target actor, -1 for none
    forced: np.ndarray  # (R, A) scripted by an inject
    slip: np.ndarray  # (R, A) friction carried the move one rung higher
    accident: np.ndarray  # (R, A) the actor was responsible for a collision
    intended: np.ndarray
    realised: np.ndarray
    mid: np.ndarray
    viol: np.ndarray
    incident: np.ndarray
    answered: np.ndarray
    perceived: np.ndarray | None = None

    @property
    def has_target(self) -> np.ndarray:
        return self.target >= 0

    @property
    def tg(self) -> np.ndarray:
        return np.maximum(self.target, 0)


def resolve(spec: Spec, st: State, dec: Decision) -> TurnRecord:
    """Apply all actors' moves simultaneously and update the world."""
    mv = realise(spec, st, dec)
    encounters(spec, st, mv)
    channels(spec, st, mv)
    perceive(spec, st, mv)
    hostility(spec, st, mv)
    commitments(spec, st, mv)
    track(spec, st, mv)
    terminate(spec, st, mv)
    return TurnRecord(action=mv.act, target=mv.target, intended=mv.intended, realised=mv.realised,
                      perceived=mv.perceived, mid=mv.mid, incident=mv.incident, answered=mv.answered,
                      slip=mv.slip)


def realise(spec: Spec, st: State, dec: Decision) -> Move:
    """Friction (Payne-style accidents): a move may be realised one rung higher than chosen."""
    R, A = len(st.keys), spec.n_actors
    act = spec.options.action[np.arange(A)[None, :], dec.opt]
    intended = spec.actions.rung[act]
    up = rng.draw(st.keys, st.turn, Stream.FRICTION, A) < spec.ladder.friction[intended]
    realised = np.minimum(intended + up, len(spec.ladder.esc) - 1)
    mid = np.where(up, np.maximum(spec.actions.mid[act], spec.ladder.min_mid[realised]), spec.actions.mid[act])
    return Move(opt=dec.opt, act=act, target=dec.target, forced=dec.forced, slip=up, accident=np.zeros((R, A), bool),
                intended=intended, realised=realised, mid=mid, viol=spec.actions.viol[act],
                incident=np.zeros((R, A), bool), answered=-np.ones((R, A), np.int8))


def encounters(spec: Spec, st: State, mv: Move) -> None:
    """Routine contact between units, more frequent when either side is active in the domain, can turn
    unsafe (less so under the encounter rules) and into a collision the responsible side is blamed for."""
    enc, E = spec.encounters, len(spec.encounters.rate)
    if not E:
        return
    R = len(st.keys)
    rr = np.arange(R)
    prm = spec.scenario.parameters
    u = rng.draw(st.keys, st.turn, Stream.ENCOUNTER, _ENCOUNTER_LANES * E).reshape(R, E, _ENCOUNTER_LANES)
    grey = spec.catalogue.threshold(Threshold.GREY)
    for e in range(E):
        p, q = enc.p[e], enc.q[e]
        on_p = spec.actions.encounter[mv.act[:, p]] == enc.domain[e]
        on_q = spec.actions.encounter[mv.act[:, q]] == enc.domain[e]
        daily = np.minimum(1.0, enc.rate[e] * (1.0 + on_p.astype(float) + on_q))
        occurs = u[:, e, 0] < 1.0 - (1.0 - daily) ** spec.dt
        aggressive = (mv.realised[:, p] >= grey) | (mv.realised[:, q] >= grey)
        rules = 1.0 - prm.encounter_rules * enc.covered[e]
        unsafe = np.minimum(1.0, enc.unsafe[e] * rules * (1.0 + spec.constants.unsafe_pressure * aggressive))
        hit = occurs & (u[:, e, 1] < unsafe) & (u[:, e, 2] < enc.collision[e])
        if not hit.any():
            continue
        cas = hit & (u[:, e, 3] < enc.casualties[e])
        # the side whose units were pressing in this domain is responsible; else a toss-up
        resp = np.where(on_p & ~on_q, p, np.where(on_q & ~on_p, q, np.where(u[:, e, 5] < _TOSS_UP, p, q)))
        _collision(spec, st, mv, rr, hit, cas, resp, np.where(resp == p, q, p), u[:, e, 4])


def _collision(spec: Spec, st: State, mv: Move, rr: np.ndarray, hit: np.ndarray, cas: np.ndarray,
               resp: np.ndarray, victim: np.ndarray, u_read: np.ndarray) -> None:
    """A collision is a use of force by the responsible side; the victim reads it as deliberate unless a
    channel has clarified intent."""
    k = spec.constants
    harass = spec.catalogue.threshold(Threshold.FORCE)
    st.incidents += hit
    st.casualties += cas
    mv.incident[rr, resp] |= hit
    mv.accident[rr, resp] |= hit
    mv.realised[rr, resp] = np.where(hit, np.maximum(mv.realised[rr, resp], harass), mv.realised[rr, resp])
    mv.mid[rr, resp] = np.where(hit, np.maximum(mv.mid[rr, resp], MidLevel.USE_OF_FORCE), mv.mid[rr, resp])
    mv.viol[rr, resp] = np.where(cas, np.maximum(mv.viol[rr, resp], IcbViolence.MINOR_CLASHES), mv.viol[rr, resp])
    deliberate = u_read < (1.0 - st.clarity[rr, victim, resp])
    shock = hit * (k.incident_shock + k.deliberate_read * deliberate)
    st.H[rr, victim, resp] = np.minimum(st.H[rr, victim, resp] + shock, 1.0)
    st.H[rr, resp, victim] = np.minimum(st.H[rr, resp, victim] + hit * k.incident_shock * k.responder_share, 1.0)


def channels(spec: Spec, st: State, mv: Move) -> None:
    """Calls and forums (answered or not), suspensions and restorations. (A party offended by one of a
    channel's ``suspend_on`` actions owes itself a suspension: a choice, see compile.build_responses.)"""
    R, A = len(st.keys), spec.n_actors
    clarity = st.clarity * spec.constants.clarity_decay ** spec.dt
    ua = rng.draw(st.keys, st.turn, Stream.ANSWER, A)
    effect = spec.actions.channel[mv.act]
    for a in range(A):
        ce = effect[:, a]
        if not (ce > 0).any():
            continue
        for kind, table in ((ChannelEffect.USE, spec.channels.bilateral),
                            (ChannelEffect.MULTILATERAL, spec.channels.forums)):
            use = (ce == kind) & mv.has_target[:, a]
            if use.any():
                _call(spec, st, mv, a, use, table, ua[:, a], clarity)
        b, av = mv.tg[:, a], np.full(R, a)
        for kind, before, after in ((ChannelEffect.SUSPEND, ChannelStatus.OPEN, ChannelStatus.SUSPENDED),
                                    (ChannelEffect.RESTORE, ChannelStatus.SUSPENDED, ChannelStatus.OPEN)):
            c = first_with_status(spec, st, spec.channels.bilateral, av, b, before)
            sel = (ce == kind) & mv.has_target[:, a] & (c >= 0)
            st.ch_status[np.flatnonzero(sel), c[sel]] = after
    st.clarity = clarity


def _call(spec: Spec, st: State, mv: Move, a: int, use: np.ndarray, table: np.ndarray, u: np.ndarray,
          clarity: np.ndarray) -> None:
    """Actor ``a`` calls its target on the best open channel (or forum) between them."""
    rr = np.arange(len(st.keys))
    b = mv.tg[:, a]
    c, p = best_open(spec, st, table, np.full(len(rr), a), b)
    ok = use & (c >= 0)
    ans = ok & (u < p)
    cc = np.maximum(c, 0)
    np.add.at(st.tried, (rr[ok], cc[ok]), 1)
    np.add.at(st.answered, (rr[ans], cc[ans]), 1)
    mv.answered[:, a] = np.where(ok, ans, mv.answered[:, a])
    cl = np.where(ans, spec.channels.clarity[cc], 0.0)
    clarity[rr, a, b] = np.maximum(clarity[rr, a, b], cl)
    clarity[rr, b, a] = np.maximum(clarity[rr, b, a], cl)
    refused = np.minimum(st.H[rr, a, b] + spec.constants.refusal_signal, 1.0)
    st.H[rr, a, b] = np.where(ok & ~ans, refused, st.H[rr, a, b])
    # an answered call or forum is an off-ramp: it opens a window of talks
    st.talks[rr[ans], a, b[ans]] = spec.constants.talk_days
    st.talks[rr[ans], b[ans], a] = spec.constants.talk_days


def perceive(spec: Spec, st: State, mv: Move) -> None:
    """Each observer reads each move one rung off with probability fog x (1 - clarity)."""
    R, A = len(st.keys), spec.n_actors
    ar = np.arange(A)
    u1 = rng.draw(st.keys, st.turn, Stream.PERCEIVE, A * A).reshape(R, A, A)
    u2 = rng.draw(st.keys, st.turn, Stream.PERCEIVE_DIR, A * A).reshape(R, A, A)
    mis = u1 < spec.scenario.parameters.fog * (1.0 - st.clarity)
    shift = np.where(u2 < spec.constants.misread_up, 1, -1) * mis
    perc = np.clip(mv.realised[:, None, :] + shift, 0, len(spec.ladder.esc) - 1)
    perc[:, ar, ar] = mv.realised
    st.perc = perc
    mv.perceived = np.where(mv.has_target, perc[np.arange(R)[:, None], mv.tg, ar[None, :]], -1)


def hostility(spec: Spec, st: State, mv: Move) -> None:
    """Perceived threat decays, then follows each target's reading of the move against it (and its
    allies' readings, scaled by commitment), plus provocations and red lines; a hostile move is remembered
    as a blow that calls for an answer (and a crossed red line owes the declared answer); relief and
    reassurance lower threat; relations move with each action's relation effect (``resolve_kernel.hostility``)."""
    k, acts, cat, rt = spec.constants, spec.actions, spec.catalogue, spec.responses
    st.attacked = np.zeros((len(st.keys), spec.n_actors), bool)
    day = st.day(spec)
    resolve_kernel.hostility(
        mv.act, mv.target, mv.realised, st.perc, st.level, st.turn, np.float32(day), day + k.response_days,
        (float(k.decay), float(k.hostility_gain), float(k.ally_spillover)),
        (cat.threshold(Threshold.BASELINE), cat.threshold(Threshold.FORCE), cat.rung_index("seize")),
        spec.ladder.esc, acts.target_kind, acts.relief, acts.provocation, acts.relation, acts.rung,
        spec.dyads.commitment, spec.behaviour.red_lines, spec.dyads.adversary, st.H, st.rel, st.attacked, st.wronged,
        st.wronged_until, st.last_hostile, st.last_hostile_turn, st.captive, st.owed, st.owed_until,
        rt.actor, rt.by, rt.action, rt.bits)


def commitments(spec: Spec, st: State, mv: Move) -> None:
    """Concessions, grievances, talks, agreement offers, public commitments and mediation requests; moves
    aimed at one's own partner: pressure to stand down, and talks brokered with its adversary
    (``resolve_kernel.commitments``)."""
    R, A = len(st.keys), spec.n_actors
    k, acts, day = spec.constants, spec.actions, st.day(spec)
    um = rng.draw(st.keys, st.turn, Stream.MEDIATE, A)
    # the arrays the steps used to replace are replaced, not changed under a caller that kept them
    st.talks, st.offers, st.frustration = st.talks.copy(), st.offers.copy(), st.frustration.copy()
    resolve_kernel.commitments(
        mv.act, mv.target, um, np.float32(spec.dt), float(spec.dt), day + k.response_days,
        (float(k.talk_days), float(k.offer_days), float(k.grievance_relief)), float(spec.scenario.parameters.mediation),
        acts.target_kind, acts.relief, acts.concession, acts.agreement, acts.talks, acts.commitment, acts.mediation,
        acts.restraint, acts.broker, spec.dyads.adversary, spec.behaviour.grievance_rate, st.H, np.zeros((R, A), bool),
        st.conceded, st.captive, st.talks, st.offers, st.committed, st.mediation, st.mediated, st.taken,
        st.restrained, st.restrained_until, st.frustration)


def track(spec: Spec, st: State, mv: Move) -> None:
    """Levels, the crisis peak, firebreaks crossed, peak MID and ICB levels, first use of force."""
    t = st.turn
    st.level = mv.realised
    turn_max = mv.realised.max(axis=1)
    _first_crossings(spec, st, mv, turn_max)
    st.crisis = np.maximum(st.crisis, turn_max)
    st.crossed = spec.ladder.unit[st.crisis]
    # only a threshold the actor chose (or was scripted) to cross stops restraining it: an accident or a slip
    # does not erase its own firebreak
    deliberate = np.where(mv.slip | mv.accident, mv.intended, mv.realised)
    st.own_crossed = np.maximum(st.own_crossed, spec.ladder.unit[deliberate])
    rr, ar = np.arange(len(st.keys))[:, None], np.arange(spec.n_actors)[None, :]
    chosen = ~mv.forced & (mv.opt != spec.options.hold[None, :])
    st.last_used[rr, ar, mv.opt] = np.where(chosen, st.day(spec), st.last_used[rr, ar, mv.opt])
    st.peak_mid = np.maximum(st.peak_mid, mv.mid.max(axis=1)).astype(np.int8)
    st.peak_viol = np.maximum(st.peak_viol, mv.viol.max(axis=1)).astype(np.int8)
    force = turn_max >= spec.catalogue.threshold(Threshold.FORCE)
    st.first_force = np.where((st.first_force < 0) & force, t, st.first_force).astype(np.int16)
    st.hist[:, t] = turn_max
    st.forced[:] = -1
    st.forced_tgt[:] = -1


def _how(spec: Spec, mv: Move, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Per run, how a threshold was reached this turn and by whom: a choice, a script, a slip or an accident
    (in that order when several actors reached it at once)."""
    at = mv.realised >= threshold
    intended = mv.intended >= threshold
    kinds = ((Cause.CHOSEN, at & intended & ~mv.forced & ~mv.accident),
             (Cause.SCRIPTED, at & intended & mv.forced),
             (Cause.SLIP, at & ~intended & mv.slip & ~mv.accident),
             (Cause.ACCIDENT, at & mv.accident))
    cause = np.zeros(at.shape[0], np.int8)
    actor = -np.ones(at.shape[0], np.int8)
    for kind, who in reversed(kinds):
        any_ = who.any(axis=1)
        cause = np.where(any_, kind, cause)
        actor = np.where(any_, np.argmax(who, axis=1), actor)
    return cause, actor


def _first_crossings(spec: Spec, st: State, mv: Move, turn_max: np.ndarray) -> None:
    """Record how the crisis first reached the use of force, and major war."""
    for threshold, cause, actor in ((Threshold.FORCE, st.first_force_cause, st.first_force_actor),
                                    (Threshold.WAR, st.war_cause, st.war_actor)):
        rung = spec.catalogue.threshold(threshold)
        new = (turn_max >= rung) & (st.crisis < rung)
        if new.any():
            c, a = _how(spec, mv, rung)
            cause[new], actor[new] = c[new], a[new]
            if threshold == Threshold.WAR:
                rr = np.flatnonzero(new)
                st.war_target[rr] = mv.target[rr, np.maximum(a[rr], 0)]


def terminate(spec: Spec, st: State, mv: Move) -> None:
    """A run ends at the turn limit, when calm has lasted, by agreement, or in war or nuclear use."""
    cat, t = spec.catalogue, st.turn
    turn_max = mv.realised.max(axis=1)
    # held personnel keep a crisis open: it cannot fade while one side holds the other's people
    calm = (turn_max <= cat.threshold(Threshold.CALM_CEILING)) & ~st.captive.any(axis=(1, 2))
    st.calm = np.where(calm, st.calm + spec.dt, 0.0).astype(np.float32)
    # settled: an agreement offer between adversaries met by an offer from the other side within its window
    agreed = ((st.offers > 0) & (st.offers.transpose(0, 2, 1) > 0) & spec.dyads.adversary[None]).any(axis=(1, 2))
    end = np.zeros(len(st.keys), np.int8)
    end[t >= spec.steps] = EndReason.TIME_LIMIT
    end[st.calm >= spec.constants.calm_days - 1e-6] = EndReason.FADED
    end[agreed] = EndReason.AGREEMENT
    end[turn_max >= cat.threshold(Threshold.WAR)] = EndReason.MAJOR_WAR
    end[turn_max >= cat.threshold(Threshold.NUCLEAR)] = EndReason.NUCLEAR_USE
    st.end = end
    st.end_turn = np.where(end > 0, t, st.end_turn).astype(np.int16)
