"""Printables and exports: inject cards, role sheets, the facilitator handbook, and the
after-action report draft in the HSEEP shape (overview, move-by-move narrative, decision log,
channel usage, escalation chart, divergence from the AI, findings and improvement plan).

Teams and roles are recorded, never personal names (non-attribution by default).
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

from sim.analysis.html import esc
from sim.experiments.store import atomic_write
from sim.workshop.records import Adjudication, MoveRecord
from sim.workshop.render import CSS, img_tag, session_chart_png
from sim.workshop.session import Session
from sim.workshop.views import STATUS

FORCE_RUNGS = ("harass", "seize", "limited_force", "major_war")  # "use of force" in the AAR's findings


def _doc(title: str, body: str) -> str:
    """A printable page: the screens' style plus ruled tables."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{CSS}"
            "body{padding:24px;max-width:1000px} table{border-collapse:collapse} td,th{border:1px solid #bbb;"
            "padding:4px 8px;text-align:left;vertical-align:top}</style></head><body>" + body + "</body></html>")


# ---------------------------------------------------------------------------- printables


def inject_cards(session: Session) -> str:
    """One card per scripted inject, for handing to teams: no controller notes."""
    spec = session.state.spec
    cards = []
    for inj in spec.scenario.injects:
        when = f"Move {inj.turn}" if inj.kind == "scheduled" else inj.kind.title()
        to = ", ".join(inj.to)
        cards.append(f"<div class='card'><div class='muted'>{esc(inj.id)} &middot; {esc(when)} &middot; to: {esc(to)}"
                     f" &middot; {esc(inj.type)}</div><h2>{esc(inj.title)}</h2><p>{esc(inj.text)}</p></div>")
    body = f"<h1>Inject cards</h1><div class='grid'>{''.join(cards)}</div>"
    return _doc(f"Inject cards - {spec.scenario.title}", body)


def role_sheets(session: Session) -> str:
    """A briefing and role sheet per team, each on its own printed page."""
    spec = session.state.spec
    sc = spec.scenario
    pages = []
    for a in spec.actor_ids:
        role = sc.roles.get(a)
        parts = [f"<h1>{esc(spec.postures[a].name)} team</h1><h2>Situation</h2><p>{esc(sc.briefing or sc.summary)}</p>"]
        if role:
            for key in ("objectives", "red_lines", "constraints", "mechanisms"):
                items = getattr(role, key)
                if items:
                    parts.append(f"<h2>{esc(key.replace('_', ' ').title())}</h2><ul>"
                                 + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>")
        parts.append("<p class='muted'>Ground rules: no-fault, non-attribution; play your government as it is, "
                     "not as you would like it to be; do not fight the scenario.</p>")
        pages.append("<div class='pagebreak'>" + "".join(parts) + "</div>")
    return _doc(f"Role sheets - {sc.title}", "".join(pages))


def facilitator_handbook(session: Session) -> str:
    """The full MSEL with controller notes, expected actions and objectives: not for players."""
    spec = session.state.spec
    sc = spec.scenario
    rows = "".join(
        f"<tr><td>{esc(i.id)}</td><td>{esc(i.turn if i.kind == 'scheduled' else i.kind)}</td><td>{esc(i.title)}</td>"
        f"<td>{esc(', '.join(i.to))}</td><td>{esc(i.expected_action)}</td><td>{esc(i.objective)}</td>"
        f"<td>{esc(i.controller_note)}</td></tr>" for i in sc.injects)
    levers = "".join(f"<li><b>{esc(lv.label)}</b> ({esc(lv.id)}): expect {lv.expect} {lv.measure}. {esc(lv.note)}</li>"
                     for lv in sc.levers)
    seats = ", ".join(f"{a}: {m}" for a, m in session.state.seats.items())
    body = (f"<h1>Facilitator handbook: {esc(sc.title)}</h1><p><b>NOT FOR PLAYERS.</b></p>"
            f"<h2>Summary</h2><p>{esc(sc.summary)}</p><h2>Road to crisis</h2><p>{esc(sc.briefing)}</p>"
            f"<h2>Trigger</h2><p>{esc(sc.trigger)}</p><h2>Seats</h2><p>{esc(seats)}</p>"
            "<h2>Run of show (3 hours)</h2><ol><li>0:00 Welcome, rules, road-to-crisis brief (BRIEFING)</li>"
            "<li>0:20 Move 1 situation update; 0:25 deliberation (20 min); 0:45 submission; 0:50 adjudication and "
            "read-out</li><li>1:05-2:20 Moves 2-3, same cycle (about 35 min each)</li><li>2:20 Break</li>"
            "<li>2:30 Hot wash</li><li>2:55 Close; after-action report draft (ENDEX)</li></ol>"
            "<h2>MSEL</h2><table><tr><th>serial</th><th>move</th><th>title</th><th>to</th><th>expected action</th>"
            f"<th>objective</th><th>controller note</th></tr>{rows}</table>"
            f"<h2>Levers the papers recommend</h2><ul>{levers}</ul>")
    return _doc(f"Facilitator handbook - {sc.title}", body)


# ---------------------------------------------------------------------------- exports


def msel_as_released(session: Session) -> str:
    """The MSEL as it was played: what was released, when, to whom, edited or not (CSV)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["serial", "move", "released_at", "title", "to", "edited"])
    for r in session.state.released:
        w.writerow([r["id"], r["move"], r["t"], r["title"], ", ".join(r["to"]), r["edited"]])
    return buf.getvalue()


def channel_usage(session: Session) -> list[dict]:
    """Per channel: calls tried, answered, and its status at the end (for the AAR)."""
    S = session.state
    st = S.st
    return [{"channel": S.spec.catalogue.channel(c).label, "tried": int(st.tried[0, i]),
             "answered": int(st.answered[0, i]), "status": STATUS[int(st.ch_status[0, i])].replace("_", " ")}
            for i, c in enumerate(S.spec.channel_ids)]


def divergences(session: Session) -> list[dict]:
    """Decisions where the team chose differently from what the AI proposed."""
    out = []
    for m in session.state.moves:
        for a, sub in m.submissions.items():
            if sub.ai_action and (sub.ai_action != sub.action or (sub.target and sub.ai_target != sub.target)):
                out.append({"move": m.move, "team": a, "ai": sub.ai_action, "ai_target": sub.ai_target,
                            "chosen": sub.action, "target": sub.target, "reason": sub.override_reason or sub.rationale})
    return out


def _aar_title(session: Session) -> list[str]:
    return [f"# After-action report (DRAFT): {session.state.spec.scenario.title}", "",
            "*DRAFT until finalised by the facilitator. Teams and roles only; no personal attribution.*"]


def _aar_overview(session: Session) -> list[str]:
    """1. What was played, when, by whom, to what end."""
    S = session.state
    sc = S.spec.scenario
    start, end = session.events[0]["t"], session.events[-1]["t"]
    objectives = sorted({i.objective for i in sc.injects if i.objective})
    return ["## 1. Exercise overview", "",
            f"- Scenario: {sc.title} ({sc.id}), flashpoint {sc.flashpoint}",
            f"- Session: {start} to {end}; {S.move} moves of {S.spec.hours:g} h scenario time",
            "- Teams and seats: " + ", ".join(f"{a} ({m})" for a, m in S.seats.items()),
            f"- Scenario summary: {sc.summary.strip()}",
            f"- Trigger: {sc.trigger}", "", "Objectives:",
            *([f"- {o}" for o in objectives] or ["- (none stated)"])]


def _how_adjudicated(adj: Adjudication | None) -> str:
    if adj and adj.mode == "matrix":
        verdict = "succeeded" if adj.success else "failed"
        return f" [matrix: p={adj.probability:.2f}, roll {adj.roll:.2f}, {verdict}]"
    if adj and adj.mode == "ruling":
        return f" [ruling: {'succeeded' if adj.success else 'failed'} - {adj.reason}]"
    return ""


def _aar_move(session: Session, m: MoveRecord) -> list[str]:
    """One move of the narrative: injects, each team's move and how it was ruled, incidents."""
    S = session.state
    lines = [f"### Move {m.move} (crisis peak so far: {m.crisis_rung})"]
    rel = [r for r in S.released if r["move"] == m.move]
    if rel:
        lines.append("Injects: " + "; ".join(f"{r['id']} {r['title']}" + (" (edited)" if r["edited"] else "")
                                            for r in rel) + ".")
    failed = [r for r in S.not_happened if r["move"] == m.move]
    if failed:
        lines.append("Released but did not happen: " + "; ".join(
            f"{r['id']} {r['title']} (chance {r['probability']:.0%})" for r in failed) + ".")
    for a, sub in m.submissions.items():
        secret = "" if sub.public else " (secret)"
        tgt = f" toward {sub.target}" if sub.target else ""
        lines.append(f"- {a}: {session.label(sub.action)}{tgt}{secret}{_how_adjudicated(m.adjudications.get(a))}; "
                     f"realised at {m.realised[a]}.")
    if m.incidents:
        lines.append(f"- Incidents: collisions involving {', '.join(m.incidents)}.")
    return lines


def _aar_narrative(session: Session) -> list[str]:
    """2. Move by move."""
    lines = ["## 2. Move-by-move narrative"]
    for m in session.state.moves:
        lines += ["", *_aar_move(session, m)]
    return lines


def _aar_decision_log(session: Session) -> list[str]:
    """3. Every decision, with its seat and the team's rationale."""
    lines = ["## 3. Decision log", "", "| move | team | seat | decision | target | public | rationale |",
             "|---|---|---|---|---|---|---|"]
    for m in session.state.moves:
        for a, sub in m.submissions.items():
            lines.append(f"| {m.move} | {a} | {sub.seat} | {sub.action} | {sub.target or ''} | "
                         f"{'yes' if sub.public else 'no'} | {sub.rationale.replace('|', '/')} |")
    return lines


def _aar_channels(usage: list[dict]) -> list[str]:
    """4. The crisis channels: calls tried, answered, and their status at the end."""
    return ["## 4. Crisis-channel usage", "", "| channel | tried | answered | status at end |", "|---|---|---|---|",
            *(f"| {c['channel']} | {c['tried']} | {c['answered']} | {c['status']} |" for c in usage)]


def _aar_trajectory() -> list[str]:
    """5. The escalation chart (written beside the report as escalation.png)."""
    return ["## 5. Escalation trajectory", "", "![escalation chart](escalation.png)"]


def _aar_divergences(div: list[dict]) -> list[str]:
    """6. Where the teams chose otherwise than the AI proposed, and why."""
    return ["## 6. Where teams diverged from the AI's proposals", "",
            *([f"- Move {d['move']}, {d['team']}: AI proposed {d['ai']}"
               f"{' toward ' + d['ai_target'] if d['ai_target'] else ''}; the team chose {d['chosen']}"
               f"{' toward ' + d['target'] if d['target'] else ''}. Reason: {d['reason'] or '(none given)'}"
               for d in div] or ["- No divergences: teams followed the AI's proposals."])]


def _aar_findings(session: Session, usage: list[dict], div: list[dict]) -> list[str]:
    """7. What the record shows (force, channels, divergence), then the hot wash's own findings."""
    S = session.state
    force = next((m.move for m in S.moves if any(r in FORCE_RUNGS for r in m.realised.values())), None)
    used = [c for c in usage if c["tried"]]
    lines = ["## 7. Findings and recommendations", "",
             f"- Use of force: {'first at move ' + str(force) if force else 'none during play'}.",
             "- Channels used: " + (", ".join(f"{c['channel']} ({c['answered']}/{c['tried']} answered)"
                                             for c in used) if used else "none") + ".",
             f"- Teams diverged from the AI in {len(div)} decision(s)."]
    for kind, title in (("strength", "Strengths"), ("improvement", "Areas for improvement"), ("insight", "Insights")):
        items = [h["text"] for h in S.hotwash if h["kind"] == kind]
        if items:
            lines += ["", f"### {title} (hot wash)", *(f"- {x}" for x in items)]
    return lines


def _aar_improvement_plan(session: Session) -> list[str]:
    """Appendix A: one row per improvement from the hot wash, for the facilitator to complete."""
    rows = [f"| {h['text']} |  |  |  |" for h in session.state.hotwash if h["kind"] == "improvement"]
    return ["### Appendix A: improvement plan", "", "| issue | corrective action | responsible | due |",
            "|---|---|---|---|", *(rows or ["|  |  |  |  |"])]


def _aar_notes(session: Session) -> list[str]:
    notes = [n for n in session.state.notes if "branch" not in n["tags"]]
    return ["### Facilitator notes", "", *(f"- Move {n['move']}: {n['text']}" for n in notes)] if notes else []


def aar_markdown(session: Session) -> str:
    """The after-action report draft (HSEEP shape), as Markdown: its sections, a blank line apart."""
    usage, div = channel_usage(session), divergences(session)
    sections = (_aar_title(session), _aar_overview(session), _aar_narrative(session), _aar_decision_log(session),
                _aar_channels(usage), _aar_trajectory(), _aar_divergences(div), _aar_findings(session, usage, div),
                _aar_improvement_plan(session), _aar_notes(session))
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def aar_html(session: Session) -> str:
    """The AAR draft as one self-contained HTML page (chart embedded)."""
    md = aar_markdown(session)
    chart = session_chart_png(session)
    body, in_list, in_table = [], False, False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
            body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{esc(line[2:])}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        if line.startswith("!["):
            body.append(img_tag("escalation chart", chart))
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{esc(line.lstrip('#').strip())}</h{level}>")
        elif line.strip():
            body.append(f"<p>{esc(line.strip('*'))}</p>")
    body.append("</ul>" if in_list else "")
    body.append("</table>" if in_table else "")
    return _doc("After-action report (DRAFT)", "\n".join(body))


def export_all(session: Session, out: Path | None = None) -> list[Path]:
    """Write every printable and export into ``out`` (default: the session directory)."""
    out = Path(out or session.dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "inject_cards.html": inject_cards(session),
        "role_sheets.html": role_sheets(session),
        "facilitator_handbook.html": facilitator_handbook(session),
        "decisions.csv": session.decisions_csv(),
        "msel_released.csv": msel_as_released(session),
        "aar.md": aar_markdown(session),
        "aar.html": aar_html(session),
    }
    written = []
    for name, text in files.items():
        atomic_write(out / name, lambda p, t=text: p.write_text(t, encoding="utf-8"))
        written.append(out / name)
    png = base64.b64decode(session_chart_png(session))
    atomic_write(out / "escalation.png", lambda p: p.write_bytes(png))
    written.append(out / "escalation.png")
    if session.dir.resolve() != out.resolve():
        log = (session.dir / Session.LOG).read_bytes()
        atomic_write(out / "events.jsonl", lambda p: p.write_bytes(log))
        written.append(out / "events.jsonl")
    return written
