"""The web console (Solara): facilitator control, projector and per-team views.

Started by ``run_sim.py facilitate SCENARIO`` (127.0.0.1 unless --host is given). Routes:
``/`` facilitator, ``/projector`` the room's screen, ``/team/<ACTOR>`` a team's own picture.
All tabs share one session (``sim.workshop.server``); every click is one logged event.
The projector and team pages render only redacted view-models (``sim.workshop.views``, drawn by
``sim.workshop.render``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import solara

from sim.errors import InputError
from sim.workshop import server
from sim.workshop.documents import export_all
from sim.workshop.records import PHASES
from sim.workshop.render import hotwash_html, projector_html, team_html
from sim.workshop.views import msel_status

Message = solara.Reactive  # (error text, redraw counter) shared by one tab's panels


def use_live() -> int:
    """Redraw this tab whenever any tab changes the session (poll the shared version)."""
    tick, set_tick = solara.use_state(server.version())

    def watch(cancel: threading.Event) -> None:
        seen = server.version()
        while not cancel.wait(0.7):
            now = server.version()
            if now != seen:
                seen = now
                set_tick(now)

    solara.use_thread(watch, dependencies=[])
    return tick


def do(message: Message, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a session call; show a one-line error instead of a traceback; redraw this tab."""
    n = message.value[1] + 1
    try:
        result = server.act(fn, *args, **kwargs)
        message.set(("", n))
        return result
    except InputError as exc:
        message.set((exc.message, n))
    return None


@solara.component
def PhaseBar(message: Message) -> None:
    """Where play is, and the buttons that move it on."""
    _ = message.value  # subscribe: redraw after any action in this tab
    s = server.session()
    S = s.state
    with solara.Row(style="flex-wrap:wrap;align-items:center"):
        solara.Text(f"{S.spec.scenario.title} \u2014 move {S.move}, phase {S.phase}"
                    f"{' (PAUSED)' if S.paused else ''}", style="font-size:20px;font-weight:600")
    with solara.Row(style="flex-wrap:wrap"):
        solara.Button("Start move", on_click=lambda: do(message, s.start_move), color="primary")
        for ph in PHASES[2:]:
            solara.Button(ph.capitalize(), on_click=lambda ph=ph: do(message, s.set_phase, ph), text=True)
        solara.Button("Pause" if not S.paused else "Resume", on_click=lambda: do(message, s.pause, not S.paused))
        solara.Button("Timer 20 min", on_click=lambda: do(message, s.start_timer, 20), text=True)
        solara.Button("+1 min", on_click=lambda: do(message, s.add_time, 1), text=True)


@solara.component
def Injects(message: Message) -> None:
    """The MSEL with each inject's status; release, hold, skip, or write a new inject."""
    _ = message.value  # subscribe: redraw after any action in this tab
    s = server.session()
    S = s.state
    statuses = msel_status(s)
    title, set_title = solara.use_state("")
    text, set_text = solara.use_state("")
    to, set_to = solara.use_state("all")
    with solara.Card("MSEL (facilitator only)"):
        for inj in S.spec.scenario.injects:
            status = statuses[inj.id]
            with solara.Row(style="align-items:center"):
                solara.Text(f"{inj.id} [{status.upper() if status == 'due' else status}] {inj.title}")
                if status not in ("released", "did not happen", "skipped"):
                    solara.Button("Release", on_click=lambda i=inj.id: do(message, s.release, i), small=True)
                    solara.Button("Hold", on_click=lambda i=inj.id: do(message, s.hold, i), small=True, text=True)
                    solara.Button("Skip", on_click=lambda i=inj.id: do(message, s.skip, i), small=True, text=True)
            if inj.controller_note:
                solara.Text(f"   controller note: {inj.controller_note}", style="color:#777")
        solara.HTML(tag="b", unsafe_innerHTML="Write a new inject")
        solara.InputText("Title", value=title, on_value=set_title)
        solara.InputText("Text", value=text, on_value=set_text)
        solara.Select("To", values=["all", *S.spec.actor_ids], value=to, on_value=set_to)

        def send() -> None:
            n = len(S.released) + 1
            do(message, s.release, inject={"id": f"X{n}", "title": title or "Update", "text": text,
                                           "kind": "contingency", "to": [to]})
        solara.Button("Release new inject", on_click=send)


@solara.component
def SeatPanel(message: Message, actor: str) -> None:
    """One seat: its mode, the AI's proposal, and the team's submission."""
    _ = message.value  # subscribe: redraw after any action in this tab
    s = server.session()
    S = s.state
    opts = s.admissible(actor) if S.move and not S.ended else {}
    action, set_action = solara.use_state("")
    target, set_target = solara.use_state("")
    secret, set_secret = solara.use_state(False)
    rationale, set_rationale = solara.use_state("")
    reason, set_reason = solara.use_state("")
    with solara.Card(f"{actor} ({S.seats[actor]})"):
        solara.Select("Seat", values=["human", "ai", "hybrid"], value=S.seats[actor],
                      on_value=lambda m: do(message, s.set_seat, actor, m))
        if S.move and not S.ended:
            p = s.ai_proposal(actor)
            why = ", ".join(f"{n} {w:+.2f}" for n, w in p["drivers"])
            solara.Text(f"AI proposes: {p['label']}{(' toward ' + p['target']) if p['target'] else ''} "
                        f"(p={p['probability']:.2f}; {why})")
        if actor in S.pending:
            sub = S.pending[actor]
            solara.Success(f"submitted: {sub.action} {sub.target or ''} ({sub.source})")
        elif opts:
            solara.Select("Action", values=sorted(opts), value=action or None, on_value=set_action)
            targets = opts.get(action, [])
            if targets:
                solara.Select("Target", values=targets, value=target if target in targets else targets[0],
                              on_value=set_target)
            solara.Checkbox(label="secret", value=secret, on_value=set_secret)
            solara.InputText("Rationale", value=rationale, on_value=set_rationale)
            solara.InputText("Reason for overriding the AI (AI/hybrid seats)", value=reason, on_value=set_reason)

            def submit() -> None:
                tg = target if target in targets else (targets[0] if targets else None)
                do(message, s.submit, actor, action, tg, public=not secret, rationale=rationale,
                   override_reason=reason)
            solara.Button(f"Submit {actor}", on_click=submit, disabled=not action)
            solara.Button(f"Accept AI for {actor}", on_click=lambda: do(message, s.submit_ai, actor), text=True)


@solara.component
def Adjudication(message: Message) -> None:
    """Rule on each submission (model, matrix roll, or ruling) and resolve the move."""
    _ = message.value  # subscribe: redraw after any action in this tab
    s = server.session()
    S = s.state
    prob, set_prob = solara.use_state(0.5)
    reason, set_reason = solara.use_state("")
    with solara.Card("Adjudication"):
        solara.SliderFloat("Matrix probability", value=prob, min=0, max=1, step=0.05, on_value=set_prob)
        solara.InputText("Ruling reason / matrix arguments", value=reason, on_value=set_reason)
        for a in S.pending:
            done = next((x for x in S.adjudications if x.actor == a), None)
            with solara.Row(style="align-items:center"):
                label = (f"{a}: {done.mode} -> {'succeeds' if done.success else 'fails'}"
                         + (f" (p={done.probability:.2f}, roll {done.roll:.3f})" if done and done.roll is not None
                            else "")) if done else f"{a}: {S.pending[a].action}"
                solara.Text(label)
                solara.Button("Model", small=True, on_click=lambda a=a: do(message, s.adjudicate, a, "model"))
                solara.Button("Roll", small=True, on_click=lambda a=a: do(message, s.adjudicate, a, "matrix",
                                                                          probability=prob, arguments=reason))
                solara.Button("Rule: fails", small=True, text=True,
                              on_click=lambda a=a: do(message, s.adjudicate, a, "ruling", success=False,
                                                      reason=reason))
        with solara.Row():
            solara.Button("AI seats submit", on_click=lambda: do(message, s.submit_ai))
            solara.Button("Undo last adjudication", on_click=lambda: do(message, s.undo_adjudication), text=True)
            solara.Button("Resolve move", color="primary", on_click=lambda: do(message, s.resolve))


@solara.component
def Forecast(message: Message) -> None:
    """The outcome spread of AI-played continuations from the live state."""
    _ = message.value  # subscribe: redraw after any action in this tab
    s = server.session()
    result, set_result = solara.use_state(None)
    with solara.Card("Forecast from here"):
        solara.Button("Forecast 1,000 runs", on_click=lambda: set_result(do(message, s.forecast, 1000)))
        if result:
            rows = "".join(f"<tr><td>{o}</td><td>{100 * v['share']:.1f}%</td>"
                           f"<td>{100 * v['ci'][0]:.1f}-{100 * v['ci'][1]:.1f}%</td></tr>"
                           for o, v in result["outcomes"].items())
            solara.HTML(unsafe_innerHTML=f"<p>{result['runs']} AI-played continuations from move "
                        f"{result['from_move']}</p><table><tr><th>outcome</th><th>share</th><th>95% interval</th>"
                        f"</tr>{rows}</table>")


@solara.component
def Records(message: Message) -> None:
    """Notes, hot-wash entries and the AAR and exports."""
    _ = message.value  # subscribe: redraw after any action in this tab
    s = server.session()
    note, set_note = solara.use_state("")
    kind, set_kind = solara.use_state("insight")
    files, set_files = solara.use_state([])
    with solara.Card("Notes, hot wash, exports"):
        solara.InputText("Note / hot-wash entry", value=note, on_value=set_note)
        solara.Select("Hot-wash kind", values=["strength", "improvement", "insight"], value=kind, on_value=set_kind)
        with solara.Row():
            solara.Button("Add note", on_click=lambda: do(message, s.note, note))
            solara.Button("Add hot-wash entry", on_click=lambda: do(message, s.hotwash, kind, note))
            solara.Button("Write AAR and exports", on_click=lambda: set_files(
                [str(p) for p in (do(message, export_all, s) or [])]))
        for f in files:
            solara.Text(f)


@solara.component
def Facilitator() -> None:
    """The facilitator's page: everything, MSEL and AI reasoning included."""
    use_live()
    message = solara.use_reactive(("", 0))  # (error text, redraw counter)
    s = server.session()
    solara.Title("Facilitator console")
    PhaseBar(message)
    if message.value[0]:
        solara.Error(message.value[0])
    with solara.Columns([2, 3]):
        with solara.Column():
            Injects(message)
            Forecast(message)
            Records(message)
        with solara.Column():
            for a in s.state.spec.actor_ids:
                SeatPanel(message, a)
            Adjudication(message)
    solara.HTML(unsafe_innerHTML="Views: <a href='/projector' target='_blank'>projector</a> &middot; "
                + " &middot; ".join(f"<a href='/team/{a}' target='_blank'>{a} team</a>"
                                    for a in s.state.spec.actor_ids))


@solara.component
def Projector() -> None:
    """The room's screen (the hot-wash screen during the hot wash): redacted view-models only."""
    use_live()
    n, set_n = solara.use_state(0)
    solara.Title("Projector")
    s = server.session()
    page = hotwash_html(s, fragment=True) if s.state.phase == "hotwash" else projector_html(s, fragment=True)
    solara.HTML(unsafe_innerHTML=page)
    solara.Button("Refresh", on_click=lambda: set_n(n + 1), text=True, small=True)


@solara.component
def Team() -> None:
    """A team's own page (route /team/<ACTOR>): its redacted view-model only."""
    use_live()
    n, set_n = solara.use_state(0)
    route, _ = solara.use_route()
    actor = route.path if route else ""
    s = server.session()
    if actor not in s.state.spec.actor_ids:
        solara.Error(f"unknown team {actor!r}")
        return
    solara.Title(f"{actor} team")
    solara.HTML(unsafe_innerHTML=team_html(s, actor, fragment=True))
    solara.Button("Refresh", on_click=lambda: set_n(n + 1), text=True, small=True)


def _team_routes() -> list[solara.Route]:
    try:
        actors = server.session().state.spec.actor_ids
    except InputError:
        actors = ()
    return [solara.Route(path=a, component=Team) for a in actors]


routes = [
    solara.Route(path="/", component=Facilitator),
    solara.Route(path="projector", component=Projector),
    solara.Route(path="team", children=_team_routes()),
]
