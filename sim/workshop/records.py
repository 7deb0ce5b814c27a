"""What a workshop session remembers: submissions, rulings, headlines, resolved moves, and the
session state rebuilt from the log around the engine's own ``State``.

These are plain records; the rules of play that fill them live in ``sim.workshop.session`` and
the engine calls in ``sim.workshop.play``. The ``repr`` of a :class:`MoveRecord` is pinned by the
golden replay test, so its fields (and those of the records inside it) stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sim.engine.outcomes import EventLog
from sim.engine.rules import State
from sim.inputs.compile import Spec
from sim.inputs.condition import Condition

PHASES = ("briefing", "situation", "deliberation", "submission", "adjudication", "readout", "hotwash", "endex")
SeatMode = Literal["human", "ai", "hybrid"]


@dataclass
class Submission:
    """A team's (or the AI's) headline move for one move."""

    actor: str
    action: str
    target: str | None
    channel: str | None = None
    public: bool = True
    rationale: str = ""
    source: str = "ai"  # ai | human | hybrid-approved | hybrid-replaced | ai-overridden
    seat: str = "ai"
    ai_action: str | None = None
    ai_target: str | None = None
    override_reason: str = ""
    by: str = field(default="facilitator", repr=False)  # who entered it: the facilitator or the team's own page


@dataclass
class Adjudication:
    """The facilitator's ruling on one submission (a failed move is played as "hold")."""

    actor: str
    mode: str  # model | ruling | matrix
    success: bool
    probability: float | None = None
    roll: float | None = None
    arguments: str = ""
    reason: str = ""


@dataclass
class Headline:
    """One line of the read-out; ``public=False`` with an ``actor`` is that team's secret,
    without one it is for the facilitator only."""

    move: int
    text: str
    public: bool = True
    actor: str | None = None


@dataclass
class MoveRecord:
    """What happened in one resolved move (for the read-out, the chart and the AAR)."""

    move: int
    submissions: dict[str, Submission]
    adjudications: dict[str, Adjudication]
    realised: dict[str, str]
    perceived_by: dict[str, dict[str, str]]
    answered: dict[str, str]
    incidents: list[str]
    injects: list[str]
    crisis_rung: str
    # read-out detail, kept out of the repr (the golden replay pins the repr of the fields above)
    intended: dict[str, str] = field(default_factory=dict, repr=False)  # rung each move was meant to reach
    calls: dict[str, list[dict]] = field(default_factory=dict, repr=False)  # actor -> [{channel, answered}]


@dataclass
class SessionState:
    """Everything rebuilt from the log: the engine's world (spec, state, event log) and the table's
    bookkeeping around it."""

    scenario: str
    seed: int
    run_index: int
    condition: Condition
    spec: Spec
    st: State
    log: EventLog
    seats: dict[str, str]
    phase: str = "briefing"
    move: int = 0
    paused: bool = False
    released: list[dict] = field(default_factory=list)  # {move, id, title, text, to, edited, t}
    not_happened: list[dict] = field(default_factory=list)  # {move, id, title, probability, t}: chance failed
    held: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    pending: dict[str, Submission] = field(default_factory=dict)
    adjudications: list[Adjudication] = field(default_factory=list)
    moves: list[MoveRecord] = field(default_factory=list)
    headlines: list[Headline] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    timer: dict | None = None  # {phase, move, ends (epoch s, running) or left (s, stopped), minutes}
    hotwash: list[dict] = field(default_factory=list)
    ended: bool = False
    model_ended: bool = False  # the model's rules have called the crisis over (said once, play goes on)
    advice: dict[str, dict] | None = None  # the AI's advice per actor, frozen when deliberation begins
    revealed: int = 0  # read-out items of the last resolved move shown to the room so far
    secrets_revealed: bool = False  # the hot wash has revealed the secret moves to the room
    withdrawn: list[dict] = field(default_factory=list)  # {move, actor, action, by, t}
    details: dict[str, str] = field(default_factory=dict)  # exercise overview: sponsor, point of contact, ...
    ratings: dict[str, dict] = field(default_factory=dict)  # objective -> {rating P/S/M/U, text}
    findings: list[dict] = field(default_factory=list)  # observation -> root cause -> recommendation, IP row
    observations: list[dict] = field(default_factory=list)  # from observers: {move, text, objective, by, t}
