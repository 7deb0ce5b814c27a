"""Issue 13's third target: is a scenario's credible range of P(use of force) narrower than its largest lever?

``credible_vs_levers`` runs the scenario over posterior draws (``sim.analysis.uncertainty``) and, with
common seeds, the scenario with each of its levers on against the scenario as is (as
``tests/test_actors_decide.py::test_choice_noise_moves_force_less_than_the_papers_levers`` does). The
credible range is reported two ways: the 5th-95th percentile of P(use of force) over the draws (what
``run --posterior`` shows; it includes each draw's binomial noise) and the width net of that noise,
2 x 1.645 x the between-draw standard deviation (law of total variance). Lever effects are reported on
P(use of force) and on each lever's own measure (the scenario file's ``measure``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.uncertainty import POSTERIOR, posterior_ensemble
from sim.inputs.condition import Condition

Z90 = 1.6448536269514722


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
    """One scenario's row: P(use of force) over the posterior, its 90% range (raw and net of sampling
    noise), and the largest lever effect on force and on the levers' own measures (``levers``: effects
    already measured by :func:`lever_effects`, else measured here with ``lever_runs``)."""
    t = posterior_ensemble(Condition.of(scenario), draws, runs, seed, posterior=posterior,
                           evaluator=evaluator).loc["use_of_force"]
    lev = lever_effects(scenario, lever_runs, seed, evaluator=evaluator) if levers is None else levers
    row: dict[str, Any] = {"scenario": Path(scenario).stem, "p": float(t.p), "draw_p05": float(t.draw_p05),
                           "draw_p95": float(t.draw_p95), "width": float(t.draw_p95 - t.draw_p05),
                           "width_net": float(2 * Z90 * t.parameter_sd)}
    for col, key in (("effect_force", "force"), ("effect_own", "own")):
        if len(lev):
            top = lev.loc[lev[col].abs().idxmax()]
            row[f"lever_{key}"], row[f"lever_{key}_effect"] = str(top.lever), float(top[col])
            row[f"lever_{key}_measure"] = "use_of_force" if key == "force" else str(top.measure)
        else:
            row[f"lever_{key}"], row[f"lever_{key}_effect"], row[f"lever_{key}_measure"] = "", 0.0, ""
    row["narrower"] = bool(row["width"] < abs(row["lever_force_effect"]))
    row["narrower_net"] = bool(row["width_net"] < abs(row["lever_force_effect"]))
    return row


def credible_markdown(rows: list[dict[str, Any]]) -> str:
    """The table of MODEL.md section 6.4 (points, not percent, for the widths and effects)."""
    lines = ["| scenario | P(force) | 90% range over draws | width (net of sampling) | largest lever on force | "
             "largest lever on its own measure | range narrower? |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["width_net"] == 0 and r["lever_force_effect"] == 0:
            verdict = "neither moves force"
        else:
            verdict = "yes" if r["narrower"] else ("net of sampling only" if r["narrower_net"] else "no")
        lines.append(f"| {r['scenario']} | {r['p']:.1%} | [{r['draw_p05']:.1%}, {r['draw_p95']:.1%}] | "
                     f"{100 * r['width']:.1f} pt ({100 * r['width_net']:.1f}) | "
                     f"{100 * r['lever_force_effect']:+.1f} pt ({r['lever_force'] or '-'}) | "
                     f"{100 * r['lever_own_effect']:+.1f} pt "
                     f"({r['lever_own'] or '-'}, {r['lever_own_measure'] or '-'}) | "
                     f"{verdict} |")
    return "\n".join(lines) + "\n"
