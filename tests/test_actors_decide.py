"""Actors that decide: the behavioural targets, as seeded statistical tests (5,000 runs each).

Each target is a pattern from the record that the engine must produce through its actors'
choices (no rule names a scenario or a case). Tolerances are on the Wilson 95% interval: the
bound on the far side of the target must clear it, so sampling noise cannot pass a miss.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from sim.analysis import patterns as pt
from sim.analysis.stats import wilson
from sim.experiments.perform import perform
from sim.inputs.condition import Condition
from sim.inputs.library import SCENARIOS_DIR

RUNS = 5_000
SEED = 1
SCENARIOS = ("taiwan_strait", "taiwan_visit", "senkaku", "south_china_sea", "us_china_intercept",
             "korean_peninsula", "dprk_collapse", "regional_missiles", "japan_korea")


@cache
def results(name: str, *overrides: tuple[str, object]):
    cond = Condition(str(SCENARIOS_DIR / f"{name}.yaml"), overrides=overrides)
    return perform({name: cond}, RUNS, SEED, events=True)[name]


#: Targets the model does not meet yet (strict: one that starts passing fails, so the list stays true).
#: Measured at 5,000 runs, seed 1; open work of the "Actors that decide" issue.
GAP = {
    "noise": "halving vs doubling every temperature still moves use of force more than the largest lever: by under "
             "1.3 points in the Taiwan Strait and the regional deployments, where force is rare contact "
             "accidents and no lever moves it by a point; by 15 points in the DPRK collapse, where sharper choices "
             "make the ROK's "
             "and DPRK's declared answers to a strike likelier (MODEL.md 6.0)",
}
TAU_MET = {"korean_peninsula", "senkaku", "south_china_sea", "us_china_intercept", "japan_korea", "taiwan_visit"}


def gap(key: str):
    return pytest.mark.xfail(reason=GAP[key], strict=True)


def at_least(share: pt.Share, p: float) -> None:
    lo, _ = wilson(share.k, share.n)
    assert lo >= p, f"{share} (95% low {lo:.1%}) is not at least {p:.0%}"


def below(share: pt.Share, p: float) -> None:
    _, hi = wilson(share.k, share.n)
    assert hi < p, f"{share} (95% high {hi:.1%}) is not below {p:.0%}"


def test_prc_answers_an_independence_step_with_military_display():
    at_least(pt.share(pt.responded(results("taiwan_strait"), "PRC", "show_of_force", 3)), 0.80)


def test_prc_answers_a_senior_visit_with_display_and_a_suspended_channel():
    res = results("taiwan_visit")
    at_least(pt.share(pt.responded(res, "PRC", "grey_zone", 3)), 0.70)
    at_least(pt.share(pt.took(res, "PRC", ["suspend_channel"])), 0.40)


def test_an_air_collision_is_settled_by_negotiation():
    at_least(pt.share(pt.settled_within(results("us_china_intercept"), 21)), 0.50)


def test_no_military_signalling_by_the_us_after_an_air_collision():
    below(pt.share(pt.took(results("us_china_intercept"), "US", ["mobilisation", "missile_test", "long_range_test"])),
          0.10)


def test_dprk_test_tempo_is_that_of_its_record():
    res = results("korean_peninsula")
    assert np.median(pt.counts(res, "DPRK", ["long_range_test"])) <= 1
    below(pt.share(pt.took(res, "DPRK", ["nuclear_test"])), 0.05)


def test_force_on_the_peninsula_is_mostly_chosen():
    at_least(pt.chosen_first_force(results("korean_peninsula")), 0.50)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_war_has_a_named_cause_and_nuclear_dyads_do_not_fight(name):
    res = results(name)
    war = pt.wars_attributed(res)
    assert war.k == war.n, f"{war.n - war.k} wars without a cause"
    below(pt.nuclear_dyad_war(res), 0.02)


@pytest.mark.parametrize("name", [n if n in TAU_MET else pytest.param(n, marks=gap("noise")) for n in SCENARIOS])
def test_choice_noise_moves_force_less_than_the_papers_levers(name):
    """Halving or doubling every temperature moves P(use of force) less than the scenario's largest lever."""
    from sim.analysis.credible_range import lever_effects

    path = str(SCENARIOS_DIR / f"{name}.yaml")
    conds = {"cold": Condition(path, overrides=(("parameters.temperature_scale", 0.5),)),
             "hot": Condition(path, overrides=(("parameters.temperature_scale", 2.0),))}
    res = {k: r.runs for k, r in perform(conds, RUNS, SEED).items()}
    spread = abs(res["hot"]["use_of_force"].mean() - res["cold"]["use_of_force"].mean())
    effects = lever_effects(path, RUNS, SEED).set_index("lever")["effect_own"].abs()
    assert len(effects), f"{name} has no levers"
    assert spread < effects.max(), f"temperature spread {spread:.3f} vs levers {effects.to_dict()}"
