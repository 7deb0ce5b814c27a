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
from sim.engine.channels import answer_prob
from sim.engine.state import Decision, State, TurnRecord
from sim.inputs.spec import Spec
from sim.names import (
    INCIDENTS,
    Incident,
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
    moved: np.ndarray  # (R, A) the move's own rung (friction included), before a collision raised the responsible
    # side's level: what the move's target and the observers read, so a third party aimed at is not hit by it
    struck: np.ndarray  # (R, A) the victim of a collision this turn (attacked, though no move was aimed at it)
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
    """Friction (Payne-style accidents): a move may be realised one rung higher than chosen
    (``resolve_kernel.realise``)."""
    R, A = len(st.keys), spec.n_actors
    u = rng.draw(st.keys, st.turn, Stream.FRICTION, A)
    act, intended, realised, mid, viol, up = resolve_kernel.realise(
        np.ascontiguousarray(dec.opt, np.int64), u, spec.options.action, spec.actions.rung, spec.ladder.friction,
        spec.actions.mid, spec.ladder.min_mid, spec.actions.viol, len(spec.ladder.esc) - 1)
    return Move(opt=dec.opt, act=act, target=dec.target, forced=dec.forced, slip=up, accident=np.zeros((R, A), bool),
                intended=intended, realised=realised, mid=mid, viol=viol,
                incident=np.zeros((R, A), bool), answered=-np.ones((R, A), np.int8), moved=realised.copy(),
                struck=np.zeros((R, A), bool))


def encounters(spec: Spec, st: State, mv: Move) -> None:
    """Routine contact between units, more frequent when either side is active in the domain, can turn
    unsafe (less so under the encounter rules) and into a collision the responsible side is blamed for:
    a use of force by the responsible side, which the victim reads as deliberate unless a channel has
    clarified intent (``resolve_kernel.encounters``). It raises the responsible side's level (the crisis
    reached the use of force, by accident), not its move: whoever the move was aimed at reads the move,
    and only the victim is struck (``Move.moved``, ``Move.struck``)."""
    enc, E = spec.encounters, len(spec.encounters.rate)
    if not E:
        return
    R, k = len(st.keys), spec.constants
    u = rng.draw(st.keys, st.turn, Stream.ENCOUNTER, _ENCOUNTER_LANES * E).reshape(R, E, _ENCOUNTER_LANES)
    # the chance of contact this turn with 0, 1 or 2 sides active in the encounter's domain
    daily = np.minimum(1.0, enc.rate[:, None] * np.array([1.0, 2.0, 3.0]))
    occur = np.ascontiguousarray(1.0 - (1.0 - daily) ** spec.dt)
    rules = 1.0 - spec.scenario.parameters.encounter_rules * enc.covered.astype(float)
    resolve_kernel.encounters(
        mv.act, mv.realised, mv.mid, mv.viol, mv.incident, mv.accident, mv.struck, u, enc.p, enc.q, enc.domain, occur,
        enc.unsafe.astype(float), rules, enc.collision.astype(float), enc.casualties.astype(float),
        spec.actions.encounter, (spec.catalogue.threshold(Threshold.GREY), spec.catalogue.threshold(Threshold.FORCE)),
        (float(k.unsafe_pressure), float(k.incident_shock), float(k.deliberate_read), float(k.responder_share),
         _TOSS_UP),
        st.H, st.clarity, st.incidents, st.casualties, st.turn, when(spec, st), collision_trigger(spec),
        spec.behaviour.red_lines, blows(st), lines(spec))


def when(spec: Spec, st: State) -> tuple:
    """Today (float32, as the state compares it) and the day a blow received today calls for an answer until."""
    day = st.day(spec)
    return np.float32(day), np.float32(day + spec.constants.response_days)


def collision_trigger(spec: Spec) -> int:
    """The collision's trigger index in the red-line tables (``Catalogue.trigger_index``)."""
    return len(spec.catalogue.actions) + INCIDENTS.index(Incident.COLLISION)


def blows(st: State) -> tuple:
    """The state a blow received writes (``resolve_kernel.blame``)."""
    return st.wronged, st.wronged_until, st.owed, st.owed_until, st.last_hostile, st.last_hostile_turn


def lines(spec: Spec) -> tuple:
    """The declared answers to red lines, as ``resolve_kernel.blame`` reads them."""
    rt = spec.responses
    return rt.actor, rt.by, rt.action, rt.bits


def channels(spec: Spec, st: State, mv: Move) -> None:
    """Calls and forums (answered or not), suspensions and restorations, actor by actor
    (``resolve_kernel.channel_moves``). An actor calls its target on the best open channel (or forum)
    between them; an answered call is an off-ramp that opens a window of talks, a refused one a signal.
    (A party offended by one of a channel's ``suspend_on`` actions owes itself a suspension: a choice,
    see compile.build_responses.)"""
    A, ch = spec.n_actors, spec.channels
    clarity = st.clarity * spec.constants.clarity_decay ** spec.dt
    ua = rng.draw(st.keys, st.turn, Stream.ANSWER, A)
    effect = spec.actions.channel[mv.act]
    target = np.ascontiguousarray(mv.target, np.int64)
    for a in np.flatnonzero((effect > 0).any(axis=0)):
        rows, b = np.array([a]), np.ascontiguousarray(np.maximum(target[:, a:a + 1], 0))
        p_bi, p_fo = (answer_prob(spec, st, rows, b, table) for table in (ch.bilateral, ch.forums))
        resolve_kernel.channel_moves(int(a), effect, target, p_bi, p_fo, ua, ch.bilateral, ch.forums, ch.clarity,
                                     (float(spec.constants.refusal_signal), float(spec.constants.talk_days)),
                                     st.ch_status, st.tried, st.answered, mv.answered, clarity, st.H, st.talks)
    st.clarity = clarity


def perceive(spec: Spec, st: State, mv: Move) -> None:
    """Each observer reads each move one rung off with probability fog x (1 - clarity)
    (``resolve_kernel.perceive``)."""
    R, A = len(st.keys), spec.n_actors
    u1 = rng.draw(st.keys, st.turn, Stream.PERCEIVE, A * A).reshape(R, A, A)
    u2 = rng.draw(st.keys, st.turn, Stream.PERCEIVE_DIR, A * A).reshape(R, A, A)
    st.perc, mv.perceived = resolve_kernel.perceive(
        mv.moved, np.ascontiguousarray(mv.target, np.int64), u1, u2, float(spec.scenario.parameters.fog),
        float(spec.constants.misread_up), len(spec.ladder.esc) - 1, st.clarity)


def hostility(spec: Spec, st: State, mv: Move) -> None:
    """Perceived threat decays, then follows each target's reading of the move against it (and its
    allies' readings, scaled by commitment), plus provocations and red lines; a hostile move is remembered
    as a blow that calls for an answer (and a crossed red line owes the declared answer); relief and
    reassurance lower threat; relations move with each action's relation effect (``resolve_kernel.hostility``)."""
    k, acts, cat, rt = spec.constants, spec.actions, spec.catalogue, spec.responses
    st.attacked = np.zeros((len(st.keys), spec.n_actors), bool)
    day = st.day(spec)
    resolve_kernel.hostility(
        mv.act, mv.target, mv.moved, st.perc, st.level, st.turn, np.float32(day), day + k.response_days,
        (float(k.decay), float(k.hostility_gain), float(k.ally_spillover)),
        (cat.threshold(Threshold.BASELINE), cat.threshold(Threshold.FORCE)),
        spec.ladder.esc, acts.target_kind, acts.relief, acts.provocation, acts.relation, acts.detain,
        spec.dyads.commitment, spec.behaviour.red_lines, spec.dyads.adversary, st.H, st.rel, st.attacked,
        mv.struck, st.wronged,
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
    """Levels, how the crisis first reached the use of force and major war (a choice, a script, a slip or an
    accident, in that order when several actors reached it at once, and by whom), the crisis peak,
    firebreaks crossed, peak MID and ICB levels, first use of force (``resolve_kernel.track``)."""
    cat = spec.catalogue
    st.level = mv.realised
    # replaced, not changed under a caller that kept them (as the NumPy steps did)
    for name in ("crisis", "crossed", "own_crossed", "peak_mid", "peak_viol", "first_force"):
        setattr(st, name, getattr(st, name).copy())
    # only a threshold the actor chose (or was scripted) to cross stops restraining it: an accident or a slip
    # does not erase its own firebreak
    resolve_kernel.track(
        st.turn, st.day(spec), mv.realised, mv.intended, np.ascontiguousarray(mv.forced), mv.slip, mv.accident,
        np.ascontiguousarray(mv.opt, np.int64), mv.mid, spec.actions.mid[mv.act], mv.viol,
        np.ascontiguousarray(mv.target, np.int64),
        spec.options.hold, spec.ladder.unit, spec.options.unit, cat.threshold(Threshold.WAR),
        st.crisis, st.crossed, st.own_crossed, st.last_used, st.peak_mid, st.peak_viol, st.first_force, st.hist,
        st.first_force_cause, st.first_force_actor, st.war_cause, st.war_actor, st.war_target)
    st.forced[:] = -1
    st.forced_tgt[:] = -1


def terminate(spec: Spec, st: State, mv: Move) -> None:
    """A run ends at the turn limit; when every actor's threat from its adversaries has been back within
    ``calm_band`` of its pre-crisis level for ``calm_days`` (ICB's termination: threat perception returns to its
    norm; held personnel keep a crisis open: it cannot fade while one side holds the other's people); by agreement (an
    offer between adversaries met by an offer from the other side within its window); or in war or nuclear
    use (``resolve_kernel.terminate``)."""
    cat = spec.catalogue
    st.calm, st.end, st.end_turn = st.calm.copy(), np.zeros(len(st.keys), np.int8), st.end_turn.copy()
    resolve_kernel.terminate(
        st.turn, spec.steps, mv.realised, st.captive, st.offers, spec.dyads.adversary, st.H,
        spec.world.hostility + spec.constants.calm_band,
        (cat.threshold(Threshold.WAR), cat.threshold(Threshold.NUCLEAR)),
        np.float32(spec.dt), np.float32(spec.constants.calm_days - 1e-6), st.calm, st.end, st.end_turn)
