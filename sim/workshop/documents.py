"""Printables and exports: inject cards, role sheets, the facilitator handbook, and the
after-action report / improvement plan draft in the HSEEP AAR/IP shape.

Every printable is built once as a list of blocks (:class:`Doc`) and written from it as HTML, as
PDF (fpdf2, no system dependencies) and, for the AAR, as Markdown, so the three never disagree.
The AAR is the controller's document: it tells the true trajectory, secret moves included.
Teams and roles are recorded, never personal names (non-attribution by default).
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sim.analysis.html import esc
from sim.experiments.store import atomic_write
from sim.inputs.safe_csv import safe_row
from sim.workshop import views
from sim.workshop.records import Adjudication, MoveRecord
from sim.workshop.render import CSS, img_tag, session_chart_png
from sim.workshop.session import CAPABILITY_ELEMENTS, Session
from sim.workshop.views import STATUS, actor_name, for_players, rung_label

FORCE_RUNGS = ("harass", "seize", "limited_force", "major_war")  # "use of force" in the AAR's findings
RATING_WORDS = {"P": "performed without challenges", "S": "performed with some challenges",
                "M": "performed with major challenges", "U": "unable to be performed"}
TBC = "(to be completed)"


# ---------------------------------------------------------------------------- the block model


@dataclass
class Doc:
    """A printable as blocks: ("h", level, text), ("p", text), ("em", text), ("ul", [items]),
    ("table", header, rows), ("img", key), ("card", meta, title, text), ("break",)."""

    title: str
    blocks: list[tuple] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)  # key -> base64 PNG

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", level, text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def em(self, text: str) -> None:
        self.blocks.append(("em", text))

    def ul(self, items: list[str]) -> None:
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, header: list[str], rows: list[list]) -> None:
        self.blocks.append(("table", header, [[str(c) for c in r] for r in rows]))

    def card(self, meta: str, title: str, text: str) -> None:
        self.blocks.append(("card", meta, title, text))

    def pagebreak(self) -> None:
        self.blocks.append(("break",))


def to_markdown(doc: Doc) -> str:
    """The document as Markdown: its blocks a blank line apart."""
    out = []
    for b in doc.blocks:
        kind = b[0]
        if kind == "h":
            out.append("#" * b[1] + " " + b[2])
        elif kind == "p":
            out.append(b[1])
        elif kind == "em":
            out.append(f"*{b[1]}*")
        elif kind == "ul":
            out.append("\n".join(f"- {x}" for x in b[1]))
        elif kind == "table":
            rows = [b[1], ["---"] * len(b[1]), *b[2]]
            out.append("\n".join("| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in r) + " |"
                                  for r in rows))
        elif kind == "img":
            out.append(f"![{b[1]}]({b[1]}.png)")
        elif kind == "card":
            out.append(f"**{b[2]}** ({b[1]})" + (f"\n\n{b[3]}" if b[3] else ""))
    return "\n\n".join(out) + "\n"


def to_html(doc: Doc) -> str:
    """The document as one self-contained HTML page (charts embedded)."""
    body = []
    cards: list[str] = []

    def flush() -> None:
        if cards:
            body.append(f"<div class='grid'>{''.join(cards)}</div>")
            cards.clear()

    for b in doc.blocks:
        kind = b[0]
        if kind != "card":
            flush()
        if kind == "h":
            body.append(f"<h{b[1]}>{esc(b[2])}</h{b[1]}>")
        elif kind == "p":
            body.append(f"<p>{esc(b[1])}</p>")
        elif kind == "em":
            body.append(f"<p class='muted'><i>{esc(b[1])}</i></p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in b[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{esc(c)}</th>" for c in b[1])
            rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in b[2])
            body.append(f"<table><tr>{head}</tr>{rows}</table>")
        elif kind == "img":
            body.append(img_tag(b[1], doc.images[b[1]]))
        elif kind == "card":
            cards.append(f"<div class='card'><div class='muted'>{esc(b[1])}</div><h2>{esc(b[2])}</h2>"
                         f"<p>{esc(b[3])}</p></div>")
        elif kind == "break":
            body.append("<div class='pagebreak'></div>")
    flush()
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(doc.title)}</title><style>{CSS}"
            "body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;padding:24px;max-width:1000px}"
            "table{border-collapse:collapse;margin:.4em 0} td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;"
            "vertical-align:top} .card{border:1px solid #999;border-radius:8px;padding:12px}"
            "</style></head><body>" + "\n".join(body) + "</body></html>")


_PLAIN = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2026": "...", "\u2192": "->", "\u2713": "v", "\u00b7": "-", "\u2022": "-"})


def to_pdf(doc: Doc) -> bytes:
    """The document as PDF (A4). Uses DejaVu Sans where the system has it (all scripts), else the
    built-in Helvetica with text reduced to Latin-1."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(doc.title)
    family, plain = "helvetica", True
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if (dejavu / "DejaVuSans.ttf").exists() and (dejavu / "DejaVuSans-Bold.ttf").exists():
        pdf.add_font("dejavu", "", str(dejavu / "DejaVuSans.ttf"))
        pdf.add_font("dejavu", "B", str(dejavu / "DejaVuSans-Bold.ttf"))
        pdf.add_font("dejavu", "I", str(dejavu / "DejaVuSans.ttf"))
        family, plain = "dejavu", False

    def t(text: str) -> str:
        text = str(text)
        return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1") if plain else text

    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for b in doc.blocks:
        kind = b[0]
        pdf.set_x(pdf.l_margin)
        if kind == "h":
            size = {1: 17, 2: 14, 3: 12}.get(b[1], 11)
            pdf.set_font(family, "B", size)
            pdf.ln(2)
            pdf.multi_cell(width, size * 0.5, t(b[2]))
            pdf.ln(1)
        elif kind in ("p", "em"):
            pdf.set_font(family, "I" if kind == "em" else "", 10)
            pdf.multi_cell(width, 5, t(b[1]))
            pdf.ln(1)
        elif kind == "ul":
            pdf.set_font(family, "", 10)
            for item in b[1]:
                pdf.set_x(pdf.l_margin)
                pdf.multi_cell(width, 5, t("- " + item))
            pdf.ln(1)
        elif kind == "table":
            pdf.set_font(family, "", 8 if len(b[1]) > 5 else 9)
            with pdf.table(width=width, line_height=4.2, headings_style=FontFace(emphasis="B"),
                           text_align="LEFT") as table:
                for r in [b[1], *b[2]]:
                    row = table.row()
                    for c in r:
                        row.cell(t(c))
            pdf.ln(2)
        elif kind == "img":
            pdf.image(io.BytesIO(base64.b64decode(doc.images[b[1]])), w=width)
            pdf.ln(2)
        elif kind == "card":
            pdf.set_font(family, "", 8)
            pdf.multi_cell(width, 4, t(b[1]), border="LTR")
            pdf.set_x(pdf.l_margin)
            pdf.set_font(family, "B", 12)
            pdf.multi_cell(width, 6, t(b[2]), border="LR")
            pdf.set_x(pdf.l_margin)
            pdf.set_font(family, "", 10)
            pdf.multi_cell(width, 5, t(b[3] or " "), border="LRB")
            pdf.ln(3)
        elif kind == "break":
            pdf.add_page()
    return bytes(pdf.output())


# ---------------------------------------------------------------------------- printables


def inject_cards(session: Session) -> Doc:
    """The injects as released (scripted and written, edits included), one set per team: what
    each team was sent. Unreleased injects are never printed (they would disclose the MSEL)."""
    S = session.state
    sc = S.spec.scenario
    by_id = {i.id: i for i in sc.injects}
    doc = Doc(f"Inject cards - {sc.title}")
    doc.h(1, f"Inject cards: {sc.title}")
    doc.em("Released injects only, as they were sent. One set per team; an inject to all teams is in every set.")
    if not S.released:
        doc.p("No injects have been released yet.")
    for k, a in enumerate(S.spec.actor_ids):
        mine = [r for r in S.released if "all" in r["to"] or a in r["to"]]
        if not mine:
            continue
        if k:
            doc.pagebreak()
        doc.h(2, f"{actor_name(session, a)} team")
        for r in mine:
            src = by_id.get(r["id"])
            meta = (f"{r['id']} - move {r['move']}, {r['t'][11:16]} UTC - from {src.originator if src else 'ExCon'}"
                    f" - {(src.delivery if src else 'console')}, {(src.type if src else 'information')} - to "
                    f"{views.recipients_label(session, r['to'])}")
            doc.card(meta, r["title"], r["text"] or "(no further text: the title is the message)")
    return doc


def move_menu(session: Session, actor: str) -> list[tuple[str, list[str]]]:
    """Every move the catalogue gives this actor, grouped by rung in ladder order (labels only)."""
    S = session.state
    spec, cat = S.spec, S.spec.catalogue
    a = spec.actor_index(actor)
    acts = sorted({int(k) for k in spec.options.action[a]}, key=lambda k: (cat.rung_index(cat.actions[k].rung), k))
    groups: dict[str, list[str]] = {}
    for k in acts:
        groups.setdefault(rung_label(session, cat.actions[k].rung), []).append(cat.actions[k].label)
    return list(groups.items())


RUN_OF_SHOW = ["0:00 Welcome, ground rules, road-to-crisis briefing (BRIEFING)",
               "0:20 Move 1 situation update (injects released)",
               "0:25 Team deliberation (a countdown on every screen)",
               "0:45 Submission: one headline move, with target, channel and rationale",
               "0:50 Adjudication and read-out, revealed one team at a time, with the matrix rolls",
               "1:05-2:20 Moves 2 and 3, same cycle (about 35 minutes each)",
               "2:20 Break (PAUSED)", "2:30 Hot wash", "2:55 Close (ENDEX); the after-action report follows"]


def role_sheets(session: Session) -> Doc:
    """A briefing and role sheet per team, each on its own page: situation, objectives, red lines,
    constraints, channels, the menu of moves by rung, how to submit, run of show, ground rules."""
    S = session.state
    sc = S.spec.scenario
    doc = Doc(f"Role sheets - {sc.title}")
    for k, a in enumerate(S.spec.actor_ids):
        if k:
            doc.pagebreak()
        role = sc.roles.get(a)
        doc.h(1, f"{actor_name(session, a)} team")
        doc.h(2, "Situation")
        doc.p(for_players(sc.briefing or sc.summary))
        if role:
            for key in ("objectives", "red_lines", "constraints", "mechanisms"):
                items = [for_players(x) for x in getattr(role, key)]
                if items:
                    doc.h(2, key.replace("_", " ").capitalize())
                    doc.ul(items)
        doc.h(2, "Your moves (least escalatory first)")
        doc.table(["level", "moves"], [[rung, "; ".join(moves)] for rung, moves in move_menu(session, a)])
        doc.em("Some moves need conditions (an open channel, talks under way, a rung already reached): your "
               "team page lists only the moves open to you at that moment.")
        doc.h(2, "How to play a move")
        doc.ul(["Open your team's join link (or QR code) on one device: it shows your page only.",
                "Each move: read the situation and the messages sent to you, deliberate, then choose one headline "
                "move, its target and, for a call, the channel; give your rationale.",
                "Secret: a secret move is not shown to the room or to the other teams; the facilitator sees it, "
                "and it is revealed at the hot wash. Its effects can still be felt.",
                "Review and confirm. You can withdraw and resubmit until the submission countdown runs out.",
                "The facilitator adjudicates (by the model, by ruling, or by a visible matrix roll) and reveals "
                "the results one team at a time."])
        doc.h(2, "Run of show")
        doc.ul(RUN_OF_SHOW)
        doc.em("Ground rules: no-fault, non-attribution; play your government as it is, not as you would like it "
               "to be; do not fight the scenario.")
    return doc


ADJUDICATION_GUIDE = [
    "Model (rigid): the move happens as chosen and the model's rules decide what follows. The default.",
    "Ruling (free): you decide that the move succeeds or fails; the console asks for a reason, which goes in "
    "the record (not to the room).",
    "Matrix: the team states the move, its intended result and up to three reasons; the others counter-argue; "
    "you set the probability (0.5 for an even argument, +0.1 for each strong reason, -0.1 for each strong "
    "counter-argument); the roll is seeded, shown to the room and logged. Undo and re-roll are in the record.",
]
CONSOLE_CHEATSHEET = [
    "Start move -> release the due injects (edit title, text or recipients first if needed) -> Deliberation, "
    "with a countdown -> Submission -> Adjudication -> Resolve -> reveal the read-out one team at a time.",
    "The submission tracker shows who has submitted; AI seats submit with 'AI seats submit'.",
    "Timer: start, stop, resume, reset, +N minutes (after it runs out, +N re-opens submissions).",
    "Pause shows PAUSED on every screen and stops the countdown; ENDEX closes the exercise.",
    "Hot wash: record strengths, improvements and insights; reveal the secret moves; rate the objectives.",
    "Write AAR and exports: AAR/IP draft, decision log, MSEL as released, cards and sheets, as HTML and PDF.",
]


def facilitator_handbook(session: Session) -> Doc:
    """The MSEL with controller notes, expected actions, objectives and discussion questions, how to
    adjudicate, the console in one page, contingency triggers, the ground-rules script: not for players."""
    S = session.state
    sc = S.spec.scenario
    doc = Doc(f"Facilitator handbook - {sc.title}")
    doc.h(1, f"Facilitator handbook: {sc.title}")
    doc.p("NOT FOR PLAYERS.")
    doc.h(2, "Summary")
    doc.p(sc.summary.strip())
    doc.h(2, "Road to crisis")
    doc.p(sc.briefing or "")
    doc.h(2, "Trigger")
    doc.p(sc.trigger or "")
    doc.h(2, "Seats")
    doc.p(", ".join(f"{actor_name(session, a)}: {m}" for a, m in S.seats.items()))
    doc.h(2, "Run of show (3 hours)")
    doc.ul(RUN_OF_SHOW)
    doc.h(2, "Ground-rules script")
    doc.p("\"This is a no-fault exercise. Nothing said here is attributed to anyone, and no decision sets a "
          "precedent. Play your government as it is. Do not fight the scenario: if something seems unlikely, "
          "play it and raise it at the hot wash. One headline move per team per move; secret moves go to me only.\"")
    doc.h(2, "MSEL")
    doc.table(["serial", "move", "title", "to", "expected action", "objective", "controller note"],
              [[i.id, i.turn if i.kind == "scheduled" else i.kind, i.title, ", ".join(i.to), i.expected_action,
                i.objective, i.controller_note] for i in sc.injects])
    doc.h(2, "Discussion questions per inject")
    for i in sc.injects:
        qs = [f"Who would you call about '{i.title}'? Through which channel?",
              "What would you tell your allies, and when?"]
        if i.objective:
            qs.insert(0, f"Objective: {i.objective}")
        if i.expected_action:
            qs.append(f"Watch for: {i.expected_action}")
        doc.h(3, f"{i.id}: {i.title}")
        doc.ul(qs)
    contingency = [i for i in sc.injects if i.kind != "scheduled"]
    if contingency:
        doc.h(2, "Contingency and conditional injects: checklist")
        doc.ul([f"[ ] {i.id} {i.title}: "
                + (i.controller_note or ("released when its condition holds" if i.kind == "conditional"
                                         else "release to steer play back to the objectives"))
                for i in contingency])
    doc.h(2, "Adjudication guidance")
    doc.ul(ADJUDICATION_GUIDE)
    doc.h(2, "Console cheat-sheet")
    doc.ul(CONSOLE_CHEATSHEET)
    doc.h(2, "Room layout")
    doc.ul(["Projector visible from every team table; the facilitator's screen faces away from the room.",
            "One device per team on its join link; observers on theirs; the console stays with the facilitator."])
    if sc.levers:
        doc.h(2, "Appendix: levers the papers recommend (for analysts)")
        doc.ul([f"{lv.label}: expect {lv.expect} {lv.measure}. {lv.note}" for lv in sc.levers])
    return doc


# ---------------------------------------------------------------------------- exports


def msel_as_released(session: Session) -> str:
    """The MSEL as it was played: what was released, when, to whom, edited, written or as scripted (CSV)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["serial", "move", "released_at", "title", "to", "edited", "written"])
    for r in session.state.released:
        w.writerow(safe_row([r["id"], r["move"], r["t"], r["title"], ", ".join(r["to"]), r["edited"],
                             r.get("written", False)]))
    return buf.getvalue()


def channel_usage(session: Session) -> list[dict]:
    """Per channel: calls tried, answered, and its status at the end (for the AAR)."""
    S = session.state
    st = S.st
    return [{"channel": S.spec.catalogue.channel(c).label, "tried": int(st.tried[0, i]),
             "answered": int(st.answered[0, i]), "status": STATUS[int(st.ch_status[0, i])].replace("_", " ")}
            for i, c in enumerate(S.spec.channel_ids)]


def divergences(session: Session) -> list[dict]:
    """Decisions where a team replaced its AI adviser or overrode an AI seat (human seats decide on
    their own: their choices are not divergences)."""
    out = []
    for m in session.state.moves:
        for a, sub in m.submissions.items():
            if sub.source in ("hybrid-replaced", "ai-overridden"):
                out.append({"move": m.move, "team": a, "ai": sub.ai_action, "ai_target": sub.ai_target,
                            "chosen": sub.action, "target": sub.target, "reason": sub.override_reason or sub.rationale,
                            "source": sub.source})
    return out


def adjudication_audit(session: Session) -> list[dict]:
    """Every adjudication as logged, with what became of it: final, replaced (a re-roll or a new
    ruling) or undone; matrix arguments and ruling reasons included."""
    rows: list[dict] = []
    live: list[dict] = []  # this move's adjudications still standing, in order
    move = 0
    for ev in session.events:
        if ev["type"] == "move_started":
            move, live = ev["move"], []
        elif ev["type"] == "adjudicated":
            for r in live:
                if r["actor"] == ev["actor"]:
                    r["status"] = "replaced" + (" (re-roll)" if ev["mode"] == "matrix" == r["mode"] else "")
            live = [r for r in live if r["actor"] != ev["actor"]]
            row = {"move": move, "actor": ev["actor"], "mode": ev["mode"], "probability": ev.get("probability"),
                   "roll": ev.get("roll"), "success": ev.get("success"), "arguments": ev.get("arguments", ""),
                   "reason": ev.get("reason", ""), "status": "final", "t": ev["t"]}
            rows.append(row)
            live.append(row)
        elif ev["type"] == "adjudication_undone" and live:
            live.pop()["status"] = "undone"
    return rows


def _how_adjudicated(adj: Adjudication | None) -> str:
    if adj and adj.mode == "matrix":
        verdict = "succeeded" if adj.success else "failed"
        return f" [matrix: p={adj.probability:.2f}, roll {adj.roll:.2f}, {verdict}]"
    if adj and adj.mode == "ruling":
        return f" [ruling: {'succeeded' if adj.success else 'failed'} - {adj.reason}]"
    return ""


def _matches(session: Session, expected: str, m: MoveRecord | None) -> tuple[str, str]:
    """What teams did in the move an inject was released, and which of it the MSEL expected."""
    if m is None:
        return "(not yet played)", ""
    did = [f"{a} {session.label(s.action)}" + (" (secret)" if not s.public else "") for a, s in m.submissions.items()]
    words = set(re.findall(r"[a-z]+", (expected or "").lower()))
    seen = [f"{a} {s.action.replace('_', ' ')}" for a, s in m.submissions.items()
            if s.action != "hold" and set(s.action.split("_")) & words]
    return "; ".join(did), ("expected moves seen: " + ", ".join(seen)) if seen else "none of the expected moves seen"


def aar(session: Session) -> Doc:
    """The after-action report / improvement plan draft (HSEEP AAR/IP): overview table, analysis by
    objective with P/S/M/U ratings and findings (observation, root cause, recommendation), expected
    versus actual per inject, the move-by-move narrative (true picture), decision log, adjudication
    audit (undo, re-roll), channels, escalation chart, divergence from the AI, the hot wash, and the
    appendices: improvement plan, participants, facilitator notes."""
    S = session.state
    sc = S.spec.scenario
    d = S.details
    doc = Doc("After-action report / improvement plan (DRAFT)")
    doc.h(1, f"After-action report / improvement plan (DRAFT): {sc.title}")
    doc.em("DRAFT until finalised by the facilitator. " + (d.get("caveats") or "Handling: for the exercise "
           "participants and sponsor only; teams and roles are named, never persons (non-attribution)."))
    objectives = session.objectives()
    start, end = session.events[0]["t"], session.events[-1]["t"]
    doc.h(2, "1. Exercise overview")
    doc.table(["", ""], [
        ["Exercise name", sc.title],
        ["Exercise dates", d.get("dates") or f"{start[:16].replace('T', ' ')} to {end[:16].replace('T', ' ')} UTC"],
        ["Scope", d.get("scope") or f"Discussion-based tabletop exercise (game): {len(S.moves)} moves of "
                                    f"{S.spec.hours:g} h scenario time, {len(S.seats)} teams"],
        ["Mission area", d.get("mission_area") or "Crisis management: prevention and de-escalation"],
        ["Objectives", "; ".join(objectives) or "(none stated)"],
        ["Threat or hazard", f"{sc.flashpoint.replace('_', ' ').title()}: {sc.trigger}"],
        ["Scenario", sc.summary.strip()],
        ["Sponsor", d.get("sponsor") or TBC],
        ["Participating organisations", d.get("organisations")
         or ", ".join(f"{actor_name(session, a)} team" for a in S.spec.actor_ids)],
        ["Point of contact", d.get("poc") or TBC],
        ["Location", d.get("location") or TBC],
    ])

    doc.h(2, "2. Analysis of objectives")
    doc.table(["objective", "rating", "meaning"],
              [[o, S.ratings.get(o, {}).get("rating", "not rated"),
                RATING_WORDS.get(S.ratings.get(o, {}).get("rating", ""), "")] for o in objectives]
              or [["(no objectives stated)", "", ""]])
    injects = {i.id: i for i in sc.injects}
    for k, o in enumerate(objectives, 1):
        doc.h(3, f"Objective {k}: {o}")
        rating = S.ratings.get(o)
        doc.p(f"Rating: {rating['rating']} ({RATING_WORDS[rating['rating']]})" + (f". {rating['text']}" if
              rating.get("text") else "") if rating else "Rating: not rated yet.")
        linked = [r for r in S.released if r["id"] in injects and injects[r["id"]].objective == o]
        if linked:
            doc.p("Injects: " + "; ".join(f"{r['id']} {r['title']} (move {r['move']})" for r in linked) + ".")
        for kind, title in (("strength", "Strengths"), ("improvement", "Areas for improvement")):
            items = [f for f in S.findings if f["objective"] == o and f["kind"] == kind]
            if items:
                doc.p(f"{title}:")
                doc.ul([f"Observation: {f['observation']}" + (f" Analysis (root cause): {f['root_cause']}"
                        if f["root_cause"] else "") + (f" Recommendation: {f['recommendation']}"
                                                       if f["recommendation"] else "") for f in items])
        obs = [x for x in S.observations if x["objective"] == o]
        if obs:
            doc.p("Observers noted:")
            doc.ul([f"Move {x['move']}: {x['text']}" for x in obs])
    general = [f for f in S.findings if not f["objective"]]
    if general:
        doc.h(3, "Findings not tied to one objective")
        doc.ul([f"{'Strength' if f['kind'] == 'strength' else 'Area for improvement'}: {f['observation']}"
                + (f" Root cause: {f['root_cause']}" if f["root_cause"] else "")
                + (f" Recommendation: {f['recommendation']}" if f["recommendation"] else "") for f in general])

    doc.h(2, "3. Expected versus actual, per inject")
    by_move = {m.move: m for m in S.moves}
    rows = []
    for r in S.released:
        inj = injects.get(r["id"])
        expected = inj.expected_action if inj else ""
        did, match = _matches(session, expected, by_move.get(r["move"]))
        rows.append([f"{r['id']} {r['title']}", r["move"], views.recipients_label(session, r["to"]),
                     expected or "(none in the MSEL)", did, match if expected else ""])
    doc.table(["inject", "move", "to", "expected player action", "what the teams did", "check"],
              rows or [["(no injects released)", "", "", "", "", ""]])
    doc.em("The check matches the moves' names against the MSEL's text: a prompt for the evaluator, not a verdict.")

    doc.h(2, "4. Move-by-move narrative")
    for m in S.moves:
        doc.h(3, f"Move {m.move} (crisis level after it: {rung_label(session, m.crisis_rung)})")
        rel = [r for r in S.released if r["move"] == m.move]
        lines = []
        if rel:
            lines.append("Injects: " + "; ".join(
                f"{r['id']} {r['title']}" + (" (edited)" if r["edited"] else " (written)" if r.get("written") else "")
                + ("" if "all" in r["to"] else f" to {', '.join(r['to'])}") for r in rel) + ".")
        failed = [r for r in S.not_happened if r["move"] == m.move]
        if failed:
            lines.append("Released but did not happen: " + "; ".join(
                f"{r['id']} {r['title']} (chance {r['probability']:.0%})" for r in failed) + ".")
        if lines:
            doc.p(" ".join(lines))
        items = []
        for a, sub in m.submissions.items():
            secret = "" if sub.public else " (secret)"
            tgt = f" toward {sub.target}" if sub.target else ""
            adj = m.adjudications.get(a)
            ok = adj is None or adj.success
            calls = "".join(f"; the call on the {c['channel']} was {'answered' if c['answered'] else 'not answered'}"
                            for c in m.calls.get(a, []))
            outcome = f"came to {rung_label(session, m.realised[a])}" if ok else "played as holding"
            items.append(f"{a}: {session.label(sub.action)}{tgt}{secret}{_how_adjudicated(adj)}; {outcome}{calls}.")
        if m.incidents:
            items.append(f"Incidents: collisions involving {', '.join(m.incidents)}.")
        doc.ul(items)

    doc.h(2, "5. Decision log")
    doc.table(["move", "team", "seat", "decision", "target", "public", "entered", "rationale"],
              [[m.move, a, sub.seat + ("" if sub.source in ("human", "ai") else f" ({sub.source})"),
                session.label(sub.action), sub.target or "", "yes" if sub.public else "no",
                "team page" if sub.by.startswith("team:") else "facilitator", sub.rationale]
               for m in S.moves for a, sub in m.submissions.items()] or [["", "", "", "", "", "", "", ""]])
    withdrawn = S.withdrawn
    if withdrawn:
        doc.p("Withdrawn before the deadline: " + "; ".join(
            f"move {w['move']} {w['actor']} {session.label(w['action'])}" for w in withdrawn) + ".")

    doc.h(2, "6. Adjudication audit (undo and re-roll)")
    audit = adjudication_audit(session)
    doc.table(["move", "team", "mode", "p", "roll", "result", "arguments / reason", "status"],
              [[r["move"], r["actor"], r["mode"], "" if r["probability"] is None else f"{r['probability']:.2f}",
                "" if r["roll"] is None else f"{r['roll']:.3f}", "succeeds" if r["success"] else "fails",
                r["arguments"] or r["reason"], r["status"]] for r in audit] or [["", "", "(none: every move was "
                                                                                 "adjudicated by the model)",
                                                                                 "", "", "", "", ""]])

    usage = channel_usage(session)
    doc.h(2, "7. Crisis-channel usage")
    doc.table(["channel", "calls made", "answered", "status at end"],
              [[c["channel"], c["tried"], c["answered"], c["status"]] for c in usage])
    unanswered = [c for c in usage if c["tried"] > c["answered"]]
    if unanswered:
        doc.p("Unanswered calls: " + "; ".join(f"{c['channel']} ({c['tried'] - c['answered']} of {c['tried']})"
                                              for c in unanswered) + ". A move that 'succeeded' was made; whether "
              "the other side picked up is the channel's answer.")

    doc.h(2, "8. Escalation trajectory")
    doc.blocks.append(("img", "escalation"))
    doc.images["escalation"] = session_chart_png(session, true=True)
    doc.em("The true trajectory, secret moves included (the room saw secret moves as the last public move).")

    div = divergences(session)
    doc.h(2, "9. Where teams diverged from the AI")
    doc.ul([f"Move {x['move']}, {x['team']}: the AI {'advised' if x['source'] == 'hybrid-replaced' else 'played'} "
            f"{session.label(x['ai']) if x['ai'] else '?'}{' toward ' + x['ai_target'] if x['ai_target'] else ''}; "
            f"the team chose {session.label(x['chosen'])}{' toward ' + x['target'] if x['target'] else ''}. "
            f"Reason: {x['reason'] or '(none given)'}" for x in div]
           or ["No divergences: hybrid teams followed their adviser and no AI seat was overridden."])
    human = sum(1 for m in S.moves for s in m.submissions.values() if s.source == "human")
    if human:
        doc.p(f"{human} decision(s) came from human seats, which have no adviser, and are not counted here.")

    force = next((m.move for m in S.moves if any(r in FORCE_RUNGS for r in m.realised.values())), None)
    doc.h(2, "10. Hot wash")
    doc.ul([f"Use of force: {'first at move ' + str(force) if force else 'none during play'}.",
            "Channels used: " + (", ".join(f"{c['channel']} ({c['answered']}/{c['tried']} answered)"
                                          for c in usage if c["tried"]) or "none") + "."])
    for kind, title in (("strength", "Strengths"), ("improvement", "Areas for improvement"), ("insight", "Insights")):
        items = [h["text"] for h in S.hotwash if h["kind"] == kind]
        if items:
            doc.h(3, title)
            doc.ul(items)

    doc.h(2, "Appendix A: Improvement plan")
    plan = [[f["observation"], f["recommendation"], f["capability"] or TBC, f["responsible"] or TBC,
             f["poc"] or TBC, f["start"] or TBC, f["due"] or TBC] for f in S.findings if f["kind"] == "improvement"]
    plan += [[h["text"], TBC, TBC, TBC, TBC, TBC, TBC] for h in S.hotwash if h["kind"] == "improvement"]
    doc.table(["issue / area for improvement", "corrective action", "capability element", "responsible organisation",
               "point of contact", "start date", "completion date"], plan or [[""] * 7])
    doc.em(f"Capability elements (POETE): {', '.join(CAPABILITY_ELEMENTS)}.")

    doc.h(2, "Appendix B: Participants")
    doc.table(["team or role", "seat", "decisions entered on the team's page"],
              [[f"{actor_name(session, a)} team", S.seats[a],
                sum(1 for m in S.moves if m.submissions[a].by == f"team:{a}")] for a in S.spec.actor_ids]
              + [["Facilitator / control cell", "", ""],
                 ["Observers / evaluators", "", f"{len(S.observations)} observation(s)"]])
    doc.em("Recorded by team and role only (non-attribution).")
    notes = [n for n in S.notes if "branch" not in n["tags"]]
    if notes:
        doc.h(2, "Appendix C: Facilitator notes")
        doc.ul([f"Move {n['move']}: {n['text']}" for n in notes])
    return doc


def aar_markdown(session: Session) -> str:
    """The AAR/IP draft as Markdown (its chart written beside it as escalation.png)."""
    return to_markdown(aar(session))


def aar_html(session: Session) -> str:
    return to_html(aar(session))


PRINTABLES: dict[str, Callable[[Session], Doc]] = {
    "inject_cards": inject_cards, "role_sheets": role_sheets, "facilitator_handbook": facilitator_handbook, "aar": aar,
}


def export_all(session: Session, out: Path | None = None, pdf: bool = True) -> list[Path]:
    """Write every printable (HTML and PDF) and export into ``out`` (default: the session directory)."""
    out = Path(out or session.dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | bytes] = {}
    for name, build in PRINTABLES.items():
        doc = build(session)
        files[f"{name}.html"] = to_html(doc)
        if pdf:
            files[f"{name}.pdf"] = to_pdf(doc)
        if name == "aar":
            files["aar.md"] = to_markdown(doc)
            files["escalation.png"] = base64.b64decode(doc.images["escalation"])
    files["decisions.csv"] = session.decisions_csv()
    files["msel_released.csv"] = msel_as_released(session)
    written = []
    for name, data in files.items():
        if isinstance(data, bytes):
            atomic_write(out / name, lambda p, d=data: p.write_bytes(d))
        else:
            atomic_write(out / name, lambda p, d=data: p.write_text(d, encoding="utf-8"))
        written.append(out / name)
    if session.dir.resolve() != out.resolve():
        log = (session.dir / Session.LOG).read_bytes()
        atomic_write(out / "events.jsonl", lambda p: p.write_bytes(log))
        written.append(out / "events.jsonl")
    return written
