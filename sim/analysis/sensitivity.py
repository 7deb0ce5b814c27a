"""Global sensitivity and scenario discovery over scenario settings.

*Factors* are the dotted override paths of ``--set`` (``parameters.fog``,
``postures.PRC.weights.threat.value``) with a range ``(low, high)``, and levers as
switches (``levers.cooperative_frame``: on when the sampled value is at least 0.5).
Every design point is a condition run ``runs`` times with the same seed (common
random numbers), so differences between points are the factors' effect, not sampling
noise; each measure of the registry (``sim.experiments.measures``) becomes a probability per point.

- ``morris`` and ``sobol``: global sensitivity of the headline probabilities (SALib).
- ``explore``: a Latin-hypercube sample, keeping every run with its factor values.
- ``prim`` (implemented here; Friedman & Fisher 1999) and ``tree_rules`` (scikit-learn):
  scenario discovery, "under which conditions does this flashpoint reach use of force?".

SALib and scikit-learn are an optional extra: ``pip install 'crisis-sim[analysis]'``.
``explore`` and ``prim`` need neither.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.levers import scenario_levers
from sim.analysis.results import runs_of
from sim.experiments.measures import MEASURE_NAMES
from sim.experiments.measures import measure as measured
from sim.inputs.condition import Condition

LEVER_PREFIX = "levers."

#: Ranges used by ``default_factors`` for the scenario parameters (assumptions: wide but plausible).
PARAMETER_RANGES = {
    "parameters.fog": (0.05, 0.35),
    "parameters.us_china_climate": (-0.8, 0.5),
    "parameters.encounter_rules": (0.1, 0.9),
    "parameters.stress": (0.1, 0.7),
    "parameters.hotline_answer_shift": (-0.3, 0.3),
    "parameters.hostility_decay": (0.08, 0.25),
}


def _require(module: str, package: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"this needs {package}: pip install 'crisis-sim[analysis]' "
                          f"(or pip install {package})") from None


# =============================================================================== factors and evaluation


def default_factors(scenario: str | Path | Condition, terms: Sequence[str] = ("threat", "cost", "firebreak"),
                    spread: float = 0.5, levers: bool = True) -> dict[str, tuple[float, float]]:
    """A starting set of factors for a scenario: the global parameters (``PARAMETER_RANGES``),
    the decision weights ``terms`` of every actor with adversaries (its current value
    ±``spread``), and the scenario's levers as switches (except levers that set one of
    these parameters, e.g. a cooperative US–China frame is ``us_china_climate`` already)."""
    from sim.inputs.compile import compile_scenario

    spec = compile_scenario(scenario)
    out = dict(PARAMETER_RANGES)
    for sa in spec.scenario.actors:
        if not sa.adversaries:
            continue
        p = spec.postures[sa.id]
        for t in terms:
            v = (p.weights.get(t) or spec.baseline.weights[t]).value
            out[f"postures.{sa.id}.weights.{t}.value"] = (round(v * (1 - spread), 4), round(v * (1 + spread), 4))
    if levers:
        for lv in scenario_levers(scenario):
            if not any(st.path in out for st in lv.set):  # else a factor would cancel the lever
                out[f"{LEVER_PREFIX}{lv.id}"] = (0.0, 1.0)
    return out


def short_name(factor: str) -> str:
    """A readable factor name: ``postures.PRC.weights.threat.value`` -> ``PRC threat weight``."""
    parts = factor.split(".")
    if factor.startswith(LEVER_PREFIX):
        return f"lever: {factor[len(LEVER_PREFIX):]}"
    if parts[0] == "postures" and len(parts) >= 4 and parts[2] == "weights":
        return f"{parts[1]} {parts[3]} weight"
    if parts[0] == "parameters":
        return parts[1]
    return factor.removesuffix(".value")


def check_factors(scenario: str | Path, factors: Mapping[str, Any]) -> None:
    """Refuse a lever factor that sets a path which is also a factor: the factor's value
    (applied last) would silently cancel the lever."""
    from sim.errors import InputError

    defined = {lv.id: lv for lv in scenario_levers(scenario)}
    for key in factors:
        if not key.startswith(LEVER_PREFIX):
            continue
        lv = defined.get(key[len(LEVER_PREFIX):])
        if lv is None:
            raise InputError(scenario, key, f"unknown lever (known: {', '.join(defined) or 'none'})")
        clash = [st.path for st in lv.set if st.path in factors]
        if clash:
            raise ValueError(f"factor {key} sets {', '.join(clash)}, which is also a factor: its sampled value "
                             f"would override the lever; drop one of them")


def _settings(point: Mapping[str, float], factors: Mapping[str, tuple[float, float]]
              ) -> tuple[list[tuple[str, Any]], list[str]]:
    overrides, levers = [], []
    for key, value in point.items():
        if key.startswith(LEVER_PREFIX):
            if float(value) >= 0.5:
                levers.append(key[len(LEVER_PREFIX):])
            continue
        lo, hi = factors.get(key, (0.0, 1.0))
        v = float(value)
        if isinstance(lo, int) and isinstance(hi, int) and not isinstance(lo, bool):
            v = round(v)
        overrides.append((key, v))
    return overrides, levers


def point_condition(base: Condition, point: Mapping[str, float],
                    factors: Mapping[str, tuple[float, float]]) -> Condition:
    """The condition of one design point: ``base`` with the point's levers switched on and its values set."""
    overrides, on = _settings(point, factors)
    return base.plus(levers=on, overrides=overrides)


def _measures(measures: Iterable[str] | None) -> list[str]:
    names = list(measures or MEASURE_NAMES)
    for m in names:
        if m not in MEASURE_NAMES:
            raise ValueError(f"unknown measure {m!r} (known: {', '.join(MEASURE_NAMES)})")
    return names


def _kept_runs(i: int, r: pd.DataFrame, point: pd.Series, hits: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The runs of design point ``i``, with its factor values and one boolean per measure."""
    df = pd.DataFrame({"point": i, "run": r["run"].to_numpy()})
    for k, v in point.items():
        df[k] = float(v)
    for m, hit in hits.items():
        df[m] = hit
    return df


def evaluate(scenario: str | Path | Condition, design: pd.DataFrame, runs: int = 500, seed: int = 0,
             measures: Iterable[str] | None = None, factors: Mapping[str, tuple[float, float]] | None = None,
             keep_runs: bool = False, progress: bool | str = False, *, evaluator: object | None = None
             ) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Run every design point (a row of factor values) ``runs`` times with ``seed``.

    ``scenario`` is a file or a Condition whose levers, overlays and overrides apply at every
    point. Returns the design with ``p_<measure>`` columns (every registry measure unless
    ``measures`` says) and ``n``; with ``keep_runs`` also a run-level frame (``point``, ``run``,
    the factor values, one boolean per measure) for scenario discovery. All points run in one
    ``perform`` call (``evaluator``: how); a point listed twice runs once.
    """
    base = Condition.of(scenario)
    measures = _measures(measures)
    check_factors(base.scenario, {k: None for k in design.columns})
    factors = dict(factors or {})
    points = [(point, point_condition(base, point.to_dict(), factors)) for _, point in design.iterrows()]
    done = runs_of([c for _, c in points], runs, seed, evaluator=evaluator, progress=progress)
    rows, kept = [], []
    for i, (point, cond) in enumerate(points):
        r = done[cond]
        hits = {m: measured(r, m) for m in measures}
        rows.append({**{f"p_{m}": float(hits[m].mean()) for m in measures}, "n": len(r)})
        if keep_runs:
            kept.append(_kept_runs(i, r, point, hits))
    out = pd.concat([design.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    if keep_runs:
        return out, pd.concat(kept, ignore_index=True)
    return out


# =============================================================================== global sensitivity


@dataclass
class Sensitivity:
    """Indices (long format: outcome, factor, ...), the evaluated design and the factor ranges."""

    method: str
    indices: pd.DataFrame
    design: pd.DataFrame
    factors: dict[str, tuple[float, float]]
    runs: int

    def table(self, outcome: str) -> pd.DataFrame:
        """The indices for one outcome, most influential factor first."""
        key = "mu_star" if self.method == "morris" else "ST"
        d = self.indices[self.indices["outcome"] == outcome]
        return d.drop(columns="outcome").set_index("factor").sort_values(key, ascending=False)


def _problem(factors: Mapping[str, tuple[float, float]]) -> dict:
    if not factors:
        raise ValueError("no factors")
    names = list(factors)
    bounds = [[float(lo), float(hi)] for lo, hi in factors.values()]
    for n, (lo, hi) in zip(names, bounds, strict=True):
        if not hi > lo:
            raise ValueError(f"factor {n}: high must exceed low ({lo}, {hi})")
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _noise_floor(p: np.ndarray, runs: int, step: float) -> float:
    """Mean |elementary effect| that binomial noise alone would give (independent draws; with
    common seeds the real floor is lower): E|N(0, 2p(1-p)/runs)| / step."""
    pbar = float(np.mean(p))
    return math.sqrt(2 * pbar * (1 - pbar) / runs) * math.sqrt(2 / math.pi) / step


def _sampled(scenario: str | Path | Condition, factors: Mapping[str, tuple[float, float]],
             sample: Callable[[dict], np.ndarray], runs: int, seed: int, measures: Iterable[str] | None,
             progress: bool | str, evaluator: object | None) -> tuple[dict, np.ndarray, pd.DataFrame, list[str]]:
    """What Morris and Sobol share: the SALib problem, its sample as a design, and the design run."""
    problem = _problem(factors)
    X = sample(problem)
    measures = _measures(measures)
    res = evaluate(scenario, pd.DataFrame(X, columns=problem["names"]), runs, seed, measures, factors,
                   progress=progress, evaluator=evaluator)
    return problem, X, res, measures


def morris(scenario: str | Path | Condition, factors: Mapping[str, tuple[float, float]], trajectories: int = 10,
           levels: int = 4, runs: int = 500, seed: int = 0, measures: Iterable[str] | None = None,
           sample_seed: int = 0, progress: bool | str = False, *, evaluator: object | None = None) -> Sensitivity:
    """Morris elementary effects (SALib): ``trajectories`` x (factors + 1) design points.

    Indices per outcome and factor, in probability per factor range (for a lever: the
    effect of switching it on): ``mu_star`` (mean absolute elementary effect), its bootstrap
    95% ``mu_star_conf``, ``mu`` (signed mean: the direction) and ``sigma`` (spread:
    interactions or non-linearity). ``noise_floor`` is the ``mu_star`` that binomial
    sampling noise alone would give; factors below it are indistinguishable from none.
    """
    ms = _require("SALib.sample.morris", "SALib")
    ma = _require("SALib.analyze.morris", "SALib")
    problem, X, res, measures = _sampled(
        scenario, factors, lambda p: ms.sample(p, trajectories, num_levels=levels, seed=sample_seed), runs, seed,
        measures, progress, evaluator)
    step = levels / (2 * (levels - 1))
    rows = []
    for m in measures:
        y = res[f"p_{m}"].to_numpy()
        si = ma.analyze(problem, X, y, num_levels=levels, seed=sample_seed)
        # SALib's effects are (change in P) / step, the step a share of the factor's range: so they
        # read as the change across the whole range. A switch's whole range is one flip: rescale.
        floor = _noise_floor(y, runs, step)
        for j, name in enumerate(problem["names"]):
            k = step if name.startswith(LEVER_PREFIX) else 1.0
            rows.append({"outcome": m, "factor": name, "name": short_name(name),
                         "mu_star": k * float(si["mu_star"][j]), "mu_star_conf": k * float(si["mu_star_conf"][j]),
                         "mu": k * float(si["mu"][j]), "sigma": k * float(si["sigma"][j]), "noise_floor": k * floor})
    return Sensitivity("morris", pd.DataFrame(rows), res, dict(factors), runs)


def sobol(scenario: str | Path | Condition, factors: Mapping[str, tuple[float, float]], n: int = 64,
          runs: int = 500, seed: int = 0, measures: Iterable[str] | None = None, sample_seed: int = 0,
          progress: bool | str = False, *, evaluator: object | None = None) -> Sensitivity:
    """Sobol indices (SALib, Saltelli sampling): ``n`` x (factors + 2) design points
    (``n`` a power of 2). ``S1``: share of the variance of P(outcome) due to the factor
    alone; ``ST``: including its interactions; each with a bootstrap 95% ``*_conf``.
    Sampling noise adds to every factor's variance share: use enough ``runs``."""
    ss = _require("SALib.sample.sobol", "SALib")
    sa = _require("SALib.analyze.sobol", "SALib")
    problem, _, res, measures = _sampled(
        scenario, factors, lambda p: ss.sample(p, n, calc_second_order=False, seed=sample_seed), runs, seed,
        measures, progress, evaluator)
    rows = []
    for m in measures:
        y = res[f"p_{m}"].to_numpy()
        if np.ptp(y) == 0:
            si = {k: np.zeros(problem["num_vars"]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            si = sa.analyze(problem, y, calc_second_order=False, seed=sample_seed)
        for j, name in enumerate(problem["names"]):
            rows.append({"outcome": m, "factor": name, "name": short_name(name), "S1": float(si["S1"][j]),
                         "S1_conf": float(si["S1_conf"][j]), "ST": float(si["ST"][j]),
                         "ST_conf": float(si["ST_conf"][j])})
    return Sensitivity("sobol", pd.DataFrame(rows), res, dict(factors), runs)


# =============================================================================== exploration


def latin_hypercube(factors: Mapping[str, tuple[float, float]], points: int, seed: int = 0) -> pd.DataFrame:
    """``points`` Latin-hypercube samples: each factor's range cut into ``points`` equal strata,
    each used once, at a uniform position inside it (McKay et al. 1979): the sweep's sampler.

    A lever (``levers.<id>``) is a switch, so it is sampled as 0.0 (off) or 1.0 (on), from the
    lower and upper half of its strata (on in half the points): PRIM and trees then see two
    values, not a continuum whose slices mean nothing."""
    from sim.experiments.samplers import lhs_unit  # the one LHS sampler, so a sweep and an exploration draw alike

    u = lhs_unit(points, len(factors), seed)
    cols = {}
    for j, (name, (lo, hi)) in enumerate(factors.items()):
        cols[name] = (u[:, j] >= 0.5).astype(float) if name.startswith(LEVER_PREFIX) else lo + u[:, j] * (hi - lo)
    return pd.DataFrame(cols)


@dataclass
class Exploration:
    """A sampled design: ``points`` (factor values and P(measure) per point) and ``runs``
    (one row per run: point, factor values, one boolean per measure)."""

    points: pd.DataFrame
    runs: pd.DataFrame
    factors: dict[str, tuple[float, float]]

    def X(self) -> pd.DataFrame:
        return self.runs[list(self.factors)]

    def y(self, measure: str = "use_of_force") -> np.ndarray:
        return self.runs[measure].to_numpy(bool)


def explore(scenario: str | Path | Condition, factors: Mapping[str, tuple[float, float]], points: int = 50,
            runs: int = 200, seed: int = 0, measures: Iterable[str] | None = None, sample_seed: int = 0,
            progress: bool | str = False, *, evaluator: object | None = None) -> Exploration:
    """Sample ``points`` conditions by Latin hypercube, run each ``runs`` times (same seed) and
    keep every run with its conditions, for ``prim`` or ``tree_rules``."""
    design = latin_hypercube(factors, points, sample_seed)
    res, kept = evaluate(scenario, design, runs, seed, measures, factors, keep_runs=True, progress=progress,
                         evaluator=evaluator)
    return Exploration(res, kept, dict(factors))


# =============================================================================== PRIM


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): scipy's exact survival function (``binom.sf(k - 1)``)."""
    from scipy.stats import binom

    return float(binom.sf(k - 1, n, p))


@dataclass
class PrimResult:
    """A PRIM peeling trajectory: one box per step, from the whole space inwards.

    ``trajectory``: step, support (share of rows in the box), coverage (share of all
    outcome rows that are in the box), density (outcome share inside the box),
    n_restricted (factors whose range was cut). ``boxes[i]`` maps each factor to its
    (low, high) at step i. ``selected`` is the box ``select`` chose.
    """

    trajectory: pd.DataFrame
    boxes: list[dict[str, tuple[float, float]]]
    ranges: dict[str, tuple[float, float]]
    X: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    y: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    selected: int = 0

    def select(self, min_coverage: float = 0.5) -> int:
        """The densest box that still covers ``min_coverage`` of the outcome rows."""
        ok = self.trajectory[self.trajectory["coverage"] >= min_coverage]
        self.selected = int(ok["density"].idxmax()) if len(ok) else 0
        return self.selected

    def _inside(self, limits: Mapping[str, tuple[float, float]]) -> np.ndarray:
        m = np.ones(len(self.y), bool)
        for f, (lo, hi) in limits.items():
            x = self.X[f].to_numpy(float)
            m &= (x >= lo) & (x <= hi)
        return m

    def stats(self, limits: Mapping[str, tuple[float, float]]) -> dict[str, float]:
        """Support, coverage and density of any box (factor -> (low, high))."""
        m = self._inside(limits)
        k, n, total = float(self.y[m].sum()), int(m.sum()), float(self.y.sum())
        return {"support": n / len(self.y), "coverage": k / total if total else 0.0,
                "density": k / n if n else float("nan"), "n": n}

    def _restricted(self, i: int) -> dict[str, tuple[float, float]]:
        return {f: (lo, hi) for f, (lo, hi) in self.boxes[i].items()
                if lo > self.ranges[f][0] or hi < self.ranges[f][1]}

    def box(self, i: int | None = None) -> pd.DataFrame:
        """The restricted factors of box ``i`` (default: the selected one) with their limits
        and a quasi-p-value ``qp``: the one-sided binomial probability of the box's outcome
        count if that restriction were dropped (large: the restriction adds nothing)."""
        i = self.selected if i is None else i
        lims = self._restricted(i)
        inside = self._inside(lims)
        k, n = int(self.y[inside].sum()), int(inside.sum())
        rows = []
        for f, (lo, hi) in lims.items():
            without = self._inside({g: v for g, v in lims.items() if g != f})
            p0 = float(self.y[without].mean()) if without.any() else 0.0
            flo, fhi = self.ranges[f]
            rows.append({"factor": f, "name": short_name(f), "low": lo, "high": hi, "range_low": flo,
                         "range_high": fhi, "qp": binom_sf(k, n, p0)})
        return pd.DataFrame(rows, columns=["factor", "name", "low", "high", "range_low", "range_high", "qp"])

    def describe(self, i: int | None = None, max_qp: float | None = None) -> str:
        """The box as a sentence: its conditions, density, coverage and support. With
        ``max_qp``, restrictions whose quasi-p-value exceeds it are dropped first (and the
        statistics recomputed for the simpler box)."""
        i = self.selected if i is None else i
        table = self.box(i)
        if max_qp is not None:
            table = table[table["qp"] <= max_qp]
        lims = {r.factor: (r.low, r.high) for r in table.itertuples()}
        st = self.stats(lims)
        conds = []
        for row in table.itertuples():
            if row.factor.startswith(LEVER_PREFIX) and (row.low >= 0.5 or row.high < 0.5):
                conds.append(f"{row.name} {'on' if row.low >= 0.5 else 'off'}")  # every run in the box alike
            elif row.factor.startswith(LEVER_PREFIX):  # a continuous lever sample: the box holds on and off runs
                conds.append(f"{row.low:.3g} ≤ {row.name} ≤ {row.high:.3g} (on and off runs)")
            elif row.low > row.range_low and row.high < row.range_high:
                conds.append(f"{row.low:.3g} ≤ {row.name} ≤ {row.high:.3g}")
            elif row.low > row.range_low:
                conds.append(f"{row.name} ≥ {row.low:.3g}")
            else:
                conds.append(f"{row.name} ≤ {row.high:.3g}")
        base = self.trajectory.loc[0, "density"]
        where = " and ".join(conds) if conds else "anywhere"
        return (f"{where}: outcome in {100 * st['density']:.1f}% of runs (vs {100 * base:.1f}% overall), "
                f"covering {100 * st['coverage']:.0f}% of all such runs in {100 * st['support']:.0f}% of the sample")


def _best_peel(Xb: np.ndarray, yb: np.ndarray, peel_alpha: float, min_rows: float
               ) -> tuple[float, int, int, str, float, np.ndarray] | None:
    """The peel of the box (its rows ``Xb``, outcomes ``yb``) that raises the mean of y most per
    share of the box removed: (gain, rows kept, factor, side, new limit, keep mask), or None."""
    current = yb.mean()
    best = None
    for j in range(Xb.shape[1]):
        x = Xb[:, j]
        for side in ("low", "high"):
            q = np.quantile(x, peel_alpha if side == "low" else 1 - peel_alpha, method="linear")
            keep = x >= q if side == "low" else x <= q
            if keep.all():  # ties at the edge: peel the edge value itself
                edge = x.min() if side == "low" else x.max()
                keep = x > edge if side == "low" else x < edge
            kept = int(keep.sum())
            if kept == len(x) or kept < min_rows:
                continue
            m = yb[keep].mean()
            gain = (m - current) / ((len(x) - kept) / len(x))  # per share of the box removed
            if best is None or gain > best[0] + 1e-12 or (abs(gain - best[0]) <= 1e-12 and kept > best[1]):
                limit = x[keep].min() if side == "low" else x[keep].max()
                best = (gain, kept, j, side, float(limit), keep)
    return best


def prim(X: pd.DataFrame, y: Sequence[float] | np.ndarray, peel_alpha: float = 0.05, min_support: float = 0.05,
         min_coverage: float = 0.5) -> PrimResult:
    """Patient Rule Induction Method (Friedman & Fisher 1999), peeling only.

    Starting from the box holding every row, each step removes, from one side of one
    factor, the ``peel_alpha`` share of the box's rows (for a factor with ties at its edge,
    e.g. a 0/1 switch, all rows at that edge value) whose removal raises the mean of ``y``
    most per share of the box removed (the "lenient" objective, so a switch that drops half
    the box must earn it). Peeling stops when no peel raises the mean or the box would hold
    fewer than ``min_support`` of the rows. The box chosen is the densest one that covers at
    least ``min_coverage`` of the outcome (``PrimResult.select`` chooses another).
    """
    if not 0 < peel_alpha < 0.5:
        raise ValueError("peel_alpha must be in (0, 0.5)")
    Xv = X.to_numpy(float)
    yv = np.asarray(y, float)
    if len(Xv) != len(yv) or not len(yv):
        raise ValueError("X and y must be non-empty and of equal length")
    names = list(X.columns)
    n, total = len(yv), float(yv.sum())
    inside = np.ones(n, bool)
    lo = Xv.min(axis=0).copy()
    hi = Xv.max(axis=0).copy()
    ranges = {f: (float(a), float(b)) for f, a, b in zip(names, lo, hi, strict=True)}

    def record(step: int) -> dict:
        yin = yv[inside]
        return {"step": step, "support": inside.sum() / n, "coverage": (yin.sum() / total) if total else 0.0,
                "density": float(yin.mean()),
                "n_restricted": int(sum(lo[j] > ranges[f][0] or hi[j] < ranges[f][1] for j, f in enumerate(names)))}

    traj = [record(0)]
    boxes = [{f: (float(lo[j]), float(hi[j])) for j, f in enumerate(names)}]
    step = 0
    while True:
        idx = np.flatnonzero(inside)
        best = _best_peel(Xv[idx], yv[idx], peel_alpha, max(1, min_support * n))
        if best is None or best[0] <= 1e-12:
            break
        _, _, j, side, limit, keep = best
        new_inside = np.zeros(n, bool)
        new_inside[idx[keep]] = True
        inside = new_inside
        if side == "low":
            lo[j] = limit
        else:
            hi[j] = limit
        step += 1
        traj.append(record(step))
        boxes.append({f: (float(lo[k]), float(hi[k])) for k, f in enumerate(names)})
    res = PrimResult(pd.DataFrame(traj), boxes, ranges, X=X, y=yv)
    res.select(min_coverage)
    return res


# =============================================================================== decision tree


@dataclass
class TreeResult:
    """A fitted decision tree and its leaves as rules: ``rules`` has one row per leaf (rule,
    n, support, density, coverage), densest first; ``text`` is scikit-learn's printout."""

    model: Any
    rules: pd.DataFrame
    text: str


def _rule_text(conds: dict[str, list[float | None]]) -> str:
    parts = []
    for f, (low, high) in conds.items():
        name = short_name(f)
        if f.startswith(LEVER_PREFIX):
            parts.append(f"{name} {'on' if low is not None else 'off'}")
        elif low is not None and high is not None:
            parts.append(f"{low:.3g} < {name} ≤ {high:.3g}")
        elif low is not None:
            parts.append(f"{name} > {low:.3g}")
        else:
            parts.append(f"{name} ≤ {high:.3g}")
    return " and ".join(parts) if parts else "all runs"


def tree_rules(X: pd.DataFrame, y: Sequence[bool] | np.ndarray, max_depth: int = 3, min_leaf: float = 0.02,
               seed: int = 0) -> TreeResult:
    """Scenario discovery with a classification tree (scikit-learn): each leaf is a box of
    conditions; leaves with a high outcome density are the conditions that lead there.
    Classes are weighted to balance, so a leaf is labelled True where the outcome is more
    frequent than overall. ``min_leaf``: the smallest leaf, as a share of the rows."""
    tree_mod = _require("sklearn.tree", "scikit-learn")
    yv = np.asarray(y, bool)
    model = tree_mod.DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_leaf, random_state=seed,
                                            class_weight="balanced")
    model.fit(X.to_numpy(float), yv)
    t = model.tree_
    names = list(X.columns)
    leaf_of = model.apply(X.to_numpy(float))
    total, n = max(int(yv.sum()), 1), len(yv)
    rows = []

    def walk(node: int, conds: dict[str, list[float | None]]) -> None:
        if t.children_left[node] == -1:
            mask = leaf_of == node
            k = int(yv[mask].sum())
            rows.append({"rule": _rule_text(conds), "n": int(mask.sum()), "support": mask.sum() / n,
                         "density": k / max(int(mask.sum()), 1), "coverage": k / total, "leaf": node})
            return
        f, thr = names[t.feature[node]], float(t.threshold[node])
        left = {k: list(v) for k, v in conds.items()}
        lo, hi = left.get(f, [None, None])
        left[f] = [lo, thr if hi is None else min(hi, thr)]
        walk(t.children_left[node], left)
        right = {k: list(v) for k, v in conds.items()}
        lo, hi = right.get(f, [None, None])
        right[f] = [thr if lo is None else max(lo, thr), hi]
        walk(t.children_right[node], right)

    walk(0, {})
    rules = pd.DataFrame(rows).sort_values("density", ascending=False).reset_index(drop=True)
    text = tree_mod.export_text(model, feature_names=[short_name(f) for f in names])
    return TreeResult(model, rules, text)
