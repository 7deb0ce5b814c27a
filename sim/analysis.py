"""Statistics over results tables: outcome probabilities with intervals, peaks, paths.

Functions take the ``runs`` DataFrame (as written to ``runs.parquet``) and return
pandas objects, so they work the same in the CLI summary and in a notebook.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def wilson(k: int | np.ndarray, n: int | np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (vectorised)."""
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def proportions(values: pd.Series, categories: list[str] | None = None) -> pd.DataFrame:
    """Share of each category with its Wilson 95% interval."""
    n = len(values)
    counts = values.value_counts()
    if categories is None:
        categories = list(values.cat.categories) if hasattr(values, "cat") else list(counts.index)
    k = np.array([int(counts.get(c, 0)) for c in categories])
    lo, hi = wilson(k, n)
    return pd.DataFrame({"count": k, "share": k / max(n, 1), "ci_low": lo, "ci_high": hi},
                        index=pd.Index(categories, name=values.name))


def outcome_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Outcome-class probabilities with 95% intervals, plus headline events."""
    table = proportions(runs["outcome"])
    n = len(runs)
    extra = {
        "use_of_force": int(runs["use_of_force"].sum()),
        "any_incident": int((runs["incidents"] > 0).sum()),
    }
    rows = []
    for name, k in extra.items():
        lo, hi = wilson(k, n)
        rows.append(pd.DataFrame({"count": [k], "share": [k / max(n, 1)], "ci_low": [lo], "ci_high": [hi]},
                                 index=pd.Index([name], name="outcome")))
    return pd.concat([table, *rows])


#: Headline measures a lever can target: each maps the runs table to a boolean per run.
MEASURES = {
    "use_of_force": lambda r: r["use_of_force"].to_numpy(bool),
    "serious_clash": lambda r: (r["peak_icb_viol"] >= 3).to_numpy() | (r["outcome"].isin(["major_war", "nuclear_use"])
                                                                      .to_numpy()),
    "major_war": lambda r: r["outcome"].isin(["major_war", "nuclear_use"]).to_numpy(),
    "escalation": lambda r: (r["peak_unit"].cat.codes >= 3).to_numpy(),  # reached military display or worse
    "deescalated_agreement": lambda r: (r["outcome"] == "deescalated_agreement").to_numpy(),
    "agreement": lambda r: (r["end_reason"] == "agreement").to_numpy(),
    "incidents": lambda r: (r["incidents"] > 0).to_numpy(),
}


def compare(base: pd.DataFrame, alt: pd.DataFrame, measure: str) -> dict:
    """P(measure) under two conditions, their difference and its Newcombe 95% interval."""
    x, y = MEASURES[measure](base), MEASURES[measure](alt)
    n0, n1, k0, k1 = len(x), len(y), int(x.sum()), int(y.sum())
    p0, p1 = k0 / n0, k1 / n1
    lo0, hi0 = wilson(k0, n0)
    lo1, hi1 = wilson(k1, n1)
    d = p1 - p0
    return {"p_base": p0, "p_alt": p1, "diff": d,
            "diff_low": d - float(np.sqrt((p1 - lo1) ** 2 + (hi0 - p0) ** 2)),
            "diff_high": d + float(np.sqrt((hi1 - p1) ** 2 + (p0 - lo0) ** 2))}


def peak_distribution(runs: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the crisis peak rung (ordered as on the ladder)."""
    return proportions(runs["peak_rung"])


def top_paths(runs: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The most frequent escalation paths (sequences of new crisis peaks)."""
    counts = runs["path"].value_counts().head(n)
    lo, hi = wilson(counts.to_numpy(), len(runs))
    return pd.DataFrame({"count": counts.to_numpy(), "share": counts.to_numpy() / len(runs),
                         "ci_low": lo, "ci_high": hi}, index=pd.Index(counts.index, name="path"))


def format_summary(runs: pd.DataFrame, title: str) -> str:
    """A plain-text summary for the terminal."""
    def pct(x: float) -> str:
        return f"{100 * x:5.1f}%"

    lines = [title, f"runs: {len(runs):,}   mean duration: {runs['turns'].mean():.1f} turns", "",
             "Outcome probabilities (95% Wilson interval)"]
    for name, r in outcome_table(runs).iterrows():
        lines.append(f"  {name:<24}{pct(r.share)}  [{pct(r.ci_low)} - {pct(r.ci_high)}]")
    lines += ["", "Peak rung"]
    for name, r in peak_distribution(runs).iterrows():
        if r["count"]:
            bar = "#" * max(1, math.ceil(40 * r.share)) if r.share > 0 else ""
            lines.append(f"  {name:<16}{pct(r.share)}  {bar}")
    lines += ["", "Most frequent escalation paths (new peaks in order)"]
    for path, r in top_paths(runs, 8).iterrows():
        lines.append(f"  {pct(r.share)}  {path}")
    return "\n".join(lines)
