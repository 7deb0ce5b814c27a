"""Who may do what: roles, their join links, and the one table every action is checked against.

Each role has its own unguessable token (128 bits), kept in ``access.json`` in the session folder
(owner-only permissions) so links survive a restart: the facilitator, the projector, an observer,
and one per team. A page is whatever its token says it is; there are no links between roles. The
server checks every action against :data:`CALLS` with the role of the token that sent it (a team
may act only for its own actor), so hiding a button is never the only guard.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sim.errors import SessionError

FILE = "access.json"
FACILITATOR, PROJECTOR, OBSERVER, TEAM = "facilitator", "projector", "observer", "team"


class AccessDenied(SessionError):
    """An action the sending page's role may not take (or an unknown or revoked link)."""


@dataclass(frozen=True)
class Role:
    kind: str
    actor: str | None = None

    @property
    def name(self) -> str:
        """As recorded in the log's ``by``: "facilitator", "team:JPN", "observer"."""
        return f"{TEAM}:{self.actor}" if self.kind == TEAM else self.kind

    @property
    def label(self) -> str:
        return f"{self.actor} team" if self.kind == TEAM else self.kind


ONLY_FACILITATOR, WITH_TEAMS, WITH_OBSERVERS = (FACILITATOR,), (FACILITATOR, TEAM), (FACILITATOR, OBSERVER)
#: Every action a page can ask the server for, and the roles that may ask. Nothing else is callable.
CALLS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("start_move", "set_phase", "pause", "set_seat", "release", "release_edited", "write_inject",
                     "hold", "unhold", "skip", "submit_ai", "adjudicate", "undo_adjudication", "preview", "resolve",
                     "reveal", "reveal_secrets", "note", "start_timer", "add_time", "stop_timer", "resume_timer",
                     "reset_timer", "clear_timer", "hotwash", "set_details", "rate", "add_finding", "forecast",
                     "export", "what_if", "save_branch"), ONLY_FACILITATOR),
    "submit": WITH_TEAMS, "withdraw": WITH_TEAMS,
    "observe": WITH_OBSERVERS,
}


def check(role: Role, call: str, kwargs: dict) -> None:
    """Refuse (one line) what ``role`` may not do; a team acts only for its own actor."""
    if call not in CALLS:
        raise AccessDenied(f"unknown action {call!r}")
    if role.kind not in CALLS[call]:
        raise AccessDenied(f"the {role.label}'s page cannot {call.replace('_', ' ')}")
    if role.kind == TEAM and kwargs.get("actor") != role.actor:
        raise AccessDenied(f"the {role.label}'s page acts only for {role.actor}")


class Access:
    """The session's join tokens: made once, stored owner-only, rotated on request."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens  # role name -> token

    @classmethod
    def load(cls, directory: Path, actors: list[str], rotate: bool = False) -> Access:
        path = Path(directory) / FILE
        tokens: dict[str, str] = {}
        if path.exists() and not rotate:
            try:
                tokens = json.loads(path.read_text())
            except ValueError:
                tokens = {}
        wanted = [FACILITATOR, PROJECTOR, OBSERVER, *(f"{TEAM}:{a}" for a in actors)]
        changed = False
        for name in wanted:
            if not isinstance(tokens.get(name), str) or len(tokens[name]) < 20:
                tokens[name] = secrets.token_urlsafe(16)
                changed = True
        tokens = {k: tokens[k] for k in wanted}
        if changed or rotate:
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(tokens, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        return cls(tokens)

    def role_of(self, token: str | None) -> Role | None:
        """The role a token grants (None: no role; compared in constant time)."""
        if not token:
            return None
        found = None
        for name, t in self.tokens.items():
            if hmac.compare_digest(t.encode(), str(token).encode()):
                found = name
        if found is None:
            return None
        kind, _, actor = found.partition(":")
        return Role(kind, actor or None)

    def token(self, role_name: str) -> str:
        return self.tokens[role_name]

    def links(self, base: str) -> dict[str, str]:
        """Each role's join link (``base`` is the server's address)."""
        return {name: f"{base.rstrip('/')}/?k={t}" for name, t in self.tokens.items()}
