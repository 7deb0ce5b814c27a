"""The one registry of names and codes: every list of ids and every integer code the engine uses.

Data files name things by id; the compiled arrays carry small integer codes. Both come from
here, so a schema, a rule and a results column cannot disagree about what ``2`` means, and the
JSON Schemas emit their enums from these tuples. Rungs with a meaning in the rules (the use of
force, major war, ...) are named once, in the ``thresholds`` block of
``sim/data/ladder.yaml``, and looked up through :class:`Threshold`.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from sim.inputs.library import ACTORS_DIR

#: The papers' actors, in the order they are listed everywhere.
CORE_ACTORS = ("US", "PRC", "JPN", "ROK", "DPRK", "TWN")


def _actor_ids() -> tuple[str, ...]:
    """One posture file per actor (``actors/<id>.yaml``) is what makes an actor: the core six in their
    order, then any other posture files found, alphabetically (e.g. ``actors/rus.yaml`` adds RUS)."""
    found = {p.stem.upper() for p in ACTORS_DIR.glob("*.yaml") if p.stem != "baseline"}
    if not found:
        return CORE_ACTORS
    return (*(a for a in CORE_ACTORS if a in found), *sorted(found - set(CORE_ACTORS)))


#: The state actors: one per posture file in the actors folder.
ACTOR_IDS = _actor_ids()

FLASHPOINTS = (
    "taiwan_strait",
    "korean_peninsula",
    "east_china_sea",
    "south_china_sea",
    "us_china_air_sea",
    "japan_korea",
    "regional_missiles",
)

#: Decision terms in utility order; ``affinity`` has weight 1 and is added directly.
TERM_NAMES = (
    "threat",
    "stakes",
    "reciprocity",
    "inertia",
    "cost",
    "firebreak",
    "alliance",
    "entrapment",
    "audience",
    "interdependence",
    "channel",
    "climate",
    "grievance",
    "response",
    "deterrence",
    "fatigue",
    "affinity",
)
#: Each term in words a briefer can use (event logs and explanations).
TERM_LABELS = {
    "threat": "threat felt",
    "stakes": "what is at stake",
    "reciprocity": "answering in kind",
    "inertia": "reluctance to jump rungs",
    "cost": "cost",
    "firebreak": "reluctance to cross a threshold",
    "alliance": "commitment to an ally",
    "entrapment": "fear of entrapment",
    "audience": "domestic pressure",
    "interdependence": "economic ties",
    "channel": "an open channel",
    "climate": "the relationship climate",
    "grievance": "unanswered demands",
    "response": "a red line crossed (credibility)",
    "deterrence": "nuclear deterrence",
    "fatigue": "pressure to settle",
    "affinity": "the state's habits",
}
#: The weighted terms (the columns of the posture weight matrix).
WEIGHTED_TERMS = tuple(t for t in TERM_NAMES if t != "affinity")

ACTION_CATEGORIES = (
    "cooperative",
    "diplomatic",
    "political",
    "informational",
    "economic",
    "cyber",
    "grey_zone",
    "military",
    "nuclear",
)

CHANNEL_KINDS = ("hotline", "military", "multilateral", "encounter_rules", "mediation")
ENCOUNTER_UNITS = ("navy", "coast_guard", "militia", "air_force", "army")
#: Forces the encounter rules cover: CUES (2014) and the US-China MOU bind navies and air forces,
#: not coast guards or maritime militia (shared/domain/crisis_mechanisms.md, "CUES").
RULE_COVERED_UNITS = frozenset({"navy", "air_force"})


class ChannelStatus(IntEnum):
    """A channel's state; only an open channel can be answered."""

    NOT_OPERATIONAL = -1
    SUSPENDED = 0
    OPEN = 1

    @classmethod
    def parse(cls, name: str) -> ChannelStatus:
        return cls[name.upper()]

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


class ChannelEffect(IntEnum):
    """What an action does to a channel (``effects.channel`` in actions.yaml)."""

    NONE = 0
    USE = 1
    SUSPEND = 2
    RESTORE = 3
    MULTILATERAL = 4

    @classmethod
    def parse(cls, name: str | None) -> ChannelEffect:
        return cls.NONE if name is None else cls[name.upper()]


class EncounterDomain(IntEnum):
    NONE = 0
    AIR = 1
    SEA = 2
    LAND = 3

    @classmethod
    def parse(cls, name: str | None) -> EncounterDomain:
        return cls.NONE if name is None else cls[name.upper()]


class TargetKind(IntEnum):
    """Whom an action is aimed at (``target`` in actions.yaml)."""

    NONE = 0
    ADVERSARY = 1
    ALLY = 2

    @classmethod
    def parse(cls, name: str) -> TargetKind:
        return cls[name.upper()]


class Stream(IntEnum):
    """Random-number streams: each kind of draw has its own, so adding one never shifts another.

    The numbers key the draws (``sim.engine.rng.draw``): a retired stream keeps its slot.
    """

    CHOICE = 1
    FRICTION = 2
    ANSWER = 3
    PERCEIVE = 4
    PERCEIVE_DIR = 5
    ENCOUNTER = 6
    INJECT = 7
    RETIRED_8 = 8
    MEDIATE = 9
    ADJUDICATE = 12  # the workshop's visible matrix rolls
    FORECAST = 13  # the workshop's "forecast from here" continuations


class Incident(StrEnum):
    """Incidents a red line can name besides actions: not a move a government chooses, but something its
    side is blamed for (``RedLine.incident``; compiled as trigger index ``len(actions) + i``)."""

    COLLISION = "collision"  # a collision at sea or in the air the offender's side is held responsible for

    @property
    def label(self) -> str:
        """In a briefing's words (``sim.analysis.explain``: "after PRC's collision it is blamed for")."""
        return {"collision": "collision it is blamed for"}[self.value]


INCIDENTS = tuple(i.value for i in Incident)


class Cause(IntEnum):
    """How a threshold was first crossed (``first_force_cause``, ``war_cause``)."""

    NONE = 0
    CHOSEN = 1  # a government decided on the move
    ACCIDENT = 2  # an encounter turned into a collision
    SLIP = 3  # friction carried a chosen move one rung higher (inadvertent escalation)
    SCRIPTED = 4  # an inject scripted the move

    @property
    def label(self) -> str:
        return self.name.lower()


class EndForm(IntEnum):
    """How a crisis ended, in ICB's terms (FOROUT): the ``end_form`` column."""

    ONGOING = 0  # still unresolved at the scenario's horizon
    AGREEMENT = 1  # formal or semi-formal: an offer met by an offer or a cooperative answer
    TACIT = 2  # both sides stood down after military display or force
    FADED = 3  # the dispute went quiet without ever reaching military display
    UNILATERAL = 4  # a principal yielded on the issue
    IMPOSED = 5  # war decided it

    @property
    def label(self) -> str:
        return self.name.lower()


class EndReason(IntEnum):
    """Why a run stopped (the ``end_reason`` column)."""

    RUNNING = 0
    AGREEMENT = 1
    FADED = 2
    TIME_LIMIT = 3
    MAJOR_WAR = 4
    NUCLEAR_USE = 5


END_REASONS = tuple(r.name.lower() for r in EndReason)

#: Outcome classes of a run, in order of severity (the ``outcome`` column).
OUTCOMES = (
    "deescalated_agreement",
    "frozen_stalemate",
    "coercive_gain",
    "contained_clash",
    "major_war",
    "nuclear_use",
)
FORCE_OUTCOMES = ("contained_clash", "major_war", "nuclear_use")
WAR_OUTCOMES = ("major_war", "nuclear_use")
#: ICB-style outcome for each actor (ICB OUTCOM, collapsed).
ICB_OUTCOMES = ("victory", "compromise", "stalemate", "defeat")


class MidLevel(IntEnum):
    """COW MID 5.0 hostility levels (Palmer et al. 2022): 4 and above is a use of force."""

    NONE = 1
    THREAT = 2
    DISPLAY = 3
    USE_OF_FORCE = 4
    WAR = 5


class IcbViolence(IntEnum):
    """ICB v15 VIOL: the most severe violence in the crisis."""

    NONE = 1
    MINOR_CLASHES = 2
    SERIOUS_CLASHES = 3
    WAR = 4


class Threshold(StrEnum):
    """Rungs with a meaning in the rules; ``sim/data/ladder.yaml`` says which rung each is."""

    BASELINE = "baseline"  # where a quiet crisis sits; escalation is measured from here
    COOPERATIVE_CEILING = "cooperative_ceiling"  # at or below: a cooperative move (accepts an offer)
    GREY = "grey"  # grey-zone pressure or worse makes encounters more often unsafe
    FORCE = "force"  # the first rung that is a use of force
    WAR = "war"  # major war ends the run
    NUCLEAR = "nuclear"  # nuclear use ends the run
