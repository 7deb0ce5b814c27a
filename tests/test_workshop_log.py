"""The session log never loses an acknowledged event: torn tails, failed writes, corrupt or
reordered lines, a second writer, and a property test that mixes them with play."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.errors import SessionError
from sim.inputs.library import SCENARIOS_DIR
from sim.workshop import journal
from sim.workshop.session import Session

ROOT = Path(__file__).resolve().parent.parent
SENKAKU = SCENARIOS_DIR / "senkaku.yaml"


def played(folder: Path, moves: int = 1) -> Session:
    s = Session.create(folder, SENKAKU, seed=3, seats={"JPN": "human"})
    for _ in range(moves):
        s.start_move()
        s.set_phase("submission")
        s.submit("JPN", "protest", "PRC", rationale="steady")
        s.submit_ai()
        s.set_phase("adjudication")
        s.resolve()
    return s


def summary(s: Session) -> tuple:
    """What a facilitator sees of a session: the world, the move, the phase, the record."""
    S = s.state
    return (s.hash(), len(s.events), S.move, S.phase, S.paused, len(S.notes), len(S.released), sorted(S.pending),
            len(S.moves))


class DiskFull:
    """A write that stops part-way with ENOSPC (after ``keep`` bytes), as a full disk does."""

    def __init__(self, keep: int) -> None:
        self.keep = keep

    def __call__(self, fd: int, data: bytes) -> int:
        if self.keep:
            os.write(fd, data[:self.keep])
        raise OSError(errno.ENOSPC, "No space left on device")


def test_torn_tail_is_cut_and_said_and_nothing_after_it_is_lost(tmp_path):
    s = played(tmp_path / "s")
    n = len(s.events)
    s.close()
    with open(tmp_path / "s" / Session.LOG, "a") as f:
        f.write('{"seq": 9, "t": "x", "type": "note", "te')  # a write cut off by a crash
    again = Session.load(tmp_path / "s")
    assert len(again.events) == n and any("torn last line" in w for w in again.warnings)
    again.note("first")
    again.note("second")
    again.close()
    back = Session.load(tmp_path / "s")
    assert [n["text"] for n in back.state.notes] == ["first", "second"] and not back.warnings


def test_a_failed_write_is_said_rolled_back_and_leaves_no_fragment(tmp_path):
    s = played(tmp_path / "s")
    before, size = summary(s), (tmp_path / "s" / Session.LOG).stat().st_size
    s._writer._write = DiskFull(keep=40)
    with pytest.raises(SessionError, match="No space left on device"):
        s.note("N" * 3000)
    with pytest.raises(SessionError, match="not recorded"):
        s.start_move()
    assert summary(s) == before and (tmp_path / "s" / Session.LOG).stat().st_size == size
    del s._writer._write  # space again
    s.note("after")
    s.close()
    back = Session.load(tmp_path / "s")
    assert summary(back) == summary(s) and [n["text"] for n in back.state.notes] == ["after"]


def _lines(folder: Path) -> list[str]:
    return (folder / Session.LOG).read_text().splitlines()


def _write(folder: Path, lines: list[str]) -> None:
    (folder / Session.LOG).write_text("".join(x + "\n" for x in lines))


def _edit_decision(lines: list[str]) -> list[str]:
    i = next(i for i, x in enumerate(lines) if '"decision"' in x)
    lines[i] = lines[i].replace('"protest"', '"hold"').replace('"PRC"', "null", 1)
    return lines


def _undigested(line: str) -> str:
    return json.dumps({k: v for k, v in json.loads(line).items() if k != "digest"}, sort_keys=True)


CORRUPTIONS = {
    "garbage in the middle": (lambda ls: [*ls[:4], "{not json", *ls[4:]], "line 5 is corrupt"),
    "duplicated line": (lambda ls: [*ls[:5], ls[4], *ls[5:]], "line 6 has seq 4 where 5 was expected"),
    "swapped lines": (lambda ls: [*ls[:3], ls[4], ls[3], *ls[5:]], "line 4 has seq 4 where 3 was expected"),
    "deleted line": (lambda ls: ls[:3] + ls[4:], "line 4 has seq 4 where 3 was expected"),
    "edited decision": (_edit_decision, "fails its integrity check"),
    "no type": (lambda ls: [*ls[:4], '{"seq": 4}', *ls[5:]], "line 5 is an event without a type"),
    "not an object": (lambda ls: [*ls[:2], "[1, 2, 3]", *ls[3:]], "line 3 is not an event"),
    "created without scenario": (lambda ls: [json.dumps({"seq": 0, "t": "x", "type": "created"})],
                                 "line 1 is a 'created' event that lacks 'scenario'"),
    "digest removed": (lambda ls: [*ls[:3], _undigested(ls[3]), *ls[4:]], "line 4 has no integrity digest"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_corrupt_log_is_one_clear_line_and_exit_2(tmp_path, capsys, case):
    folder = tmp_path / "s"
    played(folder).close()
    change, said = CORRUPTIONS[case]
    _write(folder, change(_lines(folder)))
    assert main(["facilitate", "--session", str(folder), "--terminal"]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_old_logs_without_digests_load_and_continue_with_them(tmp_path):
    folder = tmp_path / "s"
    s = played(folder)
    h = s.hash()
    s.close()
    _write(folder, [json.dumps({k: v for k, v in json.loads(x).items() if k != "digest"}, sort_keys=True)
                    for x in _lines(folder)])
    old = Session.load(folder)
    assert old.hash() == h
    old.note("carried on")
    old.close()
    assert "digest" in json.loads(_lines(folder)[-1]) and Session.load(folder).hash() == h


HOLDER = textwrap.dedent("""
    import sys, time
    from sim.workshop.session import Session
    s = Session.load(sys.argv[1], lock=True)
    print("locked", flush=True)
    time.sleep(60)
""")


def test_one_writer_per_session(tmp_path, capsys):
    folder = tmp_path / "s"
    played(folder).close()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "locked"
        assert main(["facilitate", "--session", str(folder), "--terminal"]) == 2
        err = capsys.readouterr().err
        assert f"open for writing by pid {proc.pid}" in err and err.count("\n") == 1
        late = Session.load(folder)  # reading is fine; the first write is refused
        with pytest.raises(SessionError, match="a second writer is refused"):
            late.note("x")
        assert journal.holder(folder)["pid"] == proc.pid
    finally:
        proc.kill()
        proc.wait()
    # the holder died: its lock file is stale, and the next writer takes over and says so
    assert json.loads((folder / journal.LOCK).read_text())["pid"] == proc.pid
    again = Session.load(folder, lock=True)
    assert any(f"stale lock left by pid {proc.pid}" in w for w in again.warnings)
    assert journal.holder(folder) is not None
    again.close()
    assert journal.holder(folder) is None


def test_a_session_that_changed_under_a_reader_is_not_written_over(tmp_path):
    folder = tmp_path / "s"
    a = played(folder)
    b = Session.load(folder)
    a.note("from a")
    a.close()
    with pytest.raises(SessionError, match="changed since it was loaded"):
        b.note("from b")


# ---------------------------------------------------------------------------- property test

STEPS = st.lists(st.sampled_from(["play", "note", "pause", "crash", "torn", "enospc", "refused"]),
                 min_size=1, max_size=14)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, keep=st.integers(min_value=0, max_value=200))
def test_live_state_always_equals_the_replayed_log(tmp_path_factory, steps, keep):
    """Random play interleaved with crashes (the process is gone: a fresh load), torn writes (a
    crash half-way through a line) and full disks: what the live console shows is always what the
    log replays to, and every acknowledged event is in it."""
    folder = tmp_path_factory.mktemp("p") / "s"
    s = Session.create(folder, SENKAKU, seed=5, seats={"JPN": "human"})
    acked = 1
    for step in steps:
        if step == "crash":
            s.close()
            s = Session.load(folder)
        elif step == "torn":
            s.close()
            with open(folder / Session.LOG, "ab") as f:
                f.write(json.dumps({"seq": len(s.events), "type": "note", "text": "lost"}).encode()[:keep or 1])
            s = Session.load(folder)
            assert any("torn" in w for w in s.warnings)
        elif step == "enospc":
            s.acquire()
            s._writer._write = DiskFull(keep)
            with pytest.raises(SessionError):
                s.note("never")
            del s._writer._write
        elif step == "refused":
            with pytest.raises(SessionError):
                s.adjudicate("PRC", "ruling", success=True)  # no reason, wrong phase
        elif step == "note":
            s.note("kept")
            acked += 1
        elif step == "pause":
            s.pause(not s.state.paused)
            acked += 1
        elif s.state.move < s.state.spec.turns:
            n = len(s.events)
            played_move(s)
            acked += len(s.events) - n
        assert len(s.events) == acked
        replay = Session.load(folder, read_only=True)
        assert summary(replay) == summary(s)
    s.close()


def played_move(s: Session) -> None:
    s.start_move()
    s.set_phase("submission")
    s.submit("JPN", "protest", "PRC")
    s.submit_ai()
    s.set_phase("adjudication")
    s.resolve()


# ---------------------------------------------------------------------------- a live server, killed


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(folder: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "sim.workshop.server", str(folder), "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=1)
        except urllib.error.HTTPError:
            return proc  # up (403 without a link)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the workshop server did not start")


def _act(port: int, token: str, call: str, **kwargs) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/act",
                                 data=json.dumps({"call": call, "kwargs": kwargs}).encode(),
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=20) as r:
        return json.loads(r.read())


def _script(s: Session) -> list[tuple[str, str, dict]]:
    """The next actions of a move, as the room would send them: (role, call, kwargs)."""
    S = s.state
    if S.phase in ("briefing", "readout"):
        return [("facilitator", "start_move", {})] if S.move < 6 else [("facilitator", "note", {"text": "again"})]
    if S.phase == "situation":
        return [("facilitator", "release", {"inject_id": i}) for i in s.due_injects()] + \
               [("facilitator", "set_phase", {"phase": "submission"})]
    if S.phase == "submission":
        if "JPN" not in S.pending:
            return [("team:JPN", "submit", {"actor": "JPN", "action": "protest", "target": "PRC"})]
        return [("facilitator", "submit_ai", {}), ("facilitator", "set_phase", {"phase": "adjudication"})]
    return [("facilitator", "resolve", {})]


def _drive(folder: Path, port: int, tokens: dict, stop, in_flight, acked: dict) -> None:
    """Play the session through the server until stopped (or the server dies), noting each ack."""
    while not stop.is_set():
        s = Session.load(folder, read_only=True)
        for role, call, kwargs in _script(s):
            if stop.is_set():
                return
            in_flight.set()
            try:
                answer = _act(port, tokens[role], call, **kwargs)
            except OSError:
                return
            finally:
                in_flight.clear()
            acked[answer["events"] - 1] = call


def test_sigkill_of_a_live_server_and_torn_or_full_writes_lose_nothing_acknowledged(tmp_path, capsys):
    """>= 10 SIGKILLs of a running workshop server (mid-request or between requests) and >= 10 torn
    and >= 10 disk-full writes: every acknowledged event survives and the session carries on."""
    import random
    import threading

    rnd = random.Random(7)
    folder = tmp_path / "s"
    Session.create(folder, SENKAKU, seed=3, seats={"JPN": "human"}).close()
    port = _free_port()
    kills = mid_request = 0
    acked: dict[int, str] = {}  # seq -> type, from the server's answers
    for _ in range(10):
        proc = _start(folder, port)
        tokens = json.loads((folder / "access.json").read_text())
        stop, in_flight = threading.Event(), threading.Event()
        t = threading.Thread(target=_drive, args=(folder, port, tokens, stop, in_flight, acked))
        t.start()
        time.sleep(rnd.uniform(0.3, 1.2))
        mid_request += in_flight.is_set()
        os.killpg(proc.pid, 9)
        proc.wait()
        kills += 1
        stop.set()
        t.join(timeout=30)
        log = Session.load(folder, read_only=True)
        for seq in acked:
            assert seq < len(log.events), f"acknowledged event {seq} lost after kill {kills}"
    torn = full = 0
    s = Session.load(folder)
    for i in range(10):
        s.close()
        with open(folder / Session.LOG, "ab") as f:
            f.write(b'{"seq": 1, "type": "note", "text": "cut off')
        torn += 1
        s = Session.load(folder)
        s.note(f"after torn write {i}")
        s._writer._write = DiskFull(keep=rnd.randint(0, 60))
        with pytest.raises(SessionError):
            s.note("never")
        del s._writer._write
        full += 1
        s.note(f"after full disk {i}")
    s.close()
    final = Session.load(folder, read_only=True)
    texts = [n["text"] for n in final.state.notes]
    assert all(f"after torn write {i}" in texts and f"after full disk {i}" in texts for i in range(10))
    assert "never" not in texts and "cut off" not in texts
    lost = sum(1 for seq in acked if seq >= len(final.events))
    with capsys.disabled():
        print(f"\n  workshop log: {kills} SIGKILLs of a live server ({mid_request} mid-request), {len(acked)} "
              f"acknowledged events, {torn} torn writes, {full} disk-full writes: {lost} acknowledged events lost")
    assert kills >= 10 and torn >= 10 and full >= 10 and lost == 0
