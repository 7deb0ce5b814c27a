"""Time is in days: the same scenario gives the same outcomes by day whatever its turn length.

The rules step a day at a time (turns longer than a day are several steps; a workshop move is one
turn), every rate, window and hazard is per day, and scheduled injects fall due by day. A rule
counted in turns would make these distributions differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from sim.experiments.perform import perform
from sim.inputs.condition import Condition
from sim.inputs.library import SCENARIOS_DIR

RUNS = 5_000


def by_turn_length(name: str, days: int, hours: tuple[int, ...]) -> dict[str, pd.DataFrame]:
    conds = {f"{h}h": Condition(str(SCENARIOS_DIR / f"{name}.yaml"),
                                overrides=(("turns.hours", float(h)), ("turns.max", days * 24 // h)))
             for h in hours}
    return {k: r.runs for k, r in perform(conds, RUNS, 3).items()}


@pytest.mark.parametrize(("name", "days"), [("korean_peninsula", 60), ("senkaku", 28)])
def test_outcomes_by_day_do_not_depend_on_turn_length(name, days):
    runs = by_turn_length(name, days, (24, 48, 96))
    rows = []
    for k, r in runs.items():
        ended = pd.cut(r["duration_days"], np.unique([0, 7, 14, 21, 28, 45, days + 1])).astype(str)
        rows.append(pd.DataFrame({"turns": k, "cell": r["outcome"].astype(str) + "|" + ended}))
    both = pd.concat(rows, ignore_index=True)
    table = pd.crosstab(both["cell"], both["turns"])
    table = table[table.sum(axis=1) >= 10]
    p = chi2_contingency(table.to_numpy())[1]
    assert p > 0.01, f"outcome x duration (days) differs by turn length (chi2 p = {p:.2g})\n{table}"
    force = [r["first_force_day"].le(days / 2).mean() for r in runs.values()]
    assert max(force) - min(force) < 0.02


def test_turn_length_changes_only_how_days_are_grouped(specs):
    """The 24-hour and 96-hour versions take the same days: their durations and first-force days agree."""
    runs = by_turn_length("korean_peninsula", 60, (24, 96))
    a, b = runs["24h"], runs["96h"]
    np.testing.assert_array_equal(a["duration_days"], b["duration_days"])
    assert (b["turns"] == np.ceil(b["duration_days"] / 4)).all()
