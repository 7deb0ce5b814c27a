"""Typed schemas for every data file the engine reads.

These pydantic models are the single definition of what a valid ladder, action
catalogue, channel table, posture or scenario is. The JSON Schemas published in
``schemas/`` are generated from them (``run_sim.py schema``), so editors and the
loader agree. Unknown keys are errors everywhere (``extra="forbid"``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.experiments.measures import MEASURE_NAMES
from sim.inputs.paths import SAFE_NAME
from sim.names import (
    ACTION_CATEGORIES,
    ACTOR_IDS,
    CHANNEL_KINDS,
    ENCOUNTER_UNITS,
    FLASHPOINTS,
    TERM_NAMES,
    WEIGHTED_TERMS,
    Threshold,
)

ActorId = Literal[ACTOR_IDS]
Flashpoint = Literal[FLASHPOINTS]
Term = Literal[WEIGHTED_TERMS]
ThresholdName = Literal[tuple(t.value for t in Threshold)]

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Signed = Annotated[float, Field(ge=-1.0, le=1.0)]
MAX_TURNS = 500
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
    requires: ActionPreconditions = ActionPreconditions()
    effects: ActionEffects = ActionEffects()


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

    @model_validator(mode="after")
    def _short_locator(self) -> Source:
        check_locator(self.locator)
        return self


class Value(Strict):
    """A behaviour-relevant number with its provenance: a paper passage or a stated assumption."""

    value: float = Field(ge=-10.0, le=10.0)
    source: Source | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _provenance(self) -> Value:
        if (self.source is None) == (self.assumption is None):
            raise ValueError("give exactly one of 'source' or 'assumption'")
        return self


class Alliance(Strict):
    ally: ActorId
    commitment: Value
    flashpoints: list[Flashpoint] | None = None


class RedLine(Strict):
    """A counterpart action that the actor treats as crossing a red line."""

    by: ActorId
    action: str
    flashpoints: list[Flashpoint] | None = None
    threat: Value = Field(description="Perceived-threat jump toward the offender when crossed (0..1).")
    description: str


class Domestic(Strict):
    pressure: Value = Field(description="Baseline domestic pressure for firmness (0..1).")
    election_sensitivity: Value
    stress_sensitivity: Value = Field(description="How much pandemic/economic stress adds to pressure.")


class Posture(Strict):
    """An actor's posture: the weights of its decision terms and what they rest on."""

    actor: ActorId
    name: str
    summary: str
    capabilities: list[str]
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
    variants: dict[str, VariantSpec] = Field(default_factory=dict)


class Baseline(Strict):
    """Weights shared by every actor unless its posture overrides them (crisis-literature defaults)."""

    description: str
    temperature: Value
    weights: dict[Term, Value]
    grievance_rate: Value = Field(description="Growth per turn of an unanswered grievance (0..1).")
    hostility_gain: Value = Field(description="Perceived-threat increment per unit of perceived escalation.")
    ally_spillover: Value = Field(description="Share of an attack on an ally felt as a threat to oneself.")
    frame_spillover: Value = Field(description="Share of the US-China climate carried into cross-camp dyads.")
    talk_window: Value = Field(description="Turns talks stay open after an answered call, a proposal or mediation.")
    calm_turns: Value = Field(description="Consecutive calm turns after which a crisis has faded.")
    misread_up: Value = Field(description="Share of misreadings that see a move as more escalatory than it was.")
    refusal_signal: Value = Field(description="Perceived-threat increment for the caller when a call goes unanswered.")
    incident_shock: Value = Field(description="Perceived-threat increment for the victim of a collision.")
    deliberate_read: Value = Field(description="Further increment when the collision is read as deliberate.")

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


Posture.model_rebuild()


# --------------------------------------------------------------------------- scenarios


class Condition(Strict):
    """A declarative state test for conditional injects (nothing is executed)."""

    turn_at_least: int | None = Field(None, ge=0, le=MAX_TURNS)
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
    turn: int | None = Field(None, ge=0, le=MAX_TURNS)
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
        if self.kind == "scheduled" and self.turn is None:
            raise ValueError("a scheduled inject needs 'turn'")
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
    rate: Unit = Field(description="Per-turn probability of an encounter at baseline activity.")
    unsafe: Unit = Field(description="Probability an encounter is unsafe when no rules are followed.")
    collision: Unit = Field(description="Probability an unsafe encounter becomes a collision.")
    casualties: Unit = Field(0.5, description="Probability a collision costs lives.")


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
    hostility_decay: Unit = 0.15
    agreement_turns: int = Field(2, ge=1, le=50, description="Turns an agreement offer stays open for the other "
                                 "side to accept (by an offer of its own or a cooperative move).")
    mediation: Unit = Field(
        0.3, description="Probability that a request for third-party (middle-power) mediation finds a mediator."
    )


class Turns(Strict):
    max: int = Field(ge=1, le=MAX_TURNS)
    hours: float = Field(24.0, gt=0, le=24 * 30, description="Scenario time per turn.")


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


class Lever(Strict):
    """A policy lever the papers recommend: a named set of changes with the effect they expect."""

    id: str
    label: str
    source: Citation
    set: list[LeverSetting] = Field(min_length=1)
    expect: Literal["lower", "higher"] = Field(description="Expected direction of the measure.")
    measure: Literal[MEASURE_NAMES] = "use_of_force"
    note: str = ""


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
