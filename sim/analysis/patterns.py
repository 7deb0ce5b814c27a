"""Behavioural patterns measured from an ensemble: who answered what, how fast, how crises ended.

These are the checks an East-Asia crisis analyst makes of a model's behaviour (the "Actors that
decide" targets in MODEL.md §6): the PRC's military display within days of a Taiwan trigger,
the tempo of DPRK tests, how an air collision is settled, whether force was chosen or an
accident, whether every war has a named cause. Each function returns one value per run, so it
can be read with a Wilson interval like any measure. ``python -m sim.analysis.patterns`` prints
the table of targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine.ensemble import Results
from sim.inputs.catalogue import load_catalogue


def _per_run(res: Results, mask: pd.Series) -> np.ndarray:
    """True for each run (in ``res.runs`` order) with at least one event in ``mask``."""
    hit = set(res.events.loc[mask, "run"].unique().tolist())
    return res.runs["run"].isin(hit).to_numpy()


def responded(res: Results, actor: str, min_rung: str, within_days: float, after_day: float = 1.0,
              target: str | None = None) -> np.ndarray:
    """The actor moved at ``min_rung`` or above within ``within_days`` after ``after_day`` (a trigger's day)."""
    ev = res.events
    rung = load_catalogue().rung_index(min_rung)
    m = (ev["actor"] == actor) & (ev["rung_realised"].cat.codes >= rung)
    m &= (ev["day"] > after_day) & (ev["day"] <= after_day + within_days)
    if target is not None:
        m &= ev["target"] == target
    return _per_run(res, m)


def took(res: Results, actor: str, actions: Iterable[str]) -> np.ndarray:
    """The actor took one of ``actions`` at some point (scripted moves excluded)."""
    ev = res.events
    return _per_run(res, (ev["actor"] == actor) & ev["action"].isin(list(actions)) & ~ev["scripted"])


def counts(res: Results, actor: str, actions: Iterable[str]) -> np.ndarray:
    """How many times each run's actor took one of ``actions`` (scripted moves excluded)."""
    ev = res.events
    m = (ev["actor"] == actor) & ev["action"].isin(list(actions)) & ~ev["scripted"]
    n = ev.loc[m].groupby("run").size()
    return res.runs["run"].map(n).fillna(0).to_numpy(int)


def settled_within(res: Results, days: float) -> np.ndarray:
    """The crisis ended by agreement within ``days``."""
    r = res.runs
    return ((r["end_form"] == "agreement") & (r["duration_days"] <= days)).to_numpy()


@dataclass(frozen=True)
class Share:
    """k of n runs, with the share."""

    k: int
    n: int

    @property
    def p(self) -> float:
        return self.k / self.n if self.n else float("nan")

    def __str__(self) -> str:
        return f"{self.p:.1%} ({self.k:,} of {self.n:,})" if self.n else "n/a (0 runs)"


def share(flags: np.ndarray, among: np.ndarray | None = None) -> Share:
    flags = np.asarray(flags, bool)
    if among is not None:
        flags = flags[np.asarray(among, bool)]
    return Share(int(flags.sum()), len(flags))


def chosen_first_force(res: Results) -> Share:
    """Among runs with force, the share whose first use of force was a government's choice."""
    r = res.runs
    return share((r["first_force_cause"] == "chosen").to_numpy(), r["use_of_force"].to_numpy(bool))


def wars_attributed(res: Results) -> Share:
    """Among runs that reached major war, the share with a named cause (chosen, slip, scripted, accident)."""
    r = res.runs
    war = r["outcome"].isin(["major_war", "nuclear_use"]).to_numpy()
    return share(r["war_cause"].notna().to_numpy(), war)


def nuclear_dyad_war(res: Results) -> Share:
    """Runs with a war between nuclear-armed adversaries."""
    return share(res.runs["nuclear_dyad_war"].to_numpy(bool))


def targets(runs: int = 5_000, seed: int = 1, evaluator=None, overrides: tuple = ()) -> pd.DataFrame:
    """The "Actors that decide" targets, measured (MODEL.md §6 prints this table); ``overrides`` as in
    :class:`~sim.inputs.condition.Condition` (e.g. a parameter set under study)."""
    from sim.experiments.perform import perform
    from sim.inputs.condition import Condition
    from sim.inputs.library import SCENARIOS_DIR

    names = ("taiwan_strait", "taiwan_visit", "us_china_intercept", "korean_peninsula")
    conds = {n: Condition(str(SCENARIOS_DIR / f"{n}.yaml"), overrides=tuple(overrides)) for n in names}
    res = perform(conds, runs, seed, events=True,
                  evaluator=evaluator)
    ts, tv, ep, kp = (res[n] for n in names)
    rows = [
        ("taiwan_strait", "PRC show of force or above within 3 days of the step", "≥ 80%",
         share(responded(ts, "PRC", "show_of_force", 3))),
        ("taiwan_visit", "PRC military display within 3 days", "≥ 70%", share(responded(tv, "PRC", "grey_zone", 3))),
        ("taiwan_visit", "PRC suspends a channel", "≥ 40%", share(took(tv, "PRC", ["suspend_channel"]))),
        ("us_china_intercept", "negotiated end within 21 days", "≥ 50%", share(settled_within(ep, 21))),
        ("us_china_intercept", "runs with US military signalling", "< 10%",
         share(took(ep, "US", ["mobilisation", "missile_test", "long_range_test"]))),
        ("korean_peninsula", "DPRK long-range tests per 60 days (median)", "≤ 1",
         float(np.median(counts(kp, "DPRK", ["long_range_test"])))),
        ("korean_peninsula", "runs with a DPRK nuclear test", "< 5%", share(took(kp, "DPRK", ["nuclear_test"]))),
        ("korean_peninsula", "force runs whose first force was chosen", "≥ 50%", chosen_first_force(kp)),
    ]
    return pd.DataFrame(rows, columns=["scenario", "measure", "target", "value"])


if __name__ == "__main__":  # pragma: no cover
    print(targets().to_string(index=False))
