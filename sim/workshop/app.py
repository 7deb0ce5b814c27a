"""The web console (Solara): one page per role, chosen by the join link's token, never by the path.

``/?k=TOKEN`` opens the facilitator's console, the projector, an observer's page or one team's
page, whichever the token grants; a page has no links to any other role. Every click goes
through ``server.act`` with the page's token (checked against the role table there), so a page
can do only what its role may even if its HTML were edited. The room's pages render the redacted
view-models only (``sim.workshop.views`` via ``sim.workshop.render``), built once per change and
shared by every page showing them; their countdowns tick in the browser (``live.vue``).

Forms keep their unsent values on the server (``server.draft``): an error message or a reload
does not wipe them. Every page sits in an error boundary: an unexpected error is logged with an
id on the server, and the page shows only that id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import solara

from sim.errors import InputError
from sim.names import OUTCOMES
from sim.workshop import render, server, views
from sim.workshop.access import FACILITATOR, OBSERVER, PROJECTOR, TEAM
from sim.workshop.documents import move_menu
from sim.workshop.records import PHASES
from sim.workshop.session import CAPABILITY_ELEMENTS, DETAILS, RATINGS, Session

MOVE_PHASES = PHASES[1:6]  # situation .. readout, in order
TABS = ("Play", "Teams", "Hot wash and AAR", "Notes, forecast, exports", "Join links", "Replay and what-if")
NEXT_STEP = {"briefing": "Start move 1", "situation": "Release the due injects, then Deliberation",
             "deliberation": "Teams deliberate; then Submission",
             "submission": "Wait for every team; then Adjudication",
             "adjudication": "Rule on each move; then Resolve move",
             "readout": "Reveal the results; then Start move or Hot wash",
             "hotwash": "Record the findings; then ENDEX", "endex": "Write the AAR and exports"}


@solara.component_vue("live.vue")
def Live(html: str, now: float) -> None:
    """Server-rendered HTML whose countdowns tick in the browser."""


# ---------------------------------------------------------------------------- plumbing


def use_version() -> int:
    """Redraw this page whenever any page changes the session (woken by the server, no polling)."""
    v, set_v = solara.use_state(server.version())

    def watch(cancel: Any) -> None:
        seen = server.version()
        while not cancel.is_set():
            now = server.wait_change(seen, 1.0)
            if now != seen:
                seen = now
                set_v(now)

    solara.use_thread(watch, dependencies=[], intrusive_cancel=False)
    return v


class Say:
    """One page's message line: the last action's refusal or error, in one line."""

    def __init__(self) -> None:
        self.state = solara.use_reactive(("", ""))  # (kind, text)

    def __call__(self, kind: str, text: str) -> None:
        self.state.set((kind, text))


def run(say: Say, token: str, call: str, **kwargs: Any) -> Any:
    """One action through the server (checked against this page's role); a refusal is one line,
    anything unexpected is logged there and shown here by its id only."""
    try:
        result = server.act(token, call, **kwargs)
    except InputError as exc:
        say("error", exc.message)
        return None
    except Exception as exc:
        say("error", f"Something went wrong (error id {server.report(exc)}); nothing was recorded.")
        return None
    say("", "")
    return True if result is None else result


def use_draft(token: str, form: str, defaults: dict) -> tuple[dict, Callable[..., None], Callable[[], None]]:
    """A form's values, kept on the server across errors and reloads; ``reset`` after it was sent.

    The values are the server's own dict, read when a button is clicked (not as they were when the
    button was drawn): a field typed into and a button clicked at once act on what was typed."""
    store = server.draft(token, form, defaults)
    _, redraw = solara.use_state(0, key=f"draft-{form}")

    def set_field(name: str, value: Any, again: bool = True) -> None:
        store[name] = value
        if again:
            redraw(lambda n: n + 1)

    def reset() -> None:
        gen = store.get("_gen", 0) + 1  # new text widgets: the old ones still show what was typed
        store.clear()
        store.update(defaults, _gen=gen)
        redraw(lambda n: n + 1)

    return store, set_field, reset


def field(label: str, values: dict, name: str, set_field: Callable[..., None], area: bool = False,
          **kwargs: Any) -> Any:
    """A text field whose every keystroke goes into the form's draft at once (without a redraw), so a
    button clicked right after typing acts on what was typed, and a reload finds it."""
    make = solara.InputTextArea if area else solara.InputText
    return make(label, value=values[name], on_value=lambda v: set_field(name, v, False), continuous_update=True,
                **kwargs).key(f"{name}:{values.get('_gen', 0)}")


@solara.component
def Message(say: Say) -> None:
    """The page's message line (always present, so that the forms below it keep their place)."""
    kind, text = say.state.value
    with solara.Column(style="min-height:0"):
        if text:
            (solara.Error if kind == "error" else solara.Info)(text, dense=True)


@solara.component
def Layout(children: list = []) -> None:  # noqa: B006 - Solara's layout signature
    """No app bar, no tabs to other pages: a page is its role's page only."""
    solara.Column(children=children, style="padding:0;gap:0")


@solara.component
def Page() -> None:
    router = solara.use_router()
    token = (parse_qs(router.search or "").get("k") or [""])[0]
    exc, clear = solara.use_exception()
    if exc is not None:
        eid = server.report(exc)
        with solara.Column(style="padding:24px"):
            solara.Error(f"This page hit an error (id {eid}); it is logged. Reload the page to carry on.")
            solara.Button("Try again", on_click=clear)
        return
    role = server.role_of(token)
    if role is None:
        solara.Title("Crisis workshop")
        with solara.Column(style="padding:24px;font-size:20px"):
            solara.Markdown("**This page needs a join link.** Ask the facilitator for your team's link or QR code.")
        return
    if role.kind == FACILITATOR:
        Console(token)
    elif role.kind == PROJECTOR:
        Projector()
    elif role.kind == OBSERVER:
        Observer(token)
    elif role.kind == TEAM:
        Team(token, role.actor)


# ---------------------------------------------------------------------------- the room's pages


@solara.component
def Projector() -> None:
    """The room's screen: the redacted projector view-model, full screen, its countdown ticking."""
    use_version()
    solara.Title("Projector")
    html = server.view("projector", lambda s: render.render_projector(views.projector_model(s), fragment=True))
    Live(html=html, now=time.time() * 1000)


@solara.component
def Observer(token: str) -> None:
    """An observer or evaluator: the room's picture and the public timeline; records observations."""
    use_version()
    say = Say()
    solara.Title("Observer")
    s = server.session()
    html = server.view("observer", lambda s: render.render_observer(views.observer_model(s), fragment=True))
    values, set_field, reset = use_draft(token, "observation", {"text": "", "objective": ""})
    objectives = ["", *s.objectives()]
    Live(html=html, now=time.time() * 1000)
    with solara.Card("Record an observation", style="margin:0 1em"):
        Message(say)
        field("Observation (what was said or done)", values, "text", set_field, area=True)
        solara.Select("Objective", values=objectives,
                      value=values["objective"] if values["objective"] in objectives else "",
                      on_value=lambda v: set_field("objective", v))

        def send() -> None:
            if run(say, token, "observe", text=values["text"], objective=values["objective"]):
                reset()
        solara.Button("Record observation", on_click=send, color="primary")


@solara.component
def Team(token: str, actor: str) -> None:
    """A team's own page: its redacted view-model, its submission form, its adviser if hybrid."""
    use_version()
    solara.Title(f"{actor} team")
    s = server.session()
    model = server.view(f"team:{actor}", lambda s: views.team_model(s, actor))
    Live(html=render.page("", render.render_team_header(model), fragment=True), now=time.time() * 1000)
    if model["form"]["open"] or model["form"]["submitted"]:
        with solara.Column(style="padding:0 1em"):
            MoveForm(token, actor, model, s.state.seats[actor], facilitator=False)
    Live(html=render.page("", render.render_team_body(model), fragment=True), now=time.time() * 1000)


def _menu_label(m: dict) -> str:
    return f"{views.RUNG_SHORT.get(m['rung'], m['rung_label'])}: {m['label']}"


@solara.component
def MoveForm(token: str, actor: str, model: dict, seat: str, facilitator: bool) -> None:
    """One team's headline move: by label in ladder order, target, channel, secret, rationale, then
    a review and a confirmation; a submitted move can be withdrawn until the deadline."""
    say = Say()
    s = server.session()
    values, set_field, reset = use_draft(token, f"move-{actor}", {"move": "", "target": "", "channel": "",
                                                                  "secret": False, "rationale": "", "reason": "",
                                                                  "review": False})
    form = model["form"]
    Message(say)
    sub = form["submitted"]
    if sub is not None:
        what = f"{sub['label']}" + (f" toward {sub['target']}" if sub["target"] else "")
        with solara.Card(f"{actor}: submitted" if facilitator else "Your move is in"):
            solara.Success(f"{what}{' (secret)' if not sub['public'] else ''}; entered by {sub['by']}", dense=True)
            if sub["rationale"]:
                solara.Text(f"Rationale: {sub['rationale']}")
            if form["deadline_passed"] and not facilitator:
                solara.Text("The submission deadline has passed.")
            else:
                solara.Button("Withdraw" if not facilitator else f"Withdraw {actor}'s move",
                              on_click=lambda: run(say, token, "withdraw", actor=actor), outlined=True)
        return
    menu = form["menu"]
    by_label = {_menu_label(m): m for m in menu}
    chosen = by_label.get(values["move"])
    adviser = model.get("adviser")
    names = {a: s.name(a) for a in s.state.spec.actor_ids}
    review = bool(values["review"] and chosen)
    # Every part sits in a container that is always there, so that a part appearing (a deadline, a
    # target) never moves the fields below it: a moved field would be a new one, losing what was typed.
    with solara.Card(f"{actor}: enter a move" if facilitator else "Your move"):
        with solara.Column(style="gap:0"):
            if form["deadline_passed"] and not facilitator:
                solara.Warning("The submission deadline has passed: ask the facilitator for more time.", dense=True)
        with solara.Column(style="gap:0"):
            if adviser and not review:
                solara.Markdown("**Your AI adviser" + (" (advice for this move)" if adviser["frozen"] else
                                                       " (until deliberation begins)") + "**")
                for i, o in enumerate(adviser["options"], 1):
                    tgt = f" toward {o['target_name']}" if o["target"] else ""
                    with solara.Row(style="align-items:center"):
                        solara.Text(f"{i}. {o['label']}{tgt}: {o['probability']:.0%}. {o['why'].capitalize()}.")

                        def take(o: dict = o) -> None:
                            m = next((m for m in menu if m["action"] == o["action"]), None)
                            if m is not None:
                                set_field("move", _menu_label(m))
                                set_field("target", o["target"] or "")
                        solara.Button(f"Use {i}", on_click=take, text=True, size="small")
        with solara.Column(style="gap:4px"):
            if review:
                tgt = values["target"] or (chosen["targets"][0] if chosen["targets"] else "")
                solara.Info(f"Submit {chosen['label']}" + (f" toward {names.get(tgt, tgt)}" if tgt else "")
                            + (f" over the {values['channel']}" if values["channel"] else "")
                            + (" as a SECRET move" if values["secret"] else " (public)") + "?", dense=True)

                def confirm() -> None:
                    done = run(say, token, "submit", actor=actor, action=chosen["action"], target=tgt or None,
                               channel=values["channel"] or None, public=not values["secret"],
                               rationale=values["rationale"], override_reason=values["reason"])
                    if done:
                        reset()
                    else:
                        set_field("review", False)
                with solara.Row():
                    solara.Button("Confirm and submit", on_click=confirm, color="primary")
                    solara.Button("Back", on_click=lambda: set_field("review", False), text=True)
        with solara.Column(style="gap:0"):
            if not review:
                MoveFields(dict(values), set_field, menu, chosen, names, seat)


@solara.component
def MoveFields(values: dict, set_field: Callable[..., None], menu: list[dict], chosen: dict | None,
               names: dict[str, str], seat: str) -> None:
    """The fields of a move (their own component: the review panel above them never shifts them)."""
    with solara.Column(style="gap:0"):
        labels = [_menu_label(m) for m in menu]
        solara.Select("Move (least escalatory first)", values=labels,
                      value=values["move"] if values["move"] in labels else None,
                      on_value=lambda v: set_field("move", v or ""))
        with solara.Column(style="gap:0"):
            if chosen and chosen["targets"]:
                tnames = [names[t] for t in chosen["targets"]]
                cur = names.get(values["target"], tnames[0])
                solara.Select("Toward", values=tnames, value=cur if cur in tnames else tnames[0],
                              on_value=lambda v: set_field("target", next(a for a, n in names.items() if n == v)))
        with solara.Column(style="gap:0"):
            if chosen and chosen["channels"]:
                solara.Select("Channel", values=chosen["channels"],
                              value=values["channel"] if values["channel"] in chosen["channels"] else None,
                              on_value=lambda v: set_field("channel", v or ""))
        solara.Checkbox(label="Secret (not shown to the room or the other teams)", value=values["secret"],
                        on_value=lambda v: set_field("secret", v))
        field("Rationale", values, "rationale", set_field, area=True, rows=2)
        with solara.Column(style="gap:0"):
            if seat in ("hybrid", "ai"):
                field("Reason for not following the AI" if seat == "hybrid" else "Reason for overriding the AI",
                      values, "reason", set_field)
        solara.Button("Review move", on_click=lambda: set_field("review", True), disabled=chosen is None,
                      color="primary")


# ---------------------------------------------------------------------------- the facilitator's console


@solara.component
def Console(token: str) -> None:
    """Everything, MSEL and AI reasoning included: run the room from here."""
    v = use_version()
    say = Say()
    tab, set_tab = solara.use_state(0)
    seen_warnings, set_seen = solara.use_state(False)
    s = server.session()
    S = s.state
    solara.Title("Facilitator console")
    with solara.Column(style="padding:8px 16px;gap:6px"):
        Header(token, say, v=v)
        Message(say)
        with solara.Column(style="gap:0"):
            if s.warnings and not seen_warnings:
                solara.Warning(" \u00b7 ".join(s.warnings), dense=True)
                solara.Button("Dismiss", on_click=lambda: set_seen(True), text=True, size="small")
        with solara.Row(style="gap:2px;border-bottom:2px solid #ddd;flex-wrap:wrap"):
            for i, name in enumerate(TABS):
                solara.Button(name, on_click=lambda i=i: set_tab(i), text=i != tab,
                              color="primary" if i == tab else None)
        if tab == 0:
            with solara.Columns([5, 6]):
                with solara.Column():
                    Injects(token, say, v=v)
                with solara.Column():
                    Tracker(v=v)
                    Adjudicate(token, say, v=v)
                    Readout(token, say, v=v)
                    TrueChart(v=v)
        elif tab == 1:
            with solara.Row(style="flex-wrap:wrap;align-items:start"):
                for a in S.spec.actor_ids:
                    Seat(token, a, v=v)
        elif tab == 2:
            with solara.Columns([1, 1]):
                with solara.Column():
                    Hotwash(token, say, v=v)
                    Ratings(token, say, v=v)
                with solara.Column():
                    Finding(token, say, v=v)
                    Details(token, say, v=v)
        elif tab == 3:
            with solara.Columns([1, 1]):
                with solara.Column():
                    Notes(token, say, v=v)
                    Exports(token, say)
                Forecast(token, say)
        elif tab == 4:
            JoinLinks()
        else:
            Replay(token, say, v=v)


@solara.component
def Header(token: str, say: Say, v: int = 0) -> None:
    """Where play is, what to do next, the phase buttons, pause, ENDEX and the countdown's controls."""
    s = server.session()
    S = s.state
    values, set_field, _ = use_draft(token, "timer", {"minutes": "20"})
    tm = views.timer_model(s)
    status = (f"<div style='display:flex;gap:1em;align-items:baseline;font-size:20px'>"
              f"<b>{render.esc(S.spec.scenario.title)}</b><span>move {S.move}, phase {render.esc(S.phase)}"
              f"{' (PAUSED)' if S.paused else ''}</span>"
              f"<span style='color:#555'>next: {render.esc(NEXT_STEP[S.phase])}</span>"
              f"<span style='margin-left:auto'>{render.countdown(tm)}</span><span data-version='{v}'></span></div>")
    Live(html=render.page("", status, fragment=True), now=time.time() * 1000)
    allowed = _allowed_steps(s)
    with solara.Row(style="flex-wrap:wrap;align-items:center;gap:4px"):
        solara.Button("Start move", on_click=lambda: run(say, token, "start_move"),
                      color="primary" if "start" in allowed else None, disabled="start" not in allowed)
        for ph in ("deliberation", "submission", "adjudication"):
            solara.Button(ph.capitalize(), on_click=lambda ph=ph: run(say, token, "set_phase", phase=ph),
                          color="primary" if allowed.get("next") == ph else None, disabled=ph not in allowed,
                          outlined=allowed.get("next") != ph)
        solara.Button("Hot wash", on_click=lambda: run(say, token, "set_phase", phase="hotwash"),
                      disabled="hotwash" not in allowed, outlined=True)
        solara.Button("ENDEX", on_click=lambda: run(say, token, "set_phase", phase="endex"),
                      disabled="endex" not in allowed, outlined=True)
        solara.Button("Resume" if S.paused else "Pause", on_click=lambda: run(say, token, "pause", paused=not S.paused),
                      disabled=S.ended, color="warning" if S.paused else None)
    with solara.Row(style="flex-wrap:wrap;align-items:center;gap:4px"):
        field("Timer minutes", values, "minutes", set_field, style="max-width:130px", dense=True)
        solara.Button("Start timer", on_click=lambda: run(say, token, "start_timer", minutes=values["minutes"]),
                      disabled=S.ended, size="small")
        for label, call in (("Stop", "stop_timer"), ("Resume", "resume_timer"), ("Reset", "reset_timer"),
                            ("Clear", "clear_timer")):
            solara.Button(f"{label} timer", on_click=lambda call=call: run(say, token, call), disabled=tm is None,
                          size="small", outlined=True)
        for n in (-1, 1, 5):
            solara.Button(f"{n:+d} min", on_click=lambda n=n: run(say, token, "add_time", minutes=n),
                          disabled=S.ended, size="small", text=True)


def _allowed_steps(s: Session) -> dict:
    """The steps open now (and the suggested next phase), so the buttons say what can be done."""
    S = s.state
    if S.ended:
        return {}
    out: dict = {}
    if S.phase in ("briefing", "readout") and S.move < S.spec.turns:
        out["start"] = True
    if S.move and S.phase in ("situation", "deliberation", "submission", "adjudication"):
        i = MOVE_PHASES.index(S.phase)
        for ph in ("deliberation", "submission", "adjudication"):
            if ph != S.phase:
                out[ph] = True
        out["next"] = MOVE_PHASES[i + 1] if i + 1 < len(MOVE_PHASES) and MOVE_PHASES[i + 1] != "readout" else None
    if S.phase in ("briefing", "readout"):
        out["hotwash"] = True
    if S.phase in ("briefing", "readout", "hotwash"):
        out["endex"] = True
    return out


@solara.component
def Injects(token: str, say: Say, v: int = 0) -> None:
    """The MSEL and the written injects, with status, recipients and release time; release as
    written or edited (title, text, recipients), hold, unhold, skip; write a new inject."""
    s = server.session()
    S = s.state
    rows = views.msel_rows(s)
    editing, set_editing = solara.use_state("")
    actors = list(S.spec.actor_ids)
    with solara.Card("MSEL (facilitator only)"):
        with solara.Column(style="gap:0"):  # one child, so that a new row does not remount the form below
            for r in rows:
                status = r["status"]
                with solara.Column(style="gap:0;border-bottom:1px solid #ddd;padding:2px 0"):
                    with solara.Row(style="align-items:center;flex-wrap:wrap;gap:4px"):
                        solara.Text(f"{r['id']} [{status.upper() if status == 'due' else status}] {r['title']} "
                                    f"\u2192 {views.recipients_label(s, r['to'])}"
                                    + (f" \u00b7 {r['released']}" if r["released"] else "")
                                    + (" \u00b7 edited" if r["edited"] else "")
                                    + (" \u00b7 written" if r["written"] else ""),
                                    style="font-weight:600" if status == "due" else "")
                        if status in ("due", "pending", "held") and S.move and not S.ended:
                            solara.Button("Release", on_click=lambda i=r["id"]: run(say, token, "release", inject_id=i),
                                          size="small", color="primary" if status == "due" else None)
                            solara.Button("Edit", on_click=lambda i=r["id"]: set_editing(i), size="small", text=True)
                            if status == "held":
                                solara.Button("Unhold", size="small", text=True,
                                              on_click=lambda i=r["id"]: run(say, token, "unhold", inject_id=i))
                            else:
                                solara.Button("Hold", on_click=lambda i=r["id"]: run(say, token, "hold", inject_id=i),
                                              size="small", text=True)
                            solara.Button("Skip", on_click=lambda i=r["id"]: run(say, token, "skip", inject_id=i),
                                          size="small", text=True)
                    if r["note"] or r["expected"]:
                        solara.Text(f"{r['id']} controller note: {r['note'] or '-'} \u00b7 "
                                    f"expected: {r['expected'] or '-'}", style="color:#666;font-size:13px")
                    if editing == r["id"]:
                        EditInject(token, say, r, actors, lambda: set_editing(""), v=v)
        WriteInject(token, say, actors).key("write-inject")


NO_COLLISION = "no collision"  # the new-inject form's collision fields when the inject reports none


def _to_values(to: list[str]) -> list[str]:
    return ["all teams"] if "all" in to else list(to)


def inject_fields(values: dict, set_field: Callable[..., None], actors: list[str]) -> Callable[[], list[str]]:
    """An inject's title, text and recipients; returns the recipients as the session takes them."""
    field("Title", values, "title", set_field)
    field("Text", values, "text", set_field, area=True, rows=2)
    solara.SelectMultiple("To", values=values["to"], all_values=["all teams", *actors],
                          on_value=lambda x: set_field("to", list(x)))
    return lambda: ["all"] if "all teams" in values["to"] or not values["to"] else list(values["to"])


@solara.component
def EditInject(token: str, say: Say, row: dict, actors: list[str], done: Callable[[], None], v: int = 0) -> None:
    values, set_field, reset = use_draft(token, f"edit-{row['id']}", {"title": row["title"], "text": row["text"],
                                                                     "to": _to_values(row["to"])})
    with solara.Column(style="padding:4px 12px;background:#f6f6f6"):
        to = inject_fields(values, set_field, actors)

        def send() -> None:
            if run(say, token, "release_edited", inject_id=row["id"], title=values["title"], text=values["text"],
                   to=to()):
                reset()
                done()
        with solara.Row():
            solara.Button(f"Release {row['id']} as edited", on_click=send, color="primary", size="small")
            solara.Button("Cancel", on_click=done, text=True, size="small")


@solara.component
def WriteInject(token: str, say: Say, actors: list[str]) -> None:
    values, set_field, reset = use_draft(token, "new-inject", {"title": "", "text": "", "to": ["all teams"],
                                                                 "by": NO_COLLISION, "against": NO_COLLISION})
    with solara.Column(style="gap:0;margin-top:8px"):
        solara.HTML(tag="b", unsafe_innerHTML="Write a new inject")
        to = inject_fields(values, set_field, actors)
        with solara.Row(style="gap:8px;align-items:center;flex-wrap:wrap"):  # an adjudicated "who rammed whom"
            solara.Select("Collision blamed on", values=[NO_COLLISION, *actors], value=values["by"],
                          on_value=lambda x: set_field("by", x))
            solara.Select("Collision against", values=[NO_COLLISION, *actors], value=values["against"],
                          on_value=lambda x: set_field("against", x))

        def send() -> None:
            blame = {k: (None if values[k] == NO_COLLISION else values[k]) for k in ("by", "against")}
            if run(say, token, "write_inject", title=values["title"], text=values["text"], to=to(),
                   collision_by=blame["by"], collision_against=blame["against"]):
                reset()
        solara.Button("Release new inject", on_click=send)


@solara.component
def Tracker(v: int = 0) -> None:
    s = server.session()
    items = views.tracker(s)
    if items:
        Live(html=render.page("", f"<div class='page' style='padding:0'>{render._tracker(items)}</div>",
                              fragment=True), now=time.time() * 1000)


@solara.component
def Seat(token: str, actor: str, v: int = 0) -> None:
    """One seat: who plays it, what the AI advises (and would play), and its move."""
    say = Say()
    s = server.session()
    S = s.state
    model = server.view(f"team:{actor}", lambda s: views.team_model(s, actor))
    with solara.Card(f"{s.name(actor)} ({S.seats[actor]})", style="min-width:420px;max-width:560px"):
        Message(say)
        between = S.phase in ("briefing", "readout", "hotwash") or (S.phase == "situation" and actor not in S.pending)
        solara.Select("Seat", values=["human", "ai", "hybrid"], value=S.seats[actor], disabled=not between or S.ended,
                      on_value=lambda m: run(say, token, "set_seat", actor=actor, mode=m))
        if S.move and not S.ended and S.phase in ("situation", "deliberation", "submission"):
            adv = s.advice(actor)
            lines = [f"{i}. {o['label']}{' toward ' + s.name(o['target']) if o['target'] else ''} "
                     f"({o['probability']:.0%}): {views.reasons_in_words(o)}" for i, o in enumerate(adv["options"], 1)]
            d = adv["draw"]
            lines.append(f"An AI seat plays: {d['label']}{' toward ' + s.name(d['target']) if d['target'] else ''}"
                         f" (drawn: {d['probability']:.0%} of the model's odds)")
            solara.Markdown("**AI advice" + (" (frozen for this move)" if adv["frozen"] else "") + "**\n\n"
                            + "\n".join(f"- {x}" for x in lines))
            if model["form"]["open"] or model["form"]["submitted"]:
                MoveForm(token, actor, {**model, "adviser": None}, S.seats[actor], facilitator=True)
            if actor not in S.pending and S.seats[actor] != "human":
                solara.Button(f"Accept AI for {actor}", on_click=lambda: run(say, token, "submit_ai", actor=actor),
                              text=True)


@solara.component
def Adjudicate(token: str, say: Say, v: int = 0) -> None:
    """Rule on each submission (model, matrix roll with its own probability and arguments, or a
    ruling either way with a reason), preview, undo, resolve."""
    s = server.session()
    S = s.state
    if not S.move or S.ended or S.phase not in ("situation", "deliberation", "submission", "adjudication"):
        return
    with solara.Card("Adjudication"):
        with solara.Row(style="gap:4px;flex-wrap:wrap"):
            solara.Button("AI seats submit", on_click=lambda: run(say, token, "submit_ai"))
            if S.phase == "adjudication":
                solara.Button("Preview", on_click=lambda: _preview(say, token), outlined=True)
                solara.Button("Undo last adjudication", on_click=lambda: run(say, token, "undo_adjudication"),
                              outlined=True, disabled=not S.adjudications)
                solara.Button("Resolve move", on_click=lambda: run(say, token, "resolve"), color="primary")
        if S.phase == "adjudication":
            for a in S.spec.actor_ids:
                if a in S.pending:
                    AdjudicateRow(token, say, a, v=v)


def _preview(say: Say, token: str) -> None:
    res = run(say, token, "preview")
    if res:
        say("info", "Preview (nothing committed): " + "; ".join(f"{a} {views.rung_label(server.session(), r)}"
                                                                for a, r in res.items()))


@solara.component
def AdjudicateRow(token: str, say: Say, actor: str, v: int = 0) -> None:
    s = server.session()
    S = s.state
    values, set_field, _ = use_draft(token, f"adj-{actor}", {"p": 0.5, "text": ""})
    sub = S.pending[actor]
    done = next((x for x in S.adjudications if x.actor == actor), None)
    ruled = ""
    if done:
        ruled = f" \u2192 {done.mode}: {'succeeds' if done.success else 'fails'}" + (
            f" (p={done.probability:.2f}, roll {done.roll:.3f})" if done.roll is not None else "")
    with solara.Column(style="gap:0;border-top:1px solid #ddd;padding-top:4px"):
        solara.Text(f"{actor}: {s.label(sub.action)}{' toward ' + sub.target if sub.target else ''}"
                    f"{' (secret)' if not sub.public else ''}{ruled}", style="font-weight:600")
        with solara.Row(style="align-items:center;gap:4px;flex-wrap:wrap"):
            solara.SliderFloat(f"{actor} probability", value=values["p"], min=0, max=1, step=0.05,
                               on_value=lambda v: set_field("p", v))
            field(f"{actor} arguments / reason", values, "text", set_field, dense=True)
        with solara.Row(style="gap:4px;flex-wrap:wrap"):
            solara.Button("Model", on_click=lambda: run(say, token, "adjudicate", actor=actor, mode="model"),
                          size="small")
            solara.Button("Matrix roll", size="small", color="primary",
                          on_click=lambda: run(say, token, "adjudicate", actor=actor, mode="matrix",
                                               probability=values["p"], arguments=values["text"]))
            solara.Button("Rule: succeeds", size="small", outlined=True,
                          on_click=lambda: run(say, token, "adjudicate", actor=actor, mode="ruling", success=True,
                                               reason=values["text"]))
            solara.Button("Rule: fails", size="small", outlined=True,
                          on_click=lambda: run(say, token, "adjudicate", actor=actor, mode="ruling", success=False,
                                               reason=values["text"]))


@solara.component
def Readout(token: str, say: Say, v: int = 0) -> None:
    """The move's read-out as the facilitator sees it (secret moves too), revealed to the room one item at a time."""
    s = server.session()
    S = s.state
    if S.phase != "readout" or not S.moves:
        return
    items = views.readout(s, S.moves[-1], full=True)
    with solara.Card(f"Read-out of move {S.moves[-1].move}: {S.revealed} of {len(items)} shown to the room"):
        with solara.Row():
            solara.Button("Reveal next", on_click=lambda: run(say, token, "reveal"), color="primary",
                          disabled=S.revealed >= len(items))
            solara.Button("Reveal all", on_click=lambda: run(say, token, "reveal", count=-1), outlined=True,
                          disabled=S.revealed >= len(items))
        html = render._cards([{**it, "headline": ("\u2713 " if i < S.revealed else "") + it["headline"]}
                              for i, it in enumerate(items)], len(items))
        Live(html=render.page("", f"<div class='page'>{html}</div>", fragment=True), now=time.time() * 1000)


@solara.component
def TrueChart(v: int = 0) -> None:
    """The escalation as it really went, secret moves included (the room's chart carries them over)."""
    s = server.session()
    if not s.state.moves:
        return
    chart = {**views.projector_model(s)["chart"], "levels": views.true_levels(s)}
    with solara.Card("Escalation: the true picture (secret moves included)"):
        Live(html=render.page("", f"<div class='page chart'>{render.escalation_svg(chart)}</div>", fragment=True),
             now=time.time() * 1000)


@solara.component
def Hotwash(token: str, say: Say, v: int = 0) -> None:
    s = server.session()
    values, set_field, reset = use_draft(token, "hotwash", {"kind": "strength", "text": ""})
    with solara.Card("Hot wash"):
        solara.Select("Kind", values=["strength", "improvement", "insight"], value=values["kind"],
                      on_value=lambda v: set_field("kind", v))
        field("Hot-wash entry", values, "text", set_field, area=True, rows=2)

        def send() -> None:
            if run(say, token, "hotwash", kind=values["kind"], text=values["text"]):
                reset()
        with solara.Row():
            solara.Button("Add hot-wash entry", on_click=send)
            solara.Button("Reveal secret moves to the room", on_click=lambda: run(say, token, "reveal_secrets"),
                          disabled=s.state.secrets_revealed, outlined=True)
        for h in s.state.hotwash[-6:]:
            solara.Text(f"{h['kind']}: {h['text']}")


@solara.component
def Ratings(token: str, say: Say, v: int = 0) -> None:
    s = server.session()
    with solara.Card("Objectives: P / S / M / U"):
        for o in s.objectives():
            current = s.state.ratings.get(o, {}).get("rating")
            with solara.Row(style="align-items:center;gap:4px"):
                solara.Text(f"[{current or '-'}] {o}", style="flex:1")
                for r in RATINGS:
                    solara.Button(r, on_click=lambda o=o, r=r: run(say, token, "rate", objective=o, rating=r),
                                  size="small", color="primary" if r == current else None, outlined=r != current)


@solara.component
def Finding(token: str, say: Say, v: int = 0) -> None:
    s = server.session()
    objectives = ["", *s.objectives()]
    fields = ("observation", "root_cause", "recommendation", "responsible", "poc", "start", "due")
    defaults = {"objective": "", "kind": "improvement", "capability": "", **dict.fromkeys(fields, "")}
    values, set_field, reset = use_draft(token, "finding", defaults)
    with solara.Card("Finding: observation \u2192 root cause \u2192 recommendation"):
        solara.Select("Objective", values=objectives, value=values["objective"] if values["objective"] in objectives
                      else "", on_value=lambda v: set_field("objective", v))
        solara.Select("Kind", values=["strength", "improvement"], value=values["kind"],
                      on_value=lambda v: set_field("kind", v))
        for f in fields[:3]:
            field(f.replace("_", " ").capitalize(), values, f, set_field)
        solara.Select("Capability element", values=["", *CAPABILITY_ELEMENTS], value=values["capability"],
                      on_value=lambda v: set_field("capability", v))
        with solara.Row():
            for f in fields[3:]:
                field({"poc": "Point of contact", "start": "Start date", "due": "Completion date"}.get(
                    f, f.capitalize()), values, f, set_field, dense=True)

        def send() -> None:
            if run(say, token, "add_finding", **{k: values[k] for k in ("objective", "kind", "capability", *fields)}):
                reset()
        solara.Button("Add finding", on_click=send)
        solara.Text(f"{len(s.state.findings)} finding(s) recorded")


@solara.component
def Details(token: str, say: Say, v: int = 0) -> None:
    s = server.session()
    values, set_field, _ = use_draft(token, "details", {k: s.state.details.get(k, "") for k in DETAILS})
    with solara.Card("Exercise overview (for the AAR)"):
        for k in DETAILS:
            field({"poc": "Point of contact", "mission_area": "Mission area"}.get(k, k.capitalize()), values, k,
                  set_field, dense=True)
        solara.Button("Save overview", on_click=lambda: run(say, token, "set_details",
                                                            **{k: values[k] for k in DETAILS}))


@solara.component
def Notes(token: str, say: Say, v: int = 0) -> None:
    s = server.session()
    values, set_field, reset = use_draft(token, "note", {"text": ""})
    with solara.Card("Facilitator notes (parking lot)"):
        field("Note", values, "text", set_field, area=True, rows=2)

        def send() -> None:
            if run(say, token, "note", text=values["text"]):
                reset()
        solara.Button("Add note", on_click=send)
        for n in s.state.notes[-5:]:
            solara.Text(f"move {n['move']}: {n['text']}")


@solara.component
def Exports(token: str, say: Say) -> None:
    files, set_files = solara.use_state([])
    with solara.Card("AAR, handouts and exports"):
        solara.Button("Write AAR and exports", on_click=lambda: set_files(run(say, token, "export") or []))
        if files:
            solara.HTML(unsafe_innerHTML="<ul>" + "".join(
                f"<li><a href='/files/{f}?k={token}' target='_blank'>{f}</a></li>" for f in files
                if f in server.EXPORTS) + "</ul>")


@solara.component
def Forecast(token: str, say: Say) -> None:
    result, set_result = solara.use_state(None)
    with solara.Card("Forecast from here"):
        solara.Button("Forecast 1,000 runs", on_click=lambda: set_result(run(say, token, "forecast", runs=1000)))
        if result:
            rows = "".join(f"<tr><td>{views.outcome_label(o)}</td><td>{100 * v['share']:.1f}%</td>"
                           f"<td>{100 * v['ci'][0]:.1f}-{100 * v['ci'][1]:.1f}%</td></tr>"
                           for o, v in result["outcomes"].items() if o in OUTCOMES)
            solara.HTML(unsafe_innerHTML=f"<p>{result['runs']} AI-played continuations from move {result['from_move']}"
                        " to the scenario's last move</p><table><tr><th>outcome</th><th>share</th>"
                        f"<th>95% interval</th></tr>{rows}</table>")


@solara.component
def JoinLinks() -> None:
    """Each role's join link and QR code (the facilitator's own link is not shown as a code)."""
    base = server.room_base()
    solara.HTML(unsafe_innerHTML=solara.use_memo(lambda: _qr_links(base), [base]))


def _qr_links(base: str) -> str:
    import segno

    cells = []
    for name, url in server.links(base).items():
        if name == FACILITATOR:
            continue
        svg = segno.make(url, error="m").svg_inline(scale=4)
        cells.append(f"<div class='card' style='text-align:center'><h3>{render.esc(name)}</h3>{svg}"
                     f"<p style='font-size:13px;word-break:break-all'>{render.esc(url)}</p></div>")
    return (f"<style>{render.CSS}</style><div class='ws page'><p>Each team opens its own link (or scans its code): it "
            "shows that team's page only. Show this tab to one team at a time, never on the projector.</p>"
            f"<div class='cards' style='grid-template-columns:repeat(auto-fill,minmax(260px,1fr))'>{''.join(cells)}"
            "</div></div>")


@solara.component
def Replay(token: str, say: Say, v: int = 0) -> None:
    """Step through the session (the room's view at the end of any move) and branch a move differently."""
    s = server.session()
    S = s.state
    n = len(S.moves)
    step, set_step = solara.use_state(n)
    values, set_field, _ = use_draft(token, "whatif", {"move": 1, "actor": S.spec.actor_ids[0], "action": ""})
    result, set_result = solara.use_state(None)
    saved, set_saved = solara.use_state("")
    if not n:
        solara.Info("Replay and what-if open once a move has been resolved.")
        return
    step = min(step, n)
    past = server.view(f"replay:{step}", lambda s: render.render_projector(
        {**views.projector_model(_at(s, step)), "screen": "board", "timer": None}, fragment=True))
    with solara.Columns([3, 2]):
        with solara.Column():
            solara.SliderInt("Replay: the room's view at the end of move", value=step, min=0, max=n,
                             on_value=set_step)
            solara.HTML(unsafe_innerHTML=f"<div style='height:460px;overflow:hidden;border:1px solid #ccc;"
                                         f"transform-origin:0 0'>{past}</div>")
        with solara.Column():
            actor = values["actor"] if values["actor"] in S.spec.actor_ids else S.spec.actor_ids[0]
            acts = [label for _, labels in move_menu(s, actor) for label in labels]
            by_label = {s.label(a.id): a.id for a in S.spec.catalogue.actions}
            with solara.Card("What if ..."):
                solara.SliderInt("In move", value=min(int(values["move"]), n), min=1, max=n,
                                 on_value=lambda v: set_field("move", v))
                solara.Select("Team", values=list(S.spec.actor_ids), value=actor,
                              on_value=lambda v: set_field("actor", v))
                solara.Select("had played", values=acts, value=values["action"] if values["action"] in acts else None,
                              on_value=lambda v: set_field("action", v or ""))
                action = by_label.get(values["action"])

                def branch() -> dict:  # read at the click: the fields as they are now
                    who = values["actor"] if values["actor"] in S.spec.actor_ids else S.spec.actor_ids[0]
                    act = by_label.get(values["action"])
                    return {"move": int(values["move"]), "actor": who, "action": act,
                            "target": _default_target(s, who, act)}
                with solara.Row():
                    solara.Button("Run what-if", on_click=lambda: set_result(run(say, token, "what_if", **branch())),
                                  disabled=action is None, color="primary")
                    solara.Button("Save as a new session", disabled=action is None, outlined=True,
                                  on_click=lambda: set_saved(run(say, token, "save_branch", **branch()) or ""))
                if saved:
                    solara.Success(f"Saved in {saved}: play it on with "
                                   f"'run_sim.py facilitate --session {saved}'", dense=True)
            if result:
                WhatIfResult(result)


def _at(s: Session, move: int) -> Session:
    from sim.workshop.replay import at_move

    return at_move(s, move)


def _default_target(s: Session, actor: str, action: str | None) -> str | None:
    """The target a what-if move addresses: the actor's first adversary (or ally, for a supportive move)."""
    if action is None:
        return None
    spec = s.state.spec
    kind = spec.catalogue.actions[spec.catalogue.action_index(action)].target
    a = spec.actor_index(actor)
    import numpy as np

    pool = spec.dyads.adversary[a] if kind == "adversary" else spec.dyads.commitment[a] > 0 if kind == "ally" else None
    if pool is None:
        return None
    idx = np.flatnonzero(pool)
    return spec.actor_ids[int(idx[0])] if len(idx) else None


@solara.component
def WhatIfResult(result: dict) -> None:
    s = server.session()
    rows = "".join(f"<tr><td>{render.esc(s.name(a))}</td><td>{views.rung_label(s, r['actual'])}</td>"
                   f"<td>{views.rung_label(s, r['what_if'])}</td></tr>" for a, r in result["realised"].items())
    fa, fw = result["forecast"]["actual"]["outcomes"], result["forecast"]["what_if"]["outcomes"]
    frows = "".join(f"<tr><td>{views.outcome_label(o)}</td><td>{100 * fa[o]['share']:.1f}%</td>"
                    f"<td>{100 * fw[o]['share']:.1f}%</td></tr>" for o in fa)
    solara.HTML(unsafe_innerHTML=(
        f"<p><b>Move {result['move']}: {render.esc(s.name(result['actor']))} plays {render.esc(result['action'])}"
        "</b></p><table><tr><th></th><th>as played</th><th>what if</th></tr>" + rows
        + f"<tr><td>crisis level</td><td>{views.rung_label(s, result['crisis']['actual'])}</td>"
          f"<td>{views.rung_label(s, result['crisis']['what_if'])}</td></tr></table>"
          f"<p>{result['forecast']['actual']['runs']} AI-played continuations from the end of that move:</p>"
          f"<table><tr><th>outcome</th><th>as played</th><th>what if</th></tr>{frows}</table>"))
