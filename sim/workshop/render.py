"""The workshop's pages and charts, drawn from the redacted view-models of ``sim.workshop.views``.

The renderers take view-model dicts, not the session, so a projector or team page can only show
what its model holds. The room's screens are sized to the viewport (one screenful at 1280x720
and at 1920x1080, type scaled to the width) with inline SVG charts; a countdown is an element
carrying its end time (``data-ends``, epoch ms) that the console's page script ticks, so it
counts between server updates. The after-action report's chart is a matplotlib PNG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.analysis.html import esc, png_base64
from sim.workshop import views
from sim.workshop.session import Session

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")

CSS = """
.ws{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;color:#111;box-sizing:border-box}
.ws *{box-sizing:border-box}
.room{font-size:clamp(15px,1.45vw,30px);line-height:1.25;padding:.6em .9em;height:calc(100vh - 16px);overflow:hidden;
 display:flex;flex-direction:column;gap:.5em}
.room h1{font-size:1.4em;margin:0} .room h2{font-size:1.05em;margin:.2em 0 .3em;color:#333}
.bar{display:grid;grid-template-columns:minmax(0,auto) 1fr auto;align-items:baseline;gap:1em}
.bar h1{white-space:nowrap;overflow:hidden;text-overflow:ellipsis} .bar .sub{color:#444;white-space:nowrap}
.clock{justify-self:end;font-size:1.5em;font-weight:700;font-variant-numeric:tabular-nums;padding:0 .3em;
 border-radius:.2em}
.clock.stopped{color:#777} .clock.expired{background:#c0392b;color:#fff}
.cols{display:grid;grid-template-columns:1fr 1.15fr 1.25fr;gap:1em;flex:1;min-height:0}
.cols>div{min-height:0;overflow:hidden}
.room table{border-collapse:collapse;width:100%}
.room td{padding:.15em .3em;border-bottom:1px solid #ddd;vertical-align:top}
.pill{display:inline-block;padding:0 .45em;border-radius:.6em;color:#fff;font-size:.85em;white-space:nowrap}
.open{background:#2a7} .suspended{background:#c33} .not_operational{background:#888}
.muted{color:#555} .small{font-size:.8em}
.track{display:flex;gap:.5em;flex-wrap:wrap} .track span{padding:.05em .5em;border-radius:.3em;border:2px solid #999}
.track .done{border-color:#2a7;background:#e6f6ee} .track .wait{color:#666}
.hl{margin:0;padding-left:1.1em} .hl li{margin:.1em 0} .mv{font-weight:600;margin-top:.25em}
.chart svg,.map svg{width:100%;height:auto;max-height:34vh;display:block}
.legend{display:flex;flex-wrap:wrap;gap:.2em .8em;font-size:.75em}
.legend i{display:inline-block;width:.8em;height:.8em;margin-right:.25em}
.compact{font-size:.78em}
.cards{display:grid;grid-template-columns:1fr 1fr;gap:.6em;align-content:start}
.card{border:2px solid #999;border-radius:.4em;padding:.35em .6em} .card.fail{border-color:#c0392b}
.card.ok{border-color:#2a7} .card h3{margin:0 0 .15em;font-size:1em} .card ul{margin:0;padding-left:1.1em}
.card.hidden{border-style:dashed;color:#888}
.full{flex:1;display:flex;flex-direction:column;align-items:center;justify-content:center;text-align:center}
.full .big{font-size:4.2em;font-weight:800;letter-spacing:.08em} .full p{font-size:1.2em;max-width:42em}
.brief{font-size:1.15em;max-width:60em}
.page{font-size:clamp(15px,1.2vw,22px);line-height:1.3;padding:.6em 1em}
.page h1{font-size:1.5em;margin:0} .page h2{font-size:1.15em;margin:.7em 0 .3em}
.page table{border-collapse:collapse} .page td,.page th{padding:.2em .5em;border-bottom:1px solid #ddd;text-align:left}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
@media (max-width:800px){.grid{grid-template-columns:1fr}.cards{grid-template-columns:1fr}}
.banner{padding:.5em .8em;border-radius:.3em;font-weight:600} .banner.paused{background:#fde9c8}
.banner.endex{background:#dfe8f5}
@media print{.card{page-break-inside:avoid} .pagebreak{page-break-after:always}}
"""


def page(title: str, body: str, refresh: int | None = None, fragment: bool = False) -> str:
    """A standalone page (auto-refreshing when ``refresh`` seconds are given), or a fragment for
    embedding in the web console."""
    if fragment:
        return f"<style>{CSS}</style><div class='ws'>{body}</div>"
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'>{meta}<title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body style='margin:0'><div class='ws'>{body}</div></body></html>")


# ---------------------------------------------------------------------------- charts


def escalation_svg(chart: dict, width: int = 640, height: int = 300) -> str:
    """The escalation chart as inline SVG (one line per actor over the moves, rungs by name) and
    its legend as HTML below it."""
    levels, rungs, labels, names = chart["levels"], chart["rungs"], chart["labels"], chart["names"]
    idx = {r: i for i, r in enumerate(rungs)}
    used = {idx[r] for pts in levels.values() for _, r in pts} | {idx["status_quo"]}
    lo, hi = max(min(used) - 1, 0), min(max(used) + 1, len(rungs) - 1)
    moves = sorted({m for pts in levels.values() for m, _ in pts}) or [1]
    left, right, top, bottom = 230, 16, 14, 34
    w, h = width - left - right, height - top - bottom
    m0, m1 = min(moves) - 0.4, max(moves) + 0.4

    def x(m: float) -> float:
        return left + (m - m0) / (m1 - m0) * w

    def y(i: float) -> float:
        return top + (hi + 0.4 - i) / (hi - lo + 0.8) * h

    out = [f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='Escalation by move'"
           " font-family='system-ui,sans-serif'>"]
    for i in range(lo, hi + 1):
        out.append(f"<line x1='{left}' x2='{width - right}' y1='{y(i):.1f}' y2='{y(i):.1f}' stroke='#ddd'/>"
                   f"<text x='{left - 8}' y='{y(i) + 7:.1f}' font-size='21' text-anchor='end'>"
                   f"{esc(labels[rungs[i]])}</text>")
    for m in moves:
        out.append(f"<text x='{x(m):.1f}' y='{height - 8}' font-size='21' text-anchor='middle'>Move {m}</text>")
    legend = []
    for k, (actor, pts) in enumerate(levels.items()):
        colour = PALETTE[k % len(PALETTE)]
        shift = (k - (len(levels) - 1) / 2) * 3  # actors on one rung stay apart
        if pts:
            coords = " ".join(f"{x(m):.1f},{y(idx[r]) + shift:.1f}" for m, r in pts)
            out.append(f"<polyline points='{coords}' fill='none' stroke='{colour}' stroke-width='5'/>")
            out += [f"<circle cx='{x(m):.1f}' cy='{y(idx[r]) + shift:.1f}' r='7' fill='{colour}'/>" for m, r in pts]
        legend.append(f"<span><i style='background:{colour}'></i>{esc(names.get(actor, actor))}</span>")
    out.append("</svg>")
    return "".join(out) + f"<div class='legend'>{''.join(legend)}</div>"


def map_svg(points: list[dict], width: int = 560, height: int = 330) -> str:
    """A plain situation map (longitude/latitude, no basemap: it works offline); red: reported events.
    Labels are placed beside their dots so that they do not run over each other."""
    if not points:
        return ""
    xs, ys = [p["lon"] for p in points], [p["lat"] for p in points]
    pad_x, pad_y = max(1.0, (max(xs) - min(xs)) * 0.2), max(1.0, (max(ys) - min(ys)) * 0.2)
    x0, x1, y0, y1 = min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y

    def px(lon: float, lat: float) -> tuple[float, float]:
        return 10 + (lon - x0) / (x1 - x0) * (width - 20), 10 + (y1 - lat) / (y1 - y0) * (height - 20)

    out = [f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='Situation map'"
           f" font-family='system-ui,sans-serif'><rect width='{width}' height='{height}' fill='#eef4fa' rx='8'/>"]
    placed: list[tuple[float, float, float, float]] = []
    for p in sorted(points, key=lambda q: (-q["lat"], q["lon"])):
        cx, cy = px(p["lon"], p["lat"])
        hot = bool(p["events"])
        colour = "#c0392b" if hot else "#2c3e50"
        out.append(f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='{9 if hot else 6}' fill='{colour}'/>")
        tw, th = 10 * len(p["name"]) + 4, 22
        for dx, dy, anchor in ((12, 6, "start"), (-12, 6, "end"), (0, -12, "middle"), (0, 24, "middle"),
                               (12, 24, "start"), (-12, -12, "end")):
            bx = cx + dx - (tw if anchor == "end" else tw / 2 if anchor == "middle" else 0)
            box = (bx, cy + dy - 14, bx + tw, cy + dy - 14 + th)
            if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in placed) \
                    and box[0] >= 0 and box[2] <= width:
                break
        placed.append(box)
        out.append(f"<text x='{cx + dx:.1f}' y='{cy + dy:.1f}' font-size='19' text-anchor='{anchor}'"
                   f"{' font-weight=\"700\"' if hot else ''}>{esc(p['name'])}</text>")
    out.append("</svg>")
    return "".join(out)


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
    return f"<img alt='{esc(alt)}' style='max-width:100%' src='data:image/png;base64,{png}'>"


def escalation_chart_png(levels: dict[str, list[tuple[int, str]]], rung_names: list[str], title: str,
                         labels: dict[str, str] | None = None, width: float = 9, height: float = 4) -> str:
    """The escalation chart as a base64 PNG (for the after-action report and its PDF)."""
    fig, ax = _figure(width, height)
    for actor, pts in levels.items():
        if pts:
            ax.plot([m for m, _ in pts], [rung_names.index(r) for _, r in pts], marker="o", lw=2.5, label=actor)
    used = sorted({rung_names.index(r) for pts in levels.values() for _, r in pts} | {rung_names.index("status_quo")})
    lo, hi = max(min(used) - 1, 0), min(max(used) + 1, len(rung_names) - 1)
    ax.set_yticks(range(lo, hi + 1), [(labels or {}).get(rung_names[i], rung_names[i]) for i in range(lo, hi + 1)],
                  fontsize=11)
    ax.set_ylim(lo - 0.3, hi + 0.3)
    ax.set_xlabel("move", fontsize=12)
    moves = sorted({m for pts in levels.values() for m, _ in pts})
    if moves:
        ax.set_xticks(moves)
        ax.set_xlim(min(moves) - 0.5, max(moves) + 0.5)
    ax.set_title(title, fontsize=14)
    ax.grid(alpha=0.3)
    if any(levels.values()):
        ax.legend(fontsize=11, loc="upper left")
    return _embedded(fig)


def session_chart_png(session: Session, true: bool = True) -> str:
    """The session's escalation chart: the true trajectory (the controller's, for the AAR) or the
    room's picture (secret moves carried over as the last public move)."""
    levels = views.true_levels(session) if true else views.public_levels(session)
    rungs = [r.id for r in session.state.spec.catalogue.rungs]
    title = ("Escalation by move (true trajectory, secret moves included)" if true
             else "Escalation by move (as the room saw it)")
    return escalation_chart_png(levels, rungs, title, {r: views.rung_label(session, r) for r in rungs})


# ---------------------------------------------------------------------------- the room's screens


def countdown(timer: dict | None, big: bool = True) -> str:
    """A countdown the page ticks (``data-ends``); stopped or run out, it shows its time as text."""
    if not timer:
        return ""
    left = timer["left"]
    text = f"{left // 60}:{left % 60:02d}"
    if timer["running"]:
        return f"<span class='clock' data-ends='{timer['ends_ms']}'>{text}</span>"
    state = "expired" if timer["expired"] else "stopped"
    label = "time is up" if timer["expired"] else f"{text} (stopped)"
    return f"<span class='clock {state}'>{label}</span>" if big else f"<span class='{state}'>{label}</span>"


def _tracker(items: list[dict]) -> str:
    if not items:
        return ""
    cells = "".join(f"<span class='{'done' if t['submitted'] else 'wait'}'>{esc(t['name'])} "
                    f"{'&#10003;' if t['submitted'] else '&hellip;'}</span>" for t in items)
    return f"<div class='track' aria-label='submissions'><b>Submissions:</b>{cells}</div>"


def _headlines(groups: list[dict]) -> str:
    if not groups:
        return "<p class='muted'>No headlines yet</p>"
    return "".join(f"<div class='mv'>Move {g['move']}</div><ul class='hl'>"
                   + "".join(f"<li>{esc(x)}</li>" for x in g["items"][-6:]) + "</ul>" for g in groups)


def _cards(items: list[dict], total: int) -> str:
    cards = []
    for it in items:
        cls = "ok" if it["success"] else "fail" if it["success"] is False else ""
        secret = " <span class='pill suspended'>secret</span>" if it.get("secret") else ""
        details = "".join(f"<li>{esc(d)}</li>" for d in it["details"])
        cards.append(f"<div class='card {cls}'><h3>{esc(it['headline'])}{secret}</h3><ul>{details}</ul></div>")
    cards += ["<div class='card hidden'><h3>&hellip;</h3></div>"] * (total - len(items))
    return f"<div class='cards'>{''.join(cards)}</div>"


def _bar(model: dict, heading: str) -> str:
    return (f"<div class='bar'><h1>{esc(heading)}</h1><span class='sub'>Move {model['move']} &middot; "
            f"{esc(model['phase'].capitalize())} &middot; {esc(model['time'])}</span>"
            f"{countdown(model['timer'])}</div>")


def _full(big: str, lines: list[str]) -> str:
    paras = "".join(f"<p>{esc(x)}</p>" for x in lines)
    return f"<div class='full'><div class='big'>{esc(big)}</div>{paras}</div>"


def render_projector(model: dict, fragment: bool = False, refresh: int | None = 5) -> str:
    """The room's screen for the current state: board, briefing, read-out, hot wash, paused, ENDEX."""
    kind = model["screen"]
    if kind == "endex":
        c = model["closing"]
        body = _full("ENDEX", [c["title"], f"{c['moves']} moves played" + (f"; crisis level at the end: {c['crisis']}"
                                                                             if c["crisis"] else ""), c["thanks"]])
    elif kind == "paused":
        body = _full("PAUSED", [model["title"], f"Move {model['move']} \u00b7 {model['phase'].capitalize()}",
                                "Play resumes shortly."])
    elif kind == "hotwash":
        body = _hotwash_body(model["hotwash"])
    elif kind == "briefing":
        body = (f"{_bar(model, model['title'])}<div class='cols' style='grid-template-columns:1.4fr 1fr'>"
                f"<div><h2>Road to crisis</h2><p class='brief'>{esc(model['briefing'])}</p></div>"
                f"<div>{_actors(model)}<div class='map'>{map_svg(model['map'])}</div></div></div>")
    elif kind == "readout":
        ro = model["readout"]
        body = (f"{_bar(model, f'Read-out: move {ro['move']}')}"
                "<div class='cols' style='grid-template-columns:1.7fr 1fr'>"
                f"<div>{_cards(ro['items'], ro['total'])}</div>"
                f"<div><div class='chart'>{escalation_svg(model['chart'])}</div>{_actors(model)}</div></div>")
    else:
        body = (f"{_bar(model, model['title'])}{_tracker(model['tracker'])}<div class='cols'>"
                f"<div>{_actors(model)}<div class='map'>{map_svg(model['map'])}</div></div>"
                f"<div><h2>Headlines</h2>{_headlines(model['headlines'])}</div>"
                f"<div><div class='chart'>{escalation_svg(model['chart'])}</div>{_channels(model)}</div></div>")
    return page(f"Projector - {model['title']}", f"<div class='room'>{body}</div>", refresh, fragment)


def _actors(model: dict) -> str:
    rows = "".join(f"<tr><td><b>{esc(a['name'])}</b></td><td>{esc(a['rung'])}</td></tr>" for a in model["actors"])
    return (f"<h2>Where each actor stands</h2><table>{rows}</table>"
            f"<p>Incidents: {model['incidents']} &middot; with casualties: {model['casualty_incidents']}</p>")


def _channels(model: dict) -> str:
    chans = "".join(f"<tr><td>{esc(c['label'])}</td><td><span class='pill {c['status']}'>{esc(c['words'])}</span>"
                    "</td></tr>" for c in model["channels"])
    dormant = (f" <span class='muted'>({model['channels_dormant']} more not operational)</span>"
               if model["channels_dormant"] else "")
    return f"<h2>Crisis channels{dormant}</h2><table class='compact'>{chans}</table>"


def _actors_channels(model: dict) -> str:
    return _actors(model) + _channels(model)


def _hotwash_body(model: dict) -> str:
    rows = "".join(
        f"<tr><td>Move&nbsp;{t['move']}</td><td>{'<br>'.join(esc(x) for x in t['injects'])}</td>"
        f"<td>{'<br>'.join(esc(x) for x in t['moves'])}</td>"
        f"<td>{esc(', '.join(t['incidents'])) if t['incidents'] else ''}</td></tr>" for t in model["timeline"][-4:])
    objectives = "".join(f"<li>{esc(o)}</li>" for o in model["objectives"]) or "<li class='muted'>none stated</li>"
    prompts = "".join(f"<li>{esc(p)}</li>" for p in model["prompts"])
    entries = "".join(f"<li><b>{esc(e['kind'])}</b>: {esc(e['text'])}</li>" for e in model["entries"][-6:]) \
        or "<li class='muted'>none yet</li>"
    secrets = " (secret moves revealed)" if model["secrets_revealed"] else ""
    return (f"<div class='bar'><h1>Hot wash: {esc(model['title'])}</h1></div>"
            "<div class='cols' style='grid-template-columns:1.55fr 1fr'><div class='compact'>"
            f"<table><tr><th></th><th>Injects</th><th>Moves and outcomes{secrets}</th><th>Incidents</th></tr>{rows}"
            f"</table></div><div><h2>Strengths, improvements, insights</h2><ul class='hl'>{entries}</ul>"
            f"<h2>Questions</h2><ul class='hl compact'>{prompts}</ul>"
            f"<h2>Objectives</h2><ul class='hl compact'>{objectives}</ul></div></div>")


def render_hotwash(model: dict, fragment: bool = False) -> str:
    """The hot-wash screen: the public timeline, objectives, prompts and the entries so far."""
    return page(f"Hot wash - {model['title']}", f"<div class='room'>{_hotwash_body(model)}</div>", None, fragment)


# ---------------------------------------------------------------------------- a team's page


def render_team_header(model: dict) -> str:
    """The top of a team's page: who, where in play, the countdown, and a PAUSED / ENDEX banner."""
    banner = ""
    if model["screen"] == "paused":
        banner = "<div class='banner paused'>PAUSED: play resumes shortly</div>"
    elif model["screen"] == "endex":
        banner = f"<div class='banner endex'>ENDEX: {esc(model['closing']['thanks'])}</div>"
    seat = {"human": "your team decides", "hybrid": "your team decides, with an AI adviser",
            "ai": "played by the AI this move"}[model["seat"]]
    return (f"<div class='page'><div class='bar'><h1>{esc(model['name'])} team</h1><span class='sub'>Move "
            f"{model['move']} &middot; {esc(model['phase'].capitalize())} &middot; {esc(model['time'])} &middot; "
            f"{esc(seat)}</span>{countdown(model['timer'])}</div>{banner}{_tracker(model['tracker'])}</div>")


def render_team_body(model: dict) -> str:
    """The rest of a team's page: read-out, messages, its picture of the others, its moves, role sheet."""
    parts = ["<div class='page'>"]
    ro = model["readout"]
    if ro:
        parts.append(f"<h2>Read-out: move {ro['move']}</h2>{_cards(ro['items'], ro['total'])}")
    inbox = "".join(f"<li>Move {i['move']}: <b>{esc(i['title'])}</b>{' (to you only)' if i['private'] else ''}"
                    f"{(' ' + esc(i['text'])) if i['text'] else ''}</li>" for i in model["inbox"])
    others = "".join(f"<tr><td>{esc(o['name'])}</td><td>{esc(o['did'])}"
                     f"{(' (move ' + str(o['move']) + ')') if o['move'] else ''}</td><td>{esc(o['read_as'])}</td></tr>"
                     for o in model["others"])
    own = "".join(f"<li>Move {m['move']}: {esc(m['headline'])}"
                  + (" <i>(secret)</i>" if m.get("secret") else "")
                  + (" &mdash; result at the read-out" if m.get("pending") else
                     "".join(f"<br><span class='muted'>{esc(d)}</span>" for d in m["details"])) + "</li>"
                  for m in model["own_moves"]) or "<li class='muted'>None yet: your first move is resolved at the " \
                                                  "end of move 1</li>"
    heads = _headlines(model["headlines"])
    parts.append(f"<div class='grid'><div><h2>Messages to you</h2><ul>{inbox or '<li class=muted>none yet</li>'}</ul>"
                 f"<h2>Your picture of the others</h2><table><tr><th></th><th>last public move</th>"
                 f"<th>as you read it</th></tr>{others}</table><h2>Your moves</h2><ul>{own}</ul></div>"
                 f"<div><h2>Headlines</h2>{heads}")
    if model["role"]:
        parts.append("<h2>Role sheet</h2>" + "".join(
            f"<h3>{esc(k.replace('_', ' ').capitalize())}</h3><ul>{''.join(f'<li>{esc(x)}</li>' for x in v)}</ul>"
            for k, v in model["role"].items() if v))
    parts.append("</div></div></div>")
    return "".join(parts)


def render_team(model: dict, refresh: int | None = 10, fragment: bool = False) -> str:
    """A team's page as one document (the web console puts its form between the two parts)."""
    return page(f"{model['actor']} team", render_team_header(model) + render_team_body(model), refresh, fragment)


def render_observer(model: dict, fragment: bool = False) -> str:
    """An observer's page: the room's picture, the public timeline, the objectives, the observations."""
    room = model["room"]
    timeline = "".join(f"<li>Move {t['move']}: {esc('; '.join(t['injects'] + t['moves']) or 'no public moves')}</li>"
                       for t in model["timeline"])
    objectives = "".join(f"<li>{esc(o)}</li>" for o in model["objectives"])
    notes = "".join(f"<li>Move {o['move']}: {esc(o['text'])}"
                    f"{(' [' + esc(o['objective']) + ']') if o['objective'] else ''}</li>"
                    for o in model["observations"]) or "<li class='muted'>none yet</li>"
    body = (f"<div class='page'><div class='bar'><h1>Observer: {esc(room['title'])}</h1><span class='sub'>Move "
            f"{room['move']} &middot; {esc(room['phase'].capitalize())} &middot; {esc(room['time'])}</span>"
            f"{countdown(room['timer'])}</div>{_tracker(room['tracker'])}<div class='grid'><div>"
            f"{_actors_channels(room)}<h2>Objectives to observe</h2><ul>{objectives}</ul></div><div>"
            f"<h2>Headlines</h2>{_headlines(room['headlines'])}<h2>Public timeline</h2><ul>{timeline}</ul>"
            f"<h2>Observations recorded</h2><ul>{notes}</ul></div></div></div>")
    return page(f"Observer - {room['title']}", body, None, fragment)


# ---------------------------------------------------------------------------- from a live session


def projector_html(session: Session, fragment: bool = False) -> str:
    """The projector page of a live session (through its redacted view-model)."""
    return render_projector(views.projector_model(session), fragment=fragment)


def team_html(session: Session, actor: str, fragment: bool = False) -> str:
    """One team's page of a live session (through its redacted view-model)."""
    return render_team(views.team_model(session, actor), fragment=fragment)


def hotwash_html(session: Session, fragment: bool = False) -> str:
    """The hot-wash page of a live session (through its redacted view-model)."""
    return render_hotwash(views.hotwash_model(session), fragment=fragment)


def observer_html(session: Session, fragment: bool = False) -> str:
    return render_observer(views.observer_model(session), fragment=fragment)
