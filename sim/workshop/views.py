"""What each audience may see, as data: the redaction boundary.

The projector, team, observer and hot-wash screens are rendered (``sim.workshop.render``) from
these view-models only, never from the session itself, so a page cannot show what its model
leaves out: the MSEL, controller notes, AI reasoning (except a hybrid team's own adviser),
another team's secret moves, or what a secret move did (the room's picture carries an actor's
last public move forward, so a secret move leaves no gap). The facilitator console and the
printables read the full session.

Everything player-facing is in words: rungs, moves and channels by their labels, never ids.
"""

from __future__ import annotations

import re

from sim.names import ChannelStatus
from sim.workshop.records import MoveRecord
from sim.workshop.session import Session

STATUS = {int(s): s.name.lower() for s in ChannelStatus}
STATUS_WORDS = {"open": "open", "suspended": "suspended", "not_operational": "not operational"}
HOTWASH_PROMPTS = (
    "What surprised you?",
    "Which channel did you not use, and why?",
    "Where did your team's picture of the others differ from what they did?",
    "What would you tell your government to change before the next crisis?",
)
#: Short rung names for the screens (the ladder's labels are written for the analyst's report).
RUNG_SHORT = {
    "accommodate": "Accommodation", "engage": "Dialogue", "status_quo": "Status quo", "protest": "Protest",
    "declare": "Declaration, red line", "coerce": "Coercion (economic, cyber)", "grey_zone": "Grey-zone presence",
    "show_of_force": "Show of force", "mobilise": "Alert, mobilisation", "harass": "Harassment",
    "seize": "Seizure", "limited_force": "Limited use of force", "major_war": "Major war",
    "nuclear_signal": "Nuclear threat", "nuclear_use": "Nuclear use",
}
#: The model's decision terms in plain words (why an option is pushed for or held back).
TERM_WORDS = {
    "threat": "the threat it feels", "stakes": "what is at stake", "reciprocity": "answering the other side in kind",
    "inertia": "reluctance to jump several rungs at once", "cost": "the cost of acting",
    "firebreak": "reluctance to cross a threshold it has not crossed", "alliance": "standing by an ally",
    "entrapment": "fear of being dragged in by an ally", "audience": "pressure from the domestic audience",
    "interdependence": "economic ties with the other side", "channel": "an open crisis channel",
    "climate": "the political climate between the two", "grievance": "historic grievance",
    "affinity": "its doctrine and habits",
}


def scheduled_when(inj) -> str:
    """When a scheduled inject falls due, as the MSEL says it: by day (or by move in older files)."""
    return f"day {inj.day:g}" if inj.day is not None else f"move {inj.turn}"


def rung_label(session: Session, rung: str) -> str:
    """A rung as the room reads it."""
    if rung in RUNG_SHORT:
        return RUNG_SHORT[rung]
    cat = session.state.spec.catalogue
    return cat.rungs[cat.rung_index(rung)].label.split(":")[0].split(",")[0]


def actor_name(session: Session, actor: str | None) -> str:
    return session.name(actor)


CITATION = re.compile(r"\s*\((?:[A-Z][A-Za-z-]+(?: et al\.)?(?:,? \d{4})?)\)")  # "(Bader)": a source, for analysts


def for_players(text: str) -> str:
    """Scenario text as a player handout shows it: without the paper citations."""
    return CITATION.sub("", text or "")


def channel_label(label: str) -> str:
    """A channel's name short enough for the board (its parenthesis dropped)."""
    return re.sub(r"\s*\(.*?\)", "", label)


def outcome_label(outcome: str) -> str:
    return outcome.replace("_", " ")


def reasons_in_words(option: dict) -> str:
    """Why the model leans toward (or away from) one option, relative to holding."""
    pro = [TERM_WORDS.get(t, t) for t, w in option["drivers"] if w > 0.005]
    con = option["restraint"]
    if not pro and abs(con[1]) <= 0.005:
        return "the baseline: every other option is weighed against holding"
    parts = [f"for it: {' and '.join(pro)}"] if pro else []
    if con[1] < -0.005:
        parts.append(f"against it: {TERM_WORDS.get(con[0], con[0])}")
    return "; ".join(parts)


def scenario_time(session: Session) -> str:
    """The scenario clock at the current move, e.g. 'day 2, 12:00'."""
    S = session.state
    hours = S.spec.hours * max(S.move - 1, 0)
    return f"day {int(hours // 24) + 1}" + (f", {int(hours % 24):02d}:00" if hours % 24 else "")


def shown_moves(session: Session) -> list[MoveRecord]:
    """The resolved moves the room knows about: the last one only once its read-out is revealed."""
    S = session.state
    if S.phase == "readout" and S.moves and S.revealed < session.readout_size():
        return S.moves[:-1]
    return S.moves


def public_levels(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Per actor, the rung of each move as the room saw it: a secret move shows as the last public
    one carried forward (a gap would tell the room that something secret happened)."""
    S = session.state
    out: dict[str, list[tuple[int, str]]] = {a: [] for a in S.spec.actor_ids}
    for m in shown_moves(session):
        for a in S.spec.actor_ids:
            seen = m.realised[a] if m.submissions[a].public else (out[a][-1][1] if out[a] else _initial(session, a))
            out[a].append((m.move, seen))
    return out


def true_levels(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Per actor, the rung each move really reached, secret moves included (the controller's picture)."""
    S = session.state
    return {a: [(m.move, m.realised[a]) for m in S.moves] for a in S.spec.actor_ids}


def _initial(session: Session, actor: str) -> str:
    """The rung the scenario starts an actor on."""
    return next((x.initial_rung for x in session.state.spec.scenario.actors if x.id == actor), "status_quo")


def timer_model(session: Session) -> dict | None:
    """The phase's countdown for a page that ticks it itself: an end time (epoch ms) while it runs,
    the seconds left while it is stopped."""
    tm = session.timer()
    if tm is None:
        return None
    return {"ends_ms": int(tm["ends"] * 1000) if tm["running"] else None, "left": round(tm["remaining"]),
            "running": tm["running"], "expired": tm["expired"], "phase": session.state.phase}


def tracker(session: Session) -> list[dict]:
    """Who has submitted this move (never what): for the console, the projector and the teams."""
    S = session.state
    if not S.move or S.phase not in ("situation", "deliberation", "submission", "adjudication"):
        return []
    return [{"actor": a, "name": actor_name(session, a), "submitted": a in S.pending} for a in S.spec.actor_ids]


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


def msel_rows(session: Session) -> list[dict]:
    """The MSEL as the facilitator works it: every scripted inject with its status, then every
    written one, each with recipients and release time (facilitator only)."""
    S = session.state
    statuses = msel_status(session)
    released = {r["id"]: r for r in S.released}
    rows = []
    for inj in S.spec.scenario.injects:
        r = released.get(inj.id)
        when = scheduled_when(inj) if inj.kind == "scheduled" else inj.kind
        rows.append({"id": inj.id, "title": r["title"] if r else inj.title, "text": r["text"] if r else inj.text,
                     "to": r["to"] if r else list(inj.to), "status": statuses[inj.id], "when": when,
                     "released": f"move {r['move']}, {r['t'][11:16]}" if r else "", "edited": bool(r and r["edited"]),
                     "expected": inj.expected_action, "note": inj.controller_note, "objective": inj.objective,
                     "written": False})
    for r in S.released:
        if r.get("written"):
            rows.append({"id": r["id"], "title": r["title"], "text": r["text"], "to": r["to"], "status": "released",
                         "when": "written", "released": f"move {r['move']}, {r['t'][11:16]}", "edited": False,
                         "expected": "", "objective": "", "written": True,
                         "note": collision_note(r["collision"]) if r.get("collision") else ""})
    return rows


def collision_note(pair: list[str]) -> str:
    """What a written inject's collision says, in the MSEL and the terminal: (blamed, struck)."""
    return "a collision blamed on {}, against {}".format(*pair)


def recipients_label(session: Session, to: list[str]) -> str:
    return "all teams" if "all" in to else ", ".join(to)


# ---------------------------------------------------------------------------- the read-out


def readout(session: Session, rec: MoveRecord, viewer: str | None = None, full: bool = False) -> list[dict]:
    """A resolved move told item by item: each team's move (a secret one only to its team, or in
    ``full``), how it was adjudicated (the matrix p and roll), what it came to and why, whether its
    call was answered; then what the move added up to."""
    S = session.state
    items = []
    for a in S.spec.actor_ids:
        sub, adj, name = rec.submissions[a], rec.adjudications.get(a), actor_name(session, a)
        if not (sub.public or full or viewer == a):
            items.append({"actor": a, "headline": f"{name}: no public move", "details": [], "secret": False,
                          "success": None})
            continue
        tgt = f" toward {actor_name(session, sub.target)}" if sub.target else ""
        head = f"{name} held: no new move" if sub.action == "hold" else f"{name}: {session.label(sub.action)}{tgt}"
        details = []
        if adj is not None and adj.mode == "matrix":
            details.append(f"Matrix roll: needed under {adj.probability:.2f}, rolled {adj.roll:.2f}: "
                           + ("it succeeds" if adj.success else "it fails"))
        elif adj is not None and adj.mode == "ruling":
            details.append("Facilitator's ruling: " + ("it succeeds" if adj.success else "it fails"))
        ok = adj is None or adj.success
        realised, intended = rec.realised[a], rec.intended.get(a, rec.realised[a])
        rank = {r.id: i for i, r in enumerate(S.spec.catalogue.rungs)}
        if not ok:
            details.append("It did not succeed, so it counts as holding")
        elif sub.action != "hold" or realised != intended:
            why = ""
            if rank[realised] > rank[intended]:
                why = " (further than meant" + (": an incident carried it up)" if a in rec.incidents else ")")
            elif rank[realised] < rank[intended]:
                why = " (short of what was meant)"
            details.append(f"Came to: {rung_label(session, realised)}{why}")
        for call in rec.calls.get(a, []):
            details.append(f"The call on the {call['channel']} was " + ("answered" if call["answered"]
                                                                        else "not answered"))
        if a in rec.incidents and ok:
            details.append("Its forces were involved in an incident")
        items.append({"actor": a, "headline": head, "details": details, "secret": not sub.public, "success": ok})
    n_inc = len(rec.incidents)
    summary = [f"Crisis level now: {rung_label(session, rec.crisis_rung)}"]
    if n_inc:
        summary.append(f"{n_inc} incident{'s' if n_inc > 1 else ''} this move")
    items.append({"actor": None, "headline": f"After move {rec.move}", "details": summary, "secret": False,
                  "success": None})
    return items


def readout_model(session: Session, viewer: str | None = None) -> dict | None:
    """The read-out of the last move as far as the facilitator has revealed it (read-out phase only)."""
    S = session.state
    if S.phase != "readout" or not S.moves:
        return None
    items = readout(session, S.moves[-1], viewer)
    return {"move": S.moves[-1].move, "items": items[:S.revealed], "total": len(items), "revealed": S.revealed}


def headlines_by_move(session: Session, viewer: str | None = None, moves: int = 3) -> list[dict]:
    """The headlines of the last ``moves`` moves, grouped (newest first); while the read-out is being
    revealed, the move's results wait for it."""
    S = session.state
    hold_back = S.moves[-1].move if S.phase == "readout" and S.moves and S.revealed < session.readout_size() else None
    groups: dict[int, list[str]] = {}
    for h in S.headlines:
        if not (h.public or (viewer and h.actor == viewer)):
            continue
        if h.move == hold_back and h.actor is not None:
            continue
        groups.setdefault(h.move, []).append(h.text)
    return [{"move": m, "items": groups[m]} for m in sorted(groups, reverse=True)[:moves]]


# ---------------------------------------------------------------------------- the screens


def screen(session: Session) -> str:
    """Which full-screen state the room's pages are in."""
    S = session.state
    if S.ended:
        return "endex"
    if S.paused:
        return "paused"
    if S.phase == "hotwash":
        return "hotwash"
    if S.phase == "briefing":
        return "briefing"
    if S.phase == "readout" and S.moves:
        return "readout"
    return "board"


def projector_model(session: Session) -> dict:
    """Everything the projector may show, and nothing else."""
    S = session.state
    spec = S.spec
    levels = public_levels(session)
    channels = [{"label": spec.catalogue.channel(c).label, "status": STATUS[int(S.st.ch_status[0, i])]}
                for i, c in enumerate(spec.channel_ids)]
    return {
        "title": spec.scenario.title,
        "move": S.move,
        "phase": S.phase,
        "screen": screen(session),
        "paused": S.paused,
        "ended": S.ended,
        "time": scenario_time(session),
        "timer": timer_model(session),
        "actors": [{"id": a, "name": actor_name(session, a),
                    "rung": rung_label(session, levels[a][-1][1] if levels[a] else _initial(session, a))}
                   for a in spec.actor_ids],
        "channels": [{**c, "label": channel_label(c["label"]), "words": STATUS_WORDS.get(c["status"], c["status"])}
                     for c in channels if c["status"] != "not_operational"],
        "channels_dormant": sum(c["status"] == "not_operational" for c in channels),
        "tracker": tracker(session),
        "headlines": headlines_by_move(session),
        "readout": readout_model(session),
        "incidents": int(S.st.incidents[0]),
        "casualty_incidents": int(S.st.casualties[0]),
        "chart": {"levels": levels, "rungs": [r.id for r in spec.catalogue.rungs],
                  "labels": {r.id: rung_label(session, r.id) for r in spec.catalogue.rungs},
                  "names": {a: actor_name(session, a) for a in spec.actor_ids}},
        "briefing": for_players(spec.scenario.briefing or spec.scenario.summary) if S.phase == "briefing" else "",
        "map": map_points(session),
        "hotwash": hotwash_model(session) if S.phase == "hotwash" else None,
        "closing": closing_model(session) if S.ended else None,
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


def _others(session: Session, actor: str) -> list[dict]:
    """A team's picture of the others: each one's last public move and how this team read it."""
    S = session.state
    out = []
    for b in S.spec.actor_ids:
        if b == actor:
            continue
        last = next((m for m in reversed(shown_moves(session)) if m.submissions[b].public), None)
        if last is None:
            out.append({"actor": b, "name": actor_name(session, b), "move": None, "did": "no public move yet",
                        "read_as": ""})
            continue
        sub = last.submissions[b]
        did = "held" if sub.action == "hold" else session.label(sub.action)
        if last.adjudications.get(b) is not None and not last.adjudications[b].success:
            did += " (did not succeed)"
        out.append({"actor": b, "name": actor_name(session, b), "move": last.move, "did": did,
                    "read_as": rung_label(session, last.perceived_by[actor][b])})
    return out


def team_model(session: Session, actor: str) -> dict:
    """One team's own page: its picture of the others (possibly wrong), its messages and moves,
    its submission form and, for a hybrid seat, its own AI adviser. Nothing of any other team's
    secret moves, the MSEL or another team's adviser."""
    S = session.state
    spec = S.spec
    inbox = [r for r in S.released if "all" in r["to"] or actor in r["to"]]
    open_ = bool(S.move) and not S.ended and S.phase in ("situation", "deliberation", "submission")
    sub = S.pending.get(actor)
    own_moves = []
    for m in S.moves:
        mine = readout(session, m, viewer=actor)
        item = next(i for i in mine if i["actor"] == actor)
        if S.phase == "readout" and m is S.moves[-1] and S.revealed < session.readout_size():
            item = {**item, "details": [], "pending": True}
        own_moves.append({"move": m.move, **item})
    model = {
        "actor": actor, "name": actor_name(session, actor), "move": S.move, "phase": S.phase,
        "screen": screen(session), "paused": S.paused, "ended": S.ended, "time": scenario_time(session),
        "seat": S.seats[actor], "timer": timer_model(session), "tracker": tracker(session),
        "role": {k: [for_players(x) for x in v] for k, v in spec.scenario.roles[actor].model_dump().items()}
        if actor in spec.scenario.roles else None,
        "others": _others(session, actor),
        "inbox": [{"move": r["move"], "title": r["title"], "text": r["text"],
                   "private": "all" not in r["to"]} for r in reversed(inbox)],
        "own_moves": list(reversed(own_moves)),
        "headlines": headlines_by_move(session, viewer=actor),
        "readout": readout_model(session, viewer=actor),
        "form": {
            "open": open_ and S.seats[actor] != "ai",
            "deadline_passed": session.deadline_passed(),
            "menu": session.menu(actor) if open_ else [],
            "submitted": None if sub is None else {
                "label": session.label(sub.action), "target": actor_name(session, sub.target),
                "channel": sub.channel or "", "public": sub.public, "rationale": sub.rationale,
                "by": "your team" if sub.by == f"team:{actor}" else "the facilitator"},
        },
        "adviser": None,
        "closing": closing_model(session) if S.ended else None,
    }
    if S.seats[actor] == "hybrid" and open_:
        adv = session.advice(actor)  # the team's own adviser: no other page shows it
        model["adviser"] = {"frozen": adv["frozen"], "scripted": adv["scripted"], "options": [
            {"action": o["action"], "label": o["label"], "target": o["target"],
             "target_name": actor_name(session, o["target"]), "probability": o["probability"],
             "why": reasons_in_words(o)} for o in adv["options"]]}
    return model


def observer_model(session: Session) -> dict:
    """An observer or evaluator: the room's picture, the public timeline, the objectives to watch,
    and the observations recorded so far (no MSEL, no secrets, no AI reasoning)."""
    S = session.state
    return {"room": projector_model(session), "timeline": hotwash_model(session)["timeline"],
            "objectives": session.objectives(),
            "observations": [{"move": o["move"], "text": o["text"], "objective": o["objective"]}
                             for o in S.observations]}


def hotwash_model(session: Session) -> dict:
    """The room's hot-wash screen: public timeline (secret moves too, once revealed), objectives,
    prompts, entries so far."""
    S = session.state
    timeline = []
    for m in shown_moves(session):
        injects = [r["title"] for r in S.released if r["move"] == m.move and "all" in r["to"]]
        moves = []
        for a, sub in m.submissions.items():
            if not sub.public and not S.secrets_revealed:
                continue
            adj = m.adjudications.get(a)
            if sub.action == "hold" and sub.public:
                continue
            result = ("did not succeed" if adj is not None and not adj.success
                      else rung_label(session, m.realised[a]))
            moves.append(f"{actor_name(session, a)}: {session.label(sub.action)} \u2192 {result}"
                         + ("" if sub.public else " (secret)"))
        timeline.append({"move": m.move, "injects": injects, "moves": moves,
                         "incidents": [actor_name(session, a) for a in m.incidents]})
    return {"title": S.spec.scenario.title, "timeline": timeline, "objectives": session.objectives(),
            "prompts": list(HOTWASH_PROMPTS), "secrets_revealed": S.secrets_revealed,
            "entries": [{"kind": h["kind"], "text": h["text"]} for h in S.hotwash]}


def closing_model(session: Session) -> dict:
    """The ENDEX screen: what was played, in one glance."""
    S = session.state
    return {"title": S.spec.scenario.title, "moves": len(S.moves),
            "crisis": rung_label(session, S.moves[-1].crisis_rung) if S.moves else "",
            "thanks": "End of exercise. Thank you for playing: the after-action report follows."}
