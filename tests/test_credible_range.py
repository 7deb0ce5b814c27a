"""Issue 13's third target: credible range of P(use of force) vs the largest lever (sim.analysis.credible_range)."""

from __future__ import annotations

import pandas as pd

from sim.analysis import credible_range as C
from sim.inputs.library import SCENARIOS_DIR

SCEN = SCENARIOS_DIR / "senkaku.yaml"



def test_lever_effects_are_paired_on_common_seeds():
    a = C.lever_effects(SCEN, runs=30, seed=3)
    b = C.lever_effects(SCEN, runs=30, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert "coast_guard_rules" in set(a.lever) and set(a.columns) == {"lever", "measure", "effect_own", "effect_force"}


def test_credible_row_and_table(posterior):
    row = C.credible_vs_levers(SCEN, draws=3, runs=30, lever_runs=30, seed=1, posterior=posterior)
    assert 0 <= row["draw_p05"] <= row["draw_p95"] <= 1 and row["width"] >= 0 and row["binomial_width"] >= 0
    assert row["narrower"] == (row["width"] < abs(row["lever_force_effect"]))
    assert row["lever_force_measure"] == "use_of_force" and row["lever_own"]
    text = C.credible_markdown([row])
    assert text.count("\n") == 3 and "| senkaku |" in text


def test_verdicts():
    row = {"width": 0.004, "lever_force_effect": -0.002}
    assert C.verdict(row) == "no"
    assert C.verdict({**row, "lever_force_effect": -0.01}) == "yes"
    assert C.verdict({"width": 0.0, "lever_force_effect": 0.0}) == "neither moves force"
    assert C.verdict({"width": 0.002, "runs": 500, "lever_force_effect": 0.0}) == "neither moves force"
    assert C.verdict({"width": 0.004, "runs": 500, "lever_force_effect": 0.0}) == "no"
