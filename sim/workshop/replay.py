"""Replay and what-if from the console: step through a session, and branch a move differently.

Both work on the event log in memory (nothing is written unless the facilitator saves a branch):
the session as it stood after any move is the log replayed to that point, and "what if Japan had
used the hotline in move 2" is the log of moves 1-2 with Japan's decision in move 2 replaced (the
other teams' decisions and final rulings kept), resolved by the same rules, then compared with
what happened, forecast against forecast.
"""

from __future__ import annotations

from pathlib import Path

from sim.errors import SessionError
from sim.workshop.session import Session


def in_memory(events: list[dict], directory: Path) -> Session:
    """A read-only session rebuilt from ``events`` (no file is read or written)."""
    s = Session(directory, read_only=True)
    for ev in events:
        s._apply(ev)
        s.events.append(ev)
    return s


def cut_after(session: Session, move: int) -> int:
    """How many events make the session as it stood at the end of ``move`` (0: before move 1)."""
    for i, ev in enumerate(session.events):
        if ev["type"] == "move_started" and ev["move"] > move:
            return i
    return len(session.events)


def at_move(session: Session, move: int) -> Session:
    """The session as it stood at the end of ``move`` (read-only, in memory)."""
    if not 0 <= move <= len(session.state.moves):
        raise SessionError(f"pick a move between 0 and {len(session.state.moves)}", "move")
    return in_memory(session.events[:cut_after(session, move)], session.dir)


def branch_events(session: Session, move: int, actor: str, action: str, target: str | None = None) -> list[dict]:
    """The log up to the end of ``move`` with ``actor``'s decision in that move replaced."""
    S = session.state
    if not 1 <= move <= len(S.moves):
        raise SessionError(f"a what-if starts from a resolved move (1 to {len(S.moves)})", "move")
    session._actor(actor)
    rec = S.moves[move - 1]
    evs = session.events
    start = next(i for i, e in enumerate(evs) if e["type"] == "move_started" and e["move"] == move)
    end = next(i for i in range(start, len(evs)) if evs[i]["type"] == "resolved")
    body = evs[start:end]
    cut = next((i for i, e in enumerate(body) if e["type"] == "phase" and e["phase"] == "adjudication"), len(body))
    kept = [e for e in body[:cut] if not (e["type"] in ("decision", "withdrawn") and e["actor"] == actor)]
    t = body[0]["t"]
    decision = {"type": "decision", "t": t, "actor": actor, "action": action, "target": target, "public": True,
                "rationale": "what-if", "source": "human", "ai_action": None, "ai_target": None}
    rulings = [{"type": "adjudicated", "t": t, "actor": a, "mode": adj.mode, "success": adj.success,
                "probability": adj.probability, "roll": adj.roll, "arguments": adj.arguments, "reason": adj.reason}
               for a, adj in rec.adjudications.items() if a != actor]
    tail = [*kept, decision, {"type": "phase", "t": t, "phase": "adjudication"}, *rulings,
            {"type": "resolved", "t": evs[end]["t"]}]
    return [*evs[:start], *({**e, "seq": start + i} for i, e in enumerate(tail))]


def what_if(session: Session, move: int, actor: str, action: str, target: str | None = None,
            runs: int = 500) -> dict:
    """``actor`` plays ``action`` in ``move`` instead: the move's outcome both ways, and the
    forecast of AI-played continuations from the end of the move both ways."""
    events = branch_events(session, move, actor, action, target)
    try:
        alt = in_memory(events, session.dir)
    except SessionError as exc:
        raise SessionError(f"that move was not open to {actor} in move {move}: {exc.message}", "action") from None
    actual = at_move(session, move)
    a, b = actual.state.moves[-1], alt.state.moves[-1]
    return {"move": move, "actor": actor, "action": session.label(action), "target": target,
            "realised": {x: {"actual": a.realised[x], "what_if": b.realised[x]} for x in a.realised},
            "crisis": {"actual": a.crisis_rung, "what_if": b.crisis_rung},
            "forecast": {"actual": actual.forecast(runs), "what_if": alt.forecast(runs)}}


def save_branch(session: Session, move: int, actor: str, action: str, target: str | None,
                directory: Path) -> Session:
    """Write the what-if as a new session in ``directory`` (to play on from there)."""
    directory = Path(directory)
    if (directory / Session.LOG).exists():
        raise SessionError(f"a session already exists in {directory}", "directory")
    events = branch_events(session, move, actor, action, target)
    in_memory(events, session.dir)  # it must replay before anything is written
    directory.mkdir(parents=True, exist_ok=True)
    out = Session(directory)
    out.acquire()
    for ev in events:
        out.events.append(out._writer.append({k: v for k, v in ev.items() if k != "digest"}))
    out._rebuild()
    out.note(f"what-if branched from {session.dir}: {actor} plays {action} in move {move}", tags=["branch"])
    return out
