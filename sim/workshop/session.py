"""A live tabletop session, event-sourced on top of the Mesa model.

Everything a facilitator or a team does is an event appended to ``session.jsonl`` (flushed
and fsynced before the call returns). The session state is never saved directly: it is
rebuilt by replaying the log through the same rule functions the simulations use
(``sim.engine.rules``), so a session survives a crash, can be replayed read-only, and can be
branched from any move. Undo is an event too.

A move runs through phases: situation -> deliberation -> submission -> adjudication ->
readout. Seats are human, AI or hybrid (the AI proposes, the team approves or replaces).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sim.engine import rng, rules
from sim.engine.mesa_adapter import CrisisModel, CrisisScenario
from sim.errors import SessionError
from sim.inputs.compile import Spec, compile_inject, compile_scenario
from sim.inputs.schema import Inject
from sim.names import Stream

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


@dataclass
class Adjudication:
    actor: str
    mode: str  # model | ruling | matrix
    success: bool
    probability: float | None = None
    roll: float | None = None
    arguments: str = ""
    reason: str = ""


@dataclass
class Headline:
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


@dataclass
class SessionState:
    """Everything rebuilt from the log (plus the live model it drives)."""

    scenario: str
    seed: int
    run_index: int
    model: CrisisModel
    seats: dict[str, str]
    phase: str = "briefing"
    move: int = 0
    paused: bool = False
    released: list[dict] = field(default_factory=list)  # {move, id, title, text, to, edited, t}
    held: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    pending: dict[str, Submission] = field(default_factory=dict)
    adjudications: list[Adjudication] = field(default_factory=list)
    moves: list[MoveRecord] = field(default_factory=list)
    headlines: list[Headline] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    timer: dict | None = None
    hotwash: list[dict] = field(default_factory=list)
    ended: bool = False

    @property
    def spec(self) -> Spec:
        return self.model.spec

    @property
    def st(self) -> rules.State:
        return self.model.state


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def state_hash(st: rules.State) -> str:
    """A digest of the full simulation state: equal hashes mean identical worlds."""
    h = hashlib.sha256()
    for f in fields(st):
        v = getattr(st, f.name)
        if isinstance(v, np.ndarray):
            h.update(f.name.encode())
            h.update(np.ascontiguousarray(v).tobytes())
        elif v is not None:
            h.update(f"{f.name}={v}".encode())
    return h.hexdigest()


class Session:
    """A workshop session stored as an append-only event log in ``directory``."""

    LOG = "session.jsonl"

    def __init__(self, directory: Path, read_only: bool = False):
        self.dir = Path(directory)
        self.read_only = read_only
        self.events: list[dict] = []
        self.state: SessionState | None = None

    # ------------------------------------------------------------------ create / load

    @classmethod
    def create(cls, directory: Path, scenario: str | Path, seed: int = 0, run_index: int = 0,
               seats: dict[str, str] | None = None, title: str = "") -> Session:
        directory = Path(directory)
        if (directory / cls.LOG).exists():
            raise SessionError(f"a session already exists in {directory}; resume it instead", "--session")
        directory.mkdir(parents=True, exist_ok=True)
        spec = compile_scenario(scenario)
        seats = {a: (seats or {}).get(a, "ai") for a in spec.actor_ids}
        s = cls(directory)
        s._append("created", scenario=str(scenario), seed=int(seed), run_index=int(run_index), seats=seats,
                  title=title or spec.scenario.title)
        return s

    @classmethod
    def load(cls, directory: Path, read_only: bool = False, upto: int | None = None) -> Session:
        """Rebuild a session from its log (optionally only the first ``upto`` events)."""
        s = cls(directory, read_only=read_only or upto is not None)
        path = s.dir / cls.LOG
        if not path.exists():
            raise SessionError(f"no session log at {path}", "--session")
        lines = path.read_bytes().split(b"\n")
        events = []
        for n, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                if n == len(lines) - 1 or all(not x.strip() for x in lines[n + 1:]):
                    break  # a torn last line: an event that was never acknowledged
                raise SessionError(f"{path}: line {n + 1} is corrupt") from None
        for ev in events[:upto]:
            s._apply(ev)
            s.events.append(ev)
        return s

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
        with open(directory / self.LOG, "w") as f:
            for ev in self.events[:cut]:
                f.write(json.dumps(ev, sort_keys=True) + "\n")
            f.write(json.dumps({"seq": cut, "t": _now(), "type": "note", "text":
                                f"branched from {self.dir} after move {upto_move}", "tags": ["branch"]},
                               sort_keys=True) + "\n")
        return Session.load(directory)

    # ------------------------------------------------------------------ the log

    def _append(self, type_: str, **data: Any) -> dict:
        if self.read_only:
            raise SessionError("this session is open read-only (replay)")
        ev = {"seq": len(self.events), "t": _now(), "type": type_, **data}
        self._apply(ev)  # validate by applying before persisting
        line = json.dumps(ev, sort_keys=True, default=str) + "\n"
        with open(self.dir / self.LOG, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self.events.append(ev)
        return ev

    def _apply(self, ev: dict) -> None:
        handler = getattr(self, f"_on_{ev['type']}", None)
        if handler is None:
            raise SessionError(f"unknown event type {ev['type']!r}")
        if ev["type"] != "created" and self.state is None:
            raise SessionError("the log does not start with a 'created' event")
        handler(ev)

    # ------------------------------------------------------------------ event handlers (the rules of play)

    def _on_created(self, ev: dict) -> None:
        sc = CrisisScenario(scenario_file=ev["scenario"], seed=ev["seed"], run_index=ev["run_index"])
        model = CrisisModel(sc)
        self.state = SessionState(scenario=ev["scenario"], seed=ev["seed"], run_index=ev["run_index"],
                                  model=model, seats=dict(ev["seats"]))

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

    def _on_phase(self, ev: dict) -> None:
        if ev["phase"] not in PHASES:
            raise SessionError(f"unknown phase {ev['phase']!r}")
        self.state.phase = ev["phase"]
        if ev["phase"] == "endex":
            self.state.ended = True

    def _on_pause(self, ev: dict) -> None:
        self.state.paused = bool(ev["paused"])

    def _on_seat(self, ev: dict) -> None:
        self._actor(ev["actor"])
        if ev["mode"] not in ("human", "ai", "hybrid"):
            raise SessionError(f"unknown seat mode {ev['mode']!r}")
        self.state.seats[ev["actor"]] = ev["mode"]

    def _on_move_started(self, ev: dict) -> None:
        S = self.state
        self._require("briefing", "readout")
        if ev["move"] != S.move + 1:
            raise SessionError(f"expected move {S.move + 1}")
        S.move = ev["move"]
        S.st.turn += 1  # the clock, as rules.begin_turn would advance it
        S.phase = "situation"
        S.pending = {}
        S.adjudications = []
        S.held = set()

    def _inject_by_id(self, inject_id: str):
        for inj in self.state.spec.injects:
            if inj.source.id == inject_id:
                return inj
        raise SessionError(f"unknown inject {inject_id!r}", "inject")

    def _on_inject_released(self, ev: dict) -> None:
        S = self.state
        if S.move < 1:
            raise SessionError("release injects once a move has started")
        mask = np.ones(1, bool)
        if ev.get("inject") is not None:  # edited or new inject, compiled against the scenario
            try:
                inj_obj = Inject.model_validate(ev["inject"])
            except Exception as exc:  # pydantic validation error -> one clear line
                raise SessionError(f"invalid inject: {str(exc).splitlines()[0]}", "inject") from None
            base = next((i for i in S.spec.injects if i.source.id == inj_obj.id), None)
            index = base.index if base is not None else -1
            if base is not None and S.st.fired[0, index]:
                raise SessionError(f"inject {inj_obj.id} was already released", "inject")
            cinj = compile_inject(S.spec, inj_obj, index)
            rules.apply_inject(S.spec, S.st, index, mask, inj=cinj)
            title, text, to, edited = inj_obj.title, inj_obj.text, inj_obj.to, True
            iid = inj_obj.id
        else:
            base = self._inject_by_id(ev["id"])
            if S.st.fired[0, base.index]:
                raise SessionError(f"inject {ev['id']} was already released", "inject")
            rules.apply_inject(S.spec, S.st, base.index, mask)
            title, text, to, edited = base.source.title, base.source.text, base.source.to, False
            iid = base.source.id
        S.held.discard(iid)
        S.released.append({"move": S.move, "id": iid, "title": title, "text": text, "to": list(to),
                           "edited": edited, "t": ev["t"]})
        S.headlines.append(Headline(S.move, title, public="all" in to))

    def _on_inject_held(self, ev: dict) -> None:
        self._inject_by_id(ev["id"])
        self.state.held.add(ev["id"])

    def _on_inject_skipped(self, ev: dict) -> None:
        inj = self._inject_by_id(ev["id"])
        self.state.skipped.add(ev["id"])
        self.state.st.declined[0, inj.index] = True

    def _on_decision(self, ev: dict) -> None:
        S = self.state
        self._require("situation", "deliberation", "submission")
        self._actor(ev["actor"])
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
            override_reason=ev.get("override_reason", ""))

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

    def _on_resolved(self, ev: dict) -> None:
        S = self.state
        self._require("adjudication")
        spec, st = S.spec, S.st
        missing = [a for a in spec.actor_ids if a not in S.pending]
        if missing:
            raise SessionError(f"missing decisions from {', '.join(missing)}")
        dec = self._decision_arrays(S.pending, {x.actor: x for x in S.adjudications})
        out = rules.resolve(spec, st, dec)
        S.model.log.record(st, dec, out)
        rung = [r.id for r in spec.catalogue.rungs]
        names = spec.actor_ids
        realised = {a: rung[int(out.realised[0, i])] for i, a in enumerate(names)}
        perceived = {o: {a: rung[int(st.perc[0, j, i])] for i, a in enumerate(names) if i != j}
                     for j, o in enumerate(names)}
        answered = {a: ("" if out.answered[0, i] < 0 else "yes" if out.answered[0, i] else "no")
                    for i, a in enumerate(names)}
        incidents = [a for i, a in enumerate(names) if out.incident[0, i]]
        rec = MoveRecord(move=S.move, submissions=dict(S.pending), adjudications={x.actor: x for x in S.adjudications},
                         realised=realised, perceived_by=perceived, answered=answered, incidents=incidents,
                         injects=[r["id"] for r in S.released if r["move"] == S.move],
                         crisis_rung=rung[int(st.crisis[0])])
        S.moves.append(rec)
        for a in names:
            sub = S.pending[a]
            adj = rec.adjudications.get(a)
            if adj is not None and not adj.success:
                S.headlines.append(Headline(S.move, f"{a}: {self.label(sub.action)} did not succeed",
                                            public=sub.public, actor=a))
            elif sub.action != "hold":
                tgt = f" ({sub.target})" if sub.target else ""
                S.headlines.append(Headline(S.move, f"{a}: {self.label(sub.action)}{tgt}", public=sub.public, actor=a))
        for a in incidents:
            S.headlines.append(Headline(S.move, f"Incident: a collision involving {a}'s forces", public=True, actor=a))
        S.phase = "readout"
        if st.end[0] > 0 and S.model.running:  # the model's verdict; the facilitator decides when play ends
            S.model.running = False
            S.headlines.append(Headline(S.move, f"By the model's rules the crisis has ended: "
                                                f"{rules.END_REASONS[int(st.end[0])].replace('_', ' ')}"))

    def _on_note(self, ev: dict) -> None:
        self.state.notes.append({"move": self.state.move, "text": ev["text"], "tags": ev.get("tags", []),
                                 "t": ev["t"]})

    def _on_timer(self, ev: dict) -> None:
        self.state.timer = {"phase": ev.get("phase", self.state.phase), "ends": ev["ends"], "t": ev["t"]}

    def _on_hotwash(self, ev: dict) -> None:
        self.state.hotwash.append({"kind": ev["kind"], "text": ev["text"], "t": ev["t"]})

    # ------------------------------------------------------------------ helpers

    def label(self, action: str) -> str:
        return self.state.spec.catalogue.actions[self.state.spec.catalogue.action_index(action)].label

    def admissible(self, actor: str) -> dict[str, list[str]]:
        """Actions the actor may take now, each with the targets it may address."""
        S = self.state
        spec, st = S.spec, S.st
        a = self._actor(actor)
        mask = rules.admissible(spec, st, a)[0]
        advs = [spec.actor_ids[b] for b in np.flatnonzero(spec.dyads.adversary[a])]
        allies = [spec.actor_ids[b] for b in np.flatnonzero(spec.dyads.commitment[a] > 0)]
        out = {}
        for j in np.flatnonzero(mask):
            act = spec.catalogue.actions[spec.options.action[a, j]]
            out[act.id] = advs if act.target == "adversary" else allies if act.target == "ally" else []
        return out

    def ai_proposal(self, actor: str, top: int = 3) -> dict:
        """The AI's move for this seat (the seeded draw the simulation would make) and its reasons."""
        S = self.state
        spec, st = S.spec, S.st
        a = self._actor(actor)
        dec = rules.decide(spec, st, np.array([a]))
        sc = rules.score(spec, st, np.array([a]))
        p = sc.probabilities[0, 0]
        acts = spec.catalogue.actions
        order = np.argsort(-p, kind="stable")[:top]
        k = spec.options.action[a, int(dec.opt[0, 0])]
        tgt = int(dec.target[0, 0])
        reasons = [(rules.REASON_NAMES[int(r)], float(w)) for r, w in zip(dec.reasons[0, 0], dec.contrib[0, 0],
                                                                             strict=True)]
        return {"actor": actor, "action": acts[k].id, "label": acts[k].label,
                "target": spec.actor_ids[tgt] if tgt >= 0 else None,
                "probability": float(dec.prob[0, 0]),
                "alternatives": [{"action": acts[spec.options.action[a, j]].id, "probability": float(p[j])}
                                 for j in order],
                "drivers": reasons[:2], "restraint": reasons[2]}

    def _decision_arrays(self, subs: dict[str, Submission], adj: dict[str, Adjudication]) -> rules.Decision:
        spec = self.state.spec
        A = spec.n_actors
        opt = np.zeros((1, A), int)
        tgt = -np.ones((1, A), int)
        hold = spec.catalogue.action_index("hold")
        for i, a in enumerate(spec.actor_ids):
            sub = subs[a]
            ok = adj.get(a) is None or adj[a].success
            k = spec.catalogue.action_index(sub.action) if ok else hold
            opt[0, i] = int(np.flatnonzero(spec.options.action[i] == k)[0])
            if ok and sub.target:
                tgt[0, i] = spec.actor_index(sub.target)
        z = np.zeros((1, A, 3), int)
        return rules.Decision(opt=opt, target=tgt, prob=np.ones((1, A)), reasons=z, contrib=z.astype(float),
                              forced=np.zeros((1, A), bool))

    # ------------------------------------------------------------------ facilitator API (each call = one event)

    def set_phase(self, phase: str) -> None:
        self._append("phase", phase=phase)

    def pause(self, paused: bool = True) -> None:
        self._append("pause", paused=paused)

    def set_seat(self, actor: str, mode: SeatMode) -> None:
        self._append("seat", actor=actor, mode=mode)

    def start_move(self) -> list[str]:
        """Open the next move; returns the ids of injects now due (for the facilitator to release)."""
        self._append("move_started", move=self.state.move + 1)
        return self.due_injects()

    def due_injects(self) -> list[str]:
        S = self.state
        return [inj.source.id for inj in S.spec.injects if inj.kind != "contingency"
                and rules.due(S.spec, S.st, inj)[0] and inj.source.id not in S.skipped]

    def release(self, inject_id: str | None = None, inject: dict | None = None) -> None:
        """Release a scripted inject (by id), an edited version of one, or a new one (dict)."""
        if inject is not None:
            self._append("inject_released", inject=inject)
        else:
            self._append("inject_released", id=inject_id)

    def hold(self, inject_id: str) -> None:
        self._append("inject_held", id=inject_id)

    def skip(self, inject_id: str) -> None:
        self._append("inject_skipped", id=inject_id)

    def submit(self, actor: str, action: str, target: str | None = None, channel: str | None = None,
               public: bool = True, rationale: str = "", override_reason: str = "") -> None:
        """A team's decision. For a hybrid seat, replacing the AI proposal requires a reason."""
        mode = self.state.seats.get(actor, "ai")
        prop = self.ai_proposal(actor)  # recorded for every seat: the AAR compares teams with the AI
        source = "human"
        if mode == "hybrid":
            same = prop["action"] == action and (prop["target"] == target or target is None)
            if not same and not override_reason:
                raise SessionError("replacing the AI proposal needs a reason", "override_reason")
            source = "hybrid-approved" if same else "hybrid-replaced"
            target = target if target is not None else prop["target"]
        elif mode == "ai":
            if not override_reason:
                raise SessionError(f"{actor} is an AI seat: overriding its move needs a reason", "override_reason")
            source = "ai-overridden"
        self._append("decision", actor=actor, action=action, target=target, channel=channel, public=public,
                     rationale=rationale, source=source, ai_action=prop["action"], ai_target=prop["target"],
                     override_reason=override_reason)

    def submit_ai(self, actor: str | None = None) -> None:
        """Let AI (and hybrid, as proposed) seats submit their proposals."""
        for a in [actor] if actor else self.state.spec.actor_ids:
            if a in self.state.pending or (actor is None and self.state.seats[a] == "human"):
                continue
            prop = self.ai_proposal(a)
            rationale = "; ".join(f"{n} {w:+.2f}" for n, w in prop["drivers"])
            self._append("decision", actor=a, action=prop["action"], target=prop["target"], public=True,
                         rationale=f"AI: {rationale}", source="ai", ai_action=prop["action"],
                         ai_target=prop["target"])

    def adjudicate(self, actor: str, mode: str = "model", success: bool | None = None,
                   probability: float | None = None, arguments: str = "", reason: str = "") -> Adjudication:
        """Rule on one move: by the model (it happens as chosen), by ruling (with a reason), or
        matrix-style (a probability set by the facilitator and a seeded, visible roll)."""
        roll = None
        if mode == "matrix":
            if probability is None or not 0 <= probability <= 1:
                raise SessionError("matrix adjudication needs a probability between 0 and 1", "probability")
            S = self.state
            n_prev = sum(1 for e in self.events if e["type"] == "adjudicated" and e.get("mode") == "matrix")
            lane = self._actor(actor) + 64 * n_prev  # a fresh, reproducible roll each time
            roll = float(rng.draw(S.st.keys, S.move, Stream.ADJUDICATE, np.array([lane]))[0, 0])
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
        S = self.state
        st = copy.deepcopy(S.st)
        dec = self._decision_arrays(S.pending, {x.actor: x for x in S.adjudications})
        out = rules.resolve(S.spec, st, dec)
        rung = [r.id for r in S.spec.catalogue.rungs]
        return {a: rung[int(out.realised[0, i])] for i, a in enumerate(S.spec.actor_ids)}

    def resolve(self) -> MoveRecord:
        self._append("resolved")
        return self.state.moves[-1]

    def note(self, text: str, tags: list[str] | None = None) -> None:
        self._append("note", text=text, tags=tags or [])

    def start_timer(self, minutes: float) -> None:
        ends = datetime.now(UTC).timestamp() + minutes * 60
        self._append("timer", ends=ends)

    def add_time(self, minutes: float) -> None:
        base = self.state.timer["ends"] if self.state.timer else datetime.now(UTC).timestamp()
        self._append("timer", ends=base + minutes * 60)

    def hotwash(self, kind: Literal["strength", "improvement", "insight"], text: str) -> None:
        self._append("hotwash", kind=kind, text=text)

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
        """Outcome spread of ``runs`` AI-played continuations from the live state (seeded).

        Play continues to the scenario's turn limit even if the model would already have
        called the crisis over (the facilitator, not the model, ends a workshop).
        """
        from sim.engine.outcomes import classify
        from sim.names import OUTCOMES

        S = self.state
        spec, st = S.spec, S.st
        batch = st.take(np.zeros(runs, int))
        base = rng.run_keys(S.seed * 7919 + S.run_index, [Stream.FORECAST * 1_000_003 + len(self.events)])[0]
        with np.errstate(over="ignore"):
            batch.keys = rng.mix(np.uint64(base) ^ rng.mix(np.arange(runs, dtype=np.uint64) + np.uint64(1)))
        batch.run = np.arange(runs)
        batch.end[:] = 0
        batch.calm[:] = 0
        done = []
        limit = spec.turns if turns is None else min(spec.turns, st.turn + turns)
        if batch.turn >= limit:
            done.append(batch)
        else:
            while len(batch.keys) and batch.turn < limit:
                rules.begin_turn(spec, batch)
                rules.resolve(spec, batch, rules.decide(spec, batch))
                fin = batch.end > 0
                if batch.turn >= limit:
                    fin[:] = True
                if fin.any():
                    done.append(batch.take(np.flatnonzero(fin)))
                    batch = batch.take(np.flatnonzero(~fin))
        cls = np.concatenate([classify(spec, d)["outcome"] for d in done])
        peak = np.concatenate([d.crisis for d in done])
        from sim.analysis.tables import wilson

        k = np.bincount(cls, minlength=len(OUTCOMES))
        lo, hi = wilson(k, len(cls))
        rung = [r.id for r in spec.catalogue.rungs]
        return {"runs": len(cls), "from_move": S.move,
                "outcomes": {o: {"share": float(k[i] / len(cls)), "ci": [float(lo[i]), float(hi[i])]}
                             for i, o in enumerate(OUTCOMES)},
                "peak": {rung[r]: float(np.mean(peak == r)) for r in np.unique(peak)}}

    def hash(self) -> str:
        return state_hash(self.state.st)

    def decisions_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["move", "actor", "seat", "action", "target", "public", "rationale", "source", "ai_action",
                    "ai_target", "override_reason", "adjudication", "probability", "roll", "success", "realised"])
        for m in self.state.moves:
            for a, sub in m.submissions.items():
                adj = m.adjudications.get(a)
                w.writerow([m.move, a, sub.seat, sub.action, sub.target or "", sub.public,
                            sub.rationale, sub.source, sub.ai_action or "", sub.ai_target or "",
                            sub.override_reason, adj.mode if adj else "model",
                            "" if not adj or adj.probability is None else adj.probability,
                            "" if not adj or adj.roll is None else f"{adj.roll:.4f}",
                            True if not adj else adj.success, m.realised[a]])
        return buf.getvalue()
