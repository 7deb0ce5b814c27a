"""What each audience may see, as data: the redaction boundary.

The projector, team and hot-wash screens are rendered (``sim.workshop.render``) from these
view-models only, never from the session itself, so a page cannot show what its model leaves
out: the MSEL, controller notes, AI reasoning (except a hybrid team's own adviser) or another
team's secret moves. The facilitator console and the printables read the full session.
"""

from __future__ import annotations

from sim.names import ChannelStatus
from sim.workshop.session import Session

STATUS = {int(s): s.name.lower() for s in ChannelStatus}
HOTWASH_PROMPTS = (
    "What surprised you?",
    "Which channel did you not use, and why?",
    "Where did your team's picture of the others differ from what they did?",
    "What would you tell your government to change before the next crisis?",
)


def scenario_time(session: Session) -> str:
    """The scenario clock at the current move, e.g. 'day 2, 12:00'."""
    S = session.state
    hours = S.spec.hours * max(S.move - 1, 0)
    return f"day {int(hours // 24) + 1}" + (f", {int(hours % 24):02d}:00" if hours % 24 else "")


def public_levels(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Per actor, the rung of each move as the room saw it (secret moves are not shown)."""
    S = session.state
    out: dict[str, list[tuple[int, str]]] = {a: [] for a in S.spec.actor_ids}
    for m in S.moves:
        for a in S.spec.actor_ids:
            if m.submissions[a].public:
                out[a].append((m.move, m.realised[a]))
    return out


def msel_status(session: Session) -> dict[str, str]:
    """The facilitator's MSEL: each scripted inject's status (released, did not happen, skipped,
    held, due or pending)."""
    S = session.state
    released = {r["id"] for r in S.released}
    failed = {r["id"] for r in S.not_happened}
    due = set(session.due_injects()) if S.move else set()
    return {inj.id: "released" if inj.id in released else "did not happen" if inj.id in failed
            else "skipped" if inj.id in S.skipped else "held" if inj.id in S.held
            else "due" if inj.id in due else "pending" for inj in S.spec.scenario.injects}


def projector_model(session: Session) -> dict:
    """Everything the projector may show, and nothing else."""
    S = session.state
    spec = S.spec
    levels = public_levels(session)
    return {
        "title": S.spec.scenario.title,
        "move": S.move,
        "phase": S.phase,
        "paused": S.paused,
        "time": scenario_time(session),
        "timer_ends": S.timer["ends"] if S.timer else None,
        "actors": [{"id": a, "name": spec.postures[a].name, "rung": levels[a][-1][1] if levels[a] else "status_quo",
                    "seat": S.seats[a]} for a in spec.actor_ids],
        "channels": [{"label": spec.catalogue.channel(c).label, "status": STATUS[int(S.st.ch_status[0, i])]}
                     for i, c in enumerate(spec.channel_ids)],
        "headlines": [h.text for h in S.headlines if h.public][-8:],
        "incidents": int(S.st.incidents[0]),
        "casualty_incidents": int(S.st.casualties[0]),
        "chart": levels,
        "briefing": S.spec.scenario.briefing if S.phase == "briefing" else "",
        "map": map_points(session),
    }


def map_points(session: Session) -> list[dict]:
    """Scenario locations, with the titles of released public injects that happened there."""
    S = session.state
    by_id = {i.id: i for i in S.spec.scenario.injects}
    events: dict[str, list[str]] = {}
    for r in S.released:
        loc = by_id[r["id"]].location if r["id"] in by_id else None
        if loc and "all" in r["to"]:
            events.setdefault(loc, []).append(r["title"])
    return [{"name": loc.name, "lat": loc.lat, "lon": loc.lon, "events": events.get(loc.id, [])}
            for loc in S.spec.scenario.locations]


def team_model(session: Session, actor: str) -> dict:
    """One team's own picture: what it perceives (possibly wrongly) and what it was sent."""
    S = session.state
    spec = S.spec
    a = spec.actor_index(actor)
    rung = [r.id for r in spec.catalogue.rungs]
    inbox = [r for r in S.released if "all" in r["to"] or actor in r["to"]]
    model = {
        "actor": actor, "name": spec.postures[actor].name, "move": S.move, "phase": S.phase,
        "time": scenario_time(session), "seat": S.seats[actor],
        "role": spec.scenario.roles.get(actor).model_dump() if actor in spec.scenario.roles else None,
        "perceived": [{"actor": b, "rung": rung[int(S.st.perc[0, a, j])], "threat": round(float(S.st.H[0, a, j]), 2)}
                      for j, b in enumerate(spec.actor_ids) if j != a],
        "inbox": [{"move": r["move"], "title": r["title"], "text": r["text"]} for r in inbox],
        "own_moves": [{"move": m.move, "action": session.label(m.submissions[actor].action),
                       "target": m.submissions[actor].target, "realised": m.realised[actor]} for m in S.moves],
        "options": sorted(session.admissible(actor)) if S.move and not S.ended else [],
        "headlines": [h.text for h in S.headlines if h.public or h.actor == actor][-8:],
        "proposal": None,
    }
    if S.seats[actor] == "hybrid" and S.move and not S.ended:
        model["proposal"] = session.ai_proposal(actor)  # the team's own AI adviser
    return model


def hotwash_model(session: Session) -> dict:
    """The room's hot-wash screen: public timeline, objectives, prompts, entries so far."""
    S = session.state
    timeline = []
    for m in S.moves:
        injects = [r["title"] for r in S.released if r["move"] == m.move and "all" in r["to"]]
        moves = [f"{a}: {session.label(sub.action)} -> {m.realised[a].replace('_', ' ')}"
                 for a, sub in m.submissions.items() if sub.public and sub.action != "hold"]
        timeline.append({"move": m.move, "injects": injects, "moves": moves, "incidents": m.incidents})
    return {"title": S.spec.scenario.title, "timeline": timeline,
            "objectives": sorted({i.objective for i in S.spec.scenario.injects if i.objective}),
            "prompts": list(HOTWASH_PROMPTS),
            "entries": [{"kind": h["kind"], "text": h["text"]} for h in S.hotwash]}
