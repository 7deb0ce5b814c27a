"""Parameter uncertainty in results: the ensemble over draws from the calibration's posterior.

``posterior_ensemble`` runs a condition at ``draws`` parameter vectors drawn (seeded, by weight)
from a posterior sample (``posterior.csv`` of ``run_sim.py calibrate``; the shipped one sits next
to the calibrated set), every draw with the same seed, so the draws differ by their parameters and
not by their random numbers. For each headline measure it reports the sampling-only 95% interval
(Wilson, all runs pooled, as if the parameters were known) beside the total one, which adds the
between-draw variance of the probability (law of total variance). The draws share seeds (common
random numbers), so that variance is not inflated by independent binomial noise and is used as it
is, without subtracting a binomial part (which would remove real parameter variance).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.stats import Z95, wilson
from sim.errors import InputError
from sim.experiments.measures import MEASURE_LABELS, MEASURE_NAMES, measure
from sim.inputs.condition import Condition
from sim.inputs.library import ACTORS_DIR

POSTERIOR = ACTORS_DIR / "parameters" / "calibrated_posterior.csv"


def read_posterior(path: str | Path = POSTERIOR) -> pd.DataFrame:
    """A posterior sample: one column per parameter path (``parameters.x``, ``baseline.y.value``) and ``weight``."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "", "no posterior sample: run python run_sim.py calibrate --write-set "
                                   "actors/parameters/calibrated.yaml")
    post = pd.read_csv(path)
    if "weight" not in post.columns or len(post.columns) < 2 or not len(post):
        raise InputError(path, "weight", "expected parameter columns and a weight column")
    return post


def draw_conditions(condition: Condition, post: pd.DataFrame, draws: int, seed: int) -> dict[str, Condition]:
    """``draws`` copies of the condition, each with one posterior draw's values as its first overrides."""
    rng = np.random.default_rng(seed)
    w = post.weight.to_numpy(float)
    idx = rng.choice(len(post), size=draws, replace=True, p=w / w.sum())
    cols = [c for c in post.columns if c != "weight"]
    out = {}
    for j, i in enumerate(idx):
        values = [(c, float(post.iloc[i][c])) for c in cols]
        out[f"draw {j}"] = Condition(condition.scenario, condition.levers, condition.overlays,
                                     (*values, *condition.overrides), f"draw {j}", "baseline")
    return out


def intervals(per_draw: dict[str, pd.DataFrame], measures: Iterable[str] = MEASURE_NAMES) -> pd.DataFrame:
    """Per measure: P over all draws, the sampling-only 95% interval and the total (sampling + parameters) one."""
    rows = {}
    for m in measures:
        ks = np.array([measure(r, m).sum() for r in per_draw.values()], float)
        ns = np.array([len(r) for r in per_draw.values()], float)
        p_draw = ks / ns
        p = ks.sum() / ns.sum()
        lo, hi = (float(x) for x in wilson(int(ks.sum()), int(ns.sum())))
        # every draw runs the same seeds (common random numbers), so the draws' spread is not inflated by
        # independent binomial noise: subtracting it would remove real parameter variance. The raw spread is
        # kept (conservative: what little sampling noise is left in it stays in).
        var_par = float(np.var(p_draw, ddof=1)) if len(p_draw) > 1 else 0.0
        half = math.hypot((hi - lo) / 2, Z95 * math.sqrt(var_par))
        rows[m] = {"label": MEASURE_LABELS.get(m, m), "p": p, "sampling_low": lo, "sampling_high": hi,
                   "total_low": max(p - half, 0.0), "total_high": min(p + half, 1.0),
                   "parameter_sd": math.sqrt(var_par), "draw_p05": float(np.quantile(p_draw, 0.05)),
                   "draw_p95": float(np.quantile(p_draw, 0.95))}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "measure"
    return df


def posterior_ensemble(condition: Condition, draws: int, runs: int, seed: int = 0, *,
                       posterior: str | Path = POSTERIOR, evaluator: object | None = None,
                       progress: bool = False) -> pd.DataFrame:
    """``runs`` runs at each of ``draws`` posterior draws; the intervals table (:func:`intervals`)."""
    from sim.experiments.perform import perform

    conds = draw_conditions(condition, read_posterior(posterior), draws, seed)
    done = perform(conds, runs, seed, evaluator=evaluator, progress=progress)
    return intervals({k: v.runs for k, v in done.items()})


def intervals_markdown(df: pd.DataFrame) -> str:
    lines = ["| measure | P | sampling-only 95% | total 95% (with parameters) | parameter sd |",
             "|---|---|---|---|---|"]
    for m, r in df.iterrows():
        lines.append(f"| {r.label} (`{m}`) | {r.p:.1%} | [{r.sampling_low:.1%}, {r.sampling_high:.1%}] | "
                     f"[{r.total_low:.1%}, {r.total_high:.1%}] | {r.parameter_sd:.1%} |")
    return "\n".join(lines) + "\n"
