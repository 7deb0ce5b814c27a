"""Statistics against known values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis import format_summary, outcome_table, top_paths, wilson


def test_wilson_known_values():
    lo, hi = wilson(5, 10)
    assert np.isclose(lo, 0.2365930, atol=1e-6) and np.isclose(hi, 0.7634070, atol=1e-6)
    lo, hi = wilson(0, 20)
    assert lo == 0 and np.isclose(hi, 0.1611251, atol=1e-6)
    lo, hi = wilson(81, 263)
    assert np.isclose(lo, 0.2553, atol=1e-4) and np.isclose(hi, 0.3662, atol=1e-4)


def test_tables_on_a_tiny_result_set():
    runs = pd.DataFrame({
        "outcome": pd.Categorical(["frozen_stalemate"] * 3 + ["major_war"],
                                  categories=["frozen_stalemate", "major_war"]),
        "use_of_force": [False, False, False, True],
        "incidents": [0, 1, 0, 2],
        "path": ["a>b", "a>b", "a", "a>b>c"],
        "turns": [3, 4, 5, 6],
        "peak_rung": pd.Categorical(["b", "b", "a", "c"], categories=["a", "b", "c"]),
    })
    t = outcome_table(runs)
    assert t.loc["major_war", "count"] == 1 and t.loc["use_of_force", "share"] == 0.25
    assert t.loc["any_incident", "count"] == 2
    p = top_paths(runs)
    assert p.index[0] == "a>b" and p.iloc[0]["count"] == 2
    assert "a>b" in format_summary(runs, "t")
