"""Parameter uncertainty: the ensemble over posterior draws (sim.analysis.uncertainty, run --posterior)."""

from __future__ import annotations

import numpy as np

from sim.analysis import uncertainty as U
from sim.cli import main
from sim.inputs.condition import Condition
from sim.inputs.library import SCENARIOS_DIR

SCEN = SCENARIOS_DIR / "senkaku.yaml"



def test_draws_are_seeded_and_carry_the_values(posterior):
    post = U.read_posterior(posterior)
    a = U.draw_conditions(Condition.of(SCEN), post, 6, seed=4)
    b = U.draw_conditions(Condition.of(SCEN), post, 6, seed=4)
    assert [c.overrides for c in a.values()] == [c.overrides for c in b.values()]
    assert {c.overrides[0][1] for c in a.values()} <= {0.5, 2.0}


def test_total_interval_contains_the_sampling_one(posterior):
    t = U.posterior_ensemble(Condition.of(SCEN), draws=6, runs=150, seed=1, posterior=posterior)
    row = t.loc["escalation"]
    assert row.total_low <= row.sampling_low <= row.p <= row.sampling_high <= row.total_high
    assert row.parameter_sd > 0 and (row.total_high - row.total_low) > 1.5 * (row.sampling_high - row.sampling_low)
    assert np.isclose(t.loc["incidents", "p"], t.loc["incidents", "p"])
    assert "| military display or worse (`escalation`) |" in U.intervals_markdown(t)


def test_run_posterior_cli(posterior, tmp_path, capsys):
    out = tmp_path / "post"
    assert main(["run", str(SCEN), "--posterior", "3", "--runs", "40", "--posterior-file", str(posterior),
                 "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "sampling_low" in text and "total_high" in text
    assert (out / "posterior_intervals.md").exists()
    assert main(["run", str(SCEN), "--posterior", "1", "--runs", "40", "--posterior-file", str(posterior)]) == 2
    assert main(["run", str(SCEN), "--posterior", "3", "--posterior-file", str(tmp_path / "none.csv")]) == 2
