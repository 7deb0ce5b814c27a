"""Typed schemas for every data file the engine reads.

These pydantic models are the single definition of what a valid ladder, action
catalogue, channel table, posture or scenario is. The JSON Schemas published in
``schemas/`` are generated from them (``run_sim.py schema``), so editors and the
loader agree. Unknown keys are errors everywhere (``extra="forbid"``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.experiments.measures import MEASURE_NAMES
from sim.inputs.paths import SAFE_NAME
from sim.names import (
    ACTION_CATEGORIES,
    ACTOR_IDS,
    CHANNEL_KINDS,
    ENCOUNTER_UNITS,
    FLASHPOINTS,
    INCIDENTS,
    OUTCOMES,
    TERM_NAMES,
    WEIGHTED_TERMS,
    Threshold,
)

ActorId = Literal[ACTOR_IDS]
Flashpoint = Literal[FLASHPOINTS]
Term = Literal[WEIGHTED_TERMS]
ThresholdName = Literal[tuple(t.value for t in Threshold)]
MeasureName = Literal[MEASURE_NAMES]  # a lever's or a claim's measure: any in the registry

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Signed = Annotated[float, Field(ge=-1.0, le=1.0)]
MAX_TURNS = 500
MAX_DAYS = 5_000
MAX_INJECTS = 500


class Strict(BaseModel):
    """Base for every schema: unknown keys are errors, values are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --------------------------------------------------------------------------- ladder


class LadderUnit(Strict):
    """A group of rungs; the boundary below each unit but the first is a firebreak."""

    id: str
    label: str
    firebreak: str | None = Field(
        None, description="Name of the threshold crossed on entering this unit (Kahn-style)."
    )
    salience: float = Field(0.0, ge=0.0, le=10.0, description="Resistance to crossing it the first time.")
    min_mid: int = Field(1, ge=1, le=5, description="Lowest MID hostility a move carried into this unit implies.")
    habit_per_year: float = Field(
        12.0, gt=0.0, le=365.0,
        description="Default pace of an actor's moves in this unit, a year, where its repertoire gives no "
                    "per_year: the odds of such a move against holding on a day when nothing favours either.",
    )


class Rung(Strict):
    """One ordinal rung of the engine ladder, with its codes on the published scales."""

    id: str
    label: str
    unit: str
    kahn: list[int] = Field(description="Kahn (1965) rung or [low, high] range this rung covers.")
    score_category: str = Field(description="Engine escalation-score category (Rivera-style points).")
    cost: Unit = Field(description="Material and reputational cost of acting at this rung (0..1).")
    friction: Unit = Field(
        0.0, description="Probability that an action at this rung is realised one rung higher (accident)."
    )
    notes: str = ""


class ScoreCategory(Strict):
    id: str
    points: float
    source: str


class Ladder(Strict):
    """The escalation ladder: ordered rungs from accommodation to nuclear use."""

    units: list[LadderUnit]
    score_categories: list[ScoreCategory]
    rungs: list[Rung]
    disagreements: list[str] = Field(
        default_factory=list, description="Where Kahn, MID and ICB legitimately disagree."
    )
    thresholds: dict[ThresholdName, str] = Field(description="Rungs with a meaning in the rules, by name.")

    @model_validator(mode="before")
    @classmethod
    def _retired_thresholds(cls, data: Any) -> Any:
        """Older ladders named a ``calm_ceiling`` (a calm day was one at or below it); a crisis now ends when
        threat perception is back at its pre-crisis level (MODEL.md 3.5), so the key is dropped on loading."""
        if isinstance(data, dict) and isinstance(data.get("thresholds"), dict) and "calm_ceiling" in data["thresholds"]:
            data = {**data, "thresholds": {k: v for k, v in data["thresholds"].items() if k != "calm_ceiling"}}
        return data

    @model_validator(mode="after")
    def _thresholds(self) -> Ladder:
        missing = [t.value for t in Threshold if t not in self.thresholds]
        if missing:
            raise ValueError(f"thresholds missing: {', '.join(missing)}")
        return self


# --------------------------------------------------------------------------- actions


class ActionPreconditions(Strict):
    """Which actor may take the action, against whom, where, and from which state."""

    actors: list[ActorId] | None = Field(None, description="Allowed actors; null means any.")
    flashpoints: list[Flashpoint] | None = Field(None, description="Allowed flashpoints; null means any.")
    capability: str | None = Field(None, description="Capability the actor's posture must list.")
    channel: Literal["open", "suspended"] | None = Field(
        None, description="Status the channel to the target must have."
    )
    min_crisis_rung: str | None = Field(
        None, description="The crisis (anyone) must already have reached this rung."
    )
    min_own_rung: str | None = Field(None, description="The actor itself must already stand at this rung.")
    talks_with_target: bool = Field(
        False, description="Talks with the target must have been proposed or held in the last turns."
    )


class ActionEffects(Strict):
    """State changes beyond the ladder-derived hostility signal."""

    relation: Signed = Field(0.0, description="Persistent change to the dyad's relationship climate.")
    relief: Unit = Field(0.0, description="Reduction of the target's perceived threat from the actor.")
    provocation: Unit = Field(
        0.0, description="Extra perceived threat for the target beyond the rung's hostility (sovereignty acts)."
    )
    channel: Literal["use", "suspend", "restore", "multilateral"] | None = None
    concession: bool = Field(False, description="The actor yields on the issue at stake.")
    commitment: bool = Field(False, description="A public commitment that engages audience costs.")
    agreement: bool = Field(False, description="Counts toward a negotiated settlement when reciprocated.")
    talks: bool = Field(False, description="Opens or continues talks with the target.")
    encounter: Literal["air", "sea", "land"] | None = Field(
        None, description="Puts units in contact with the target's forces (raises encounter risk)."
    )
    mediation: bool = Field(False, description="Seeks a third-party mediator (succeeds with parameters.mediation).")
    restraint: Unit = Field(0.0, description="Raises the target partner's cost of escalating, for response_days.")
    broker: bool = Field(False, description="Opens talks between the target partner and its main adversary.")
    detain: bool = Field(False, description="Holds the target's personnel or assets until an offer from the actor "
                                            "returns them (a seizure, an arrest, an occupied feature).")

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data):
        if isinstance(data, dict) and "casualties" in data:
            raise ValueError("'casualties' was removed: it never had an effect (casualties come from encounter "
                             "collisions, see scenario encounters); delete the field")
        return data


class Action(Strict):
    """One entry of the action catalogue, coded on every scale at once."""

    id: str
    label: str
    category: Literal[ACTION_CATEGORIES]
    rung: str
    target: Literal["adversary", "ally", "none"]
    mid_action: int = Field(ge=0, le=21, description="COW MID 5.0 action code (0-21).")
    mid_hostility: int = Field(ge=1, le=5, description="COW MID hostility level implied (1-5).")
    icb_trigger: int | None = Field(None, ge=1, le=9, description="ICB trigger type for the target (1-9).")
    icb_crismg: int = Field(ge=1, le=8, description="ICB crisis-management technique for the actor (1-8).")
    icb_viol: int = Field(ge=1, le=4, description="ICB violence level implied (1 none .. 4 war).")
    rivera_category: str | None = Field(
        None, description="Rivera et al. (2024) chart category, where one exists."
    )
    econ_disruption: Unit = Field(0.0, description="Damage to economic ties with the target (0..1).")
    support: bool = Field(False, description="A deterrent or reassuring move on behalf of an ally.")
    scale_notes: str = ""
    firebreak_unit: str | None = Field(
        None, description="The ladder unit whose firebreak the move crosses in its actor's eyes, where that is "
        "lower than its rung's unit (a coast guard or militia acting under domestic law crosses no threshold of "
        "militarisation or of the use of force, though MID codes the act by what it did). Absent: its rung's unit.")
    firebreak_basis: str | None = Field(None, description="Why the move crosses a lower firebreak (required "
                                                          "with firebreak_unit).")
    requires: ActionPreconditions = ActionPreconditions()
    effects: ActionEffects = ActionEffects()

    @model_validator(mode="after")
    def _firebreak_basis(self) -> Action:
        if self.firebreak_unit is not None and not (self.firebreak_basis or "").strip():
            raise ValueError("firebreak_unit needs a firebreak_basis: why the move crosses a lower threshold")
        return self


class ActionCatalogue(Strict):
    actions: list[Action]


# --------------------------------------------------------------------------- channels


class Channel(Strict):
    """A real crisis-management mechanism, modelled as a lever, not a guaranteed de-escalator."""

    id: str
    label: str
    kind: Literal[CHANNEL_KINDS]
    parties: list[ActorId] = Field(min_length=2)
    status: Literal["open", "suspended", "not_operational"]
    base_answer: Unit = Field(description="Probability a call is answered in a neutral climate.")
    climate_sensitivity: float = Field(ge=0.0, le=10.0)
    provocation_sensitivity: float = Field(ge=0.0, le=10.0)
    clarity: Unit = Field(description="Share of misperception removed when the channel is answered.")
    suspend_on: list[str] = Field(
        default_factory=list, description="Action ids that make the offended party suspend the channel."
    )
    notes: str = ""

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data):
        if isinstance(data, dict) and "naval_only" in data:
            raise ValueError("'naval_only' was removed: it never had an effect (which forces the encounter rules "
                             "cover is sim.names.RULE_COVERED_UNITS, applied to scenario encounters); delete it")
        return data


class ChannelTable(Strict):
    channels: list[Channel]


# --------------------------------------------------------------------------- postures


def check_locator(locator: str) -> None:
    """A locator is at most 15 words copied verbatim from the papers (verbatim is tested)."""
    if len(locator.split()) > 15:
        raise ValueError("locator must be at most 15 words")


class Source(Strict):
    """A passage in the June 2020 NCAFP papers."""

    paper: str = Field(description="Author and title of the paper.")
    locator: str = Field(description="At most 15 words copied verbatim from the passage.")
    implies: str = Field(description="One-line paraphrase of what the passage implies for this value.")
    kind: Literal["describes", "recommends", "accuses"] = Field(
        "describes", description="Whether the passage describes what the state does, recommends what it should do "
        "(then the value belongs in a variant or a lever, not the default posture), or is another side's accusation.")

    @model_validator(mode="after")
    def _short_locator(self) -> Source:
        check_locator(self.locator)
        return self


class Provenanced(Strict):
    """Where a number comes from: a paper passage, the historical record, or a stated assumption."""

    source: Source | None = None
    history: str | None = Field(None, description="The record it rests on, e.g. 'Yeonpyeong 2010 (ICB #462): ...'.")
    assumption: str | None = None

    @model_validator(mode="after")
    def _provenance(self) -> Provenanced:
        if sum(x is not None for x in (self.source, self.history, self.assumption)) != 1:
            raise ValueError("give exactly one of 'source', 'history' or 'assumption'")
        return self


class Value(Provenanced):
    """A behaviour-relevant number with its provenance: a paper passage, history, or a stated assumption."""

    value: float = Field(ge=-10.0, le=10.0)


class Days(Provenanced):
    """A duration in days with its provenance."""

    value: float = Field(ge=0.0, le=3650.0)


class Capability(Strict):
    """A capability with the years it exists (e.g. the DPRK's nuclear weapons from 2006)."""

    id: str
    since: int | None = Field(None, ge=1900, le=2100)
    until: int | None = Field(None, ge=1900, le=2100, description="First year it no longer exists.")
    history: str = ""

    def held_in(self, year: int) -> bool:
        return (self.since is None or self.since <= year) and (self.until is None or year < self.until)


class RepertoireEntry(Provenanced):
    """An action this state does, how its propensity compares within its rung, and how often at most."""

    weight: float = Field(1.0, gt=0.0, le=100.0, description="Relative propensity among the actor's actions "
                          "on the same rung (the rung's prior mass is split in these proportions).")
    per_year: float | None = Field(None, gt=0.0, le=365.0, description="Most uses a year in a crisis period "
                                   "(after a use, the action rests for 365/per_year days).")


class Alliance(Strict):
    ally: ActorId
    commitment: Value
    flashpoints: list[Flashpoint] | None = None


class RedLine(Strict):
    """A counterpart action (or an incident its side is blamed for) that the actor treats as crossing a red line."""

    by: ActorId
    action: str | None = Field(None, description="The catalogue action that crosses the line (or `incident`).")
    incident: Literal[INCIDENTS] | None = Field(
        None, description="An incident the offender's side is blamed for that crosses the line (instead of "
        "`action`): `collision`, from an encounter or a scripted inject (`effects.collision`)."
    )
    flashpoints: list[Flashpoint] | None = Field(
        None, min_length=1, description="Where the line holds (omit it for every flashpoint; an empty list is refused)."
    )
    threat: Value = Field(description="Perceived-threat jump toward the offender when crossed (0..1).")
    description: str
    response: list[str] = Field(default_factory=list, description="Actions the actor has declared, or "
                                "historically taken, in answer: credibility makes them likelier when crossed.")

    model_config = ConfigDict(**Strict.model_config, json_schema_extra={
        "oneOf": [{"required": ["action"]}, {"required": ["incident"]}]})

    @model_validator(mode="after")
    def _one_trigger(self) -> RedLine:
        if (self.action is None) == (self.incident is None):
            raise ValueError("a red line names an 'action' or an 'incident' (one of them)")
        return self

    def holds_at(self, flashpoint: str) -> bool:
        """Whether the line applies in a scenario at ``flashpoint`` (one reading for its threat and its answers)."""
        return self.flashpoints is None or flashpoint in self.flashpoints

    @property
    def trigger(self) -> str:
        """What crosses the line, for logs and documents: the action's or the incident's name."""
        return self.action if self.action is not None else str(self.incident)


class Domestic(Strict):
    pressure: Value = Field(description="Baseline domestic pressure for firmness (0..1).")
    election_sensitivity: Value
    stress_sensitivity: Value = Field(description="How much pandemic/economic stress adds to pressure.")


class Posture(Strict):
    """An actor's posture: the weights of its decision terms and what they rest on."""

    actor: ActorId
    name: str
    summary: str
    as_of: int = Field(2020, ge=1945, le=2100, description="The year the posture describes.")
    capabilities: list[str | Capability]
    temperature: Value | None = Field(None, description="Overrides the baseline choice temperature.")
    weights: dict[Term, Value] = Field(
        default_factory=dict, description="Overrides of the baseline weights where the papers speak."
    )
    stakes: dict[Flashpoint, Value]
    affinity: dict[str, Value] = Field(
        default_factory=dict, description="Preference for action categories or action ids (+ liked, - refused)."
    )
    alliances: list[Alliance] = Field(default_factory=list)
    fears: dict[Literal["entrapment", "abandonment"], Value] = Field(default_factory=dict)
    domestic: Domestic
    interdependence: dict[ActorId, Value] = Field(default_factory=dict)
    red_lines: list[RedLine] = Field(default_factory=list)
    repertoire: dict[str, RepertoireEntry] | None = Field(
        None, description="What this state does: the actions it takes (others it never takes, 'hold' always "
        "allowed), their propensity within a rung and their tempo. Absent: every catalogue action, evenly.")
    variants: dict[str, VariantSpec] = Field(default_factory=dict)

    def capability_ids(self, year: int) -> set[str]:
        """Capabilities held in ``year``."""
        return {c if isinstance(c, str) else c.id for c in self.capabilities
                if isinstance(c, str) or c.held_in(year)}


class Baseline(Strict):
    """Weights shared by every actor unless its posture overrides them (crisis-literature defaults)."""

    description: str
    temperature: Value
    weights: dict[Term, Value]
    grievance_rate: Value = Field(description="Growth per day of an unanswered grievance (0..1).")
    hostility_gain: Value = Field(description="Perceived-threat increment per unit of perceived escalation.")
    ally_spillover: Value = Field(description="Share of an attack on an ally felt as a threat to oneself.")
    frame_spillover: Value = Field(description="Share of the US-China climate carried into cross-camp dyads.")
    talk_days: Days = Field(description="Days talks stay open after an answered call, a proposal or mediation.")
    calm_days: Days = Field(description="Consecutive days with every actor's threat from its adversaries at or below "
                                        "its pre-crisis level after which a crisis has ended (faded or tacitly).")
    calm_band: Value = Field(
        default_factory=lambda: Value(value=0.0, assumption="Not in this (older) baseline file: threat must be back "
                                      "at its pre-crisis level exactly, the rule before the band existed."),
        description="How far above its pre-crisis level a threat perception still counts as back at its norm, "
                    "for the end of a crisis (0..1).")
    response_days: Days = Field(description="Days a crossed red line or a blow received calls for an answer.")
    fatigue_days: Days = Field(description="Days of crisis after which the pressure to settle is at its full weight.")
    misread_up: Value = Field(description="Share of misreadings that see a move as more escalatory than it was.")
    refusal_signal: Value = Field(description="Perceived-threat increment for the caller when a call goes unanswered.")
    incident_shock: Value = Field(description="Perceived-threat increment for the victim of a collision.")
    deliberate_read: Value = Field(description="Further increment when the collision is read as deliberate.")
    unsafe_pressure: Value = Field(description="Extra factor on unsafe encounters while either side applies "
                                   "grey-zone pressure or worse.")
    responder_share: Value = Field(description="Share of the victim's threat jump felt by the side blamed.")
    clarity_decay: Value = Field(description="Share of channel clarity that remains after a day.")
    grievance_relief: Value = Field(description="Share of a grievance left after a relief move answers it.")
    credibility_floor: Value = Field(description="Least weight a crossed red line's declared answer carries.")
    captive_restraint: Value = Field(description="Extra cost of escalating while an adversary holds one's own.")
    captive_pressure: Value = Field(description="Extra pressure to settle while an adversary holds one's own.")

    @model_validator(mode="after")
    def _all_terms(self) -> Baseline:
        missing = [t for t in TERM_NAMES if t != "affinity" and t not in self.weights]
        if missing:
            raise ValueError(f"weights missing terms: {', '.join(missing)}")
        return self


class VariantSpec(Strict):
    """A named posture variant the papers discuss: overrides of posture values."""

    description: str
    source: Source | None = None
    assumption: str | None = None
    weights: dict[Term, Value] = Field(default_factory=dict)
    stakes: dict[Flashpoint, Value] = Field(default_factory=dict)
    affinity: dict[str, Value] = Field(default_factory=dict)
    alliances: list[Alliance] | None = None
    temperature: Value | None = None
    repertoire: dict[str, RepertoireEntry] = Field(
        default_factory=dict, description="Repertoire entries added or replaced (e.g. a faster test tempo).")


Posture.model_rebuild()


# --------------------------------------------------------------------------- scenarios


class Condition(Strict):
    """A declarative state test for conditional injects (nothing is executed)."""

    turn_at_least: int | None = Field(None, ge=0, le=MAX_TURNS)
    day_at_least: float | None = Field(None, ge=0, le=MAX_DAYS)
    crisis_rung_at_least: str | None = None
    actor_rung_at_least: ActorRung | None = None
    action_taken: ActorAction | None = None
    flag: str | None = None
    inject_fired: str | None = Field(None, description="Another inject (by id) has fired.")
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(None, alias="not")

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a condition needs exactly one test")
        return self


class ActorRung(Strict):
    actor: ActorId
    rung: str


class ActorAction(Strict):
    actor: ActorId
    action: str


Condition.model_rebuild()


class DyadValue(Strict):
    a: ActorId
    b: ActorId
    value: float = Field(ge=-1.0, le=1.5)


class InjectEffects(Strict):
    hostility: list[DyadValue] = Field(default_factory=list, description="a perceives b as more threatening.")
    relation: list[DyadValue] = Field(default_factory=list, description="Shift of the a-b climate.")
    stakes: dict[ActorId, Signed] = Field(default_factory=dict)
    channels: dict[str, Literal["open", "suspended"]] = Field(default_factory=dict)
    stress: Unit | None = None
    flags: list[str] = Field(default_factory=list)
    affinity: list[AffinityShift] = Field(
        default_factory=list, description="Lasting change of an actor's preference for an action."
    )
    talks: list[Pair] = Field(default_factory=list, description="Open a window of talks between a and b.")
    force_action: ForcedAction | None = None
    collision: Blame | None = Field(
        None, description="A collision the `by` side is blamed for, by vessels or aircraft its government does "
        "not command (a private trawler): `against` remembers it as a blow at the use of force and owes the "
        "answers its collision red lines declare, as after an encounter collision; no state move is made, so it "
        "carries no MID level. How `against` reads it is the inject's `hostility` effect."
    )


class Blame(Strict):
    by: ActorId
    against: ActorId


class Pair(Strict):
    a: ActorId
    b: ActorId


class AffinityShift(Strict):
    actor: ActorId
    action: str
    delta: float = Field(ge=-5.0, le=5.0)


class ForcedAction(Strict):
    """A scripted move: the actor takes this action this turn instead of deciding."""

    actor: ActorId
    action: str
    target: ActorId | None = None


InjectEffects.model_rebuild()



class Inject(Strict):
    """One MSEL row: a scripted event delivered to players or applied to the world."""

    id: str
    title: str
    text: str = ""
    kind: Literal["scheduled", "conditional", "contingency"]
    turn: int | None = Field(None, ge=0, le=MAX_TURNS, description="Turn a scheduled inject falls due (or `day`).")
    day: float | None = Field(None, ge=0, le=MAX_DAYS, description="Day a scheduled inject falls due: the turn "
                              "that contains it, whatever the turn length.")
    when: Condition | None = None
    probability: Unit = Field(
        1.0, description="Chance the inject fires when it first falls due (drawn once per run, not every turn)."
    )
    to: list[ActorId | Literal["all"]] = Field(default_factory=lambda: ["all"])
    effects: InjectEffects = InjectEffects()
    type: Literal["information", "event", "media", "social_media", "intelligence", "order", "phone",
                  "email"] = "event"
    delivery: Literal["handout", "verbal", "slide", "video", "phone", "email", "console"] = "console"
    originator: str = Field("ExCon", description="Who the inject comes from (simulated or real).")
    objective: str = Field("", description="Exercise objective or capability the inject addresses.")
    controller: str = Field("", description="Responsible controller.")
    location: str | None = Field(None, description="Id of a scenario location (situation board).")
    expected_action: str = ""
    controller_note: str = ""

    @model_validator(mode="after")
    def _trigger(self) -> Inject:
        if self.kind == "scheduled" and (self.turn is None) == (self.day is None):
            raise ValueError("a scheduled inject needs 'turn' or 'day' (one of them)")
        if self.kind == "conditional" and self.when is None:
            raise ValueError("a conditional inject needs 'when'")
        return self


class ScenarioActor(Strict):
    id: ActorId
    posture: str | None = Field(
        None, description="Posture file relative to this scenario file; default actors/<id>.yaml."
    )
    variant: str | None = None
    adversaries: list[ActorId] = Field(default_factory=list)
    initial_rung: str = "status_quo"


class Encounter(Strict):
    """Routine contact between two sides' units that can turn into an accident."""

    id: str
    parties: list[ActorId] = Field(min_length=2, max_length=2)
    domain: Literal["air", "sea", "land"]
    units: Literal[ENCOUNTER_UNITS]
    per_day: Unit | None = Field(None, description="Probability per day of an encounter at baseline activity.")
    rate: Unit | None = Field(None, description="Deprecated: probability per turn (read as per_day with the "
                              "scenario's turn length; `run_sim.py migrate` rewrites it).")
    unsafe: Unit = Field(description="Probability an encounter is unsafe when no rules are followed.")
    collision: Unit = Field(description="Probability an unsafe encounter becomes a collision.")
    casualties: Unit = Field(0.5, description="Probability a collision costs lives.")
    basis: Provenanced | None = Field(None, description="Where the numbers come from: the record of contact "
                                      "accidents in this dyad and domain, or an assumption with its reason "
                                      "(shipped scenarios give one; optional so older files keep working).")

    @model_validator(mode="after")
    def _one_rate(self) -> Encounter:
        if (self.per_day is None) == (self.rate is None):
            raise ValueError("give 'per_day' (or the deprecated per-turn 'rate'), one of them")
        return self


class Parameters(Strict):
    """Global knobs that levers and sweeps set; defaults are the scenario's baseline."""

    us_china_climate: Signed = Field(
        0.0, description="US-PRC relationship frame: +1 partly cooperative .. -1 zero-sum."
    )
    encounter_rules: Unit = Field(0.5, description="Adherence to CUES/MOU encounter rules (0..1).")
    hotline_answer_shift: Signed = Field(0.0, description="Shift of every channel's answer probability.")
    fog: Unit = Field(0.15, description="Baseline probability that a move is misread.")
    stress: Unit = Field(0.3, description="Exogenous stress (pandemic, recession), 0..1.")
    elections: list[ActorId] = Field(default_factory=list, description="Actors in election season.")
    hostility_decay_per_day: Unit = Field(0.15, description="Share of perceived threat that fades in a day "
                                          "without new provocation.")
    hostility_decay: Unit | None = Field(None, description="Deprecated: the same per turn.")
    agreement_days: float = Field(2.0, gt=0, le=365, description="Days an agreement offer stays open for the "
                                  "other side to accept (by an offer of its own or a cooperative move).")
    agreement_turns: int | None = Field(None, ge=1, le=50, description="Deprecated: the same in turns.")
    mediation: Unit = Field(
        0.3, description="Probability that a request for third-party (middle-power) mediation finds a mediator."
    )
    temperature_scale: float = Field(1.0, gt=0.0, le=10.0, description="Sensitivity knob: multiplies every "
                                     "actor's choice temperature (1 = the calibrated postures).")


class Turns(Strict):
    max: int = Field(ge=1, le=MAX_TURNS)
    hours: float = Field(24.0, gt=0, le=24 * 30, description="Scenario time per turn.")

    @property
    def days(self) -> float:
        return self.hours / 24.0


class Issue(Strict):
    """What the crisis is about and who the principals are: only a principal's concession is a coercive gain."""

    parties: list[ActorId] = Field(min_length=2, description="The principals: their concessions settle the issue.")
    label: str = ""


class Citation(Strict):
    """A passage in the papers: author and title, and at most 15 words copied verbatim."""

    paper: str
    locator: str

    @model_validator(mode="after")
    def _short_locator(self) -> Citation:
        check_locator(self.locator)
        return self


class RoleSheet(Strict):
    """What a country team is told: objectives, red lines, constraints, mechanisms."""

    objectives: list[str] = Field(min_length=1)
    red_lines: list[str] = Field(default_factory=list)
    constraints: list[str] = Field(default_factory=list)
    mechanisms: list[str] = Field(default_factory=list)


class Location(Strict):
    id: str
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class LeverSetting(Strict):
    path: str = Field(description="Dotted path into the scenario, or postures.<ACTOR>.<path>.")
    value: bool | int | float | str | list | None


#: How files written before ``Lever.model_disagrees`` recorded a disagreement: a note starting with it.
MODEL_DISAGREES_NOTE = "Model disagrees:"


class Lever(Strict):
    """A policy lever the papers recommend: a named set of changes with the effect they expect."""

    id: str
    label: str
    source: Citation
    set: list[LeverSetting] = Field(min_length=1)
    expect: Literal["lower", "higher"] = Field(description="Expected direction of the measure.")
    measure: MeasureName = "use_of_force"
    model_disagrees: str = Field("", description="Why the model does not show the expected effect (a documented "
                                                 "finding: the lever test checks the model still disagrees).")
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _disagreement_in_note(cls, data: Any) -> Any:
        """Older files put the disagreement in the note, after "Model disagrees:": read it as the field."""
        if isinstance(data, dict) and not data.get("model_disagrees"):
            note = data.get("note")
            if isinstance(note, str) and note.startswith(MODEL_DISAGREES_NOTE):
                return {**data, "model_disagrees": note[len(MODEL_DISAGREES_NOTE):].strip(), "note": ""}
        return data


class ScenarioFile(Strict):
    """A flashpoint scenario: actors, initial world, trigger and injects."""

    id: str = Field(pattern=SAFE_NAME.pattern, description="A plain name (letters, digits, _ and -): default output "
                    "folders are named after it.")
    title: str
    flashpoint: Flashpoint
    summary: str
    briefing: str = ""
    sources: list[Citation] = Field(default_factory=list)
    actors: list[ScenarioActor] = Field(min_length=2)
    turns: Turns
    year: int = Field(2020, ge=1945, le=2100, description="When the scenario is set: capabilities are those held then.")
    issue: Issue | None = Field(None, description="Principals of the issue (default: the actors with stakes "
                                "in the flashpoint who are adversaries of one another).")
    parameters: Parameters = Parameters()
    hostility: list[DyadValue] = Field(default_factory=list)
    relation: list[DyadValue] = Field(default_factory=list)
    channels: dict[str, Literal["open", "suspended", "not_operational"]] = Field(default_factory=dict)
    encounters: list[Encounter] = Field(default_factory=list)
    injects: list[Inject] = Field(default_factory=list, max_length=MAX_INJECTS)
    trigger: str = Field("", description="The event that starts the crisis, in a sentence.")
    roles: dict[ActorId, RoleSheet] = Field(default_factory=dict)
    locations: list[Location] = Field(default_factory=list)
    levers: list[Lever] = Field(default_factory=list)
    overlays: list[str] = Field(default_factory=list, description="Overlays applied by default.")

    @model_validator(mode="after")
    def _references(self) -> ScenarioFile:
        ids = [a.id for a in self.actors]
        if len(set(ids)) != len(ids):
            raise ValueError("an actor is listed twice")
        known = set(ids)
        for a in self.actors:
            for b in a.adversaries:
                if b not in known:
                    raise ValueError(f"actor {a.id} names adversary {b}, which is not in the scenario")
        inj = [i.id for i in self.injects]
        if len(set(inj)) != len(inj):
            raise ValueError("inject ids must be unique")
        for a in self.roles:
            if a not in known:
                raise ValueError(f"role sheet for {a}, which is not in the scenario")
        locs = {loc.id for loc in self.locations}
        for i in self.injects:
            if i.location is not None and i.location not in locs:
                raise ValueError(f"inject {i.id} names unknown location {i.location!r}")
        lev = [lv.id for lv in self.levers]
        if len(set(lev)) != len(lev):
            raise ValueError("lever ids must be unique")
        return self


class Overlay(Strict):
    """A switchable condition any scenario can take on (pandemic stress, election season)."""

    id: str
    label: str
    description: str
    source: Citation
    set: list[LeverSetting] = Field(min_length=1)


# --------------------------------------------------------------------------- validation: claims and cases

#: Descriptive data of the historical-cases format (dates, sequences, per-actor records): read by
#: people, not by the back-test, and written by hand in another project's layout, so kept as written.
Described = Any


class ClaimSetting(Strict):
    """One dotted-path override of a claim arm or a case setup (as ``--set``)."""

    path: str
    value: bool | int | float | str | list | dict | None


class ChangeSet(Strict):
    """Changes to a scenario file: its levers, overlays and dotted-path overrides."""

    levers: list[str] = Field(default_factory=list)
    overlays: list[str] = Field(default_factory=list)
    overrides: list[ClaimSetting] = Field(default_factory=list)

    def pairs(self) -> list[tuple[str, Any]]:
        return [(s.path, s.value) for s in self.overrides]


class Claim(Strict):
    """A claim of the papers as a test: the condition moves the measure in the expected direction."""

    id: str
    claim: int = Field(ge=1, le=25, description="Number of the claim in paper_claims.md section 1.")
    title: str
    source: Citation
    scenario: str = Field(description="Scenario file, relative to the repository root.")
    baseline: ChangeSet = ChangeSet()
    condition: ChangeSet
    measure: MeasureName
    expect: Literal["lower", "higher"]
    construction: Literal["definition", "one_term", "emergent"] | None = Field(
        None, description="Is the direction of the effect fixed before any run? 'definition': the condition "
                    "changes the input the measure counts (e.g. fewer unsafe encounters, incidents measured); "
                    "'one_term': its sign is fixed by a single utility term; 'emergent': it comes from "
                    "interacting mechanisms. Only emergent claims count as evidence. Required in a claims file.")
    construction_note: str = Field("", description="Why the direction is (or is not) fixed by construction.")
    model_disagrees: str = Field("", description="Where the model does not reproduce the claim, and why.")
    note: str = ""

    @model_validator(mode="after")
    def _construction_explained(self) -> Claim:
        if self.construction in ("definition", "one_term") and not self.construction_note.strip():
            raise ValueError(f"construction {self.construction!r} needs a construction_note saying which input "
                             "or term fixes the direction")
        return self

    @property
    def evidence(self) -> bool:
        """Counts as evidence about the model: its direction is not fixed by construction."""
        return self.construction == "emergent"


class NotRepresented(Strict):
    """A claim the model cannot test, and why."""

    claim: int = Field(ge=1, le=25)
    reason: str


class ClaimsFile(Strict):
    """``validation/claims.yaml``: the papers' claims as statistical tests."""

    schema_version: Literal[1]
    runs: int = Field(2000, gt=0, description="Runs per arm: the power calculation's answer "
                                              "(sim.analysis.validation.power_runs), recorded here.")
    seed: int = 0
    alpha: float = Field(0.05, gt=0, lt=1)
    min_effect: float = Field(0.02, gt=0, lt=1, description="Smallest effect on a probability that counts: a "
                              "paired interval wholly inside +-min_effect is 'no effect of practical size'.")
    min_relative: float | None = Field(None, gt=0, lt=1, description="Smallest relative change that counts for a "
                                       "rare outcome: a claim's threshold is min(min_effect, min_relative x P(base)), "
                                       "so below a base rate of min_effect/min_relative a halving can count.")
    power: float = Field(0.9, gt=0.5, lt=1, description="Power of the run-count calculation: at `runs`, a shift "
                         "of min_effect/2 (the distance from the decision boundary) is detected with this power.")
    claims: list[Claim] = Field(min_length=1)
    not_represented: list[NotRepresented] = Field(default_factory=list)

    @model_validator(mode="after")
    def _classified(self) -> ClaimsFile:
        for i, c in enumerate(self.claims):
            if c.construction is None:
                raise ValueError(f"claims.{i} ({c.id}): construction is required (definition, one_term or emergent: "
                                 "is the direction fixed before any run?)")
        return self


class PeakAlternative(Strict):
    """Another defensible coding of a case's peak, for the back-test's coding sensitivity."""

    mid_hostility: int = Field(ge=1, le=5)
    reason: str = Field(min_length=1, description="What would have to be counted for this coding.")


class CasePeak(Strict):
    """The crisis peak as coded: MID hostility (scored) and descriptive codes."""

    mid_hostility: int = Field(ge=1, le=5)
    alternatives: list[PeakAlternative] = Field(default_factory=list, description="Other defensible codings "
                                                "(scored only in the coding-sensitivity table).")
    mid_label: Described = None
    fatalities: Described = None
    fatalities_note: Described = None
    icb_viol: Described = None
    basis: Described = None
    coding_note: Described = None


class CaseOutcome(Strict):
    """How the crisis ended: the model's matching outcome class (scored) and descriptive codes."""

    model_class: Literal[OUTCOMES] | None = None
    per_actor: Described = None
    basis: Described = None
    form: Described = None
    tension_reducing: Described = None
    summary: Described = None


class Case(Strict):
    """A historical crisis to back-test: the scenario set up at its trigger, and what happened."""

    id: str
    name: str
    flashpoint: str
    scenario: str = Field(description="Scenario file set up at the trigger (relative to the cases file or the "
                                      "repository root).")
    setup: ChangeSet = ChangeSet()
    peak: CasePeak
    outcome: CaseOutcome
    informed_by: list[str] = Field(
        default_factory=list, description="Model inputs changed after this case's back-test had missed, in answer "
        "to the miss (postures cite the record, these cases included, by design; this lists what was changed "
        "because of the case): its score is then reported apart from the out-of-sample ones."
    )
    start_date: Described = None
    date_precision: Described = None
    end_date: Described = None
    duration_days: Described = None
    icb_duration_days: Described = None
    acute_phase: Described = None
    actors: Described = None
    trigger: Described = None
    escalation_sequence: Described = None
    crisis_management: Described = None
    datasets: Described = None
    sources: Described = None


class CasesFile(Strict):
    """``validation/cases.yaml``: historical cases in the format of ``historical_examples.yaml``."""

    schema_version: Described = None
    purpose: Described = None
    scales: Described = None
    crises: list[Case] = Field(min_length=1)


# --------------------------------------------------------------------------- calibration and parameter sets


class Prior(Strict):
    """A free parameter's prior: uniform on [low, high] (scipy.stats.uniform)."""

    dist: Literal["uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Prior:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class FreeParameter(Strict):
    """A model constant the calibration fits: where it lives (a dotted override path), its prior and why."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    path: str = Field(description="Dotted override path, as --set: parameters.<knob> or baseline.<path>.value.")
    prior: Prior
    reason: str = Field(min_length=1, description="Why this range: the source or the assumption.")


class CalibrationScenario(Strict):
    """A shipped scenario the patterns are simulated on, and its ICB trigger class."""

    file: str = Field(description="Scenario file relative to the repository root (scenarios/ only, never a "
                                  "back-test case's scenario).")
    trigger: Literal["non_violent", "violent"] = Field(description="ICB TRIGGR class of its opening inject: "
                                                       "non-violent (codes 1-7) or violent (8-9).")
    reason: str = ""


class PatternSource(Strict):
    """Where a target pattern's observed value comes from: data file, recipe and citation."""

    data: str = Field(description="File under validation/data/.")
    recipe: str = Field(min_length=1)
    citation: str = Field(min_length=1)


class Pattern(Strict):
    """A target pattern: an observed share recomputed from the shipped data, and its model counterpart."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,60}$")
    label: str
    observed: Literal["icb_violent_response", "icb_serious_violence", "icb_short", "icb_within_120",
                      "icb_agreement", "mid_display", "mid_force", "mid_war", "icb_nuclear_dyad_war"] = Field(
        description="Recipe computing the observed share (sim.analysis.calibrate.OBSERVED).")
    trigger: Literal["non_violent", "violent", "any"] = "any"
    simulated: Literal["use_of_force", "serious_clash", "ended_within_20_days", "ended_within_120_days",
                       "agreement_if_ended",
                       "peak3_if_militarised", "peak4_if_militarised", "peak5_if_militarised",
                       "nuclear_dyad_war"] = Field(description="Model statistic, pooled over the scenarios of "
                                                               "the trigger class (sim.analysis.calibrate.SIMULATED).")
    source: PatternSource
    mapping: str = Field(min_length=1, description="Why the model statistic measures the same thing, and where not.")


class CalibrationFile(Strict):
    """``validation/calibration.yaml``: what the calibration fits (parameters, priors), to what (patterns), where."""

    schema_version: Literal[1]
    purpose: str = ""
    seed: int = Field(0, ge=0)
    horizon_days: float | None = Field(None, gt=0, le=3650, description=(
        "Days every calibration scenario runs (its turns.max is set from its turn length); none keeps each "
        "scenario's own horizon. ICB crises run for months, so a shipped 30-day window would censor them."))
    horizon_reason: str = ""
    scenarios: list[CalibrationScenario] = Field(min_length=1)
    parameters: list[FreeParameter] = Field(min_length=1)
    patterns: list[Pattern] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CalibrationFile:
        for name, ids in (("parameters", [p.id for p in self.parameters]), ("patterns", [p.id for p in self.patterns])):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{name}: ids must be unique")
        return self


class ParameterValue(Strict):
    """One value of a parameter set: a dotted override path and its value."""

    path: str
    value: float
    id: str = ""


class ParameterSet(Strict):
    """A parameter set overlaying ``actors/baseline.yaml`` and the scenarios' parameters (e.g. the calibrated one)."""

    schema_version: Literal[1]
    name: str
    description: str = ""
    default: bool = Field(False, description="Use this set when no --parameters is given (only if the calibration "
                                             "was credible).")
    set: list[ParameterValue] = Field(min_length=1)
    provenance: dict[str, Any] = Field(default_factory=dict, description="Data, command, commit and fit it came "
                                                                         "from.")
