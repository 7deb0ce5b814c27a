"""Levers and comparisons: P(measure) under two conditions, and every lever of a scenario against its default.

A lever is a named set of changes a scenario defines (``sim.inputs.schema.Lever``) with the
direction the papers expect on one measure. Conditions are compared with common random
numbers (the same seed: run *i* meets the same draws under both). When both runs tables hold the
same (seed, run) pairs, the difference carries Newcombe's *paired* interval (narrower: the
runs are correlated); otherwise, or with ``paired=False``, the independent-samples interval.
Both are always reported (``diff_low``/``diff_high`` is the one that applies,
``unpaired_low``/``unpaired_high`` the independent one); the risk ratio has the Katz interval
(``sim.analysis.stats``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.results import runs_of
from sim.analysis.stats import newcombe_diff, newcombe_paired, paired_counts, risk_ratio, verdict
from sim.experiments.measures import MEASURE_LABELS, MEASURE_NAMES
from sim.experiments.measures import measure as measured
from sim.inputs.condition import Condition
from sim.inputs.schema import Lever


def pairing(base: pd.DataFrame, alt: pd.DataFrame) -> np.ndarray | None:
    """Row order of ``alt`` matching ``base`` run for run, when the two share seeds (the same
    (seed, run) pairs: common random numbers); None when they cannot be paired."""
    cols = ["seed", "run"]
    if len(base) != len(alt) or not all(c in base.columns and c in alt.columns for c in cols):
        return None
    kb = pd.MultiIndex.from_frame(base[cols].astype("int64"))
    ka = pd.MultiIndex.from_frame(alt[cols].astype("int64"))
    if not kb.is_unique or not ka.is_unique:
        return None
    order = ka.get_indexer(kb)
    return None if (order < 0).any() else order


def compare(base: pd.DataFrame, alt: pd.DataFrame, measure: str, paired: bool = True) -> dict:
    """P(measure) under two conditions, their difference with its 95% interval, and the risk
    ratio alt/base with its Katz interval.

    ``diff_low``/``diff_high``: Newcombe's paired interval when the runs share seeds (and
    ``paired``), else the independent one; ``unpaired_low``/``unpaired_high``: always the
    independent one; ``paired``: which applied; ``sd_diff``: standard deviation of the per-run
    differences (paired only; the input of a power calculation)."""
    x, y = measured(base, measure), measured(alt, measure)
    n0, n1, k0, k1 = len(x), len(y), int(x.sum()), int(y.sum())
    d, ulo, uhi = newcombe_diff(k0, n0, k1, n1)
    order = pairing(base, alt) if paired else None
    lo, hi, sd = ulo, uhi, float("nan")
    if order is not None:
        table = paired_counts(x, y[order])
        lo, hi = newcombe_paired(*table)[1:]
        sd = float(np.std(y[order].astype(float) - x.astype(float)))
    rr, rlo, rhi = risk_ratio(k0, n0, k1, n1)
    return {"p_base": k0 / n0, "p_alt": k1 / n1, "diff": d, "diff_low": lo, "diff_high": hi,
            "unpaired_low": ulo, "unpaired_high": uhi, "paired": order is not None, "sd_diff": sd,
            "rr": rr, "rr_low": rlo, "rr_high": rhi, "k_base": k0, "n_base": n0, "k_alt": k1, "n_alt": n1}


def lever_table(base: pd.DataFrame, alts: Mapping[str, pd.DataFrame],
                measures: str | Mapping[str, str] = "use_of_force",
                expect: Mapping[str, str] | None = None, paired: bool = True) -> pd.DataFrame:
    """One row per alternative: P(measure) without and with it, difference [95%], risk
    ratio [95%], the expected direction and the verdict. ``measures``: one measure for all,
    or one per alternative (a lever's own ``measure``)."""
    rows = []
    for name, runs in alts.items():
        m = measures if isinstance(measures, str) else measures[name]
        c = compare(base, runs, m, paired)
        e = (expect or {}).get(name)
        rows.append({"lever": name, "measure": m, "expect": e, **c,
                     "verdict": verdict(c["diff_low"], c["diff_high"], e)})
    return pd.DataFrame(rows).set_index("lever")


def measure_comparison(base: pd.DataFrame, alt: pd.DataFrame, measures: Iterable[str] | None = None,
                       paired: bool = True) -> pd.DataFrame:
    """Every headline measure under two conditions: p, difference [95%, paired when the runs
    share seeds], the unpaired interval, risk ratio [95%]."""
    rows = {m: compare(base, alt, m, paired) for m in (measures or MEASURE_NAMES)}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "measure"
    df.insert(0, "label", [MEASURE_LABELS.get(m, m) for m in df.index])
    return df


def scenario_levers(scenario: str | Path | Condition) -> list[Lever]:
    """The levers a scenario file defines (id, label, source, set, expect, measure, model_disagrees, note)."""
    from sim.inputs.loader import load
    from sim.inputs.schema import ScenarioFile

    path = scenario.scenario if isinstance(scenario, Condition) else scenario
    return list(load(ScenarioFile, Path(path)).levers)


def _chosen(base: Condition, defined: Mapping[str, Lever], levers: Iterable[str] | None) -> list[str]:
    """The levers to study: those asked for (default: all defined) that are not already on."""
    chosen = [lv for lv in (levers if levers is not None else defined) if lv not in base.levers]
    for lv in chosen:
        if lv not in defined:
            from sim.errors import InputError
            raise InputError(base.scenario, f"levers.{lv}", f"unknown lever (known: {', '.join(defined) or 'none'})")
    return chosen


def lever_study(condition: str | Path | Condition, runs: int = 2000, seed: int = 0,
                levers: Iterable[str] | None = None, *, base_runs: pd.DataFrame | None = None,
                evaluator: object | None = None) -> pd.DataFrame:
    """Each lever of a scenario added to ``condition`` (a scenario file, or a Condition whose
    levers, overlays and overrides are on in both arms), on the lever's own measure, with
    common seeds: run *i* meets the same random draws with and without the lever.

    Returns ``lever_table`` rows with the scenario, the lever's label, source paper, note and
    ``model_disagrees`` text, and ``documented`` = the scenario records that the model
    disagrees with the papers (a non-empty ``model_disagrees``).
    ``base_runs`` reuses a baseline already run (it must be ``runs`` runs of the same seed and
    condition). ``evaluator`` goes to ``perform``.
    """
    base = Condition.of(condition)
    defined = {lv.id: lv for lv in scenario_levers(base)}
    chosen = _chosen(base, defined, levers)
    arms = {lv: base.plus(levers=[lv]) for lv in chosen}
    done = runs_of([*([] if base_runs is not None else [base]), *arms.values()], runs, seed, evaluator=evaluator)
    baseline = base_runs if base_runs is not None else done[base]
    table = lever_table(baseline, {lv: done[c] for lv, c in arms.items()},
                        {lv: defined[lv].measure for lv in chosen}, {lv: defined[lv].expect for lv in chosen})
    table.insert(0, "scenario", Path(base.scenario).stem)
    table.insert(1, "label", [defined[lv].label for lv in table.index])
    table["paper"] = [defined[lv].source.paper.split(",")[0] for lv in table.index]
    table["note"] = [defined[lv].note for lv in table.index]
    table["model_disagrees"] = [defined[lv].model_disagrees for lv in table.index]
    table["documented"] = table["model_disagrees"].str.len() > 0
    return table


def point_comparison(runs: pd.DataFrame, measure: str = "use_of_force", reference: int = 0,
                     paired: bool = True) -> pd.DataFrame:
    """A sweep's design points against one of them (``runs`` with a ``point`` column, e.g.
    ``sim.experiments.store.read_runs(out)``): P(measure), the difference and its interval, paired
    when the sweep used common random numbers (the points share (seed, run) pairs), else unpaired."""
    by_point = {int(p): g.reset_index(drop=True) for p, g in runs.groupby("point", observed=True)}
    if reference not in by_point:
        raise KeyError(f"no design point {reference} (points: {sorted(by_point)})")
    base = by_point[reference]
    rows = {p: compare(base, g, measure, paired) for p, g in by_point.items() if p != reference}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "point"
    return df
