"""Behaviour tests per actor, each tied to the passage it checks.

One shared harness: a *condition* (``sim.inputs.condition.Condition``: a scenario with
overrides, or with one posture preference ablated) is run once through ``perform`` for 2,000
seeded runs; a *measure* turns the results into a proportion k/n; a *case* states what the
passage implies as a bound on a Wilson 95% interval, or as a difference between two
conditions whose 95% interval (Newcombe) must exclude zero. Read the CASES table as the
specification.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.stats import newcombe_diff, wilson
from sim.engine.ensemble import Results
from sim.experiments.perform import perform
from sim.inputs.catalogue import load_catalogue
from sim.inputs.condition import Condition
from sim.inputs.library import SCENARIOS_DIR

RUNS, SEED = 2000, 20200603
EVALUATOR = None  # perform's default (this process); any evaluator perform accepts spreads the runs
CAT = load_catalogue()
ROOT = Path(__file__).resolve().parent.parent
PAPERS = Path(os.environ.get("CRISIS_SIM_PAPERS", ROOT.parent / "shared" / "seeds" / "000_78ff8fc81756eca7.txt"))
ANSWER_DAYS = 3  # days after an attack in which a patron's answer counts as support (as the 3-day response targets)
SUPPORT = ("force_deployment", "military_exercise", "reassure_ally", "missile_deployment")
DIALOGUE = ("propose_talks", "multilateral_talks", "restore_channel", "humanitarian_offer", "request_mediation",
            "hotline_call")


def rung(name: str) -> int:
    return CAT.rung_index(name)


# --------------------------------------------------------------------------- conditions


def scenario(name: str, *overrides: tuple[str, object]) -> Condition:
    """A shipped scenario with dotted-path overrides."""
    return Condition.of(SCENARIOS_DIR / f"{name}.yaml", overrides=overrides)


def ablate_affinity(name: str, actor: str, action: str) -> Condition:
    """The scenario with one posture preference removed (to show it is what produces the behaviour).

    The action's affinity is set to 0; the actor must have no affinity for the action's category."""
    return scenario(name, (f"postures.{actor}.affinity.{action}.value", 0.0))


@cache
def results(cond: Condition) -> Results:
    return perform({cond.name: cond}, RUNS, SEED, events=True, evaluator=EVALUATOR)[cond.name]


# --------------------------------------------------------------------------- measures (-> k, n)


def share_of_moves(actor: str, actions: tuple[str, ...], among: Callable | None = None):
    """Share of the actor's own (non-scripted) moves, holding aside, that are among ``actions``."""
    def m(res: Results):
        e = res.events
        e = e[(e.actor == actor) & ~e.scripted & (e.action != "hold")]
        if among is not None:
            e = e[among(e)]
        return int(e.action.isin(actions).sum()), len(e)
    return m


def share_force_among_escalation(actor: str):
    def m(res: Results):
        e = res.events
        e = e[(e.actor == actor) & ~e.scripted & (e.rung_intended.cat.codes >= rung("protest"))]
        return int((e.rung_intended.cat.codes >= rung("harass")).sum()), len(e)
    return m


def runs_reaching(actor: str, floor: str):
    """Share of runs in which the actor deliberately acts at or above ``floor``."""
    def m(res: Results):
        e = res.events
        hit = e[(e.actor == actor) & (e.rung_intended.cat.codes >= rung(floor))].run.nunique()
        return int(hit), len(res.runs)
    return m


def runs_initiating_force(actor: str):
    """Runs where the actor is first to choose force, with no accident before it."""
    def m(res: Results):
        e = res.events
        force = e[e.rung_intended.cat.codes >= rung("harass")]
        first = force.groupby("run").turn.min()
        k = 0
        for run, t0 in first.items():
            g = e[(e.run == run) & (e.turn <= t0)]
            starters = set(g[(g.turn == t0) & (g.rung_intended.cat.codes >= rung("harass"))].actor.astype(str))
            if actor in starters and not g.incident.any():
                k += 1
        return k, len(res.runs)
    return m


def support_after_attack(patron: str, ally: str, attacker: str, attacked: bool = True):
    """Share of the patron's moves (holding aside, as in ``share_of_moves``: a crisis that lasts longer has
    more quiet days, which says nothing of whom the patron backs) that support its ally, in the three days
    after the ally was attacked (``attacked=True``) or at all other times (``False``): a window in days, so it
    does not depend on the turn length."""
    def m(res: Results):
        e = res.events
        hit = e[(e.actor == attacker) & (e.target == ally) & (e.rung_realised.cat.codes >= rung("harass"))]
        marked = {(r, int(t) + d) for r, t in zip(hit.run, hit.day, strict=True) for d in range(1, ANSWER_DAYS + 1)}
        p = e[(e.actor == patron) & ~e.scripted & (e.action != "hold")]
        sel = np.array([(r, int(t)) in marked for r, t in zip(p.run, p.day, strict=True)], bool)
        sel = sel if attacked else ~sel
        return int(p.action.isin(SUPPORT).to_numpy()[sel].sum()), int(sel.sum())
    return m


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    actor: str
    paper: str
    locator: str
    claim: str
    condition: Condition
    measure: Callable
    below: float | None = None  # Wilson upper bound must be below this
    above: float | None = None  # Wilson lower bound must be above this
    exceeds: tuple[Condition, Callable] | None = None  # difference vs this must be > 0 (95%)
    margin: float = 0.0  # ... by at least this much


KIM = "Kim, US-China-Japan-ROK Cooperation for Regional Stability"
ZHANG = "Zhang, How to Maintain North-East Asia's Stability in an Era of Major Power Competition"
BADER = "Bader, NCAFP Quadrilateral Videoconference"
CHO = "Cho, Multilateral Cooperation in the Era of Major Power Competition"
RUSSEL = "Russel, Priority Issues Between China, the Republic of Korea, Japan, and the US"
DANIELS = "Daniels, Crisis Management in East Asia: Is Prosperity Without Stability Possible?"

KOREA = scenario("korean_peninsula")
#: As SENKAKU_CONTACTS below: NLL contacts at the earlier assumption (0.15), so that ROK is attacked often enough
#: to observe the US answer.
KOREA_CONTACTS = scenario("korean_peninsula", ("encounters.0.collision", 0.15))
TAIWAN = scenario("taiwan_strait")
TAIWAN_NO_TRIGGER = scenario("taiwan_strait", ("injects", []))
SENKAKU = scenario("senkaku")
#: Contact accidents at the coast guards' record rate are too rare (about 0.4% of runs) to observe the US
#: answer to an attack on Japan; this stress condition raises the chance an unsafe encounter collides to the
#: earlier assumption (0.08), so a case about the response is not a case about the accident rate.
SENKAKU_CONTACTS = scenario("senkaku", ("encounters.0.collision", 0.08))

CASES = [
    Case("dprk_provokes_below_force", "DPRK", KIM, "North Korea will be taking a cautious but provocative attitude",
         "Under sanctions with talks stalled, DPRK escalation stays below the use of force.",
         KOREA, share_force_among_escalation("DPRK"), below=0.05),
    Case("dprk_prefers_short_range_tests", "DPRK", KIM,
         "the Kim Jong Un regime recently test-fired short-range ballistic missiles",
         "Short-range missile tests are most (over half) of the DPRK's military provocations.",
         KOREA, share_of_moves("DPRK", ("missile_test",),
                               among=lambda e: e.rung_intended.cat.codes >= rung("show_of_force")), above=0.5),
    Case("dprk_holds_back_range", "DPRK", KIM, "North Korea has not rapidly increased the ballistic missile range",
         "While the cautious course holds (before the border reopens on day 19), long-range tests are rare.",
         KOREA, share_of_moves("DPRK", ("long_range_test",), among=lambda e: e.day < 19), below=0.02),
    Case("dprk_turns_to_range_when_course_fails", "DPRK", KIM,
         "if Kim ultimately finds this cautious tactic unworkable, he will take more provocative",
         "Once the border reopens with no relief offered, long-range tests become markedly more frequent.",
         KOREA, share_of_moves("DPRK", ("long_range_test",), among=lambda e: e.day > 19),
         exceeds=(KOREA, share_of_moves("DPRK", ("long_range_test",), among=lambda e: e.day < 19)), margin=0.02),
    Case("dprk_long_range_if_cautious_fails", "DPRK", KIM,
         "North Korea will then rapidly move to test mid-to long-range ballistic missiles",
         "The long_range variant tests longer-range missiles far more often than the cautious posture.",
         scenario("korean_peninsula", ("actors.0.variant", "long_range")),
         share_of_moves("DPRK", ("long_range_test",)), exceeds=(KOREA, share_of_moves("DPRK", ("long_range_test",))),
         margin=0.01),  # tempo-capped: the variant doubles the share of long-range tests among the DPRK's moves
    Case("prc_no_force_without_trigger", "PRC", ZHANG, "strive for a peaceful reunification",
         "Absent an independence move, the PRC does not initiate the use of force.",
         TAIWAN_NO_TRIGGER, runs_initiating_force("PRC"), below=0.01),
    Case("prc_deters_independence_move", "PRC", ZHANG,
         "remain resolute against Taiwan independence and manifest a strong military deterrence",
         "An independence move draws PRC military signalling far more often than no move.",
         TAIWAN, runs_reaching("PRC", "show_of_force"),
         exceeds=(TAIWAN_NO_TRIGGER, runs_reaching("PRC", "show_of_force")), margin=0.15),
    Case("twn_keeps_status_quo", "TWN", RUSSEL,
         "a shift in the status quo will either be dangerous and potentially violent",
         "Taipei does not move toward independence on its own initiative.",
         TAIWAN_NO_TRIGGER, share_of_moves("TWN", ("sovereignty_assertion",)), below=0.002),
    Case("jpn_avoids_unilateral_steps", "JPN", BADER,
         "Japan should avoid unilateral steps that alter the situation on the islands",
         "A Japan that follows Bader's advice (the `refrains` variant: a recommendation, not the 2012 record) "
         "rarely takes unilateral steps on the islands ...",
         scenario("senkaku", ("actors.0.variant", "refrains")), share_of_moves("JPN", ("sovereignty_assertion",)),
         below=0.005),
    Case("jpn_restraint_comes_from_posture", "JPN", BADER,
         "Japan should avoid unilateral steps that alter the situation on the islands",
         "... and it is the posture that restrains it: without that preference it would take them more often.",
         ablate_affinity("senkaku", "JPN", "sovereignty_assertion"),
         share_of_moves("JPN", ("sovereignty_assertion",)),
         exceeds=(SENKAKU, share_of_moves("JPN", ("sovereignty_assertion",))), margin=0.01),
    Case("jpn_middle_power_convenes", "JPN", DANIELS,
         "Japan was the obvious choice in this four-country grouping to play a larger balancing role",
         "A middle-power Japan convenes talks and seeks mediation more than a domestically constrained one.",
         scenario("senkaku", ("actors.0.variant", "middle_power")),
         share_of_moves("JPN", ("multilateral_talks", "request_mediation")),
         exceeds=(scenario("senkaku", ("actors.0.variant", "constrained")),
                  share_of_moves("JPN", ("multilateral_talks", "request_mediation"))), margin=0.005),
    Case("us_defends_japan", "US", BADER, "it is committed to the defense of Japan, including the islands",
         "When Japan is attacked, the US supports it far more than in other turns.",
         SENKAKU_CONTACTS, support_after_attack("US", "JPN", "PRC"),
         exceeds=(SENKAKU_CONTACTS, support_after_attack("US", "JPN", "PRC", attacked=False)), margin=0.2),
    Case("us_defends_rok", "US", BADER, "The US alliances with Japan and the Republic of Korea enhance stability",
         "When the ROK is attacked, the US supports it far more than in other turns.",
         KOREA_CONTACTS, support_after_attack("US", "ROK", "DPRK"),
         exceeds=(KOREA_CONTACTS, support_after_attack("US", "ROK", "DPRK", attacked=False)), margin=0.2),
    Case("us_cash_cows_weakens_support", "US", BADER, "should not treat its allies as cash cows",
         "A transactional US supports Japan less often than a partner US.",
         SENKAKU, support_after_attack("US", "JPN", "PRC", attacked=False),
         exceeds=(scenario("senkaku", ("actors.2.variant", "cash_cows")),
                  support_after_attack("US", "JPN", "PRC", attacked=False)), margin=0.03),
    Case("rok_prefers_dialogue", "ROK", CHO,
         "initiating inter-Korean summits and facilitating bilateral US-North Korea summits",
         "The ROK turns to inter-Korean and multilateral dialogue far more often than the US does.",
         KOREA, share_of_moves("ROK", DIALOGUE), exceeds=(KOREA, share_of_moves("US", DIALOGUE)), margin=0.03),
]


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


#: Cases the model does not meet yet, with what it does instead (strict: a case that starts passing fails here,
#: so this list stays true). Open work of the "Actors that decide" issue.
KNOWN_GAPS = {
    "jpn_restraint_comes_from_posture": "with habit priors Japan's unilateral steps are rare whatever its affinity: "
                                        "ablating the affinity raises them from 0.02% to 0.14% of its moves, a "
                                        "seven-fold rise but short of the one-point margin",
}


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_GAPS[c.id], strict=True))
                                  if c.id in KNOWN_GAPS else c for c in CASES], ids=[c.id for c in CASES])
def test_behaviour(case: Case):
    if PAPERS.exists():
        assert norm(case.locator) in norm(PAPERS.read_text(encoding="utf-8")), case.locator
    k, n = case.measure(results(case.condition))
    assert n >= 100, f"too few observations ({n}) to test {case.id}"
    lo, hi = wilson(k, n)
    p = k / n
    where = f"{case.actor} in {case.condition.name}: {k}/{n} = {p:.4f} [{float(lo):.4f}, {float(hi):.4f}]"
    if case.below is not None:
        assert hi < case.below, f"{case.claim} {where}, expected < {case.below}"
    if case.above is not None:
        assert lo > case.above, f"{case.claim} {where}, expected > {case.above}"
    if case.exceeds is not None:
        cond2, m2 = case.exceeds
        k2, n2 = m2(results(cond2))
        assert n2 >= 100
        _, d_lo, _ = newcombe_diff(k2, n2, k, n)  # p - p2 with its 95% interval
        assert d_lo > case.margin, (f"{case.claim} {where} vs {cond2.name}: {k2}/{n2} = {k2 / n2:.4f}; "
                                    f"difference lower bound {d_lo:.4f} <= {case.margin}")
