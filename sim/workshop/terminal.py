"""Terminal mode: the same session as the web console, driven from a command prompt.

Every command maps to one Session call (one event in the log), so a session started here
can be resumed in the browser and the other way round. Type ``help`` at the prompt.
"""

from __future__ import annotations

import cmd
import shlex
import sys
from pathlib import Path
from typing import TextIO

from sim.errors import InputError
from sim.workshop.documents import export_all
from sim.workshop.render import projector_html
from sim.workshop.session import Session
from sim.workshop.views import msel_status


class Console(cmd.Cmd):
    intro = "Crisis workshop console. Type 'help' or '?' for commands; 'status' to see where you are."
    prompt = "(facilitator) "

    def __init__(self, session: Session, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
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
        except (ValueError, IndexError) as exc:
            self._say(f"! could not read that command: {exc}")
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
        if S.move:
            self._say("due injects: " + (", ".join(self.s.due_injects()) or "none"))
            self._say("submitted: " + (", ".join(f"{a}: {x.action}" for a, x in S.pending.items()) or "none"))

    def do_brief(self, arg: str) -> None:
        """brief: print the road-to-crisis briefing."""
        sc = self.s.state.spec.scenario
        self._say(sc.briefing or sc.summary)

    def do_injects(self, arg: str) -> None:
        """injects: the MSEL with each inject's status (facilitator only)."""
        statuses = msel_status(self.s)
        for inj in self.s.state.spec.scenario.injects:
            when = f"move {inj.turn}" if inj.kind == "scheduled" else inj.kind
            self._say(f"  {inj.id:<6} {when:<12} {statuses[inj.id]:<9} {inj.title}")

    def do_options(self, arg: str) -> None:
        """options ACTOR: the moves ACTOR may make now, with their targets."""
        for action, targets in self.s.admissible(arg.strip()).items():
            self._say(f"  {action:<22} {', '.join(targets)}")

    def do_propose(self, arg: str) -> None:
        """propose ACTOR: the AI's proposal for ACTOR and why."""
        p = self.s.ai_proposal(arg.strip())
        tgt = f" toward {p['target']}" if p["target"] else ""
        why = ", ".join(f"{n} {w:+.2f}" for n, w in p["drivers"])
        self._say(f"  {p['actor']}: {p['label']}{tgt} (p={p['probability']:.2f}); drivers: {why}; "
                  f"restraint: {p['restraint'][0]} {p['restraint'][1]:+.2f}")

    # -------------------------------------------------------------- flow

    def do_move(self, arg: str) -> None:
        """move: start the next move (situation phase); lists the injects now due."""
        due = self.s.start_move()
        self._say(f"move {self.s.state.move}: due injects: {', '.join(due) or 'none'}")

    def do_phase(self, arg: str) -> None:
        """phase NAME: situation, deliberation, submission, adjudication, readout, hotwash, endex."""
        self.s.set_phase(arg.strip())

    def do_timer(self, arg: str) -> None:
        """timer MINUTES: start a countdown for this phase; 'timer +N' adds N minutes."""
        a = arg.strip()
        if a.startswith("+"):
            self.s.add_time(float(a[1:]))
        else:
            self.s.start_timer(float(a))

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
        chance is drawn, and one that does not happen can still be released edited ('new ID ...')."""
        if not self.s.release(arg.strip()):
            self._say(f"  {self.s.state.headlines[-1].text}")

    def do_new(self, arg: str) -> None:
        """new ID TO "TITLE" "TEXT": write and release a new inject (TO = all or an actor)."""
        iid, to, title, text = shlex.split(arg)
        if not self.s.release(inject={"id": iid, "title": title, "text": text, "kind": "contingency", "to": [to]}):
            self._say(f"  {self.s.state.headlines[-1].text}")

    def do_hold(self, arg: str) -> None:
        """hold ID: hold a due inject."""
        self.s.hold(arg.strip())

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

    def do_ai(self, arg: str) -> None:
        """ai [ACTOR]: AI and hybrid seats submit their proposals (or just ACTOR's)."""
        self.s.submit_ai(arg.strip() or None)
        self._say("  submitted: " + ", ".join(f"{a}: {x.action}" for a, x in self.s.state.pending.items()))

    def do_adjudicate(self, arg: str) -> None:
        """adjudicate ACTOR model | ruling succeed|fail "REASON" | matrix P ["ARGUMENTS"]"""
        parts = shlex.split(arg)
        actor, mode = parts[0], parts[1]
        if mode == "ruling":
            adj = self.s.adjudicate(actor, "ruling", success=parts[2] == "succeed", reason=parts[3])
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

    def do_forecast(self, arg: str) -> None:
        """forecast [N]: outcome spread of N AI-played continuations from now (default 1000)."""
        f = self.s.forecast(int(arg) if arg.strip() else 1000)
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


def run_console(session: Session) -> int:
    """The console on this terminal (or on piped commands, for scripted sessions)."""
    Console(session, stdin=None if sys.stdin.isatty() else sys.stdin).cmdloop()
    return 0
