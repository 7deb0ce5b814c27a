"""``run_sim.py facilitate``: open or start a session, then serve it or give it a terminal.

The one writer of a session is whoever opens it here: the web server (which the terminal can
drive with ``--attach``) or a terminal console. A second writer is refused with one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.errors import InputError
from sim.workshop.session import Session, parse_seats


def open_session(a: argparse.Namespace) -> Session:
    """The session in ``--session`` (resumed, locked) or a new one on ``scenario``."""
    if a.session is None and a.scenario is None:
        raise InputError("facilitate", "scenario", "give a scenario file or --session to resume")
    folder = a.session or Path("sessions") / Path(a.scenario).stem
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
    session = open_session(a)
    if a.terminal:
        from sim.workshop.terminal import run_console

        return run_console(session)
    from sim.workshop.server import serve

    session.close()
    return serve(session.dir, a.host, a.port)
