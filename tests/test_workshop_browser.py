"""The web console in a real browser: Playwright drives Debian's Chromium against the workshop
server on 127.0.0.1 (no network). One test plays a five-move Taiwan Strait exercise with four team
browsers submitting from their own pages and uses every console control, checking on the way that
no page shows a traceback, that no page or its websocket traffic carries what its role must not
see, that a team's link cannot act as the facilitator, that a second writer is refused, and that a
SIGKILL of the server mid-move loses no acknowledged event. Screenshots of every view at
1280x720 and 1920x1080 go to test-artifacts/."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sim.inputs.library import SCENARIOS_DIR
from sim.workshop.session import Session

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SIZES = ((1280, 720), (1920, 1080))
TEAMS = ("PRC", "TWN", "US", "JPN")
SEATS = {"JPN": "human", "PRC": "hybrid", "TWN": "human", "US": "hybrid"}
BROKEN = ("Traceback", "hit an error", "Something went wrong", "Page not found", "error id")
ADVISER_WORDS = ("Your AI adviser", "For it:", "for it:", "against it:", "the baseline", "An AI seat plays")


def _requirements() -> str | None:
    try:
        import playwright  # noqa: F401
        import solara  # noqa: F401
    except ImportError as exc:
        return f"missing {exc.name}"
    if not Path(CHROMIUM).exists():
        return "no /usr/bin/chromium"
    from sim.workshop.offline import missing, prepare
    if missing():  # the test caches them itself (once, from the npm registry), so the README's command is all of CI
        try:
            prepare(verbose=False)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            return f"Solara's browser assets are not cached and could not be fetched ({exc})"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The workshop server as a child process (killed by its process group)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port, self.proc = folder, port, None

    def start(self) -> None:
        with open(self.folder.parent / "server.err", "ab") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "sim.workshop.server", str(self.folder), "--port",
                                          str(self.port)], cwd=ROOT, start_new_session=True,
                                         stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "MPLBACKEND": "Agg"})
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/state", timeout=1)
            except urllib.error.HTTPError:
                self.tokens = json.loads((self.folder / "access.json").read_text())
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the workshop server did not start")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def url(self, role: str) -> str:
        return f"http://127.0.0.1:{self.port}/?k={self.tokens[role]}"

    def state(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/state?k={self.tokens['projector']}",
                                    timeout=10) as r:
            return json.loads(r.read())

    def api(self, role: str, call: str, **kwargs) -> tuple[int, dict]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/act",
                                     data=json.dumps({"call": call, "kwargs": kwargs}).encode(),
                                     headers={"Authorization": f"Bearer {self.tokens[role]}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def wait(self, pred, what: str, timeout: float = 30) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.state()
            if pred(st):
                return st
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}: {self.state()}")


@pytest.fixture
def room(tmp_path):
    why = _requirements()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {why}")
        pytest.skip(why)
    folder = tmp_path / "session"
    Session.create(folder, SCENARIOS_DIR / "taiwan_strait.yaml", seed=2, seats=SEATS).close()
    server = Server(folder, _free_port())
    server.start()
    yield server
    server.stop()


class Page:
    """One role's browser page, with every websocket frame it received."""

    def __init__(self, browser, server: Server, role: str, size=(1280, 900)) -> None:
        self.role, self.server = role, server
        self.ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
        self.page = self.ctx.new_page()
        self.frames: list[str] = []
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        self.frames.append(payload if isinstance(payload, str) else payload.decode("utf-8", "ignore"))

    def open(self) -> None:
        self.page.goto(self.server.url(self.role), wait_until="commit", timeout=90_000)

    def ready(self, text: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_text(text).first).to_be_visible(timeout=60_000)

    def text(self) -> str:
        return self.page.inner_text("body")

    def seen(self, since: int = 0) -> str:
        """The page as shown now plus every frame received (from frame ``since``)."""
        return self.page.content() + "\n".join(self.frames[since:])

    def healthy(self) -> None:
        body = self.text()
        for bad in BROKEN:
            assert bad not in body, f"{self.role} page shows {bad!r}: {body[:400]}"

    def button(self, name: str, scope=None):
        return (scope or self.page).get_by_role("button", name=name, exact=True)

    def select(self, label: str, option: str, scope=None) -> None:
        (scope or self.page).locator(".v-select").filter(has_text=label).first.click()
        self.page.get_by_role("option", name=option, exact=True).click()

    def card(self, title: str):
        return self.page.locator(".v-card").filter(has_text=title).first

    def shoot(self, name: str, fit: bool = False) -> None:
        """Screenshots at both sizes; a room screen must fit (no scrolling, no overflow)."""
        for w, h in SIZES:
            self.page.set_viewport_size({"width": w, "height": h})
            self.page.wait_for_timeout(350)
            self.page.screenshot(path=str(ARTIFACTS / f"{name}_{w}x{h}.png"), full_page=not fit)
            sw, sh = self.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            assert sw <= w + 1, f"{name} overflows sideways at {w}x{h} ({sw}px)"
            if fit:
                assert sh <= h + 1, f"{name} does not fit one screen at {w}x{h} ({sh}px)"
                clipped = self.page.evaluate("[...document.querySelectorAll('.room, .cols > div')]"
                                             ".filter(e => e.scrollHeight > e.clientHeight + 2).length")
                assert not clipped, f"{name}: {clipped} part(s) of the screen are cut off at {w}x{h}"
        self.page.set_viewport_size({"width": 1280, "height": 900})


_rolled: dict[str, bool] = {}


def _advice_lines(session: Session) -> dict[str, set[str]]:
    """Each hybrid team's adviser lines, move by move, as its page shows them."""
    from sim.workshop.replay import in_memory
    from sim.workshop.views import reasons_in_words

    out: dict[str, set[str]] = {"PRC": set(), "US": set()}
    for cut in [i for i, e in enumerate(session.events) if e["type"] == "resolved"]:
        s = in_memory(session.events[:cut], session.dir)
        for a in out:
            if s.state.seats[a] == "hybrid":
                for o in s.advice(a)["options"]:
                    tgt = f" toward {s.name(o['target'])}" if o["target"] else ""
                    out[a].add(f"{o['label']}{tgt}: {o['probability']:.0%}. {reasons_in_words(o).capitalize()}")
    return out


def server_objective(server: Server) -> str:
    return Session.load(server.folder, read_only=True).objectives()[0]


def _labels_only(text: str) -> None:
    ids = re.findall(r"\b[a-z]+_[a-z_]+\b", text)
    assert not ids, f"ids where labels belong on the projector: {ids[:5]}"


@pytest.mark.browser
def test_five_move_exercise_with_four_team_browsers(room):
    from playwright.sync_api import sync_playwright

    server = room
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("failure_*.png"):
        old.unlink()
    started = time.time()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        fac = Page(browser, server, "facilitator", (1400, 1000))
        proj = Page(browser, server, "projector", (1280, 720))
        obs = Page(browser, server, "observer")
        teams = {a: Page(browser, server, f"team:{a}") for a in TEAMS}
        pages = [fac, proj, obs, *teams.values()]
        for pg in pages:
            pg.open()
        fac.ready("MSEL (facilitator only)")
        proj.ready("Road to crisis")
        obs.ready("Objectives to observe")
        for pg in teams.values():
            pg.ready("Your picture of the others")
        try:
            _play(server, fac, proj, obs, teams, pages, started)
        except BaseException:
            for pg in pages:  # what each page showed when it failed
                pg.page.screenshot(path=str(ARTIFACTS / f"failure_{pg.role.replace(':', '_')}.png"), full_page=True)
            raise
        finally:
            browser.close()


def _play(server, fac, proj, obs, teams, pages, started) -> None:
    from playwright.sync_api import expect

    folder = server.folder
    proj.shoot("projector_briefing", fit=True)
    _labels_only(proj.text())
    f = fac.page

    def click(name: str, scope=None, event: bool = True) -> None:
        """Click a console button; wait until it is logged and the console has redrawn after it."""
        n = server.state()["events"]
        fac.button(name, scope).first.click()
        if event:
            st = server.wait(lambda st: st["events"] > n, f"'{name}' to be logged")
            f.wait_for_function("v => Number(document.querySelector('[data-version]')?.dataset.version) >= v",
                                arg=st["version"], timeout=30_000)

    def toggle(select, *options: str) -> None:
        """Tick or untick options of a multiple select, then close it."""
        select.click()
        for name in options:
            f.get_by_role("option", name=name, exact=True).click()
        f.keyboard.press("Escape")

    def submit_from_team_page(a: str, move_label: str | None = None, use: int | None = None,
                              secret: bool = False, rationale: str = "", reason: str = "",
                              channel: str = "") -> None:
        pg = teams[a]
        if use is not None:
            pg.button(f"Use {use}").click()
        else:
            pg.select("Move (least", move_label)
        expect(pg.button("Review move")).to_be_enabled(timeout=15_000)
        if channel:
            pg.select("Channel", channel)
        if secret:
            pg.page.get_by_label("Secret (not shown to the room or the other teams)").check()
        if rationale:
            pg.page.get_by_label("Rationale").fill(rationale)
        if reason:
            pg.page.get_by_label("Reason for not following the AI").fill(reason)
        pg.button("Review move").click()
        pg.button("Confirm and submit").click()

    def all_submitted() -> None:
        for a in TEAMS:
            expect(teams[a].page.get_by_text("Your move is in")).to_be_visible(timeout=30_000)

    def check_all() -> None:
        for pg in pages:
            pg.healthy()

    def adjudicate_and_resolve(modes: dict[str, str], undo: bool = False, preview: bool = False) -> None:
        click("Adjudication")
        card = fac.card("Adjudication")
        for a, mode in [*modes.items(), *([list(modes.items())[-1]] if undo else [])]:
            if undo and a == list(modes)[-1] and server.state()["events"] and mode == "matrix" and \
                    _rolled.get(a):
                click("Undo last adjudication")  # then the same team is rolled again: a re-roll
            _rolled[a] = True
            row = card.locator(".v-slider").filter(has_text=f"{a} probability").first
            if mode == "matrix":
                row.get_by_role("slider").focus()
                f.keyboard.press("End")  # p = 1: the move goes ahead, so the room sees what its call did
                f.keyboard.press("ArrowLeft")
                card.get_by_label(f"{a} arguments / reason").fill(f"MATRIXARG-{a}")
                card.get_by_label(f"{a} arguments / reason").press("Enter")
            elif mode.startswith("Rule"):
                card.get_by_label(f"{a} arguments / reason").fill(f"RULING-REASON-{a}")
                card.get_by_label(f"{a} arguments / reason").press("Enter")
            idx = TEAMS.index(a)
            name = {"matrix": "Matrix roll", "model": "Model"}.get(mode, mode)
            n = server.state()["events"]
            card.get_by_role("button", name=name, exact=True).nth(idx).click()
            server.wait(lambda st, n=n: st["events"] > n, f"{a} adjudicated")
        _rolled.clear()
        if preview:
            fac.button("Preview").click()
            expect(f.get_by_text("Preview (nothing committed)").first).to_be_visible(timeout=30_000)
        click("Resolve move")
        expect(fac.card("Read-out of move")).to_be_visible(timeout=30_000)
        check_all()

    def reveal_all() -> None:
        click("Reveal next")
        expect(proj.page.locator(".card.ok, .card.fail, .card").first).to_be_visible()
        click("Reveal all")

    # ---------------------------------------------------------------- move 1: injects, timer, matrix
    click("Start move")
    expect(f.get_by_text("T1 [DUE]")).to_be_visible(timeout=30_000)
    click("Release", fac.card("MSEL"))
    expect(proj.page.get_by_text("Taipei announces a step").first).to_be_visible(timeout=30_000)
    click("Deliberation")
    f.get_by_label("Timer minutes").fill("20")
    f.get_by_label("Timer minutes").press("Enter")
    for name in ("Start timer", "+1 min", "Stop timer", "Resume timer", "+5 min", "Reset timer"):
        click(name)
    first = proj.page.locator(".clock").first.inner_text()
    proj.page.wait_for_timeout(2100)
    assert proj.page.locator(".clock").first.inner_text() != first, "the projector's countdown does not tick"
    expect(teams["JPN"].page.locator(".clock").first).to_be_visible()
    expect(f.locator(".clock").first).to_be_visible()
    proj.shoot("projector_deliberation", fit=True)
    _labels_only(proj.text())
    for pg in teams.values():
        expect(pg.page.get_by_text("Your move").first).to_be_visible()
    teams["JPN"].shoot("team_page")
    teams["PRC"].shoot("team_page_hybrid_adviser")
    click("Submission")
    # four teams submit at once from their own pages
    submit_from_team_page("JPN", "Dialogue: Call on the crisis hotline", rationale="RAT-JPN-M1",
                          channel="Japan-China Maritime and Aerial Communication Mechanism")
    submit_from_team_page("PRC", use=1, rationale="RAT-PRC-M1")
    submit_from_team_page("TWN", "Status quo: Hold: no new move", rationale="RAT-TWN-M1")
    us = teams["US"]  # a refusal keeps the form as it was (B2): no reason for replacing the adviser's first
    us.button("Use 2").click()
    expect(us.button("Review move")).to_be_enabled(timeout=15_000)
    us.page.get_by_label("Rationale").fill("RAT-US-M1")
    us.button("Review move").click()
    us.button("Confirm and submit").click()
    expect(us.page.get_by_text("replacing the AI's advice needs a reason")).to_be_visible(timeout=30_000)
    expect(us.page.get_by_label("Rationale")).to_have_value("RAT-US-M1")
    us.page.get_by_label("Reason for not following the AI").fill("OVERRIDE-US-M1")
    us.button("Review move").click()
    us.button("Confirm and submit").click()
    all_submitted()
    proj.shoot("projector_submissions", fit=True)
    expect(proj.page.get_by_text("Japan ✓")).to_be_visible()
    adjudicate_and_resolve({"TWN": "model", "JPN": "matrix"}, undo=True)
    reveal_all()
    expect(proj.page.get_by_text("Matrix roll: needed under").first).to_be_visible(timeout=30_000)
    expect(proj.page.get_by_text(re.compile("was (not )?answered")).first).to_be_visible()
    proj.shoot("projector_readout", fit=True)
    _labels_only(proj.text())
    fac.shoot("console_play")

    # ---------------------------------------------------------------- move 2: edit, write, hold, pause, deadline
    click("Start move")
    msel = fac.card("MSEL")
    click("Hold", msel.locator("div").filter(has_text=re.compile(r"^T3 \[")).first)
    fac.button("Edit", msel.locator("div").filter(has_text=re.compile(r"^T4 \[")).first).first.click(timeout=10_000)
    expect(fac.button("Release T4 as edited")).to_be_visible(timeout=30_000)  # the edit form is open
    f.get_by_label("Title").first.fill("Live-fire zones announced (edited)")
    f.get_by_label("Text").first.fill("Closure areas east of Pingtan.")
    toggle(msel.locator(".v-select").filter(has_text="To").first, "TWN", "all teams")  # to Taiwan only
    click("Release T4 as edited")
    expect(teams["TWN"].page.get_by_text("Live-fire zones announced (edited)").first).to_be_visible(timeout=30_000)
    new = fac.card("MSEL")
    new.get_by_label("Title").last.fill("PRIVATE-US-TITLE: embassy cable")
    new.get_by_label("Text").last.fill("For Washington only.")
    new.get_by_label("Text").last.press("Tab")
    f.get_by_label("Timer minutes").fill("ten")  # refused in one line; the half-written inject stays (B2)
    f.get_by_label("Timer minutes").press("Enter")
    fac.button("Start timer").click()
    expect(f.get_by_text("timer minutes must be between").first).to_be_visible(timeout=30_000)
    expect(new.get_by_label("Title").last).to_have_value("PRIVATE-US-TITLE: embassy cable")
    toggle(new.locator(".v-select").filter(has_text="To").last, "all teams", "US")  # to the US only
    for label, side in (("Collision blamed on", "PRC"), ("Collision against", "JPN")):  # who rammed whom
        new.locator(".v-select").filter(has_text=label).first.click()
        f.get_by_role("option", name=side, exact=True).last.click()  # the newest menu: older ones stay in the page
    click("Release new inject")
    expect(teams["US"].page.get_by_text("PRIVATE-US-TITLE").first).to_be_visible(timeout=30_000)
    expect(f.get_by_text("a collision blamed on PRC, against JPN").first).to_be_visible(timeout=30_000)
    fac.shoot("console_msel_collision")
    expect(new.get_by_label("Title").last).to_have_value("", timeout=10_000)  # the form is cleared for the next
    click("Pause")
    expect(proj.page.get_by_text("PAUSED").first).to_be_visible(timeout=30_000)
    expect(teams["TWN"].page.get_by_text("PAUSED").first).to_be_visible(timeout=30_000)
    proj.shoot("projector_paused", fit=True)
    click("Resume")
    click("Submission")
    f.get_by_label("Timer minutes").fill("1")
    f.get_by_label("Timer minutes").press("Enter")
    click("Start timer")
    click("-1 min")  # the submission deadline passes
    expect(teams["JPN"].page.get_by_text("deadline has passed").first).to_be_visible(timeout=30_000)
    click("+1 min")  # re-opens submissions
    expect(teams["JPN"].page.get_by_text("deadline has passed")).to_have_count(0, timeout=30_000)
    click("Clear timer")
    submit_from_team_page("JPN", "Protest: Diplomatic protest or demarche", rationale="RAT-JPN-M2")
    expect(teams["JPN"].page.get_by_text("Your move is in")).to_be_visible(timeout=30_000)
    teams["JPN"].button("Withdraw").click()
    expect(teams["JPN"].button("Review move")).to_be_visible(timeout=30_000)
    submit_from_team_page("JPN", "Dialogue: Propose or hold bilateral talks", rationale="RAT-JPN-M2b")
    submit_from_team_page("TWN", "Coercion (economic, cyber): Information or influence campaign", secret=True,
                          rationale="SECRET-TWN-M2")
    submit_from_team_page("PRC", use=1)
    f.get_by_role("button", name="Teams", exact=True).click()
    click("Accept AI for US")
    all_submitted()
    f.get_by_role("button", name="Play", exact=True).click()
    adjudicate_and_resolve({"PRC": "Rule: succeeds", "US": "Rule: fails", "JPN": "model"})
    reveal_all()
    expect(proj.page.get_by_text("Taiwan: no public move").first).to_be_visible(timeout=30_000)

    # ---------------------------------------------------------------- move 3: SIGKILL mid-move, second writer
    click("Start move")
    click("Unhold", fac.card("MSEL").locator("div").filter(has_text=re.compile(r"^T3 \[")).first)
    t2 = fac.card("MSEL").locator("div").filter(has_text=re.compile(r"^T2 \[")).first
    fac.button("Edit", t2).first.click()
    fac.button("Cancel", fac.card("MSEL")).click()
    click("Skip", t2)
    click("Submission")
    submit_from_team_page("JPN", "Dialogue: Call on the crisis hotline", rationale="RAT-JPN-M3")
    submit_from_team_page("PRC", use=1)
    for a in ("JPN", "PRC"):
        expect(teams[a].page.get_by_text("Your move is in")).to_be_visible(timeout=30_000)
    acked = server.state()["events"]
    # a second writer is refused, naming the server; a terminal can attach through it instead
    cmd = [sys.executable, str(ROOT / "run_sim.py"), "facilitate", "--session", str(folder), "--terminal"]
    second = subprocess.run(cmd, input="note x\n", capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert second.returncode == 2 and f"open for writing by pid {server.proc.pid}" in second.stderr
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    attached = subprocess.run([*cmd, "--attach"], input="note FACNOTE-attached\nstatus\n", capture_output=True,
                              text=True, cwd=ROOT, timeout=60)
    assert attached.returncode == 0 and "attached to the console" in attached.stdout, attached.stderr
    acked = server.wait(lambda st: st["events"] > acked, "the attached note")["events"]
    # a team's link cannot act as the facilitator, on the API or by opening the console
    for call, kwargs in (("start_move", {}), ("resolve", {}), ("release", {"inject_id": "T3"}),
                         ("submit", {"actor": "PRC", "action": "hold"})):
        code, answer = server.api("team:JPN", call, **kwargs)
        assert code == 403, (call, answer)
    assert teams["JPN"].page.get_by_role("button", name="Start move").count() == 0
    server.kill()  # kill -9 mid-move: two teams have submitted, two have not
    server.start()
    back = Session.load(folder, read_only=True)
    assert len(back.events) >= acked and {"JPN", "PRC"} <= set(back.state.pending)
    for pg in pages:
        pg.page.reload(wait_until="commit")
    fac.ready("MSEL (facilitator only)")
    for a in ("JPN", "PRC"):
        teams[a].ready("Your move is in")
    submit_from_team_page("TWN", "Status quo: Hold: no new move")
    submit_from_team_page("US", use=1)
    all_submitted()
    adjudicate_and_resolve({"JPN": "matrix", "TWN": "Rule: fails"})
    reveal_all()

    # ---------------------------------------------------------------- move 4: the facilitator enters a move
    click("Start move")
    click("Submission")
    click("AI seats submit")  # the hybrid seats take their adviser's first option
    for a in ("PRC", "US"):
        expect(teams[a].page.get_by_text("Your move is in")).to_be_visible(timeout=30_000)
    jpn = teams["JPN"]  # a reload keeps a half-filled form
    jpn.select("Move (least", "Dialogue: Propose or hold bilateral talks")
    jpn.page.get_by_label("Rationale").fill("RAT-JPN-M4")
    jpn.page.get_by_label("Rationale").press("Tab")
    jpn.page.wait_for_timeout(1200)  # the change reaches the server (reloading at once would race it)
    jpn.page.reload(wait_until="commit")
    expect(jpn.page.get_by_label("Rationale")).to_have_value("RAT-JPN-M4", timeout=60_000)
    jpn.button("Review move").click()
    jpn.button("Confirm and submit").click()
    f.get_by_role("button", name="Teams", exact=True).click()
    twn = fac.card("Taiwan (human)")
    fac.select("Move (least", "Status quo: Hold: no new move", scope=twn)
    twn.get_by_label("Rationale").fill("entered by the facilitator")
    fac.button("Review move", twn).click()
    fac.button("Back", twn).click()
    fac.button("Review move", twn).click()
    click("Confirm and submit", twn)
    click("Withdraw TWN's move", twn)  # and enter it again
    fac.select("Move (least", "Status quo: Hold: no new move", scope=twn)
    fac.button("Review move", twn).click()
    click("Confirm and submit", twn)
    f.get_by_role("button", name="Play", exact=True).click()
    adjudicate_and_resolve({"PRC": "model"})
    reveal_all()
    f.get_by_role("button", name="Teams", exact=True).click()
    n = server.state()["events"]
    fac.select("Seat", "human", scope=fac.card("United States (hybrid)"))
    server.wait(lambda st: st["events"] > n, "the seat change")
    fac.shoot("console_teams")
    f.get_by_role("button", name="Play", exact=True).click()

    # ---------------------------------------------------------------- move 5, then hot wash and ENDEX
    click("Start move")
    click("Submission")
    submit_from_team_page("JPN", "Dialogue: Call on the crisis hotline")
    submit_from_team_page("PRC", use=2, reason="OVERRIDE-PRC-M5")
    submit_from_team_page("TWN", "Status quo: Hold: no new move")
    submit_from_team_page("US", "Status quo: Consult and reassure an ally")
    all_submitted()
    adjudicate_and_resolve({}, preview=True)
    reveal_all()
    click("Hot wash")
    expect(proj.page.get_by_text("Hot wash:").first).to_be_visible(timeout=30_000)
    f.get_by_role("button", name="Hot wash and AAR", exact=True).click()
    hw = fac.card("Hot wash")
    hw.get_by_label("Hot-wash entry").fill("Teams used the hotline early")
    click("Add hot-wash entry", hw)
    fac.select("Kind", "improvement", scope=hw)
    hw.get_by_label("Hot-wash entry").fill("Nobody answered the MACM")
    click("Add hot-wash entry", hw)
    expect(proj.page.get_by_text("Nobody answered the MACM")).to_be_visible(timeout=30_000)
    click("Reveal secret moves to the room")
    expect(proj.page.get_by_text("(secret)").first).to_be_visible(timeout=30_000)
    proj.shoot("projector_hotwash", fit=True)
    ratings = fac.card("Objectives: P / S / M / U")
    for i, r in enumerate(("P", "S", "M", "U")):
        n = server.state()["events"]
        ratings.get_by_role("button", name=r, exact=True).nth(i).click()
        server.wait(lambda st, n=n: st["events"] > n, "a rating")
    fd = fac.card("Finding: observation")
    for label, text in (("Observation", "The MACM went unanswered"), ("Root cause", "It covers navies only"),
                        ("Recommendation", "Extend it to the coast guards"), ("Responsible", "MOFA"),
                        ("Point of contact", "Desk officer"), ("Start date", "2027-01-01"),
                        ("Completion date", "2027-06-30")):
        fd.get_by_label(label, exact=True).fill(text)
        fd.get_by_label(label, exact=True).press("Tab")
    fac.select("Capability element", "Planning", scope=fd)
    fac.select("Objective", server_objective(server), scope=fd)
    click("Add finding", fd)
    ov = fac.card("Exercise overview")
    ov.get_by_label("Sponsor", exact=True).fill("Track 1.5 forum")
    ov.get_by_label("Sponsor", exact=True).press("Tab")
    click("Save overview", ov)
    f.get_by_role("button", name="Notes, forecast, exports", exact=True).click()
    f.get_by_label("Note", exact=True).fill("FACNOTE-7731 ask about the coast guards")
    click("Add note")
    fac.button("Forecast 1,000 runs").click()
    expect(f.get_by_text("AI-played continuations from move 5")).to_be_visible(timeout=60_000)
    obs.page.get_by_label("Observation (what was said or done)").fill("OBS-MARK-1 Japan called at once")
    n = server.state()["events"]
    obs.button("Record observation").click()
    server.wait(lambda st: st["events"] > n, "the observation")
    expect(obs.page.get_by_label("Observation (what was said or done)")).to_have_value("", timeout=30_000)
    obs.shoot("observer_page")
    f.get_by_role("button", name="Join links", exact=True).click()
    expect(f.locator("svg").first).to_be_visible(timeout=30_000)
    assert f.get_by_text(server.tokens["team:JPN"]).count() >= 1
    assert f.get_by_text(server.tokens["facilitator"]).count() == 0
    f.get_by_role("button", name="Replay and what-if", exact=True).click()
    fac.select("Team", "JPN")
    fac.select("had played", "Propose or hold bilateral talks")
    fac.button("Run what-if").click()
    expect(f.get_by_text("as played").first).to_be_visible(timeout=90_000)
    f.get_by_role("slider").first.focus()
    f.keyboard.press("ArrowLeft")
    fac.button("Save as a new session").click()
    expect(f.get_by_text("Saved in").first).to_be_visible(timeout=60_000)
    f.get_by_role("button", name="Play", exact=True).click()
    click("ENDEX")
    expect(proj.page.get_by_text("ENDEX").first).to_be_visible(timeout=30_000)
    expect(teams["PRC"].page.get_by_text("ENDEX").first).to_be_visible(timeout=30_000)
    proj.shoot("projector_endex", fit=True)
    f.get_by_role("button", name="Notes, forecast, exports", exact=True).click()
    fac.button("Write AAR and exports").click()
    expect(f.get_by_role("link", name="aar.pdf")).to_be_visible(timeout=90_000)
    fac.shoot("console_exports")

    # ---------------------------------------------------------------- what each page saw
    check_all()
    final = Session.load(folder, read_only=True)
    spec = final.state.spec
    released = {r["id"] for r in final.state.released}
    msel = [i.controller_note for i in spec.scenario.injects if i.controller_note]
    msel += [i.expected_action for i in spec.scenario.injects if i.expected_action]
    msel += [i.title for i in spec.scenario.injects if i.id not in released]
    advice = _advice_lines(final)
    for pg in [proj, obs, *teams.values()]:
        seen = pg.seen()
        for text in msel:
            assert text not in seen, f"{pg.role} saw MSEL text {text!r}"
        own = pg.role[5:] if pg.role.startswith("team:") else None
        for hit in set(re.findall(r"(?:RAT|OVERRIDE|MATRIXARG|RULING-REASON|FACNOTE|OBS-MARK|SECRET)-[A-Za-z0-9-]*",
                                  seen)):
            mine = own is not None and (hit.startswith((f"RAT-{own}-", f"OVERRIDE-{own}-", f"SECRET-{own}-")))
            assert mine or (pg is obs and hit.startswith("OBS-MARK")), f"{pg.role} saw {hit}"
        if pg.role != "team:US":
            assert "PRIVATE-US-TITLE" not in seen, f"{pg.role} saw the private inject to the US"
        if pg.role in ("projector", "observer", "team:JPN", "team:TWN"):
            for word in ADVISER_WORDS:
                assert word not in seen, f"{pg.role} saw AI reasoning ({word!r})"
    for a, b in (("PRC", "US"), ("US", "PRC")):  # a hybrid team never sees the other's adviser
        seen = teams[a].seen()
        leaked = [line for line in advice[b] - advice[a] if line in seen]
        assert not leaked, f"{a} saw {b}'s adviser: {leaked[:2]}"
    code, _ = server.api("team:JPN", "export")
    assert code == 403
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/files/aar.pdf?k={server.tokens['facilitator']}",
                                timeout=30) as r:
        assert r.read(5) == b"%PDF-"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/files/aar.pdf?k={server.tokens['team:JPN']}")
    events = [e["type"] for e in final.events]
    assert events.count("resolved") == 5 and events.count("withdrawn") == 2 and final.state.ended
    assert sum(1 for e in final.events if e.get("by", "").startswith("team:")) >= 15
    print(f"\n  browser test: five moves, four team browsers, {len(final.events)} events in "
      f"{time.time() - started:.0f} s")
