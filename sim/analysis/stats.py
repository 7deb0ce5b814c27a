"""Interval statistics for proportions, differences, ratios and times, and the one verdict rule.

Every table, report, lever study, claim check and behaviour test reads its numbers through
these functions, so "95%" and "the model agrees" mean the same everywhere:

- Probabilities carry 95% Wilson score intervals.
- Differences between two conditions use Newcombe's hybrid score interval, risk ratios the
  Katz log interval. When the two conditions share seeds (run *i* meets the same draws in
  both), the difference uses Newcombe's paired interval (:func:`newcombe_paired`, method 10 of
  Newcombe 1998b), which is narrower whenever the runs are correlated; the unpaired interval
  stays available (it is conservative for paired runs).
- A verdict compares a difference's interval with an expected direction (:func:`verdict`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


# =============================================================================== proportions


def wilson(k: int | np.ndarray, n: int | np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (vectorised)."""
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact at the ends: 0 of n has lower bound 0 (not a rounding residue such as 8.7e-17)
    lo = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
    hi = np.where(k == n, 1.0, np.clip(centre + half, 0, 1))
    return (lo, hi) if lo.ndim else (lo[()], hi[()])


def share_row(k: int, n: int) -> dict[str, float]:
    """count, n, share and its Wilson interval as one table row."""
    lo, hi = wilson(k, n)
    return {"count": int(k), "n": int(n), "share": k / n if n else math.nan,
            "ci_low": float(lo), "ci_high": float(hi)}


def share_frame(counts: np.ndarray, n: int | np.ndarray, index: pd.Index) -> pd.DataFrame:
    """count, share and Wilson interval for several counts out of ``n`` (one row per index entry)."""
    counts = np.asarray(counts)
    lo, hi = wilson(counts, n)
    return pd.DataFrame({"count": counts, "share": counts / n, "ci_low": lo, "ci_high": hi}, index=index)


def proportions(values: pd.Series, categories: list | None = None) -> pd.DataFrame:
    """Share of each category with its Wilson 95% interval."""
    n = len(values)
    counts = values.value_counts()
    if categories is None:
        categories = list(values.cat.categories) if hasattr(values, "cat") else list(counts.index)
    k = np.array([int(counts.get(c, 0)) for c in categories])
    lo, hi = wilson(k, n)
    return pd.DataFrame({"count": k, "share": k / max(n, 1), "ci_low": lo, "ci_high": hi},
                        index=pd.Index(categories, name=values.name))


# =============================================================================== two conditions


def newcombe_diff(k0: int, n0: int, k1: int, n1: int, z: float = Z95) -> tuple[float, float, float]:
    """p1 - p0 and Newcombe's (1998, method 10) hybrid-score 95% interval, independent samples."""
    p0, p1 = k0 / n0, k1 / n1
    lo0, hi0 = (float(x) for x in wilson(k0, n0, z))
    lo1, hi1 = (float(x) for x in wilson(k1, n1, z))
    d = p1 - p0
    return d, d - math.sqrt((p1 - lo1) ** 2 + (hi0 - p0) ** 2), d + math.sqrt((hi1 - p1) ** 2 + (p0 - lo0) ** 2)


def paired_counts(x: np.ndarray, y: np.ndarray) -> tuple[int, int, int, int]:
    """The 2x2 table of paired yes/no outcomes: (both, x only, y only, neither)."""
    x, y = np.asarray(x, bool), np.asarray(y, bool)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length ({len(x)} vs {len(y)})")
    return int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum()), int((~x & ~y).sum())


def _phi(n11: int, n10: int, n01: int, n00: int) -> float:
    """Newcombe's continuity-corrected correlation of the paired table (0 when undefined)."""
    n = n11 + n10 + n01 + n00
    a = n11 * n00 - n10 * n01
    a_star = a - n / 2 if a > n / 2 else (0.0 if a >= 0 else a)
    denom = math.sqrt(float(n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00))
    return a_star / denom if denom > 0 else 0.0


def newcombe_paired(n11: int, n10: int, n01: int, n00: int, z: float = Z95) -> tuple[float, float, float]:
    """p_y - p_x for paired yes/no outcomes and Newcombe's (1998b, method 10) score interval.

    ``n11`` runs with the event in both conditions, ``n10`` in x only, ``n01`` in y only, ``n00``
    in neither (:func:`paired_counts`). The Wilson intervals of the two margins (:func:`wilson`) are
    combined with the continuity-corrected correlation of the pairs, so the interval narrows as the
    runs agree more often."""
    n = n11 + n10 + n01 + n00
    kx, ky = n11 + n10, n11 + n01
    px, py = kx / n, ky / n
    lx, ux = (float(v) for v in wilson(kx, n, z))
    ly, uy = (float(v) for v in wilson(ky, n, z))
    phi = _phi(n11, n10, n01, n00)
    d = py - px
    lo = d - math.sqrt(max((py - ly) ** 2 - 2 * phi * (py - ly) * (ux - px) + (ux - px) ** 2, 0.0))
    hi = d + math.sqrt(max((uy - py) ** 2 - 2 * phi * (uy - py) * (px - lx) + (px - lx) ** 2, 0.0))
    return d, max(lo, -1.0), min(hi, 1.0)


def risk_ratio(k0: int, n0: int, k1: int, n1: int, z: float = Z95) -> tuple[float, float, float]:
    """p1 / p0 with the Katz log 95% interval. A zero count adds 0.5 to every cell
    (Haldane–Anscombe); two zero counts give an undefined ratio (NaN)."""
    if k0 == 0 and k1 == 0:
        return math.nan, math.nan, math.nan
    if 0 in (k0, k1) or k0 == n0 or k1 == n1:
        k0, k1, n0, n1 = k0 + 0.5, k1 + 0.5, n0 + 1, n1 + 1
    rr = (k1 / n1) / (k0 / n0)
    se = math.sqrt(1 / k1 - 1 / n1 + 1 / k0 - 1 / n0)
    return rr, rr * math.exp(-z * se), rr * math.exp(z * se)


# =============================================================================== verdicts


class Verdicts(NamedTuple):
    """The words for the three answers a verdict can give (tables and files each keep theirs)."""

    agrees: str
    disagrees: str
    unclear: str


#: Lever tables and figures: does the model agree with the papers' expected direction?
LEVER_VERDICTS = Verdicts("agrees", "disagrees", "no clear effect")
#: Claims file: is the paper's claim supported by the model?
CLAIM_VERDICTS = Verdicts("supported", "contradicted", "not significant")
#: Claims with a smallest effect that counts (:func:`practical_verdict`): the fourth answer.
NO_PRACTICAL_EFFECT = "no practical effect"
INCONCLUSIVE = "inconclusive"
#: Without an expectation: which way did the measure move?
DIRECTIONS = ("higher", "lower", "no clear change")


def verdict(diff_low: float, diff_high: float, expect: str | None, labels: Verdicts = LEVER_VERDICTS) -> str:
    """Agrees when the difference's interval lies wholly on the ``expect``ed side of zero
    ('lower'/'higher'), disagrees when wholly on the other side, else unclear. Without an
    expectation: 'higher', 'lower' or 'no clear change' (:data:`DIRECTIONS`)."""
    if expect not in ("lower", "higher"):
        higher, lower, unclear = DIRECTIONS
        return higher if diff_low > 0 else lower if diff_high < 0 else unclear
    if diff_low > 0:
        return labels.agrees if expect == "higher" else labels.disagrees
    if diff_high < 0:
        return labels.agrees if expect == "lower" else labels.disagrees
    return labels.unclear


def practical_verdict(diff_low: float, diff_high: float, expect: str, min_effect: float,
                      labels: Verdicts = CLAIM_VERDICTS) -> str:
    """A verdict that does not drift with the run count: 'no practical effect' when the interval
    lies wholly inside (-min_effect, +min_effect); else agrees/disagrees when it lies wholly on one
    side of zero (:func:`verdict`); else 'inconclusive' (more runs needed)."""
    if -min_effect < diff_low and diff_high < min_effect:
        return NO_PRACTICAL_EFFECT
    v = verdict(diff_low, diff_high, expect, labels)
    return INCONCLUSIVE if v == labels.unclear else v


def runs_for_power(sd_diff: float, shift: float, power: float = 0.9, alpha: float = 0.05) -> int:
    """Runs per arm at which a shift of ``shift`` in the mean paired difference (per-run
    differences with standard deviation ``sd_diff``) is detected with ``power`` by a two-sided
    test at ``alpha`` (``statsmodels.stats.power.TTestPower``)."""
    from statsmodels.stats.power import TTestPower
    from statsmodels.tools.sm_exceptions import ConvergenceWarning  # imported first: it sets its own filter

    if sd_diff <= 0:
        return 2
    test, size = TTestPower(), shift / sd_diff
    with warnings.catch_warnings():  # the root finder fails outside its bracket; decided below
        warnings.simplefilter("ignore", ConvergenceWarning)
        n = float(np.atleast_1d(test.solve_power(effect_size=size, alpha=alpha, power=power,
                                                 alternative="two-sided"))[0])
        if math.isfinite(n):
            return max(2, math.ceil(n))
        # no root (the solver's bracket): an effect so large that a handful of runs have the power (the
        # smallest such count, where the power is computable), or so small that no count does
        for k in range(2, 11):
            pk = float(test.power(effect_size=size, nobs=k, alpha=alpha, alternative="two-sided"))
            if math.isfinite(pk) and pk >= power:
                return k
    return 10**9


# =============================================================================== time to event


def kaplan_meier(durations: Iterable[float], observed: Iterable[bool], z: float = Z95) -> pd.DataFrame:
    """Kaplan–Meier estimate of the survival function S(t) = P(T > t).

    One row per distinct time with an event or a censoring: ``at_risk`` (T >= t),
    ``events``, ``censored``, ``survival``, its Greenwood standard error and the 95%
    log(-log) interval; ``cumulative`` = 1 - S(t) with its interval. Events at a time are
    counted before censorings at the same time (the usual convention).
    """
    t = np.asarray(list(durations), float)
    d = np.asarray(list(observed), bool)
    if len(t) != len(d):
        raise ValueError("durations and observed differ in length")
    times = np.unique(t)
    at_risk = np.array([(t >= u).sum() for u in times])
    ev = np.array([((t == u) & d).sum() for u in times])
    cens = np.array([((t == u) & ~d).sum() for u in times])
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - ev / at_risk, 1.0)
        surv = np.cumprod(factor)
        term = np.where((at_risk > ev) & (at_risk > 0), ev / (at_risk * (at_risk - ev)), 0.0)
        gw = np.cumsum(term)
        se = surv * np.sqrt(gw)
        # log(-log) interval (Kalbfleisch & Prentice): never leaves [0, 1]
        ll = np.log(-np.log(surv))
        half = z * np.sqrt(gw) / np.abs(np.log(surv))
        lo = np.exp(-np.exp(ll + half))
        hi = np.exp(-np.exp(ll - half))
    defined = (surv > 0) & (surv < 1) & np.isfinite(lo) & np.isfinite(hi)
    lo = np.where(defined, lo, surv)
    hi = np.where(defined, hi, surv)
    return pd.DataFrame({"at_risk": at_risk, "events": ev, "censored": cens, "survival": surv, "se": se,
                         "ci_low": lo, "ci_high": hi, "cumulative": 1 - surv, "cum_low": 1 - hi,
                         "cum_high": 1 - lo}, index=pd.Index(times, name="time"))


# ============================================================================ numbers for readers

SMALL = 0.001  # below 0.1%, one decimal of a percent would print 0.0%: show counts and more digits


def _percent(x: float) -> str:
    """A probability in percent with enough digits: 0.1% and up to one decimal, below that two
    significant digits (0.038%), so a tail risk is never printed as 0.0%."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    if x == 0:
        return "0%"
    return f"{100 * x:.1f}%" if x >= SMALL else f"{100 * x:.2g}%"


def fmt_share(p: float, k: int | None = None, n: int | None = None) -> str:
    """A probability as a reader should see it: ``12.3%``; below 0.1% as ``9 of 20,000 (0.045%)``;
    none as ``0 of 10,000``. ``k``/``n`` (events, runs) are used when given."""
    if k is not None and n:
        k, n = int(k), int(n)
        if k == 0:
            return f"0 of {n:,}"
        if k / n < SMALL:
            return f"{k:,} of {n:,} ({_percent(k / n)})"
    return _percent(p)


def fmt_interval(lo: float, hi: float, sep: str = " - ") -> str:
    """An interval of probabilities from its true bounds: ``[0% - 0.038%]`` for 0 of 10,000 runs."""
    if lo is None or np.isnan(lo):
        return "–"
    return f"[{_percent(lo)}{sep}{_percent(hi)}]"


def fmt_pp(d: float) -> str:
    """A difference of probabilities in signed percentage points, with digits for small ones."""
    if d is None or np.isnan(d):
        return "–"
    if d == 0:
        return "±0 pp"
    return f"{100 * d:+.1f} pp" if abs(d) >= SMALL else f"{100 * d:+.2g} pp"
