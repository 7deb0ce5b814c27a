"""``run_sim.py facilitate``: open or start a session, then serve it or give it a terminal.

The one writer of a session is whoever opens it here: the web server, or a terminal console. A
second writer is refused with one line naming the first; a terminal can instead ``--attach`` to
the server (its commands go through the server, as the facilitator) or open the session
``--read-only``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.errors import InputError
from sim.workshop import journal
from sim.workshop.session import Session, parse_seats


def _folder(a: argparse.Namespace) -> Path:
    if a.session is None and a.scenario is None:
        raise InputError("facilitate", "scenario", "give a scenario file or --session to resume")
    from sim.inputs.paths import output_dir, safe_name

    folder = a.session or Path("sessions") / safe_name(Path(a.scenario).stem, "session")
    output_dir(folder, "--session", create=False)
    return folder


def open_session(a: argparse.Namespace) -> Session:
    """The session in ``--session`` (resumed, locked) or a new one on ``scenario``."""
    folder = _folder(a)
    if (folder / Session.LOG).exists():
        session = Session.load(folder, lock=True)
        print(f"resumed session in {folder} (move {session.state.move}, phase {session.state.phase})")
    else:
        if a.scenario is None:
            raise InputError(folder, "--session", "no session here to resume; give a scenario to start one")
        session = Session.create(folder, a.scenario, seed=a.seed, seats=parse_seats(a.seats))
        print(f"new session in {folder}")
    for w in session.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return session


def facilitate(a: argparse.Namespace) -> int:
    if (getattr(a, "attach", False) or getattr(a, "read_only", False)) and not a.terminal:
        raise InputError("facilitate", "--attach", "--attach and --read-only are for --terminal")
    if a.terminal and getattr(a, "read_only", False):
        from sim.workshop.terminal import run_console

        session = Session.load(_folder(a), read_only=True)
        for w in session.warnings:
            print(f"warning: {w}", file=sys.stderr)
        print("read-only: look, replay and export; nothing is written")
        return run_console(session)
    if a.terminal and getattr(a, "attach", False):
        from sim.workshop.terminal import Remote, run_console

        return run_console(Remote.attach(_folder(a)))
    session = open_session(a)
    if a.terminal:
        from sim.workshop.terminal import run_console

        try:
            return run_console(session)
        finally:
            session.close()
    from sim.workshop.server import serve

    return serve(host=a.host, port=a.port, session=session, rotate_links=getattr(a, "new_links", False))


def holder_url(folder: Path) -> str:
    """The address of the server writing this session (for ``--attach``)."""
    info = journal.holder(folder)
    if not info:
        raise InputError(folder, "--attach", "no console is serving this session; open it without --attach")
    if not info.get("url"):
        raise InputError(folder, "--attach", f"it is open in {journal.describe(info)}, which is not a web "
                                             "server; a second writer is refused")
    return info["url"]
