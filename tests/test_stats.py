"""Paired and unpaired intervals for two conditions (sim.analysis.stats, sim.analysis.levers.compare)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.levers import compare, pairing
from sim.analysis.stats import newcombe_diff, newcombe_paired, paired_counts


def _runs(flags: np.ndarray, seed: int = 7) -> pd.DataFrame:
    return pd.DataFrame({"run": np.arange(len(flags)), "seed": seed, "use_of_force": flags.astype(bool)})


def test_paired_counts_and_margins():
    x = np.array([1, 1, 0, 0, 1], bool)
    y = np.array([1, 0, 1, 0, 1], bool)
    assert paired_counts(x, y) == (2, 1, 1, 1)
    with pytest.raises(ValueError):
        paired_counts(x, y[:3])


def test_newcombe_paired_worked_example():
    """Bentur et al. 2009 (Fagerland, Lydersen & Laake 2017, ch. 8): 1/1/7/12 pairs. Their
    correlation is below Newcombe's continuity correction (1*12 - 1*7 < 21/2), so phi = 0 and the
    interval is the square-and-add of the two Wilson intervals, as for independent samples."""
    d, lo, hi = newcombe_paired(1, 1, 7, 12)
    assert d == pytest.approx(6 / 21)
    assert 0.0 < lo < d < hi < 0.55
    assert (lo, hi) == pytest.approx(newcombe_diff(2, 21, 8, 21)[1:])


def test_paired_interval_narrower_when_runs_agree():
    """Correlated runs (the usual case with common seeds): the paired interval is narrower; with no
    discordant pairs the difference is zero and its interval tight around it."""
    d, lo, hi = newcombe_paired(100, 30, 10, 1860)
    _, ulo, uhi = newcombe_diff(130, 2000, 110, 2000)
    assert lo < d < hi and (hi - lo) < 0.6 * (uhi - ulo)
    d0, lo0, hi0 = newcombe_paired(200, 0, 0, 1800)
    assert d0 == 0 and -0.002 < lo0 <= 0 <= hi0 < 0.002


def test_compare_pairs_only_common_seeds():
    rng = np.random.default_rng(0)
    base = rng.random(3000) < 0.15
    alt = base & (rng.random(3000) > 0.2)  # the condition removes a fifth of the events, run for run
    a, b = _runs(base), _runs(alt).sample(frac=1.0, random_state=1)  # row order does not matter
    assert pairing(a, b) is not None
    paired = compare(a, b, "use_of_force")
    assert paired["paired"] and paired["diff_high"] < 0
    assert paired["diff_high"] - paired["diff_low"] < paired["unpaired_high"] - paired["unpaired_low"]
    other_seed = compare(a, _runs(alt, seed=8), "use_of_force")
    assert not other_seed["paired"] and other_seed["diff_low"] == other_seed["unpaired_low"]
    off = compare(a, b, "use_of_force", paired=False)
    assert not off["paired"] and off["diff_low"] == paired["unpaired_low"]


def test_sweep_points_are_paired_with_common_seeds():
    from sim.analysis.levers import point_comparison

    rng = np.random.default_rng(3)
    base = rng.random(2000) < 0.2
    frames = [_runs(base).assign(point=0), _runs(base & (rng.random(2000) > 0.3)).assign(point=1)]
    common = point_comparison(pd.concat(frames, ignore_index=True))
    assert common.loc[1, "paired"] and common.loc[1, "diff_high"] < 0
    frames[1]["seed"] = 99  # common_random_numbers: false gives each point its own seed
    own = point_comparison(pd.concat(frames, ignore_index=True))
    assert not own.loc[1, "paired"] and own.loc[1, "diff_low"] == own.loc[1, "unpaired_low"]
    with pytest.raises(KeyError):
        point_comparison(pd.concat(frames, ignore_index=True), reference=5)


def test_runs_for_power_has_an_answer_where_the_solver_has_none():
    """statsmodels' root finder returns NaN for effects far outside its bracket (check-claims crashed on a
    claim whose effect was 20 standard deviations from its threshold); a huge effect needs a handful of runs,
    a vanishing one more than any run count, and an ordinary one agrees with the solver."""
    from statsmodels.stats.power import TTestPower

    from sim.analysis.stats import runs_for_power

    assert runs_for_power(1.0, 20.0) <= 3 and runs_for_power(1.0, 100.0) <= 3
    assert runs_for_power(1.0, 1e-9) == 10**9 or runs_for_power(1.0, 1e-9) > 10**12
    n = TTestPower().solve_power(effect_size=0.1, alpha=0.05, power=0.9, alternative="two-sided")
    assert runs_for_power(1.0, 0.1) == math.ceil(n)
