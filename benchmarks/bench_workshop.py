"""Workshop console under a room's load: 30 participant pages on loopback, the facilitator acting.

    python benchmarks/bench_workshop.py [--clients 30] [--actions 20]

Starts the workshop server on a Taiwan Strait session (four team seats), opens ``--clients``
participant pages in Debian's Chromium (projector pages and team pages, each on its own join
link, a third of them team pages), plus the facilitator's console, then has the facilitator
pause and resume play ``--actions`` times. For each action it measures, on one clock (all pages
run in one browser):

* click to projector: from the facilitator's click until a watched projector or team page shows
  the new state (PAUSED appears or goes), over several watched pages;
* click to console: until the facilitator's own console shows it (is the console responsive?);
* an API round trip (``/api/state``) while the room is connected.

Prints p50, p95 and max of each. Target: p95 click-to-projector < 1 s. Not a pass/fail test.

    python benchmarks/bench_workshop.py --engine [--moves 8] [--repeat 3] [--forecast-runs 1000]

times, without a browser, what the console waits for on the engine: a whole move (start, every
AI seat's submission, resolution, the read-out) and "forecast from here" (``Session.forecast``),
as CPU and wall seconds, median (min-max) over the repeats, with the load average recorded.
Results go to ``benchmarks/results/workshop.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
WATCH = """() => {
  window.__marks = []; window.__last = null;
  const look = () => {
    const paused = document.body.innerText.includes('PAUSED');
    if (paused !== window.__last) { window.__last = paused; window.__marks.push([Date.now(), paused]); }
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true});
  look();
}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def _timed(fn) -> tuple[float, float]:
    c, t = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c, time.perf_counter() - t


def engine(a: argparse.Namespace) -> None:
    """Move and forecast timings of a Taiwan Strait session with every seat played by the model."""
    from sim.inputs.library import SCENARIOS_DIR
    from sim.workshop.session import Session

    load0 = os.getloadavg()[0]
    move, fc = [], []
    for rep in range(a.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-workshop-") as tmp:
            s = Session.create(Path(tmp) / "s", SCENARIOS_DIR / "taiwan_strait.yaml", seed=2 + rep)
            s.set_phase("briefing")
            try:
                fc.append(_timed(lambda s=s: s.forecast(runs=a.forecast_runs)))
                for _ in range(a.moves):
                    def one(s=s) -> None:
                        s.start_move()
                        s.set_phase("submission")
                        s.submit_ai()
                        s.set_phase("adjudication")
                        s.resolve()
                    move.append(_timed(one))
            finally:
                s.close()
    move, fc = move[1:] or move, fc  # the first move of the first session also pays imports and compile
    lines = [f"Taiwan Strait session, all seats AI, {a.moves} moves x {a.repeat} sessions, load {load0:.2f} -> "
             f"{os.getloadavg()[0]:.2f}", f"{'':<36}{'CPU s, median (min-max)':>28}{'wall s, median (min-max)':>30}"]
    rows = (("one move (start, submit, resolve)", move), (f"forecast from here ({a.forecast_runs:,} runs)", fc))
    for name, xs in rows:
        cpu, wall = [x[0] for x in xs], [x[1] for x in xs]
        lines.append(f"{name:<36}{_mr(cpu):>28}{_mr(wall):>30}")
    print("\n".join(lines))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "workshop.json").write_text(json.dumps({"text": lines, "move": move, "forecast": fc}, indent=1) + "\n")


def _mr(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} ({min(xs):.3f}-{max(xs):.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", action="store_true", help="time moves and forecasts (no browser)")
    ap.add_argument("--moves", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--forecast-runs", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--actions", type=int, default=20)
    ap.add_argument("--watch", type=int, default=6, help="participant pages timed per action")
    a = ap.parse_args()
    if a.engine:
        engine(a)
        return
    from playwright.sync_api import sync_playwright

    from sim.inputs.library import SCENARIOS_DIR
    from sim.workshop.session import Session

    tmp = Path(tempfile.mkdtemp(prefix="bench-workshop-"))
    folder = tmp / "session"
    Session.create(folder, SCENARIOS_DIR / "taiwan_strait.yaml", seed=2,
                   seats={"JPN": "human", "PRC": "hybrid", "TWN": "human", "US": "hybrid"}).close()
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "sim.workshop.server", str(folder), "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/api/state", timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        tokens = json.loads((folder / "access.json").read_text())
        teams = [k for k in tokens if k.startswith("team:")]
        roles = [teams[i % len(teams)] if i % 3 == 2 else "projector" for i in range(a.clients)]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            t0 = time.time()
            pages = []
            for role in roles:
                page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
                page.goto(f"{base}/?k={tokens[role]}", wait_until="commit", timeout=120_000)
                pages.append((role, page))
            fac = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            fac.goto(f"{base}/?k={tokens['facilitator']}", wait_until="commit", timeout=120_000)
            for _, page in pages:
                page.wait_for_selector(".ws", timeout=180_000)
            fac.get_by_role("button", name="Pause", exact=True).wait_for(timeout=180_000)
            loaded = time.time() - t0
            watched = [pg for _, pg in pages[:: max(1, len(pages) // a.watch)]][: a.watch]
            for pg in watched:
                pg.evaluate(WATCH)
            fac.evaluate(WATCH)
            room, console, api = [], [], []
            for i in range(a.actions):
                paused = i % 2 == 0
                button = fac.get_by_role("button", name="Pause" if paused else "Resume", exact=True)
                button.wait_for(timeout=30_000)
                clicked = fac.evaluate("Date.now()")
                button.click()
                deadline = time.time() + 30
                pending = [*watched, fac]
                seen: dict = {}
                while pending and time.time() < deadline:
                    for pg in list(pending):
                        marks = pg.evaluate("window.__marks")
                        hit = next((t for t, state in marks if state == paused and t >= clicked), None)
                        if hit is not None:
                            seen[pg] = (hit - clicked) / 1000
                            pending.remove(pg)
                    time.sleep(0.02)
                console.append(seen.get(fac, float("inf")))
                room += [seen.get(pg, float("inf")) for pg in watched]
                t = time.perf_counter()
                urllib.request.urlopen(f"{base}/api/state?k={tokens['projector']}", timeout=30).read()
                api.append(time.perf_counter() - t)
                time.sleep(0.4)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{a.clients} participant pages ({roles.count('projector')} projector, "
          f"{a.clients - roles.count('projector')} team) + the facilitator's console, all connected in "
          f"{loaded:.1f} s; {a.actions} facilitator actions (pause / resume), {len(watched)} pages timed each")
    print(f"{'':<34}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'n':>6}")
    for name, xs in (("click -> projector / team page", room), ("click -> facilitator's console", console),
                     ("API round trip (/api/state)", api)):
        print(f"{name:<34}{statistics.median(xs):>8.3f}{_pct(xs, 0.95):>8.3f}{max(xs):>8.3f}{len(xs):>6}")
    print(f"target: p95 click -> projector < 1 s: {'met' if _pct(room, 0.95) < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
