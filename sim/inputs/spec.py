"""The compiled scenario: frozen, typed tables of everything that does not change during a run.

``sim.inputs.compile`` builds a :class:`Spec` once per condition; the rules in ``sim.engine``
only read it. Arrays are indexed by actor ``a`` (scenario order), option ``k`` (per actor, see
:class:`OptionTable`), catalogue action ``n``, rung ``r``, ladder unit ``u``, channel ``c`` and
encounter ``e``. Every array is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from sim.inputs.catalogue import Catalogue
from sim.inputs.condition import Applied
from sim.inputs.schema import Baseline, Inject, Posture, ScenarioFile


class _Frozen:
    """Marks every array field read-only once the table is built."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v.setflags(write=False)


@dataclass(frozen=True)
class LadderTable(_Frozen):
    """Per rung ``r``: the ladder as the rules use it."""

    esc: np.ndarray  # (r,) escalation value: 0 at the baseline rung, 1 at the top, negative below
    cost: np.ndarray  # (r,) material and reputational cost of acting at the rung
    friction: np.ndarray  # (r,) chance a move is realised one rung higher (accident)
    unit: np.ndarray  # (r,) ladder unit of the rung
    min_mid: np.ndarray  # (r,) lowest MID hostility of a move carried into the rung's unit
    firebreaks: np.ndarray  # (u, u) salience crossed going from unit [from] to unit [to]


@dataclass(frozen=True)
class ActionTable(_Frozen):
    """Per catalogue action ``n``: its codes and effects."""

    rung: np.ndarray
    mid: np.ndarray  # COW MID hostility level
    viol: np.ndarray  # ICB violence level
    relation: np.ndarray
    relief: np.ndarray
    provocation: np.ndarray
    channel: np.ndarray  # sim.names.ChannelEffect
    concession: np.ndarray
    commitment: np.ndarray
    agreement: np.ndarray
    talks: np.ndarray
    encounter: np.ndarray  # sim.names.EncounterDomain
    mediation: np.ndarray
    target_kind: np.ndarray  # sim.names.TargetKind
    restraint: np.ndarray  # raises the target partner's escalation cost
    broker: np.ndarray  # opens talks between the target partner and its main adversary
    unit: np.ndarray  # the ladder unit whose firebreak the move crosses (its rung's unless it names a lower one)
    detain: np.ndarray  # holds the target's personnel or assets until an offer returns them


@dataclass(frozen=True)
class OptionTable(_Frozen):
    """Per actor ``a`` and option ``k``: the admissible moves (static preconditions applied).

    Rows are padded to the longest list; ``valid`` marks real options, ``action`` is -1 elsewhere.
    """

    action: np.ndarray  # (a, k) catalogue action index
    valid: np.ndarray
    esc: np.ndarray
    cost: np.ndarray
    deesc: np.ndarray  # cooperative move (at or below the cooperative ceiling)
    channel: np.ndarray  # uses a channel, a forum, talks or mediation
    econ: np.ndarray
    support: np.ndarray
    affinity: np.ndarray
    prior: np.ndarray  # log share of the rung's prior mass (repertoire weights within the rung)
    interval: np.ndarray  # days the option rests after a use (0: none)
    settle: np.ndarray  # an offer to settle with the adversary (what the pressure to settle favours)
    concede: np.ndarray  # yields on the issue (gives up what is at stake)
    force: np.ndarray  # a use of force (at or above the force threshold)
    war: np.ndarray  # major war or above (deterrence applies; needs a fight already under way)
    target_kind: np.ndarray
    req_channel: np.ndarray  # -1, or the sim.names.ChannelStatus the channel to the target must have
    req_crisis: np.ndarray  # -1, or the rung the crisis must have reached
    req_own: np.ndarray  # -1, or the rung the actor must stand at
    req_talks: np.ndarray
    multilateral: np.ndarray
    firebreak: np.ndarray  # (u, a, k) firebreak salience crossed from unit u
    unit: np.ndarray  # (a, k) the ladder unit whose firebreak the option crosses (ActionTable.unit)
    hold: np.ndarray  # (a,) the option index of "hold"


@dataclass(frozen=True)
class BehaviourTable(_Frozen):
    """Per actor: the posture numbers the decision terms use."""

    weights: np.ndarray  # (a, terms) weight of each sim.names.WEIGHTED_TERMS term
    tau: np.ndarray  # (a,) choice temperature
    stakes: np.ndarray
    pressure: np.ndarray
    election: np.ndarray
    election_sens: np.ndarray
    stress_sens: np.ndarray
    entrap_fear: np.ndarray
    aband_fear: np.ndarray
    interdependence: np.ndarray  # (a, a)
    red_lines: np.ndarray  # (a, offender, n) threat jump when the offender takes action n (or, past the actions, is
    #                       blamed for incident n - len(actions): Catalogue.trigger_index)
    grievance_rate: np.ndarray  # per day
    nuclear: np.ndarray  # (a,) holds nuclear weapons in the scenario's year
    deterrent: np.ndarray  # (a,) nuclear-armed, or under a present nuclear ally's commitment
    principal: np.ndarray  # (a,) a party to the issue: only its concession is a coercive gain


@dataclass(frozen=True)
class ResponseTable(_Frozen):
    """Declared answers to red lines: when offender ``by[l]`` takes ``action[l]``, ``actor[l]`` owes one of
    the options in ``options[l]`` (credibility)."""

    actor: np.ndarray  # (l,)
    by: np.ndarray  # (l,)
    action: np.ndarray  # (l,) what crosses the line: a catalogue action or an incident (Catalogue.trigger_index)
    options: np.ndarray  # (l, k) the actor's options that answer it
    bits: np.ndarray  # (l,) the same as a bit mask over options (uint64)


@dataclass(frozen=True)
class DyadTable(_Frozen):
    """Who is whose adversary and ally."""

    adversary: np.ndarray  # (a, a) symmetric
    commitment: np.ndarray  # (a, ally) alliance commitment
    camp: np.ndarray  # (a,) 0: the US and its allies, 1: the others (carries the US-China frame)


@dataclass(frozen=True)
class ChannelTable(_Frozen):
    """Per channel ``c`` present in the scenario (at least two parties), and per actor pair."""

    ids: tuple[str, ...]
    bilateral: np.ndarray  # (a, a, width) channels between a pair, hotlines first, -1 padded
    forums: np.ndarray  # (a, a, width) multilateral forums between a pair
    party: np.ndarray  # (c, a)
    status0: np.ndarray  # (c,) sim.names.ChannelStatus at the start
    logit: np.ndarray  # (c,) log-odds of an answer in a neutral climate
    climate: np.ndarray
    provocation: np.ndarray
    clarity: np.ndarray
    suspend_on: np.ndarray  # (c, n) actions that make the offended party suspend the channel


@dataclass(frozen=True)
class EncounterTable(_Frozen):
    """Per encounter ``e``: routine contact between two sides' units."""

    p: np.ndarray
    q: np.ndarray
    domain: np.ndarray
    rate: np.ndarray  # chance of an encounter per day at baseline activity
    unsafe: np.ndarray
    collision: np.ndarray
    casualties: np.ndarray
    covered: np.ndarray  # the encounter rules (CUES, MOU) cover these units


@dataclass(frozen=True)
class WorldTable(_Frozen):
    """The initial world."""

    hostility: np.ndarray  # (a, b) how threatening a finds b
    relation: np.ndarray  # (a, b) relationship climate, symmetric
    level: np.ndarray  # (a,) initial rung


@dataclass(frozen=True)
class RuleConstants:
    """Numbers the rules use, each from ``actors/baseline.yaml`` (an assumption with its reason) or the
    scenario's parameters; nothing behavioural is a bare constant in the code."""

    dt: float  # days per engine step: a day, or the turn if turns are shorter than a day
    steps_per_turn: int  # engine steps in one scenario turn (a workshop move)
    talk_days: float  # days talks stay open
    offer_days: float  # days an agreement offer stays open (parameters.agreement_days)
    calm_days: float  # consecutive days with threat back at its pre-crisis level: the crisis has ended
    calm_band: float  # how far above its pre-crisis level a threat still counts as back at its norm
    response_days: float  # days a crossed red line or a blow received calls for an answer
    fatigue_days: float  # days after which the pressure to settle is at full weight
    decay: float  # share of perceived threat that fades in one turn (from the per-day rate)
    misread_up: float  # share of misreadings that are upward
    refusal_signal: float
    incident_shock: float
    deliberate_read: float
    hostility_gain: float
    ally_spillover: float
    unsafe_pressure: float
    responder_share: float
    clarity_decay: float  # per day
    grievance_relief: float
    credibility_floor: float
    captive_restraint: float
    captive_pressure: float


@dataclass(frozen=True)
class CondNode:
    """A compiled inject condition (see schema.Condition)."""

    kind: str
    args: tuple = ()
    children: tuple[CondNode, ...] = ()


@dataclass(frozen=True)
class CInject:
    """A compiled inject with indices resolved."""

    index: int
    source: Inject
    kind: str
    turn: int | None  # the turn a scheduled inject falls due (from its turn or its day)
    cond: CondNode | None
    probability: float
    hostility: tuple[tuple[int, int, float], ...]
    relation: tuple[tuple[int, int, float], ...]
    stakes: tuple[tuple[int, float], ...]
    channels: tuple[tuple[int, int], ...]
    stress: float | None
    flags: tuple[int, ...]
    affinity: tuple[tuple[int, int, float], ...]  # actor, option index, delta
    talks: tuple[tuple[int, int], ...]
    force: tuple[int, int, int] | None  # actor, option index, target (-1 = rule)
    collision: tuple[int, int] | None = None  # blamed side, victim (effects.collision)


@dataclass(frozen=True, eq=False)
class Spec:
    """Everything static about one compiled condition."""

    scenario: ScenarioFile
    path: str
    catalogue: Catalogue
    postures: dict[str, Posture]
    baseline: Baseline
    actor_ids: tuple[str, ...]
    turns: int
    hours: float
    ladder: LadderTable
    actions: ActionTable
    options: OptionTable
    behaviour: BehaviourTable
    dyads: DyadTable
    channels: ChannelTable
    encounters: EncounterTable
    world: WorldTable
    responses: ResponseTable
    constants: RuleConstants
    injects: tuple[CInject, ...]
    flags: tuple[str, ...]
    content_hash: str
    file_hashes: dict[str, str] = field(default_factory=dict)
    applied: Applied = field(default_factory=Applied)
    notes: tuple[str, ...] = ()  # deprecations and other things the user should hear once

    @property
    def dt(self) -> float:
        """Days per engine step: the rules step a day at a time whatever the turn length, so results do
        not depend on it (turns shorter than a day step at their own length)."""
        return self.constants.dt

    @property
    def steps(self) -> int:
        """Engine steps to the scenario's horizon (its turns times the steps in a turn)."""
        return self.turns * self.constants.steps_per_turn

    @property
    def turn_days(self) -> float:
        return self.hours / 24.0

    @property
    def n_actors(self) -> int:
        return len(self.actor_ids)

    @property
    def channel_ids(self) -> tuple[str, ...]:
        return self.channels.ids

    @property
    def has_affinity_shift(self) -> bool:
        """Some inject shifts an actor's preference for an action (the state then carries shifts)."""
        return any(inj.affinity for inj in self.injects)

    def actor_index(self, actor: str) -> int:
        return self.actor_ids.index(actor)
