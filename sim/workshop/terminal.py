"""Terminal mode: the same session as the web console, driven from a command prompt.

Every command maps to one Session call (one event in the log), so a session started here
can be resumed in the browser and the other way round. Type ``help`` at the prompt.
"""

from __future__ import annotations

import cmd
import functools
import inspect
import json
import shlex
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TextIO

from sim.errors import InputError, SessionError
from sim.workshop.access import CALLS
from sim.workshop.access import FILE as ACCESS_FILE
from sim.workshop.documents import export_all
from sim.workshop.render import projector_html
from sim.workshop.session import Session
from sim.workshop.views import collision_note, msel_status, reasons_in_words, scheduled_when


class Console(cmd.Cmd):
    intro = "Crisis workshop console. Type 'help' or '?' for commands; 'status' to see where you are."
    prompt = "(facilitator) "

    def __init__(self, session: Session | Remote, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        if stdin is not None:
            self.use_rawinput = False
        self.s = session

    # -------------------------------------------------------------- plumbing

    def onecmd(self, line: str) -> bool:
        try:
            return super().onecmd(line)
        except InputError as exc:
            self._say(f"! {exc.message}")
        except (ValueError, IndexError, KeyError):
            name = line.split()[0] if line.split() else ""
            usage = (getattr(self, f"do_{name}", None).__doc__ or "").split("\n")[0] if hasattr(self, f"do_{name}") \
                else ""
            self._say(f"! could not read that command{'; usage: ' + usage if usage else ''}")
        return False

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> None:
        self._say(f"! unknown command {line.split()[0]!r}; type 'help'")

    def _say(self, text: str) -> None:
        print(text, file=self.stdout)

    # -------------------------------------------------------------- information

    def do_status(self, arg: str) -> None:
        """status: move, phase, seats, due injects and submissions so far."""
        S = self.s.state
        self._say(f"{S.spec.scenario.title} | move {S.move} | phase {S.phase}{' (paused)' if S.paused else ''}")
        self._say("seats: " + ", ".join(f"{a}={m}" for a, m in S.seats.items()))
        tm = self.s.timer()
        if tm:
            left = int(tm["remaining"])
            self._say(f"timer: {left // 60}:{left % 60:02d} {'running' if tm['running'] else 'stopped'}")
        if S.move and S.phase in ("situation", "deliberation", "submission", "adjudication"):
            self._say("due injects: " + (", ".join(self.s.due_injects()) or "none"))
            self._say("submitted: " + (", ".join(f"{a}: {x.action}" for a, x in S.pending.items()) or "none"))
        elif S.phase == "readout" and S.moves:
            self._say(f"read-out of move {S.moves[-1].move}: {S.revealed} of {self.s.readout_size()} items shown "
                      "('reveal' for the next)")

    def do_brief(self, arg: str) -> None:
        """brief: print the road-to-crisis briefing."""
        sc = self.s.state.spec.scenario
        self._say(sc.briefing or sc.summary)

    def do_injects(self, arg: str) -> None:
        """injects: the MSEL with each inject's status (facilitator only)."""
        statuses = msel_status(self.s)
        for inj in self.s.state.spec.scenario.injects:
            when = scheduled_when(inj) if inj.kind == "scheduled" else inj.kind
            self._say(f"  {inj.id:<6} {when:<12} {statuses[inj.id]:<9} {inj.title}")

    def do_options(self, arg: str) -> None:
        """options ACTOR: the moves ACTOR may make now, in ladder order, with their targets."""
        for m in self.s.menu(arg.strip()):
            self._say(f"  {m['action']:<22} {m['label'][:48]:<48} {', '.join(m['targets'])}")

    def do_propose(self, arg: str) -> None:
        """propose ACTOR: the AI's advice for ACTOR (top three, with reasons) and the AI seat's draw."""
        adv = self.s.advice(arg.strip())
        self._say(f"  {adv['actor']}{' (frozen for this move)' if adv['frozen'] else ''}:")
        for i, o in enumerate(adv["options"], 1):
            tgt = f" toward {o['target']}" if o["target"] else ""
            self._say(f"  {i}. {o['label']}{tgt} ({o['probability']:.0%}): {reasons_in_words(o)}")
        d = adv["draw"]
        self._say(f"  an AI seat plays: {d['label']}{' toward ' + d['target'] if d['target'] else ''} "
                  f"(drawn; {d['probability']:.0%} of the model's odds)")

    # -------------------------------------------------------------- flow

    def do_move(self, arg: str) -> None:
        """move: start the next move (situation phase); lists the injects now due."""
        due = self.s.start_move()
        self._say(f"move {self.s.state.move}: due injects: {', '.join(due) or 'none'}")

    def do_phase(self, arg: str) -> None:
        """phase NAME: situation, deliberation, submission, adjudication, readout, hotwash, endex."""
        self.s.set_phase(arg.strip())
        self._say(f"  phase {self.s.state.phase}")

    def do_timer(self, arg: str) -> None:
        """timer MINUTES | +N | -N | stop | resume | reset | clear: the countdown for this phase."""
        a = arg.strip()
        actions = {"stop": self.s.stop_timer, "resume": self.s.resume_timer, "reset": self.s.reset_timer,
                   "clear": self.s.clear_timer}
        if a in actions:
            actions[a]()
        elif a[:1] in ("+", "-"):
            self.s.add_time(a)
        else:
            self.s.start_timer(a)
        tm = self.s.timer()
        left = int(tm["remaining"]) if tm else 0
        self._say(f"  timer {left // 60}:{left % 60:02d} {'running' if tm and tm['running'] else 'stopped'}"
                  if tm else "  no timer")

    def do_pause(self, arg: str) -> None:
        """pause: pause play (shown on the projector)."""
        self.s.pause(True)

    def do_resume(self, arg: str) -> None:
        """resume: resume play."""
        self.s.pause(False)

    def do_seat(self, arg: str) -> None:
        """seat ACTOR human|ai|hybrid: change who plays a seat (between moves)."""
        actor, mode = arg.split()
        self.s.set_seat(actor, mode)

    # -------------------------------------------------------------- injects

    def do_release(self, arg: str) -> None:
        """release ID: release a scripted inject now (early release of a held or future one too); its
        chance is drawn, and one that does not happen can still be released edited ('edit ID ...')."""
        iid = arg.strip()
        if self.s.release(iid):
            self._say(f"  released {iid}")
        else:
            self._say(f"  {self.s.state.headlines[-1].text}")

    def do_edit(self, arg: str) -> None:
        """edit ID [title "TITLE"] [text "TEXT"] [to all|A,B]: release an MSEL inject changed."""
        parts = shlex.split(arg)
        iid, rest = parts[0], parts[1:]
        kw = {k: rest[rest.index(k) + 1] for k in ("title", "text", "to") if k in rest}
        if "to" in kw:
            kw["to"] = kw["to"].split(",")
        done = self.s.release_edited(iid, **kw)
        self._say(f"  released {iid}" + ("" if done else f": {self.s.state.headlines[-1].text}"))

    def do_new(self, arg: str) -> None:
        """new TO "TITLE" ["TEXT"] [collision=BY:AGAINST]: write and release a new inject (TO = all, or
        actors as A,B); collision=PRC:JPN reports a collision blamed on the PRC, against Japan."""
        parts = shlex.split(arg)
        blame = [p for p in parts if p.startswith("collision=")]
        parts = [p for p in parts if not p.startswith("collision=")]
        if len(parts) == 4:  # the older form: new ID TO "TITLE" "TEXT" (the id is now given for you)
            parts = parts[1:]
        to, title, text = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
        by, _, against = blame[-1].removeprefix("collision=").partition(":") if blame else ("", "", "")
        iid = self.s.write_inject(title, text, to.split(","), collision_by=by or None,
                                  collision_against=against or None)
        self._say(f"  released {iid} to {to}" + (f" ({collision_note([by, against])})" if blame else ""))

    def do_hold(self, arg: str) -> None:
        """hold ID: hold an inject (it stays held until released, unheld or skipped)."""
        self.s.hold(arg.strip())
        self._say(f"  held {arg.strip()}")

    def do_unhold(self, arg: str) -> None:
        """unhold ID: stop holding an inject."""
        self.s.unhold(arg.strip())

    def do_skip(self, arg: str) -> None:
        """skip ID: skip an inject for good."""
        self.s.skip(arg.strip())

    # -------------------------------------------------------------- decisions and adjudication

    def do_decide(self, arg: str) -> None:
        """decide ACTOR ACTION [TARGET] [secret] [because "REASON"] [why "RATIONALE"]"""
        parts = shlex.split(arg)
        actor, action, rest = parts[0], parts[1], parts[2:]
        target = None
        if rest and rest[0] not in ("secret", "because", "why"):
            target = rest.pop(0)
        public = "secret" not in rest
        reason = rest[rest.index("because") + 1] if "because" in rest else ""
        why = rest[rest.index("why") + 1] if "why" in rest else ""
        self.s.submit(actor, action, target, public=public, rationale=why, override_reason=reason)
        self._say(f"  {actor}: {action}{' toward ' + target if target else ''} submitted")

    def do_withdraw(self, arg: str) -> None:
        """withdraw ACTOR: take back ACTOR's submission (before adjudication)."""
        self.s.withdraw(arg.strip())
        self._say(f"  {arg.strip()}: submission withdrawn")

    def do_ai(self, arg: str) -> None:
        """ai [ACTOR]: AI and hybrid seats submit their proposals (or just ACTOR's)."""
        self.s.submit_ai(arg.strip() or None)
        self._say("  submitted: " + ", ".join(f"{a}: {x.action}" for a, x in self.s.state.pending.items()))

    def do_adjudicate(self, arg: str) -> None:
        """adjudicate ACTOR model | ruling succeed|fail "REASON" | matrix P ["ARGUMENTS"]"""
        parts = shlex.split(arg)
        actor, mode = parts[0], parts[1]
        if mode == "ruling":
            if len(parts) < 3 or parts[2] not in ("succeed", "fail"):
                raise SessionError("a ruling says 'succeed' or 'fail', then its reason", "success")
            adj = self.s.adjudicate(actor, "ruling", success=parts[2] == "succeed", reason=" ".join(parts[3:]))
        elif mode == "matrix":
            adj = self.s.adjudicate(actor, "matrix", probability=float(parts[2]),
                                    arguments=parts[3] if len(parts) > 3 else "")
            self._say(f"  probability {adj.probability:.2f}, roll {adj.roll:.3f}: "
                      f"{'SUCCESS' if adj.success else 'FAILURE'}")
            return
        else:
            adj = self.s.adjudicate(actor, "model")
        self._say(f"  {actor}: {'succeeds' if adj.success else 'fails'} ({adj.mode})")

    def do_undo(self, arg: str) -> None:
        """undo: undo the last adjudication."""
        self.s.undo_adjudication()
        self._say("  last adjudication undone")

    def do_preview(self, arg: str) -> None:
        """preview: what the model would resolve now (nothing is committed)."""
        for a, r in self.s.preview().items():
            self._say(f"  {a}: {r}")

    def do_resolve(self, arg: str) -> None:
        """resolve: commit the move and show the read-out headlines."""
        rec = self.s.resolve()
        for h in self.s.state.headlines:
            if h.move == rec.move:
                self._say(f"  * {h.text}{'' if h.public else ' (secret)'}")

    def do_reveal(self, arg: str) -> None:
        """reveal [all]: show the room the next read-out item (or all of them)."""
        n = self.s.reveal(-1 if arg.strip() == "all" else None)
        self._say(f"  read-out: {n} of {self.s.readout_size()} shown")

    def do_secrets(self, arg: str) -> None:
        """secrets: at the hot wash, reveal the secret moves to the room."""
        self.s.reveal_secrets()

    def do_rate(self, arg: str) -> None:
        """rate N P|S|M|U [TEXT]: rate objective N (see 'objectives')."""
        n, rating, *text = arg.split(" ", 2)
        self.s.rate(self.s.objectives()[int(n) - 1], rating.upper(), " ".join(text))

    def do_objectives(self, arg: str) -> None:
        """objectives: the exercise's objectives, numbered, with their ratings."""
        for i, o in enumerate(self.s.objectives(), 1):
            self._say(f"  {i}. [{self.s.state.ratings.get(o, {}).get('rating', '-')}] {o}")

    def do_forecast(self, arg: str) -> None:
        """forecast [N]: outcome spread of N AI-played continuations from now (default 1000)."""
        f = self.s.forecast(arg.strip() or 1000)
        self._say(f"  {f['runs']} runs from move {f['from_move']}:")
        for o, v in f["outcomes"].items():
            if v["share"] > 0:
                self._say(f"  {o:<24}{100 * v['share']:5.1f}%  [{100 * v['ci'][0]:.1f}-{100 * v['ci'][1]:.1f}]")

    # -------------------------------------------------------------- records

    def do_note(self, arg: str) -> None:
        """note TEXT: a facilitator note (parking lot)."""
        self.s.note(arg)

    def do_hotwash(self, arg: str) -> None:
        """hotwash strength|improvement|insight TEXT"""
        kind, text = arg.split(" ", 1)
        self.s.hotwash(kind, text)

    def do_projector(self, arg: str) -> None:
        """projector [FILE]: write the projector view as HTML (default: projector.html in the session)."""
        path = Path(arg.strip() or self.s.dir / "projector.html")
        path.write_text(projector_html(self.s))
        self._say(f"  wrote {path}")

    def do_export(self, arg: str) -> None:
        """export [DIR]: write the AAR draft, decision log, printables (default: the session folder)."""
        for p in export_all(self.s, Path(arg.strip()) if arg.strip() else None):
            self._say(f"  wrote {p}")

    def do_endex(self, arg: str) -> None:
        """endex: end the exercise and write the after-action report draft."""
        self.s.set_phase("endex")
        self.do_export("")

    def do_quit(self, arg: str) -> bool:
        """quit: leave the console (the session is saved; resume it with the same --session)."""
        return True

    do_EOF = do_quit


def run_console(session: Session | Remote) -> int:
    """The console on this terminal (or on piped commands, for scripted sessions)."""
    Console(session, stdin=None if sys.stdin.isatty() else sys.stdin).cmdloop()
    return 0


class Remote:
    """A session driven through the web server that writes it (``--attach``): what the console
    reads is the log replayed here; every write goes to the server, as the facilitator, so the
    server stays the session's one writer."""

    WRITES = frozenset(CALLS) - {"preview", "forecast", "export", "what_if"}

    def __init__(self, folder: Path, url: str, token: str) -> None:
        self._dir, self._url, self._token = Path(folder), url.rstrip("/"), token
        self._cache: tuple[tuple[int, int], Session] | None = None

    @classmethod
    def attach(cls, folder: Path) -> Remote:
        from sim.workshop.launch import holder_url

        url = holder_url(folder)
        try:
            token = json.loads((Path(folder) / ACCESS_FILE).read_text())["facilitator"]
        except (OSError, ValueError, KeyError):
            raise InputError(folder, "--attach", "no facilitator link in access.json") from None
        remote = cls(folder, url, token)
        remote._post("/api/state", None)
        print(f"attached to the console at {url}: commands go through it")
        return remote

    def _post(self, path: str, body: dict | None) -> dict:
        req = urllib.request.Request(self._url + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {self._token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", str(exc))
            except ValueError:
                message = str(exc)
            raise SessionError(message) from None
        except OSError as exc:
            raise SessionError(f"the console at {self._url} does not answer ({exc})") from None

    def _fresh(self) -> Session:
        st = (self._dir / Session.LOG).stat()
        key = (st.st_size, st.st_mtime_ns)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, Session.load(self._dir, read_only=True))
        return self._cache[1]

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(getattr(Session, name)).bind(None, *args, **kwargs)
        kw = {k: v for k, v in list(bound.arguments.items())[1:]}
        result = self._post("/api/act", {"call": name, "kwargs": kw})["result"]
        local = self._fresh()
        if name == "adjudicate":
            return local.state.adjudications[-1]
        if name == "resolve":
            return local.state.moves[-1]
        return result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.WRITES:
            return functools.partial(self._call, name)
        return getattr(self._fresh(), name)
