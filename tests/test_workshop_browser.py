"""Browser test of the web console: Playwright drives Debian's Chromium against the real
Solara server on 127.0.0.1 (no network). Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.inputs.library import SCENARIOS_DIR
from sim.workshop.session import Session

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def _requirements() -> str | None:
    try:
        import playwright  # noqa: F401
        import solara  # noqa: F401
    except ImportError as exc:
        return f"missing {exc.name}"
    if not Path(CHROMIUM).exists():
        return "no /usr/bin/chromium"
    from sim.workshop.offline import missing
    if missing():
        return "Solara's browser assets are not cached (python -m sim.workshop.offline)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def console(tmp_path):
    why = _requirements()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {why}")
        pytest.skip(why)
    folder = tmp_path / "session"
    Session.create(folder, SCENARIOS_DIR / "senkaku.yaml", seed=2, seats={"JPN": "human"})
    port = _free_port()
    exe = shutil.which("solara", path=str(Path(sys.executable).parent)) or "solara"
    proc = subprocess.Popen([exe, "run", str(ROOT / "sim" / "workshop" / "app.py"), "--host", "127.0.0.1",
                             "--port", str(port), "--no-open", "--production"],
                            env={**os.environ, "CRISIS_SIM_SESSION": str(folder), "MPLBACKEND": "Agg"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("console server did not start")
    yield f"http://127.0.0.1:{port}", folder
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_console_release_decide_advance_project(console):
    from playwright.sync_api import expect, sync_playwright

    url, folder = console
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        proj = browser.new_page(viewport={"width": 1400, "height": 900})  # open before play: must update live
        proj.goto(url + "/projector", timeout=90_000)
        expect(proj.get_by_text("Move 0")).to_be_visible(timeout=30_000)
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        page.goto(url + "/", timeout=90_000)
        page.get_by_role("button", name="Start move").click()
        expect(page.get_by_text("move 1, phase situation")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Release").first.click()  # release an inject
        expect(page.get_by_text("S1 [released]")).to_be_visible(timeout=30_000)
        page.locator(".v-select").filter(has_text="Action").first.click()  # a team's decision
        page.get_by_role("option", name="protest", exact=True).click()
        page.get_by_role("button", name="Submit JPN").click()
        expect(page.get_by_text("submitted: protest")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="AI seats submit").click()
        expect(page.get_by_text("(ai)").first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Adjudication", exact=True).click()
        expect(page.get_by_text("phase adjudication")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Resolve move").click()  # advance the move
        expect(page.get_by_text("phase readout")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "facilitator.png"), full_page=True)

        expect(proj.get_by_text("JPN: Diplomatic protest or demarche (PRC)")).to_be_visible(timeout=30_000)
        text = proj.inner_text("body")
        spec_injects = Session.load(folder).state.spec.scenario.injects
        for inj in spec_injects:
            if inj.controller_note:
                assert inj.controller_note not in text
            if inj.id != "S1":
                assert inj.title not in text
        proj.screenshot(path=str(ARTIFACTS / "projector.png"))
        browser.close()
    events = [e["type"] for e in Session.load(folder).events]
    assert events[:4] == ["created", "move_started", "inject_released", "decision"] and "resolved" in events
