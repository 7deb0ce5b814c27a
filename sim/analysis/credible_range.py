"""Issue 13's third target: is a scenario's credible range of P(use of force) narrower than its largest lever?

``credible_vs_levers`` runs the scenario over posterior draws (``sim.analysis.uncertainty``) and, with
common seeds, the scenario with each of its levers on against the scenario as is (as
``tests/test_actors_decide.py::test_choice_noise_moves_force_less_than_the_papers_levers`` does). The
credible range is the 5th-95th percentile of P(use of force) over the draws (what ``run --posterior``
shows). Every draw runs on the same seeds, so runs the parameters do not change have the same outcome at
every draw: the range is the parameters' doing, plus the noise of the runs they do change (more runs per
draw shrink that part). It is not reduced by a binomial variance: with common seeds the draws' spread is
far below the binomial one, so subtracting it would remove parameter variance too. Lever effects are
reported on P(use of force) and on each lever's own measure (the scenario file's ``measure``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.uncertainty import POSTERIOR, posterior_ensemble
from sim.inputs.condition import Condition

Z90 = 1.6448536269514722  # the binomial_width column: the 90% spread draws would have on independent seeds


def lever_effects(scenario: str | Path, runs: int, seed: int = 0, *, evaluator: object | None = None) -> pd.DataFrame:
    """Per lever of the scenario: its measure and the paired change (lever on minus off, common seeds) in
    that measure and in P(use of force), at the default parameters."""
    from sim.experiments.measures import measure
    from sim.experiments.perform import perform
    from sim.inputs.loader import load
    from sim.inputs.schema import ScenarioFile

    path = str(scenario)
    levers = load(ScenarioFile, path).levers
    conds = {"base": Condition(path), **{lv.id: Condition(path, levers=(lv.id,)) for lv in levers}}
    res = {k: r.runs for k, r in perform(conds, runs, seed, evaluator=evaluator).items()}
    base = res["base"]
    rows = [{"lever": lv.id, "measure": lv.measure,
             "effect_own": float(measure(res[lv.id], lv.measure).mean() - measure(base, lv.measure).mean()),
             "effect_force": float(res[lv.id]["use_of_force"].mean() - base["use_of_force"].mean())}
            for lv in levers]
    return pd.DataFrame(rows, columns=["lever", "measure", "effect_own", "effect_force"])


def credible_vs_levers(scenario: str | Path, *, draws: int, runs: int, lever_runs: int, seed: int = 0,
                       posterior: str | Path = POSTERIOR, evaluator: object | None = None,
                       levers: pd.DataFrame | None = None) -> dict[str, Any]:
    """One scenario's row: P(use of force) over the posterior, its 90% range over the draws, and the
    largest lever effect on force and on the levers' own measures (``levers``: effects
    already measured by :func:`lever_effects`, else measured here with ``lever_runs``)."""
    t = posterior_ensemble(Condition.of(scenario), draws, runs, seed, posterior=posterior,
                           evaluator=evaluator).loc["use_of_force"]
    lev = lever_effects(scenario, lever_runs, seed, evaluator=evaluator) if levers is None else levers
    row: dict[str, Any] = {"scenario": Path(scenario).stem, "p": float(t.p), "draw_p05": float(t.draw_p05),
                           "draw_p95": float(t.draw_p95), "width": float(t.draw_p95 - t.draw_p05),
                           "binomial_width": float(2 * Z90 * math.sqrt(t.p * (1 - t.p) / runs))}
    for col, key in (("effect_force", "force"), ("effect_own", "own")):
        if len(lev):
            top = lev.loc[lev[col].abs().idxmax()]
            row[f"lever_{key}"], row[f"lever_{key}_effect"] = str(top.lever), float(top[col])
            row[f"lever_{key}_measure"] = "use_of_force" if key == "force" else str(top.measure)
        else:
            row[f"lever_{key}"], row[f"lever_{key}_effect"], row[f"lever_{key}_measure"] = "", 0.0, ""
    row["runs"] = runs
    row["narrower"] = bool(row["width"] < abs(row["lever_force_effect"]))
    row["verdict"] = verdict(row)
    return row


def verdict(row: Mapping[str, Any]) -> str:
    """yes: the range over draws is narrower than the largest lever effect on force; no: it is not;
    neither moves force: no lever moves it and the draws differ by at most one run (force fixed by the
    scenario, or the same runs at every draw)."""
    lever = abs(row["lever_force_effect"])
    if lever == 0 and row["width"] * row.get("runs", 1) <= 1:
        return "neither moves force"
    return "yes" if row["width"] < lever else "no"


def credible_markdown(rows: list[dict[str, Any]]) -> str:
    """The table of MODEL.md section 6.4 (points, not percent, for the widths and effects)."""
    lines = ["| scenario | P(force) | 90% range over draws | width (independent-binomial width) | "
             "largest lever on force | largest lever on its own measure | range narrower? |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scenario']} | {r['p']:.1%} | [{r['draw_p05']:.1%}, {r['draw_p95']:.1%}] | "
                     f"{100 * r['width']:.1f} pt ({100 * r['binomial_width']:.1f}) | "
                     f"{100 * r['lever_force_effect']:+.1f} pt ({r['lever_force'] or '-'}) | "
                     f"{100 * r['lever_own_effect']:+.1f} pt "
                     f"({r['lever_own'] or '-'}, {r['lever_own_measure'] or '-'}) | "
                     f"{r['verdict']} |")
    return "\n".join(lines) + "\n"


#: The shipped scenarios MODEL.md section 6.4 reports, in its order.
SCENARIOS = ("taiwan_strait", "taiwan_visit", "us_china_intercept", "korean_peninsula", "senkaku", "south_china_sea",
             "japan_korea", "regional_missiles", "dprk_collapse")


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - the measurement itself, minutes
    """``python -m sim.analysis.credible_range``: MODEL.md section 6.4's table, on a local pool."""
    import argparse

    from sim.experiments.evaluators import ProcessPoolEvaluator
    from sim.inputs.library import SCENARIOS_DIR

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--runs", type=int, default=500, help="runs per posterior draw")
    ap.add_argument("--lever-runs", type=int, default=10_000, help="paired runs per lever")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(argv)
    with ProcessPoolEvaluator(a.jobs) as ev:
        rows = [credible_vs_levers(SCENARIOS_DIR / f"{n}.yaml", draws=a.draws, runs=a.runs, lever_runs=a.lever_runs,
                                   seed=a.seed, evaluator=ev) for n in SCENARIOS]
    print(credible_markdown(rows), end="")


if __name__ == "__main__":  # pragma: no cover
    main()
