"""What each audience may see, as data (view-models) and as HTML.

The projector and team views are built from *redacted* view-models: the renderers never
touch the session itself, so they cannot leak the MSEL, controller notes, AI reasoning or
secret actions. The facilitator view and the printables are built from the full session.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime

from sim.names import ChannelStatus
from sim.workshop.session import Session

CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:0;background:#fff;color:#111}
.proj{font-size:22px;padding:18px} .proj h1{font-size:34px;margin:0 0 8px}
.proj table{border-collapse:collapse;font-size:22px} .proj td,.proj th{padding:6px 14px;border-bottom:1px solid #ccc}
.hl li{margin:6px 0} .muted{color:#555} .pill{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff}
.open{background:#2a7} .suspended{background:#c33} .not_operational{background:#888}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px} .card{border:1px solid #999;border-radius:8px;padding:14px}
@media print{.card{page-break-inside:avoid} .pagebreak{page-break-after:always}}
"""
STATUS = {int(s): s.name.lower() for s in ChannelStatus}


def _e(x) -> str:
    return html.escape(str(x))


def _page(title: str, body: str, refresh: int | None = None, fragment: bool = False) -> str:
    if fragment:  # for embedding in the web console
        return f"<style>{CSS}</style>{body}"
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'>{meta}<title>{_e(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>")


def _scenario_time(session: Session) -> str:
    S = session.state
    hours = S.spec.hours * max(S.move - 1, 0)
    return f"day {int(hours // 24) + 1}" + (f", {int(hours % 24):02d}:00" if hours % 24 else "")


def _public_levels(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Per actor, the rung of each move as the room saw it (secret moves are not shown)."""
    S = session.state
    out: dict[str, list[tuple[int, str]]] = {a: [] for a in S.spec.actor_ids}
    for m in S.moves:
        for a in S.spec.actor_ids:
            if m.submissions[a].public:
                out[a].append((m.move, m.realised[a]))
    return out


# ---------------------------------------------------------------------------- view-models


def projector_model(session: Session) -> dict:
    """Everything the projector may show, and nothing else."""
    S = session.state
    spec = S.spec
    levels = _public_levels(session)
    return {
        "title": S.spec.scenario.title,
        "move": S.move,
        "phase": S.phase,
        "paused": S.paused,
        "time": _scenario_time(session),
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
        "map": _map_points(session),
    }


def _map_points(session: Session) -> list[dict]:
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


def situation_map_png(points: list[dict], width=6, height=4.2) -> str:
    """A plain situation map (longitude/latitude, no basemap: it must work offline)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    xs, ys = [p["lon"] for p in points], [p["lat"] for p in points]
    for p in points:
        hot = bool(p["events"])
        ax.scatter(p["lon"], p["lat"], s=220 if hot else 90, c="#c0392b" if hot else "#2c3e50",
                   marker="*" if hot else "o", zorder=3)
        ax.annotate(p["name"], (p["lon"], p["lat"]), xytext=(6, 6), textcoords="offset points", fontsize=11)
    pad_x = max(1.0, (max(xs) - min(xs)) * 0.25)
    pad_y = max(1.0, (max(ys) - min(ys)) * 0.25)
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x + 2.5)  # room for labels on the right
    ax.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
    ax.set_xlabel("longitude (E)", fontsize=11)
    ax.set_ylabel("latitude (N)", fontsize=11)
    ax.set_title("Situation map (red star: reported events)", fontsize=13)
    ax.grid(alpha=0.3)
    ax.set_aspect("equal", adjustable="box")
    return _png(fig)


def team_model(session: Session, actor: str) -> dict:
    """One team's own picture: what it perceives (possibly wrongly) and what it was sent."""
    S = session.state
    spec = S.spec
    a = spec.actor_index(actor)
    rung = [r.id for r in spec.catalogue.rungs]
    inbox = [r for r in S.released if "all" in r["to"] or actor in r["to"]]
    model = {
        "actor": actor, "name": spec.postures[actor].name, "move": S.move, "phase": S.phase,
        "time": _scenario_time(session), "seat": S.seats[actor],
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


# ---------------------------------------------------------------------------- HTML


def _png(fig) -> str:
    """A matplotlib figure as base64 PNG (embedded in pages so they stand alone)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def escalation_chart_png(levels: dict[str, list[tuple[int, str]]], rung_names: list[str], width=9, height=4) -> str:
    """The escalation chart as a base64 PNG (publicly observed rungs per actor and move)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    for actor, pts in levels.items():
        if pts:
            ax.plot([m for m, _ in pts], [rung_names.index(r) for _, r in pts], marker="o", lw=2.5, label=actor)
    used = sorted({rung_names.index(r) for pts in levels.values() for _, r in pts} | {rung_names.index("status_quo")})
    lo, hi = max(min(used) - 1, 0), min(max(used) + 1, len(rung_names) - 1)
    ax.set_yticks(range(lo, hi + 1), [rung_names[i] for i in range(lo, hi + 1)], fontsize=12)
    ax.set_ylim(lo - 0.3, hi + 0.3)
    ax.set_xlabel("move", fontsize=13)
    moves = sorted({m for pts in levels.values() for m, _ in pts})
    if moves:
        ax.set_xticks(moves)
        ax.set_xlim(min(moves) - 0.5, max(moves) + 0.5)
    ax.set_title("Escalation (as observed by the room)", fontsize=15)
    ax.grid(alpha=0.3)
    if any(levels.values()):
        ax.legend(fontsize=12, loc="upper left")
    return _png(fig)


def render_projector(model: dict, rung_names: list[str], refresh: int | None = 5, fragment: bool = False) -> str:
    rows = "".join(f"<tr><td><b>{_e(a['id'])}</b> {_e(a['name'])}</td><td>{_e(a['rung'].replace('_', ' '))}</td></tr>"
                   for a in model["actors"])
    chans = "".join(f"<tr><td>{_e(c['label'])}</td><td><span class='pill {c['status']}'>"
                    f"{_e(c['status'].replace('_', ' '))}</span></td></tr>" for c in model["channels"])
    heads = "".join(f"<li>{_e(h)}</li>" for h in model["headlines"]) or "<li class='muted'>No headlines yet</li>"
    timer = ""
    if model["timer_ends"]:
        left = max(0, int(model["timer_ends"] - datetime.now(UTC).timestamp()))
        timer = f" &middot; time left {left // 60}:{left % 60:02d}"
    paused = " &middot; <b>PAUSED</b>" if model["paused"] else ""
    chart = escalation_chart_png(model["chart"], rung_names)
    themap = ""
    if model["map"]:
        themap = (f"<img alt='situation map' style='max-width:100%' "
                  f"src='data:image/png;base64,{situation_map_png(model['map'])}'>")
    brief = f"<p>{_e(model['briefing'])}</p>" if model["briefing"] else ""
    body = (f"<div class='proj'><h1>{_e(model['title'])}</h1>"
            f"<div class='muted'>Move {model['move']} &middot; {_e(model['phase'].upper())} &middot; "
            f"{_e(model['time'])}{timer}{paused}</div>{brief}"
            f"<div class='grid'><div><h2>Actors</h2><table>{rows}</table>"
            f"<h2>Crisis channels</h2><table>{chans}</table>"
            f"<p>Incidents: {model['incidents']} &middot; with casualties: {model['casualty_incidents']}</p>"
            f"{themap}</div>"
            f"<div><h2>Headlines</h2><ul class='hl'>{heads}</ul>"
            f"<img alt='escalation chart' style='max-width:100%' src='data:image/png;base64,{chart}'></div></div>"
            f"</div>")
    return _page(f"Projector - {model['title']}", body, refresh, fragment)


def render_team(model: dict, refresh: int | None = 10, fragment: bool = False) -> str:
    per = "".join(f"<tr><td>{_e(p['actor'])}</td><td>{_e(p['rung'])}</td><td>{p['threat']:.2f}</td></tr>"
                  for p in model["perceived"])
    inbox = "".join(f"<li>Move {i['move']}: <b>{_e(i['title'])}</b> {_e(i['text'])}</li>" for i in model["inbox"])
    own = "".join(f"<li>Move {m['move']}: {_e(m['action'])} {('(' + _e(m['target']) + ')') if m['target'] else ''}"
                  f" &rarr; {_e(m['realised'])}</li>" for m in model["own_moves"])
    role = ""
    if model["role"]:
        r = model["role"]
        role = "".join(f"<h3>{_e(k.replace('_', ' ').title())}</h3><ul>{''.join(f'<li>{_e(x)}</li>' for x in v)}</ul>"
                       for k, v in r.items() if v)
    prop = ""
    if model["proposal"]:
        p = model["proposal"]
        why = ", ".join(f"{_e(n)} {w:+.2f}" for n, w in p["drivers"])
        prop = (f"<h2>Your AI adviser proposes</h2><p><b>{_e(p['label'])}</b>"
                f"{(' toward ' + _e(p['target'])) if p['target'] else ''} (p={p['probability']:.2f}); "
                f"drivers: {why}; restraint: {_e(p['restraint'][0])}</p>")
    body = (f"<div class='proj'><h1>{_e(model['name'])} team</h1><div class='muted'>Move {model['move']} &middot; "
            f"{_e(model['phase'].upper())} &middot; {_e(model['time'])} &middot; seat: {_e(model['seat'])}</div>"
            f"{prop}<div class='grid'><div><h2>Your picture of the others</h2><table><tr><th>actor</th>"
            f"<th>last move seen as</th><th>threat</th></tr>{per}</table><h2>Your moves</h2><ul>{own}</ul></div>"
            f"<div><h2>Messages to you</h2><ul>{inbox}</ul><h2>Role sheet</h2>{role}</div></div></div>")
    return _page(f"{model['actor']} team", body, refresh, fragment)


def projector_html(session: Session, fragment: bool = False) -> str:
    return render_projector(projector_model(session), [r.id for r in session.state.spec.catalogue.rungs],
                            fragment=fragment)


def team_html(session: Session, actor: str, fragment: bool = False) -> str:
    return render_team(team_model(session, actor), fragment=fragment)


HOTWASH_PROMPTS = (
    "What surprised you?",
    "Which channel did you not use, and why?",
    "Where did your team's picture of the others differ from what they did?",
    "What would you tell your government to change before the next crisis?",
)


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


def render_hotwash(model: dict, fragment: bool = False) -> str:
    rows = "".join(
        f"<tr><td>Move {t['move']}</td><td>{'<br>'.join(_e(x) for x in t['injects'])}</td>"
        f"<td>{'<br>'.join(_e(x) for x in t['moves'])}</td>"
        f"<td>{_e(', '.join(t['incidents'])) if t['incidents'] else ''}</td></tr>" for t in model["timeline"])
    objectives = "".join(f"<li>{_e(o)}</li>" for o in model["objectives"]) or "<li class='muted'>none stated</li>"
    prompts = "".join(f"<li>{_e(p)}</li>" for p in model["prompts"])
    entries = "".join(f"<li><b>{_e(e['kind'])}</b>: {_e(e['text'])}</li>" for e in model["entries"])
    body = (f"<div class='proj'><h1>Hot wash: {_e(model['title'])}</h1>"
            f"<table><tr><th></th><th>Injects</th><th>Public moves and outcomes</th><th>Incidents</th></tr>{rows}"
            f"</table><div class='grid'><div><h2>Objectives</h2><ul>{objectives}</ul><h2>Questions</h2>"
            f"<ul>{prompts}</ul></div><div><h2>Strengths, improvements, insights</h2><ul>{entries}</ul></div></div>"
            f"</div>")
    return _page(f"Hot wash - {model['title']}", body, None, fragment)


def hotwash_html(session: Session, fragment: bool = False) -> str:
    return render_hotwash(hotwash_model(session), fragment=fragment)
