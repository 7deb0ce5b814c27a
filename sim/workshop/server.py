"""Serving the web console: one process, the session's one writer, bound to 127.0.0.1 by default.

Every page (facilitator, projector, observer, each team) talks to the same ``Session`` held here,
and every action goes through :func:`act`, which checks it against the role of the page's token
(``sim.workshop.access``) before it touches the session. A change bumps a version and wakes every
page at once (no polling); the room's pages are rendered once per version and view, and shared.
Errors are logged here with a short id; a browser only ever sees the id and one line.

The web server is Solara's Starlette app run in this process (uvicorn), with a few routes of our
own: ``/api/act`` (the same checked actions, for the terminal's ``--attach`` and for tests),
``/api/state`` and ``/files/<export>`` (downloads, facilitator only).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.workshop import access, replay
from sim.workshop.access import Access, AccessDenied, Role
from sim.workshop.session import Session

ENV = "CRISIS_SIM_SESSION"
log = logging.getLogger("sim.workshop.server")

_lock = threading.RLock()  # one action at a time on the session
_changed = threading.Condition()  # wakes the pages when the version moves
_session: Session | None = None
_access: Access | None = None
_version = 0
_views: dict[str, tuple[int, Any]] = {}
_drafts: dict[tuple[str, str], dict] = {}
_base = "http://127.0.0.1:8765"  # the address the room's devices use (set by serve)
EXPORTS = ("aar.html", "aar.pdf", "aar.md", "decisions.csv", "msel_released.csv", "inject_cards.html",
           "inject_cards.pdf", "role_sheets.html", "role_sheets.pdf", "facilitator_handbook.html",
           "facilitator_handbook.pdf", "escalation.png")


def setup(folder: Path | None = None, session: Session | None = None, rotate_links: bool = False) -> Session:
    """Hold ``session`` (or load the one in ``folder``, taking its writer's lock) and its join links."""
    global _session, _access, _version
    with _lock:
        if session is None:
            session = Session.load(Path(folder), lock=True)
        else:
            session.acquire()
        _session = session
        _access = Access.load(session.dir, list(session.state.spec.actor_ids), rotate=rotate_links)
        _views.clear()
        _version += 1
        _start_clock()
        return session


_clock: threading.Thread | None = None


def _start_clock() -> None:
    """A countdown running out changes what the pages show (the deadline): wake them when it does."""
    global _clock
    if _clock is not None:
        return

    def watch() -> None:
        last = None
        while True:
            time.sleep(0.5)
            with _lock:
                tm = _session.timer() if _session is not None and _session.state is not None else None
            now = (tm is not None and tm["expired"], id(_session))
            if last is not None and now != last:
                bump()
            last = now

    _clock = threading.Thread(target=watch, name="workshop-clock", daemon=True)
    _clock.start()


def session() -> Session:
    """The live session of this server (loaded on first use from $CRISIS_SIM_SESSION)."""
    with _lock:
        if _session is None:
            folder = os.environ.get(ENV)
            if not folder:
                raise InputError("server", ENV, "no session folder given")
            setup(Path(folder))
        return _session


def links(base: str) -> dict[str, str]:
    session()
    return _access.links(base)


def room_base() -> str:
    return _base


def role_of(token: str | None) -> Role | None:
    session()
    return _access.role_of(token)


def version() -> int:
    """Bumped after every action, so each page knows when to redraw."""
    return _version


def bump() -> None:
    global _version
    with _changed:
        _version += 1
        _changed.notify_all()


def wait_change(seen: int, timeout: float) -> int:
    """Block until the version differs from ``seen`` (or ``timeout`` seconds); return the version."""
    with _changed:
        _changed.wait_for(lambda: _version != seen, timeout=timeout)
        return _version


def act(token: str | None, call: str, **kwargs: Any) -> Any:
    """Run one action for the page holding ``token``, if its role may; tell every page to redraw."""
    role = role_of(token)
    if role is None:
        raise AccessDenied("this link is not valid (ask the facilitator for your join link)")
    access.check(role, call, kwargs)
    with _lock:
        s = session()
        s.by = None if role.kind == access.FACILITATOR else role.name
        try:
            return _dispatch(s, call, kwargs)
        finally:
            s.by = None
            bump()


def _dispatch(s: Session, call: str, kwargs: dict) -> Any:
    if call == "export":
        from sim.workshop.documents import export_all

        return [p.name for p in export_all(s)]
    if call == "what_if":
        return replay.what_if(s, **kwargs)
    if call == "save_branch":
        k = kwargs
        folder = s.dir.parent / f"{s.dir.name}-whatif-m{k['move']}-{k['actor']}-{k['action']}"
        out = replay.save_branch(s, k["move"], k["actor"], k["action"], k.get("target"), folder)
        out.close()
        return str(folder)
    return getattr(s, call)(**kwargs)


def view(key: str, build: Callable[[Session], Any]) -> Any:
    """A page's content for the current version, built once and shared by every page showing it."""
    with _lock:
        hit = _views.get(key)
        if hit is not None and hit[0] == _version:
            return hit[1]
        v = _version
        value = build(session())
        _views[key] = (v, value)
        return value


def draft(token: str, form: str, defaults: dict) -> dict:
    """A form's unsent values, kept here so that an error or a reload does not lose them."""
    return _drafts.setdefault((token, form), dict(defaults))


def report(exc: BaseException) -> str:
    """Log an unexpected error with its traceback under a short id, for the page to show instead."""
    eid = uuid.uuid4().hex[:8]
    log.error("console error %s", eid, exc_info=exc)
    return eid


def jsonable(value: Any) -> Any:
    if is_dataclass(value):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# ---------------------------------------------------------------------------- HTTP routes


def _token(request: Any) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else request.query_params.get("k")


async def api_act(request: Any) -> Any:
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    try:
        body = json.loads(await request.body() or b"{}")
        call, kwargs = body["call"], body.get("kwargs") or {}
        if not isinstance(call, str) or not isinstance(kwargs, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "send {\"call\": NAME, \"kwargs\": {...}}"}, status_code=400)
    try:
        result = await run_in_threadpool(act, _token(request), call, **kwargs)
    except AccessDenied as exc:
        return JSONResponse({"error": exc.message}, status_code=403)
    except InputError as exc:
        return JSONResponse({"error": exc.message}, status_code=400)
    except TypeError:
        return JSONResponse({"error": f"wrong arguments for {call}"}, status_code=400)
    except Exception as exc:  # logged with its id; the client gets one line
        return JSONResponse({"error": f"internal error (id {report(exc)})"}, status_code=500)
    return JSONResponse({"ok": True, "result": jsonable(result), "version": version(),
                         "events": len(session().events)})


async def api_state(request: Any) -> Any:
    from starlette.responses import JSONResponse

    if role_of(_token(request)) is None:
        return JSONResponse({"error": "not a valid link"}, status_code=403)
    with _lock:
        s = session()
        S = s.state
        return JSONResponse({"version": version(), "events": len(s.events), "move": S.move, "phase": S.phase,
                             "ended": S.ended, "paused": S.paused})


async def files(request: Any) -> Any:
    from starlette.responses import FileResponse, JSONResponse

    role = role_of(_token(request))
    name = request.path_params["name"]
    if role is None or role.kind != access.FACILITATOR:
        return JSONResponse({"error": "facilitator only"}, status_code=403)
    path = session().dir / name
    if name not in EXPORTS or not path.is_file():
        return JSONResponse({"error": "no such export (write the AAR and exports first)"}, status_code=404)
    return FileResponse(path, filename=name)


# ---------------------------------------------------------------------------- serving


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def room_address(host: str) -> str:
    """The address the room's devices use: this machine's LAN address when serving on all interfaces."""
    if host not in ("0.0.0.0", "::"):
        return host
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            return s.getsockname()[0]
    except OSError:
        return socket.gethostname()


def app() -> Any:
    """Solara's Starlette app with the console's own routes in front (Solara imported here, lazily)."""
    os.environ["SOLARA_APP"] = "sim.workshop.app"
    import solara.server.settings as settings

    settings.main.mode = "production"
    settings.theme.show_banner = False
    settings.theme.title = "Crisis workshop"
    import solara.server.starlette as sst
    from starlette.routing import Route

    ours = [Route("/api/act", api_act, methods=["POST"]), Route("/api/state", api_state),
            Route("/files/{name}", files)]
    if not any(getattr(r, "path", "") == "/api/act" for r in sst.app.router.routes):
        sst.app.router.routes[0:0] = ours
    return sst.app


def serve(folder: Path | None = None, host: str = "127.0.0.1", port: int = 8765, session: Session | None = None,
          rotate_links: bool = False) -> int:
    """Serve the session (blocks until stopped); prints the join links."""
    try:
        import solara  # noqa: F401
        import uvicorn
    except ImportError:
        raise InputError("facilitate", "--terminal",
                         "the web console needs the workshop extra (pip install -e '.[workshop]'); "
                         "or use --terminal") from None
    global _base
    s = setup(folder, session, rotate_links)
    base = _base = f"http://{room_address(host)}:{port}"
    s._lock.update(url=f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}")
    for w in s.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print("join links (each opens that role's page only; keep the facilitator's to yourself):")
    for name, url in links(base).items():
        print(f"  {name:<12} {url}")
    if is_loopback(host):
        print("serving on this machine only (127.0.0.1); --host 0.0.0.0 serves the room's network")
    else:
        print(f"serving on the room's network ({host}): every page needs its join link, nothing is reachable "
              "without one; the facilitator's console shows the links as QR codes")
    os.environ[ENV] = str(s.dir.resolve())
    os.environ.setdefault("MPLBACKEND", "Agg")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = uvicorn.Config(app(), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    try:
        server.run()
    except KeyboardInterrupt:
        return 130
    finally:
        s.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.workshop.server SESSION_DIR [--host H] [--port P]`` (what the tests start)."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m sim.workshop.server")
    p.add_argument("session", type=Path)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    a = p.parse_args(argv)
    try:
        return serve(a.session, a.host, a.port)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # run through the package module, so the app shares this module's session
    from sim.workshop import server as _server

    sys.exit(_server.main())
