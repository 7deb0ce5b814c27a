"""A live tabletop session, event-sourced on top of the engine's one turn loop.

Everything a facilitator or a team does is an event appended to ``session.jsonl`` (written,
fsynced and chained by ``sim.workshop.journal`` before the call returns; one writing process per
session). The session state is never saved directly: it is rebuilt by replaying the log through
the engine (``sim.workshop.play``: the same turn loop and rules the simulations use), so a session
survives a crash, can be replayed read-only, and can be branched from any move. An event is
applied, then written; if either fails the live state is replayed from the log again, so what a
console shows is always what the log holds. Undo is an event too.

A move runs through phases: situation -> deliberation -> submission -> adjudication ->
readout. Seats are human, AI or hybrid (the AI advises, the team approves or replaces). Who acted
is recorded (``by``: a team's own page, an observer; the facilitator by default).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sim.errors import SessionError
from sim.inputs.compile import compile_inject, compiled
from sim.inputs.condition import Condition
from sim.inputs.safe_csv import safe_row
from sim.inputs.schema import Inject
from sim.inputs.spec import CInject
from sim.workshop import journal, play
from sim.workshop.records import (
    PHASES,
    Adjudication,
    Headline,
    MoveRecord,
    SeatMode,
    SessionState,
    Submission,
)

__all__ = ["PHASES", "Adjudication", "Headline", "MoveRecord", "SeatMode", "Session", "SessionState", "Submission"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def condition_record(condition: Condition) -> dict:
    """The changes a condition makes to its scenario, as logged in the "created" event."""
    return {"levers": list(condition.levers), "overlays": list(condition.overlays),
            "overrides": [[k, v] for k, v in condition.overrides], "label": condition.label}


def condition_of(ev: dict) -> Condition:
    """The condition a "created" event names (logs from before conditions: the scenario as written)."""
    rec = ev.get("condition") or {}
    return Condition(ev["scenario"], tuple(rec.get("levers", ())), tuple(rec.get("overlays", ())),
                     tuple((k, v) for k, v in rec.get("overrides", ())), rec.get("label", ""))


SEAT_MODES = ("human", "ai", "hybrid")
RATINGS = ("P", "S", "M", "U")  # HSEEP: performed without / with some / with major challenges; unable
CAPABILITY_ELEMENTS = ("Planning", "Organization", "Equipment", "Training", "Exercises")  # HSEEP's POETE
FINDING_FIELDS = ("objective", "kind", "observation", "root_cause", "recommendation", "capability",
                  "responsible", "poc", "start", "due")
DETAILS = ("sponsor", "poc", "location", "mission_area", "organisations", "dates", "scope", "caveats")
MAX_TIMER_MINUTES = 240
SHORT_NAMES = {"PRC": "China", "TWN": "Taiwan", "US": "United States", "JPN": "Japan", "ROK": "South Korea",
               "DPRK": "North Korea"}  # how the room says them (postures carry the formal names)
MAX_FORECAST_RUNS = 20_000


def check_seats(seats: dict[str, str], actors: Iterable[str]) -> dict[str, str]:
    """Every actor's seat (AI unless named); an unknown actor or mode is refused, not stored."""
    actors = list(actors)
    for actor, mode in seats.items():
        if actor not in actors:
            raise SessionError(f"unknown actor {actor!r} (this scenario has {', '.join(actors)})", "--seats")
        if mode not in SEAT_MODES:
            raise SessionError(f"unknown seat mode {mode!r} for {actor} (human, ai or hybrid)", "--seats")
    return {a: seats.get(a, "ai") for a in actors}


def parse_seats(text: str) -> dict[str, str]:
    """``JPN=human,PRC=hybrid`` as a dict (checked against the scenario by :func:`check_seats`)."""
    seats: dict[str, str] = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        actor, eq, mode = item.partition("=")
        if not eq or not actor.strip() or not mode.strip():
            raise SessionError(f"{item!r} is not ACTOR=MODE (e.g. JPN=human)", "--seats")
        if actor.strip() in seats:
            raise SessionError(f"{actor.strip()} is seated twice", "--seats")
        seats[actor.strip()] = mode.strip()
    return seats


class Session:
    """A workshop session stored as an append-only event log in ``directory``."""

    LOG = journal.LOG

    def __init__(self, directory: Path, read_only: bool = False) -> None:
        self.dir = Path(directory)
        self.read_only = read_only
        self.events: list[dict] = []
        self.state: SessionState | None = None
        self.warnings: list[str] = []  # said once to whoever opened the session (torn tail, stale lock)
        self._lock = journal.WriterLock(self.dir)
        self._writer: journal.Writer | None = None
        self._loaded: journal.Loaded | None = None
        self.by: str | None = None  # who acts now ("team:JPN", "observer"); None: the facilitator

    # ------------------------------------------------------------------ create / load

    @classmethod
    def create(cls, directory: Path, scenario: str | Path | Condition, seed: int = 0, run_index: int = 0,
               seats: dict[str, str] | None = None, title: str = "", *, levers: Iterable[str] = (),
               overlays: Iterable[str] = (), overrides: Iterable[tuple[str, Any]] = ()) -> Session:
        """Start a session on a condition: a scenario (path or :class:`Condition`) plus levers,
        overlays and ``(dotted.path, value)`` overrides, so a workshop can play a lever on."""
        directory = Path(directory)
        if (directory / cls.LOG).exists():
            raise SessionError(f"a session already exists in {directory}; resume it instead", "--session")
        condition = Condition.of(scenario, levers=levers, overlays=overlays, overrides=overrides)
        spec = compiled(condition)  # an unknown lever or a bad override fails before anything is written
        seats = check_seats(seats or {}, spec.actor_ids)
        directory.mkdir(parents=True, exist_ok=True)
        s = cls(directory)
        s.acquire()
        if (directory / cls.LOG).stat().st_size:
            s.close()
            raise SessionError(f"a session already exists in {directory}; resume it instead", "--session")
        s._append("created", scenario=condition.scenario, condition=condition_record(condition), seed=int(seed),
                  run_index=int(run_index), seats=seats, title=title or spec.scenario.title)
        return s

    @classmethod
    def load(cls, directory: Path, read_only: bool = False, upto: int | None = None, lock: bool = False) -> Session:
        """Rebuild a session from its log (optionally only the first ``upto`` events).

        ``lock`` takes the writer's lock at once (a console does, so a second one is refused before
        anyone types); otherwise it is taken at the first write. A torn last line is reported in
        ``warnings`` and cut off by the writer; any other fault is one :class:`journal.CorruptLog`.
        """
        s = cls(directory, read_only=read_only or upto is not None)
        path = s.dir / cls.LOG
        if not path.exists():
            raise SessionError(f"no session log at {path}", "--session")
        loaded = journal.read(path)
        if loaded.torn:
            s.warnings.append(f"{path}: a torn last line ({loaded.torn} bytes, from a write that never completed "
                              "and was never acknowledged) " + ("is ignored" if s.read_only else "was removed"))
        if not loaded.events:
            raise journal.CorruptLog(path, "holds no events")
        s._loaded = loaded
        for ev, line in zip(loaded.events[:upto], loaded.lines, strict=False):
            s._replay(ev, path, line)
        if lock and not s.read_only:
            s.acquire()
        return s

    def _replay(self, ev: dict, path: Path, line: int) -> None:
        """Apply one logged event; a fault names its line."""
        try:
            self._apply(ev)
        except SessionError as exc:
            raise journal.CorruptLog(path, f"cannot be replayed: {exc.message}", line) from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            what = f"lacks {exc.args[0]!r}" if isinstance(exc, KeyError) else f"is malformed ({exc})"
            raise journal.CorruptLog(path, f"is a {ev.get('type')!r} event that {what}", line) from None
        self.events.append(ev)

    def acquire(self) -> None:
        """Become this session's one writer (refused, naming the holder, if another process is)."""
        if self._writer is not None:
            return
        if self.read_only:
            raise SessionError("this session is open read-only (replay)")
        note = self._lock.acquire()
        try:
            path = self.dir / self.LOG
            if path.exists() and path.stat().st_size:
                now = journal.read(path)
                if len(now.events) != len(self.events) or now.head != (self._loaded.head if self._loaded else ""):
                    raise SessionError(f"{path} changed since it was loaded (another console wrote to it); "
                                       "load it again")
                if now.torn and not any("torn" in w for w in self.warnings):
                    self.warnings.append(f"{path}: a torn last line ({now.torn} bytes, never acknowledged) "
                                         "was removed")
                self._loaded = now
            self._writer = journal.Writer(path, self._loaded)
        except BaseException:
            self._lock.release()
            raise
        if note:
            self.warnings.append(note)

    def close(self) -> None:
        """Stop writing (release the lock); the session can still be read."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._lock.release()

    def branch(self, directory: Path, upto_move: int) -> Session:
        """A new session that replays this one up to the end of ``upto_move`` and continues."""
        directory = Path(directory)
        if (directory / self.LOG).exists():
            raise SessionError(f"a session already exists in {directory}", "--session")
        cut = len(self.events)
        for i, ev in enumerate(self.events):
            if ev["type"] == "move_started" and ev["move"] > upto_move:
                cut = i
                break
        directory.mkdir(parents=True, exist_ok=True)
        out = Session(directory)
        out.acquire()
        for ev in self.events[:cut]:
            out.events.append(out._writer.append(ev))
        out._rebuild()
        out.note(f"branched from {self.dir} after move {upto_move}", tags=["branch"])
        return out

    # ------------------------------------------------------------------ the log

    def _append(self, type_: str, **data: Any) -> dict:
        """Apply one event and write it; if either fails, the live state is the log's again."""
        if self.read_only:
            raise SessionError("this session is open read-only (replay)")
        self.acquire()
        ev = {"seq": len(self.events), "t": _now(), "type": type_, **data}
        try:
            self._apply(ev)  # validate by applying before persisting
            ev = self._writer.append(ev)
        except BaseException:
            self._rebuild()
            raise
        self.events.append(ev)
        return ev

    def _rebuild(self) -> None:
        """The live state replayed from the events that are in the log (after a refused or failed append)."""
        self.state = None
        for ev in self.events:
            self._apply(ev)

    def _apply(self, ev: dict) -> None:
        handler = getattr(self, f"_on_{ev['type']}", None)
        if handler is None:
            raise SessionError(f"unknown event type {ev['type']!r}")
        if ev["type"] != "created" and self.state is None:
            raise SessionError("the log does not start with a 'created' event")
        if ev["type"] == "created" and self.state is not None:
            raise SessionError("a second 'created' event")
        handler(ev)

    # ------------------------------------------------------------------ event handlers (the rules of play)
    #
    # Handlers replay every log ever written, so a rule added later lives in the API below (which
    # refuses before anything is logged), never here: an old log must replay to the same world.

    def _on_created(self, ev: dict) -> None:
        condition = condition_of(ev)
        spec, st, log = play.new_world(condition, ev["seed"], ev["run_index"])
        self.state = SessionState(scenario=ev["scenario"], seed=ev["seed"], run_index=ev["run_index"],
                                  condition=condition, spec=spec, st=st, log=log, seats=dict(ev["seats"]))

    def _require(self, *phases: str) -> None:
        if self.state.ended:
            raise SessionError("the session has ended (ENDEX)")
        if self.state.phase not in phases:
            raise SessionError(f"not allowed in phase {self.state.phase!r} (needs {' or '.join(phases)})")

    def _actor(self, actor: str) -> int:
        try:
            return self.state.spec.actor_index(actor)
        except ValueError:
            raise SessionError(f"unknown actor {actor!r}", "actor") from None

    def _freeze_advice(self) -> None:
        """The AI's advice for this move, taken once deliberation begins (later injects do not move it)."""
        S = self.state
        if S.advice is None and S.move >= 1 and not S.ended:
            S.advice = {a: play.advice(S.spec, S.st, i) for i, a in enumerate(S.spec.actor_ids)}

    def _on_phase(self, ev: dict) -> None:
        if ev["phase"] not in PHASES:
            raise SessionError(f"unknown phase {ev['phase']!r}")
        self.state.phase = ev["phase"]
        if ev["phase"] in ("deliberation", "submission", "adjudication"):
            self._freeze_advice()
        if ev["phase"] == "endex":
            self.state.ended = True

    def _on_pause(self, ev: dict) -> None:
        S = self.state
        S.paused = bool(ev["paused"])
        at, tm = ev.get("at"), S.timer
        if at is None or tm is None:  # logs from before the timer stopped with the room
            return
        if S.paused and tm.get("ends") is not None:
            S.timer = {**tm, "ends": None, "left": max(0.0, tm["ends"] - at), "by_pause": True}
        elif not S.paused and tm.get("by_pause"):
            S.timer = {**tm, "ends": at + tm["left"], "left": None, "by_pause": False}

    def _on_seat(self, ev: dict) -> None:
        self._actor(ev["actor"])
        if ev["mode"] not in SEAT_MODES:
            raise SessionError(f"unknown seat mode {ev['mode']!r}")
        self.state.seats[ev["actor"]] = ev["mode"]

    def _on_move_started(self, ev: dict) -> None:
        S = self.state
        self._require("briefing", "readout")
        if ev["move"] != S.move + 1:
            raise SessionError(f"expected move {S.move + 1}")
        if ev["move"] > S.spec.turns:  # a move is one scenario turn
            raise SessionError(f"the scenario has {S.spec.turns} moves: end the exercise (ENDEX) or branch it")
        S.move = ev["move"]
        play.start_move(S.spec, S.st, S.log)
        S.phase = "situation"
        S.pending = {}
        S.adjudications = []
        S.advice = None
        S.revealed = 0

    def _inject_by_id(self, inject_id: str) -> CInject:
        for inj in self.state.spec.injects:
            if inj.source.id == inject_id:
                return inj
        raise SessionError(f"unknown inject {inject_id!r}", "inject")

    def _scripted_inject(self, inject_id: str) -> tuple[int, None, Inject]:
        """The MSEL inject to release as written (once: a release whose chance failed stays failed)."""
        base = self._inject_by_id(inject_id)
        if play.already_fired(self.state.st, base.index):
            raise SessionError(f"inject {inject_id} was already released", "inject")
        failed = next((r for r in self.state.not_happened if r["id"] == inject_id), None)
        if failed is not None:
            raise SessionError(f"inject {inject_id} was released at move {failed['move']} and did not happen; "
                               "release an edited version to play it anyway", "inject")
        return base.index, None, base.source

    def _edited_inject(self, data: dict) -> tuple[int, CInject, Inject]:
        """An edited MSEL inject (same id) or a new one, compiled against the scenario."""
        S = self.state
        try:
            inj_obj = Inject.model_validate(data)
        except Exception as exc:  # pydantic validation error -> one clear line
            raise SessionError(f"invalid inject: {str(exc).splitlines()[0]}", "inject") from None
        base = next((i for i in S.spec.injects if i.source.id == inj_obj.id), None)
        index = base.index if base is not None else -1
        if play.already_fired(S.st, index):
            raise SessionError(f"inject {inj_obj.id} was already released", "inject")
        if index < 0 and any(r["id"] == inj_obj.id for r in S.released):
            raise SessionError(f"an inject {inj_obj.id} was already written", "inject")
        return index, compile_inject(S.spec, inj_obj, index), inj_obj

    def _on_inject_released(self, ev: dict) -> None:
        S = self.state
        if S.move < 1:
            raise SessionError("release injects once a move has started")
        edited = ev.get("inject") is not None
        index, cinj, src = self._edited_inject(ev["inject"]) if edited else self._scripted_inject(ev["id"])
        S.held.discard(src.id)
        # events logged before the workshop drew an inject's chance have no "drawn": they release for certain
        if play.release(S.spec, S.st, S.log, index, cinj, drawn=bool(ev.get("drawn"))):
            hit = src.effects.collision
            S.released.append({"move": S.move, "id": src.id, "title": src.title, "text": src.text, "to": list(src.to),
                               "edited": edited and index >= 0, "written": index < 0, "t": ev["t"],
                               "collision": [hit.by, hit.against] if hit else None})
            S.headlines.append(Headline(S.move, src.title, public="all" in src.to))
            return
        chance = src.probability
        S.not_happened.append({"move": S.move, "id": src.id, "title": src.title, "probability": chance, "t": ev["t"]})
        S.headlines.append(Headline(S.move, f"{src.id} was released but did not happen (chance {chance:.0%})",
                                    public=False))

    def _on_inject_held(self, ev: dict) -> None:
        self._inject_by_id(ev["id"])
        self.state.held.add(ev["id"])

    def _on_inject_unheld(self, ev: dict) -> None:
        self._inject_by_id(ev["id"])
        self.state.held.discard(ev["id"])

    def _on_inject_skipped(self, ev: dict) -> None:
        inj = self._inject_by_id(ev["id"])
        self.state.skipped.add(ev["id"])
        self.state.held.discard(ev["id"])
        play.decline(self.state.spec, self.state.st, inj.index)

    def _on_decision(self, ev: dict) -> None:
        S = self.state
        self._require("situation", "deliberation", "submission")
        self._actor(ev["actor"])
        self._freeze_advice()
        try:
            S.spec.catalogue.action_index(ev["action"])
        except KeyError:
            raise SessionError(f"unknown action {ev['action']!r}", "action") from None
        opts = self.admissible(ev["actor"])
        if ev["action"] not in opts:
            raise SessionError(f"{ev['actor']} cannot take {ev['action']!r} now (preconditions)", "action")
        allowed = opts[ev["action"]]
        tgt = ev.get("target")
        if allowed and tgt not in allowed:
            raise SessionError(f"target must be one of {', '.join(allowed)}", "target")
        if not allowed:
            tgt = None
        S.pending[ev["actor"]] = Submission(
            actor=ev["actor"], action=ev["action"], target=tgt, channel=ev.get("channel"),
            public=bool(ev.get("public", True)), rationale=ev.get("rationale", ""), source=ev.get("source", "human"),
            seat=S.seats.get(ev["actor"], "ai"),
            ai_action=ev.get("ai_action"), ai_target=ev.get("ai_target"),
            override_reason=ev.get("override_reason", ""), by=ev.get("by", "facilitator"))

    def _on_withdrawn(self, ev: dict) -> None:
        S = self.state
        self._require("situation", "deliberation", "submission")
        sub = S.pending.pop(ev["actor"], None)
        if sub is None:
            raise SessionError(f"{ev['actor']} has no submission to withdraw", "actor")
        S.withdrawn.append({"move": S.move, "actor": ev["actor"], "action": sub.action,
                            "by": ev.get("by", "facilitator"), "t": ev["t"]})

    def _on_adjudicated(self, ev: dict) -> None:
        S = self.state
        self._require("adjudication")
        if ev["actor"] not in S.pending:
            raise SessionError(f"no submission from {ev['actor']} to adjudicate", "actor")
        if ev["mode"] not in ("model", "ruling", "matrix"):
            raise SessionError(f"unknown adjudication mode {ev['mode']!r}")
        if ev["mode"] == "ruling" and not ev.get("reason"):
            raise SessionError("a facilitator ruling needs a reason", "reason")
        S.adjudications = [x for x in S.adjudications if x.actor != ev["actor"]]
        S.adjudications.append(Adjudication(actor=ev["actor"], mode=ev["mode"], success=bool(ev["success"]),
                                            probability=ev.get("probability"), roll=ev.get("roll"),
                                            arguments=ev.get("arguments", ""), reason=ev.get("reason", "")))

    def _on_adjudication_undone(self, ev: dict) -> None:
        self._require("adjudication")
        if not self.state.adjudications:
            raise SessionError("there is no adjudication to undo")
        self.state.adjudications.pop()

    def _all_submitted(self) -> None:
        missing = [a for a in self.state.spec.actor_ids if a not in self.state.pending]
        if missing:
            raise SessionError(f"missing decisions from {', '.join(missing)}")

    def _on_resolved(self, ev: dict) -> None:
        S = self.state
        self._require("adjudication")
        self._all_submitted()
        rec = play.resolve(S.spec, S.st, S.log, S.move, S.pending, {x.actor: x for x in S.adjudications},
                           injects=[r["id"] for r in S.released if r["move"] == S.move])
        S.moves.append(rec)
        S.headlines += self._read_out(rec)
        S.phase = "readout"
        S.revealed = 0
        reason = play.end_reason(S.st)
        if reason and not S.model_ended:  # the model's verdict, said once; the facilitator decides when play ends
            S.model_ended = True
            S.headlines.append(Headline(S.move, f"By the model's rules the crisis has ended: {reason}"))

    def _read_out(self, rec: MoveRecord) -> list[Headline]:
        """The read-out of a resolved move: each team's move (secret ones for that team only), incidents."""
        out = []
        for a, sub in rec.submissions.items():
            adj = rec.adjudications.get(a)
            if adj is not None and not adj.success:
                out.append(Headline(rec.move, f"{self.name(a)}: {self.label(sub.action)} did not succeed",
                                    public=sub.public, actor=a))
            elif sub.action != "hold":
                tgt = f" toward {self.name(sub.target)}" if sub.target else ""
                out.append(Headline(rec.move, f"{self.name(a)}: {self.label(sub.action)}{tgt}", public=sub.public,
                                    actor=a))
        out += [Headline(rec.move, f"Incident: a collision involving {self.name(a)}'s forces", public=True, actor=a)
                for a in rec.incidents]
        return out

    def _on_revealed(self, ev: dict) -> None:
        self._require("readout")
        self.state.revealed = max(0, int(ev["count"]))

    def _on_secrets_revealed(self, ev: dict) -> None:
        self.state.secrets_revealed = True

    def _on_note(self, ev: dict) -> None:
        self.state.notes.append({"move": self.state.move, "text": ev["text"], "tags": ev.get("tags", []),
                                 "t": ev["t"]})

    def _on_timer(self, ev: dict) -> None:
        S = self.state
        if ev.get("action") == "clear":
            S.timer = None
            return
        ends, left = ev.get("ends"), ev.get("left")
        if not all(x is None or math.isfinite(x) for x in (ends, left)):  # logs from before timers were checked
            S.timer = None
            return
        keep = S.timer if ev.get("action") not in (None, "start") and S.timer else {}
        S.timer = {"phase": keep.get("phase", ev.get("phase", S.phase)), "move": keep.get("move", S.move),
                   "minutes": ev.get("minutes", keep.get("minutes")), "ends": ends, "left": left, "t": ev["t"]}

    def _on_hotwash(self, ev: dict) -> None:
        self.state.hotwash.append({"kind": ev["kind"], "text": ev["text"], "t": ev["t"]})

    def _on_details(self, ev: dict) -> None:
        self.state.details.update({k: str(v) for k, v in ev["fields"].items() if k in DETAILS})

    def _on_rating(self, ev: dict) -> None:
        if ev["rating"] not in RATINGS:
            raise SessionError(f"a rating is one of {', '.join(RATINGS)}", "rating")
        self.state.ratings[ev["objective"]] = {"rating": ev["rating"], "text": ev.get("text", ""), "t": ev["t"]}

    def _on_finding(self, ev: dict) -> None:
        self.state.findings.append({k: str(ev.get(k, "")) for k in FINDING_FIELDS} | {"t": ev["t"]})

    def _on_observation(self, ev: dict) -> None:
        self.state.observations.append({"move": self.state.move, "text": ev["text"],
                                        "objective": ev.get("objective", ""), "by": ev.get("by", "observer"),
                                        "t": ev["t"]})

    # ------------------------------------------------------------------ helpers

    def name(self, actor: str | None) -> str:
        """An actor as the room calls it ("China", not "PRC" or "People's Republic of China")."""
        if not actor:
            return ""
        return SHORT_NAMES.get(actor) or self.state.spec.postures[actor].name

    def label(self, action: str) -> str:
        return self.state.spec.catalogue.actions[self.state.spec.catalogue.action_index(action)].label

    def admissible(self, actor: str) -> dict[str, list[str]]:
        """Actions the actor may take now, each with the targets it may address."""
        return play.options(self.state.spec, self.state.st, self._actor(actor))

    def menu(self, actor: str) -> list[dict]:
        """The actor's admissible moves in ladder order (the least escalatory first), with labels,
        targets and, for moves over a crisis channel, the channels it could use."""
        S = self.state
        cat = S.spec.catalogue
        rung_index = {r.id: i for i, r in enumerate(cat.rungs)}
        out = []
        for action, targets in self.admissible(actor).items():
            act = cat.actions[cat.action_index(action)]
            channels = []
            if act.effects.channel:
                channels = [cat.channel(c).label for c in S.spec.channel_ids
                            if actor in cat.channel(c).parties and (not targets or
                                                                     any(t in cat.channel(c).parties for t in targets))]
            out.append({"action": action, "label": act.label, "rung": act.rung,
                        "rung_label": cat.rungs[rung_index[act.rung]].label, "targets": targets,
                        "channels": channels, "order": (rung_index[act.rung], cat.action_index(action))})
        return sorted(out, key=lambda m: m["order"])

    def advice(self, actor: str) -> dict:
        """The AI's advice for this seat: the top three options with their reasons, and the seeded draw
        an AI seat plays. Frozen for the move once deliberation begins (``frozen``); live before."""
        S = self.state
        a = self._actor(actor)
        if S.advice is not None:
            return {**S.advice[actor], "frozen": True}
        return {**play.advice(S.spec, S.st, a), "frozen": False}

    def deadline_passed(self) -> bool:
        """The submission phase's countdown has run out (teams can no longer submit or withdraw)."""
        tm = self.timer()
        return bool(self.state.phase == "submission" and tm and tm["remaining"] <= 0)

    def timer(self, now: float | None = None) -> dict | None:
        """The countdown of the current phase: minutes set, seconds remaining, running or stopped."""
        S, tm = self.state, self.state.timer
        if tm is None or S.ended or tm["phase"] != S.phase or tm["move"] != S.move:
            return None
        now = time.time() if now is None else now
        running = tm["ends"] is not None
        remaining = max(0.0, tm["ends"] - now) if running else max(0.0, tm["left"] or 0.0)
        return {"minutes": tm["minutes"], "remaining": remaining, "running": running and remaining > 0,
                "ends": tm["ends"], "expired": remaining <= 0}

    # ------------------------------------------------------------------ facilitator API (each call = one event)

    def _by(self) -> dict:
        return {"by": self.by} if self.by and self.by != "facilitator" else {}

    def _team(self) -> str | None:
        """The actor whose own page is acting now (None for the facilitator)."""
        return self.by[5:] if self.by and self.by.startswith("team:") else None

    def set_phase(self, phase: str) -> None:
        self._append("phase", phase=phase)

    def pause(self, paused: bool = True) -> None:
        """Pause or resume the room (the countdown stops and starts with it)."""
        self._append("pause", paused=bool(paused), at=time.time())

    def set_seat(self, actor: str, mode: SeatMode) -> None:
        """Change who plays a seat: between moves only, never once it has submitted."""
        self._actor(actor)
        S = self.state
        if S.phase not in ("briefing", "situation", "readout", "hotwash") or (S.phase == "situation"
                                                                                and actor in S.pending):
            raise SessionError("seats change between moves (before a submission), not during one", "seat")
        self._append("seat", actor=actor, mode=mode)

    def start_move(self) -> list[str]:
        """Open the next move; returns the ids of injects now due (for the facilitator to release)."""
        self._append("move_started", move=self.state.move + 1)
        return self.due_injects()

    def due_injects(self) -> list[str]:
        """Scripted injects due now and not yet released, skipped or failed."""
        return play.due(self.state.spec, self.state.st)

    def release(self, inject_id: str | None = None, inject: dict | None = None) -> bool:
        """Release a scripted inject (by id), an edited version of one, or a new one (dict).

        The inject's ``probability`` is drawn as in a batch run; returns whether it happened. One
        that did not is in ``state.not_happened`` (and a facilitator-only headline); the facilitator
        may still release an edited version of it.
        """
        n = len(self.state.released)
        if inject is not None:
            self._append("inject_released", inject=inject, drawn=True)
        else:
            self._append("inject_released", id=inject_id, drawn=True)
        return len(self.state.released) > n

    def release_edited(self, inject_id: str, title: str | None = None, text: str | None = None,
                       to: list[str] | None = None) -> bool:
        """Release an MSEL inject with its title, text or recipients changed (as written if unchanged)."""
        src = self._inject_by_id(inject_id).source
        edits = {k: v for k, v in (("title", title), ("text", text), ("to", self._recipients(to))) if v is not None}
        if all(getattr(src, k) == v for k, v in edits.items()):
            return self.release(inject_id)
        if not (edits.get("title", src.title) or "").strip():
            raise SessionError("an inject needs a title", "title")
        return self.release(inject={**src.model_dump(mode="json", exclude_defaults=True), **edits})

    def write_inject(self, title: str, text: str = "", to: list[str] | str | None = None,
                     collision_by: str | None = None, collision_against: str | None = None) -> str:
        """Write and release a new inject (to all teams or the ones named); returns its id (X1, X2, ...).

        ``collision_by`` and ``collision_against``: the inject reports a collision the facilitator
        blames on ``collision_by`` (its vessels or aircraft, or private ones it answers for), as a
        scenario's ``effects.collision`` does: the victim remembers the blow and owes what its
        collision red lines declare (an adjudicated "who rammed whom")."""
        if not title or not title.strip():
            raise SessionError("a new inject needs a title", "title")
        inject = {"title": title.strip(), "text": text.strip(), "kind": "contingency",
                  "to": self._recipients(to) or ["all"]}
        if collision_by or collision_against:
            if not (collision_by and collision_against):  # the rest is checked where every inject is compiled
                raise SessionError("a collision needs the side blamed and the side struck", "collision_by")
            inject["effects"] = {"collision": {"by": collision_by, "against": collision_against}}
        taken = {i.id for i in self.state.spec.scenario.injects} | {r["id"] for r in self.state.released}
        n = 1 + sum(1 for r in self.state.released if r.get("written"))
        while f"X{n}" in taken:
            n += 1
        self.release(inject={"id": f"X{n}", **inject})
        return f"X{n}"

    def _recipients(self, to: list[str] | str | None) -> list[str] | None:
        if to is None:
            return None
        to = [to] if isinstance(to, str) else list(to)
        if not to or "all" in to:
            return ["all"]
        for a in to:
            self._actor(a)
        return sorted(set(to), key=self.state.spec.actor_ids.index)

    def hold(self, inject_id: str) -> None:
        """Keep a due inject back: it stays held, move after move, until released, unheld or skipped."""
        self._append("inject_held", id=inject_id)

    def unhold(self, inject_id: str) -> None:
        self._append("inject_unheld", id=inject_id)

    def skip(self, inject_id: str) -> None:
        """Never release this inject: declined, as the engine declines one whose chance failed."""
        self._append("inject_skipped", id=inject_id)

    def submit(self, actor: str, action: str, target: str | None = None, channel: str | None = None,
               public: bool = True, rationale: str = "", override_reason: str = "") -> None:
        """A team's decision. For a hybrid seat, replacing the AI's advice requires a reason; a team on
        its own page submits once (withdraw to change it) and not after the submission deadline."""
        mode = self.state.seats.get(actor, "ai")
        self._actor(actor)
        team = self._team()
        if team is not None:
            if team != actor:
                raise SessionError(f"a team submits only its own move (this page is {team}'s)", "actor")
            if actor in self.state.pending:
                raise SessionError("you have already submitted: withdraw it first to change it", "actor")
            if self.deadline_passed():
                raise SessionError("the submission deadline has passed; ask the facilitator for more time", "actor")
        advice = self.advice(actor)  # recorded for every seat: the AAR compares teams with the AI
        top, draw = advice["options"][0], advice["draw"]
        source, ai = "human", top
        if mode == "hybrid":
            same = top["action"] == action and (top["target"] == target or target is None)
            if not same and not override_reason:
                raise SessionError("replacing the AI's advice needs a reason", "override_reason")
            source = "hybrid-approved" if same else "hybrid-replaced"
            target = target if target is not None else top["target"]
        elif mode == "ai":
            if not override_reason:
                raise SessionError(f"{actor} is an AI seat: overriding its move needs a reason", "override_reason")
            source, ai = "ai-overridden", draw
        self._append("decision", actor=actor, action=action, target=target, channel=channel or None,
                     public=bool(public), rationale=rationale, source=source, ai_action=ai["action"],
                     ai_target=ai["target"], override_reason=override_reason, **self._by())

    def withdraw(self, actor: str) -> None:
        """Take back a submission before the deadline (a team its own, the facilitator any)."""
        team = self._team()
        if team is not None and team != actor:
            raise SessionError(f"a team withdraws only its own move (this page is {team}'s)", "actor")
        if team is not None and self.deadline_passed():
            raise SessionError("the submission deadline has passed; ask the facilitator for more time", "actor")
        self._append("withdrawn", actor=actor, **self._by())

    def submit_ai(self, actor: str | None = None) -> None:
        """AI seats submit the model's seeded draw; hybrid seats (or ``actor``) accept the adviser's top option."""
        for a in [actor] if actor else self.state.spec.actor_ids:
            if a in self.state.pending or (actor is None and self.state.seats[a] == "human"):
                continue
            advice = self.advice(a)
            hybrid = self.state.seats[a] != "ai"
            pick = advice["options"][0] if hybrid else advice["draw"]
            why = "; ".join(f"{n} {w:+.2f}" for n, w in pick["drivers"])
            self._append("decision", actor=a, action=pick["action"], target=pick["target"], public=True,
                         rationale=f"AI: {why}", source="hybrid-approved" if hybrid else "ai",
                         ai_action=pick["action"], ai_target=pick["target"])

    def adjudicate(self, actor: str, mode: str = "model", success: bool | None = None,
                   probability: float | None = None, arguments: str = "", reason: str = "") -> Adjudication:
        """Rule on one move: by the model (it happens as chosen), by ruling (with a reason), or
        matrix-style (a probability set by the facilitator and a seeded, visible roll)."""
        roll = None
        if mode == "matrix":
            probability = _number(probability, 0.0, 1.0, "matrix adjudication needs a probability between 0 and 1",
                                  "probability")
            n_prev = sum(1 for e in self.events if e["type"] == "adjudicated" and e.get("mode") == "matrix")
            lane = self._actor(actor) + 64 * n_prev  # a fresh, reproducible roll each time
            roll = play.matrix_roll(self.state.st, self.state.move, lane)
            success = roll < probability
        elif mode == "model":
            success = True
        elif success is None:
            raise SessionError("a ruling must say whether the move succeeds", "success")
        self._append("adjudicated", actor=actor, mode=mode, success=bool(success), probability=probability,
                     roll=roll, arguments=arguments, reason=reason)
        return self.state.adjudications[-1]

    def undo_adjudication(self) -> None:
        self._append("adjudication_undone")

    def preview(self) -> dict[str, str]:
        """What the model would resolve now (on a copy of the world): realised rung per actor."""
        self._all_submitted()
        S = self.state
        return play.preview(S.spec, S.st, S.pending, {x.actor: x for x in S.adjudications})

    def resolve(self) -> MoveRecord:
        """Commit the move: every team's move resolved at once by the model's rules."""
        self._append("resolved")
        return self.state.moves[-1]

    def reveal(self, count: int | None = None) -> int:
        """Show the room the next read-out item (or the first ``count``; -1: all); returns how many show."""
        total = self.readout_size()
        n = total if count is not None and count < 0 else self.state.revealed + 1 if count is None else int(count)
        self._append("revealed", count=min(max(n, 0), total))
        return self.state.revealed

    def readout_size(self) -> int:
        """Items in the read-out of the last move: one per team, then what it added up to."""
        return len(self.state.spec.actor_ids) + 1 if self.state.moves else 0

    def reveal_secrets(self) -> None:
        """At the hot wash: show the room the secret moves (a standard debrief step)."""
        self._append("secrets_revealed")

    def note(self, text: str, tags: list[str] | None = None) -> None:
        if not text or not text.strip():
            raise SessionError("an empty note", "text")
        self._append("note", text=text, tags=tags or [])

    def start_timer(self, minutes: float) -> None:
        """A countdown for the current phase (cleared when the phase changes)."""
        m = _number(minutes, 0.1, MAX_TIMER_MINUTES, f"timer minutes must be between 0.1 and {MAX_TIMER_MINUTES}",
                    "minutes")
        self._append("timer", action="start", phase=self.state.phase, minutes=m, ends=time.time() + m * 60,
                     left=None)

    def add_time(self, minutes: float) -> None:
        """+N (or -N) minutes on the remaining time; after it ran out, N minutes from now (re-opens
        submissions); with no countdown running, starts one."""
        m = _number(minutes, -MAX_TIMER_MINUTES, MAX_TIMER_MINUTES,
                    f"added minutes must be between -{MAX_TIMER_MINUTES} and {MAX_TIMER_MINUTES}", "minutes")
        tm, now = self.timer(), time.time()
        if tm is None:
            return self.start_timer(m)
        if tm["ends"] is not None:
            self._append("timer", action="add", ends=max(tm["ends"], now) + m * 60, left=None)
        else:
            self._append("timer", action="add", ends=None, left=max(0.0, tm["remaining"] + m * 60))

    def stop_timer(self) -> None:
        """Stop the countdown where it is (resume with :meth:`resume_timer`)."""
        tm = self.timer()
        if tm is None or tm["ends"] is None:
            raise SessionError("no countdown is running", "timer")
        self._append("timer", action="stop", ends=None, left=tm["remaining"])

    def resume_timer(self) -> None:
        tm = self.timer()
        if tm is None or tm["ends"] is not None:
            raise SessionError("no stopped countdown to resume", "timer")
        self._append("timer", action="resume", ends=time.time() + tm["remaining"], left=None)

    def reset_timer(self) -> None:
        """Back to the full time set for this phase, running."""
        tm = self.timer()
        if tm is None or not tm["minutes"]:
            raise SessionError("no countdown to reset", "timer")
        self._append("timer", action="reset", ends=time.time() + tm["minutes"] * 60, left=None)

    def clear_timer(self) -> None:
        self._append("timer", action="clear")

    def hotwash(self, kind: Literal["strength", "improvement", "insight"], text: str) -> None:
        if kind not in ("strength", "improvement", "insight"):
            raise SessionError("a hot-wash entry is a strength, an improvement or an insight", "kind")
        if not text or not text.strip():
            raise SessionError("an empty hot-wash entry", "text")
        self._append("hotwash", kind=kind, text=text)

    def set_details(self, **fields: str) -> None:
        """The exercise overview the AAR opens with (sponsor, point of contact, location, ...)."""
        unknown = set(fields) - set(DETAILS)
        if unknown:
            raise SessionError(f"unknown exercise detail {sorted(unknown)[0]!r} ({', '.join(DETAILS)})", "details")
        self._append("details", fields={k: str(v).strip() for k, v in fields.items()})

    def objectives(self) -> list[str]:
        """The exercise objectives (as the MSEL links injects to them)."""
        return sorted({i.objective for i in self.state.spec.scenario.injects if i.objective})

    def rate(self, objective: str, rating: str, text: str = "") -> None:
        """Rate an objective P, S, M or U (HSEEP: performed without / with some / with major challenges,
        unable to be performed)."""
        if objective not in self.objectives():
            raise SessionError("rate one of the exercise's objectives", "objective")
        self._append("rating", objective=objective, rating=rating, text=text)

    def add_finding(self, objective: str, kind: str, observation: str, root_cause: str = "",
                    recommendation: str = "", capability: str = "", responsible: str = "", poc: str = "",
                    start: str = "", due: str = "") -> None:
        """A strength or area for improvement: observation -> root cause -> recommendation; for an area
        for improvement also its row in the improvement plan (capability element, who, when)."""
        if kind not in ("strength", "improvement"):
            raise SessionError("a finding is a strength or an area for improvement", "kind")
        if not observation or not observation.strip():
            raise SessionError("a finding needs an observation", "observation")
        if capability and capability not in CAPABILITY_ELEMENTS:
            raise SessionError(f"capability element is one of {', '.join(CAPABILITY_ELEMENTS)}", "capability")
        if objective and objective not in self.objectives():
            raise SessionError("a finding belongs to one of the exercise's objectives (or none)", "objective")
        self._append("finding", objective=objective, kind=kind, observation=observation, root_cause=root_cause,
                     recommendation=recommendation, capability=capability, responsible=responsible, poc=poc,
                     start=start, due=due)

    def observe(self, text: str, objective: str = "") -> None:
        """An observer's or evaluator's observation (for the AAR; never shown to the room)."""
        if not text or not text.strip():
            raise SessionError("an empty observation", "text")
        self._append("observation", text=text, objective=objective, **self._by())

    # ------------------------------------------------------------------ whole moves, forecasts, exports

    def play_move(self, release_due: bool = True) -> MoveRecord:
        """A full move with AI defaults: release due injects, AI submissions, model adjudication."""
        for iid in self.start_move() if release_due else []:
            self.release(iid)
        self.set_phase("submission")
        self.submit_ai()
        missing = [a for a in self.state.spec.actor_ids if a not in self.state.pending]
        if missing:
            raise SessionError(f"waiting for decisions from {', '.join(missing)}")
        self.set_phase("adjudication")
        return self.resolve()

    def forecast(self, runs: int = 1000, turns: int | None = None) -> dict:
        """Outcome spread of ``runs`` AI-played continuations from the live state (seeded by the
        session and its length, so asking twice at one point gives the same answer)."""
        runs = int(_number(runs, 1, MAX_FORECAST_RUNS, f"a forecast takes 1 to {MAX_FORECAST_RUNS:,} runs", "runs"))
        if turns is not None:
            turns = int(_number(turns, 1, self.state.spec.turns, "forecast horizon out of range", "turns"))
        S = self.state
        f = play.forecast(S.spec, S.st, S.seed, S.run_index, len(self.events), runs, turns)
        return {"runs": f["runs"], "from_move": S.move, "outcomes": f["outcomes"], "peak": f["peak"]}

    def hash(self) -> str:
        """The world's digest: a replayed or branched session is the same world iff it matches."""
        return play.state_hash(self.state.st)

    def decisions_csv(self) -> str:
        """Every decision with its seat, source, AI proposal and ruling (one row per team and move)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["move", "actor", "seat", "action", "target", "public", "rationale", "source", "ai_action",
                    "ai_target", "override_reason", "adjudication", "probability", "roll", "success", "realised",
                    "arguments", "ruling_reason", "entered_by"])
        for m in self.state.moves:
            for a, sub in m.submissions.items():
                adj = m.adjudications.get(a)
                w.writerow(safe_row([m.move, a, sub.seat, sub.action, sub.target or "", sub.public,
                                     sub.rationale, sub.source, sub.ai_action or "", sub.ai_target or "",
                                     sub.override_reason, adj.mode if adj else "model",
                                     "" if not adj or adj.probability is None else f"{adj.probability:.2f}",
                                     "" if not adj or adj.roll is None else f"{adj.roll:.4f}",
                                     True if not adj else adj.success, m.realised[a],
                                     adj.arguments if adj else "", adj.reason if adj else "", sub.by]))
        return buf.getvalue()


def _number(value: Any, lo: float, hi: float, message: str, field_: str) -> float:
    """A finite number within [lo, hi] (from a form, the terminal or the API), else one clear refusal."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SessionError(message, field_) from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise SessionError(message, field_)
    return x
