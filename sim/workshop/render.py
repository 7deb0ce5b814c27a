"""The workshop's pages and charts, drawn from the redacted view-models of ``sim.workshop.views``.

The renderers take view-model dicts, not the session, so a projector or team page can only show
what its model holds. Charts are embedded as base64 PNG (pages must stand alone, offline).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sim.analysis.html import esc, png_base64
from sim.workshop import views
from sim.workshop.session import Session

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:0;background:#fff;color:#111}
.proj{font-size:22px;padding:18px} .proj h1{font-size:34px;margin:0 0 8px}
.proj table{border-collapse:collapse;font-size:22px} .proj td,.proj th{padding:6px 14px;border-bottom:1px solid #ccc}
.hl li{margin:6px 0} .muted{color:#555} .pill{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff}
.open{background:#2a7} .suspended{background:#c33} .not_operational{background:#888}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px} .card{border:1px solid #999;border-radius:8px;padding:14px}
@media print{.card{page-break-inside:avoid} .pagebreak{page-break-after:always}}
"""


def page(title: str, body: str, refresh: int | None = None, fragment: bool = False) -> str:
    """A standalone page (auto-refreshing when ``refresh`` seconds are given), or a fragment for
    embedding in the web console."""
    if fragment:
        return f"<style>{CSS}</style>{body}"
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'>{meta}<title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>")


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A new figure and axes on the Agg backend (the console and the exports run headless)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _embedded(fig: Figure) -> str:
    """The figure laid out, as base64 PNG, and closed (a long session draws hundreds)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    data = png_base64(fig)
    plt.close(fig)
    return data


def img_tag(alt: str, png: str) -> str:
    """An embedded PNG that scales to its column."""
    return f"<img alt='{alt}' style='max-width:100%' src='data:image/png;base64,{png}'>"


def situation_map_png(points: list[dict], width: float = 6, height: float = 4.2) -> str:
    """A plain situation map (longitude/latitude, no basemap: it must work offline)."""
    fig, ax = _figure(width, height)
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
    return _embedded(fig)


def escalation_chart_png(levels: dict[str, list[tuple[int, str]]], rung_names: list[str], width: float = 9,
                         height: float = 4) -> str:
    """The escalation chart as a base64 PNG (publicly observed rungs per actor and move)."""
    fig, ax = _figure(width, height)
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
    return _embedded(fig)


def session_chart_png(session: Session) -> str:
    """The session's escalation chart as the room saw it (public moves only)."""
    return escalation_chart_png(views.public_levels(session), [r.id for r in session.state.spec.catalogue.rungs])


def _status_line(model: dict) -> str:
    """Move, phase, scenario time, the countdown and a pause flag."""
    timer = ""
    if model["timer_ends"]:
        left = max(0, int(model["timer_ends"] - datetime.now(UTC).timestamp()))
        timer = f" &middot; time left {left // 60}:{left % 60:02d}"
    paused = " &middot; <b>PAUSED</b>" if model["paused"] else ""
    return (f"<div class='muted'>Move {model['move']} &middot; {esc(model['phase'].upper())} &middot; "
            f"{esc(model['time'])}{timer}{paused}</div>")


def render_projector(model: dict, rung_names: list[str], refresh: int | None = 5, fragment: bool = False) -> str:
    """The room's screen: actors' public rungs, channels, headlines, map and escalation chart."""
    rows = "".join(f"<tr><td><b>{esc(a['id'])}</b> {esc(a['name'])}</td>"
                   f"<td>{esc(a['rung'].replace('_', ' '))}</td></tr>" for a in model["actors"])
    chans = "".join(f"<tr><td>{esc(c['label'])}</td><td><span class='pill {c['status']}'>"
                    f"{esc(c['status'].replace('_', ' '))}</span></td></tr>" for c in model["channels"])
    heads = "".join(f"<li>{esc(h)}</li>" for h in model["headlines"]) or "<li class='muted'>No headlines yet</li>"
    chart = img_tag("escalation chart", escalation_chart_png(model["chart"], rung_names))
    themap = img_tag("situation map", situation_map_png(model["map"])) if model["map"] else ""
    brief = f"<p>{esc(model['briefing'])}</p>" if model["briefing"] else ""
    body = (f"<div class='proj'><h1>{esc(model['title'])}</h1>{_status_line(model)}{brief}"
            f"<div class='grid'><div><h2>Actors</h2><table>{rows}</table>"
            f"<h2>Crisis channels</h2><table>{chans}</table>"
            f"<p>Incidents: {model['incidents']} &middot; with casualties: {model['casualty_incidents']}</p>"
            f"{themap}</div>"
            f"<div><h2>Headlines</h2><ul class='hl'>{heads}</ul>{chart}</div></div>"
            f"</div>")
    return page(f"Projector - {model['title']}", body, refresh, fragment)


def _adviser(proposal: dict | None) -> str:
    """A hybrid team's own AI adviser: its proposal and reasons (no other page shows these)."""
    if not proposal:
        return ""
    p = proposal
    why = ", ".join(f"{esc(n)} {w:+.2f}" for n, w in p["drivers"])
    return (f"<h2>Your AI adviser proposes</h2><p><b>{esc(p['label'])}</b>"
            f"{(' toward ' + esc(p['target'])) if p['target'] else ''} (p={p['probability']:.2f}); "
            f"drivers: {why}; restraint: {esc(p['restraint'][0])}</p>")


def render_team(model: dict, refresh: int | None = 10, fragment: bool = False) -> str:
    """A team's own screen: its (possibly wrong) picture of the others, its moves, its messages."""
    per = "".join(f"<tr><td>{esc(p['actor'])}</td><td>{esc(p['rung'])}</td><td>{p['threat']:.2f}</td></tr>"
                  for p in model["perceived"])
    inbox = "".join(f"<li>Move {i['move']}: <b>{esc(i['title'])}</b> {esc(i['text'])}</li>" for i in model["inbox"])
    own = "".join(f"<li>Move {m['move']}: {esc(m['action'])} {('(' + esc(m['target']) + ')') if m['target'] else ''}"
                  f" &rarr; {esc(m['realised'])}</li>" for m in model["own_moves"])
    role = ""
    if model["role"]:
        role = "".join(f"<h3>{esc(k.replace('_', ' ').title())}</h3><ul>{''.join(f'<li>{esc(x)}</li>' for x in v)}</ul>"
                       for k, v in model["role"].items() if v)
    body = (f"<div class='proj'><h1>{esc(model['name'])} team</h1><div class='muted'>Move {model['move']} &middot; "
            f"{esc(model['phase'].upper())} &middot; {esc(model['time'])} &middot; seat: {esc(model['seat'])}</div>"
            f"{_adviser(model['proposal'])}<div class='grid'><div><h2>Your picture of the others</h2><table><tr>"
            f"<th>actor</th><th>last move seen as</th><th>threat</th></tr>{per}</table><h2>Your moves</h2>"
            f"<ul>{own}</ul></div><div><h2>Messages to you</h2><ul>{inbox}</ul><h2>Role sheet</h2>{role}</div></div>"
            f"</div>")
    return page(f"{model['actor']} team", body, refresh, fragment)


def render_hotwash(model: dict, fragment: bool = False) -> str:
    """The hot-wash screen: the public timeline, objectives, prompts and the entries so far."""
    rows = "".join(
        f"<tr><td>Move {t['move']}</td><td>{'<br>'.join(esc(x) for x in t['injects'])}</td>"
        f"<td>{'<br>'.join(esc(x) for x in t['moves'])}</td>"
        f"<td>{esc(', '.join(t['incidents'])) if t['incidents'] else ''}</td></tr>" for t in model["timeline"])
    objectives = "".join(f"<li>{esc(o)}</li>" for o in model["objectives"]) or "<li class='muted'>none stated</li>"
    prompts = "".join(f"<li>{esc(p)}</li>" for p in model["prompts"])
    entries = "".join(f"<li><b>{esc(e['kind'])}</b>: {esc(e['text'])}</li>" for e in model["entries"])
    body = (f"<div class='proj'><h1>Hot wash: {esc(model['title'])}</h1>"
            f"<table><tr><th></th><th>Injects</th><th>Public moves and outcomes</th><th>Incidents</th></tr>{rows}"
            f"</table><div class='grid'><div><h2>Objectives</h2><ul>{objectives}</ul><h2>Questions</h2>"
            f"<ul>{prompts}</ul></div><div><h2>Strengths, improvements, insights</h2><ul>{entries}</ul></div></div>"
            f"</div>")
    return page(f"Hot wash - {model['title']}", body, None, fragment)


def projector_html(session: Session, fragment: bool = False) -> str:
    """The projector page of a live session (through its redacted view-model)."""
    return render_projector(views.projector_model(session), [r.id for r in session.state.spec.catalogue.rungs],
                            fragment=fragment)


def team_html(session: Session, actor: str, fragment: bool = False) -> str:
    """One team's page of a live session (through its redacted view-model)."""
    return render_team(views.team_model(session, actor), fragment=fragment)


def hotwash_html(session: Session, fragment: bool = False) -> str:
    """The hot-wash page of a live session (through its redacted view-model)."""
    return render_hotwash(views.hotwash_model(session), fragment=fragment)
