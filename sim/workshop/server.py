"""Serving the web console: one shared session per server process, bound to 127.0.0.1 by default.

Every browser tab (facilitator, projector, teams) talks to the same ``Session`` object held
here; a version counter tells the tabs when to redraw. The session itself persists every
event to disk, so stopping the server loses nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.workshop.session import Session

ENV = "CRISIS_SIM_SESSION"
_lock = threading.RLock()
_session: Session | None = None
_version = 0


def session() -> Session:
    """The live session of this server (loaded once from $CRISIS_SIM_SESSION)."""
    global _session
    with _lock:
        if _session is None:
            folder = os.environ.get(ENV)
            if not folder:
                raise InputError("server", ENV, "no session folder given")
            _session = Session.load(Path(folder))
        return _session


def version() -> int:
    """Bumped after every action, so each tab knows when to redraw."""
    return _version


def act(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one session call under the lock and tell every tab to redraw."""
    global _version
    with _lock:
        try:
            return fn(*args, **kwargs)
        finally:
            _version += 1


def serve(folder: Path, host: str = "127.0.0.1", port: int = 8765) -> int:
    """Start the Solara server for the session in ``folder`` (blocks until stopped)."""
    if shutil.which("solara") is None and not (Path(sys.executable).parent / "solara").exists():
        raise InputError("facilitate", "--terminal",
                         "the web console needs the workshop extra (pip install -e '.[workshop]'); "
                         "or use --terminal")
    exe = Path(sys.executable).parent / "solara"
    app = Path(__file__).with_name("app.py")
    env = {**os.environ, ENV: str(Path(folder).resolve()), "MPLBACKEND": "Agg"}
    cmd = [str(exe if exe.exists() else "solara"), "run", str(app), "--host", host, "--port", str(port),
           "--no-open", "--production"]
    print(f"facilitator console: http://{host}:{port}/   projector: http://{host}:{port}/projector   "
          f"teams: http://{host}:{port}/team/<ACTOR>")
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130
