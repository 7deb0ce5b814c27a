"""Statistics over results tables: outcomes, peaks, paths, transitions, timing, levers, channels.

Every function takes the tables a run writes (``runs``: a row per run; ``events``: a row
per actor and turn) as pandas DataFrames and returns pandas objects, so the same code
serves the CLI summary, the HTML report and a notebook. ``load_results`` reads a results
directory (consolidated ``runs.parquet`` or a directory of parts) into a ``ResultSet``.

Conventions:

- Probabilities carry 95% Wilson score intervals (``ci_low``, ``ci_high``).
- Rungs are ordinal labels: nothing here averages rung numbers. Per-turn summaries use
  quantiles of the rung index (an actual rung, never an interpolation).
- Differences between two conditions use Newcombe's hybrid score interval, risk ratios the
  Katz log interval. Both assume independent samples; with common seeds (run *i* meets the
  same draws in both conditions) they are conservative.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Z95 = 1.959963984540054

#: MID 5.0 hostility levels (highest level reached in a run: ``peak_mid_hostility``).
MID_HOSTILITY = {1: "no militarised action", 2: "threat to use force", 3: "display of force",
                 4: "use of force", 5: "war"}

#: Readable names for the headline measures (report and figure labels).
MEASURE_LABELS = {
    "use_of_force": "use of force (MID 4+)",
    "serious_clash": "serious clash (ICB violence 3+ or war)",
    "major_war": "major war or nuclear use",
    "escalation": "military display or worse",
    "deescalated_agreement": "de-escalated by agreement",
    "agreement": "ended by agreement",
    "incidents": "any incident at sea or in the air",
}

#: Label for the pseudo-state "the run ended" in transition matrices.
END = "(ended)"


# =============================================================================== intervals


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


def _share_row(k: int, n: int) -> dict[str, float]:
    lo, hi = wilson(k, n)
    return {"count": int(k), "n": int(n), "share": k / n if n else math.nan,
            "ci_low": float(lo), "ci_high": float(hi)}


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


def newcombe_diff(k0: int, n0: int, k1: int, n1: int, z: float = Z95) -> tuple[float, float, float]:
    """p1 - p0 and Newcombe's (1998, method 10) hybrid-score 95% interval, independent samples."""
    p0, p1 = k0 / n0, k1 / n1
    lo0, hi0 = (float(x) for x in wilson(k0, n0, z))
    lo1, hi1 = (float(x) for x in wilson(k1, n1, z))
    d = p1 - p0
    return d, d - math.sqrt((p1 - lo1) ** 2 + (hi0 - p0) ** 2), d + math.sqrt((hi1 - p1) ** 2 + (p0 - lo0) ** 2)


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


# =============================================================================== loading


def _read_table(out: Path, table: str) -> pd.DataFrame:
    """One table of a results directory: the consolidated file, or a directory of parts."""
    try:
        from sim.experiments.store import read_table
    except ImportError:  # pragma: no cover - older layout without sim.experiments.store
        single = out / f"{table}.parquet"
        if single.exists():
            return pd.read_parquet(single)
        if (out / table).is_dir():
            return pd.read_parquet(out / table)
        raise FileNotFoundError(f"{out}: no {table} results") from None
    return read_table(out, table)


@dataclass
class ResultSet:
    """The tables of one ensemble (from a results directory or from memory) and its manifest.

    ``events`` and ``injects`` are read on first use; an ensemble run without the event
    log gives an empty ``events`` frame.
    """

    runs: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    _events: pd.DataFrame | None = None
    _injects: pd.DataFrame | None = None

    @classmethod
    def from_results(cls, res: Any, manifest: dict | None = None) -> ResultSet:
        """Wrap ``sim.engine.ensemble.Results`` (or anything with runs/events/injects frames)."""
        return cls(runs=res.runs, manifest=dict(manifest or {}), _events=res.events, _injects=res.injects)

    @cached_property
    def events(self) -> pd.DataFrame:
        if self._events is not None:
            return self._events
        if self.path is None:
            return pd.DataFrame()
        try:
            return _read_table(self.path, "events")
        except FileNotFoundError:
            return pd.DataFrame()

    @cached_property
    def injects(self) -> pd.DataFrame:
        if self._injects is not None:
            return self._injects
        if self.path is None:
            return pd.DataFrame()
        try:
            return _read_table(self.path, "injects")
        except FileNotFoundError:
            return pd.DataFrame()

    @property
    def title(self) -> str:
        m = self.manifest
        return str(m.get("title") or m.get("scenario") or (self.path.name if self.path else "results"))

    @property
    def label(self) -> str:
        """A short name for this condition: its levers, overlays and explicit settings."""
        m = self.manifest
        bits = [*m.get("levers", []), *(f"+{o}" for o in m.get("overlays", []))]
        return ", ".join(bits) if bits else "default settings"

    @property
    def hours_per_turn(self) -> float | None:
        return self.manifest.get("hours_per_turn")


def load_results(out: str | Path) -> ResultSet:
    """Read a results directory written by ``run_sim.py`` (any layout) into a ``ResultSet``."""
    from sim.errors import InputError

    out = Path(out)
    if not out.is_dir():
        raise InputError(out, "", "not a results directory")
    try:
        runs = _read_table(out, "runs")
    except FileNotFoundError:
        raise InputError(out, "", "no runs table (runs.parquet or runs/part-*.parquet)") from None
    manifest: dict = {}
    for name in ("manifest.json", "job.json"):
        p = out / name
        if p.exists():
            try:
                manifest = json.loads(p.read_text())
            except json.JSONDecodeError as exc:
                raise InputError(p, "", f"not valid JSON ({exc.msg})") from None
            break
    return ResultSet(runs=runs, manifest=manifest, path=out)


# =============================================================================== outcomes and peaks


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


def _measure(runs: pd.DataFrame, measure: str | Callable[[pd.DataFrame], np.ndarray]) -> np.ndarray:
    fn = MEASURES[measure] if isinstance(measure, str) else measure
    return np.asarray(fn(runs), bool)


def measure_table(runs: pd.DataFrame, measures: Iterable[str] | None = None) -> pd.DataFrame:
    """P(measure) with its Wilson 95% interval for each headline measure."""
    names = list(measures or MEASURES)
    rows = {m: _share_row(int(_measure(runs, m).sum()), len(runs)) for m in names}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "measure"
    df.insert(0, "label", [MEASURE_LABELS.get(m, m) for m in names])
    return df


def peak_distribution(runs: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the crisis peak rung (ordered as on the ladder)."""
    return proportions(runs["peak_rung"])


def peak_hostility_distribution(runs: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the peak MID hostility level (1 none .. 5 war), with labels."""
    table = proportions(runs["peak_mid_hostility"].astype(int), categories=list(MID_HOSTILITY))
    table.insert(0, "label", [MID_HOSTILITY[i] for i in table.index])
    table.index.name = "peak_mid_hostility"
    return table


# =============================================================================== paths


def _rung_units() -> dict[str, str]:
    from sim.inputs.catalogue import load_catalogue

    return {r.id: r.unit for r in load_catalogue().rungs}


def collapse_path(path: str, by: str = "rung", units: Mapping[str, str] | None = None) -> str:
    """A path (``status_quo>declare>coerce``) at the level of rungs (unchanged) or of ladder
    units (``subcrisis>coercion``): consecutive repeats are merged."""
    if by == "rung":
        return path
    if by != "unit":
        raise ValueError(f"by must be 'rung' or 'unit', not {by!r}")
    units = units or _rung_units()
    out: list[str] = []
    for step in path.split(">"):
        u = units.get(step, step)
        if not out or out[-1] != u:
            out.append(u)
    return ">".join(out)


def _paths(runs: pd.DataFrame, by: str) -> pd.Series:
    if by == "rung":
        return runs["path"].astype(str)
    units = _rung_units()
    uniq = pd.unique(runs["path"].astype(str))
    mapping = {p: collapse_path(p, by, units) for p in uniq}
    return runs["path"].astype(str).map(mapping)


def top_paths(runs: pd.DataFrame, n: int = 10, by: str = "rung", outcome: bool = False) -> pd.DataFrame:
    """The most frequent escalation paths (sequences of new crisis peaks).

    ``by="unit"`` collapses rungs into ladder units (``subcrisis>display>force``);
    ``outcome=True`` appends the run's outcome class (``... => contained_clash``).
    """
    paths = _paths(runs, by)
    if outcome:
        paths = paths + " => " + runs["outcome"].astype(str)
    counts = paths.value_counts().head(n)
    lo, hi = wilson(counts.to_numpy(), len(runs))
    return pd.DataFrame({"count": counts.to_numpy(), "share": counts.to_numpy() / len(runs),
                         "ci_low": lo, "ci_high": hi}, index=pd.Index(counts.index, name="path"))


def path_outcomes(runs: pd.DataFrame, n: int = 10, by: str = "unit",
                  measure: str = "use_of_force") -> pd.DataFrame:
    """Frequent paths with P(measure | path): which escalation paths end in a clash."""
    paths = _paths(runs, by)
    hit = _measure(runs, measure)
    g = pd.DataFrame({"path": paths.to_numpy(), "hit": hit}).groupby("path", sort=False)["hit"].agg(["size", "sum"])
    g = g.sort_values("size", ascending=False).head(n)
    lo, hi = wilson(g["sum"].to_numpy(), g["size"].to_numpy())
    return pd.DataFrame({"count": g["size"].to_numpy(), "share": g["size"].to_numpy() / len(runs),
                         f"p_{measure}": g["sum"].to_numpy() / g["size"].to_numpy(), "ci_low": lo, "ci_high": hi},
                        index=pd.Index(g.index, name="path"))


def path_tree(runs: pd.DataFrame, by: str = "rung", measure: str | None = "use_of_force",
              min_share: float = 0.0, max_depth: int | None = None) -> pd.DataFrame:
    """The escalation paths as a tree of prefixes, one row per node.

    A node is a path prefix (``status_quo>declare``): ``count`` runs passed through it,
    ``ended`` runs stopped there (their peak), ``share`` is of all runs and
    ``share_of_parent`` of the parent's runs. ``p_<measure>`` is the probability of the
    measure among runs through the node (e.g. how often going through ``coerce`` leads to
    force). Nodes below ``min_share`` of all runs, or deeper than ``max_depth``, are left out.
    Rows are in depth-first order, children by decreasing count.
    """
    paths = _paths(runs, by)
    hit = _measure(runs, measure) if measure else np.zeros(len(runs), bool)
    g = pd.DataFrame({"path": paths.to_numpy(), "hit": hit}).groupby("path", sort=False)["hit"].agg(["size", "sum"])
    total = len(runs)
    count: Counter[tuple[str, ...]] = Counter()
    hits: Counter[tuple[str, ...]] = Counter()
    ended: Counter[tuple[str, ...]] = Counter()
    for path, (c, h) in zip(g.index, g.to_numpy(), strict=True):
        steps = tuple(path.split(">"))
        ended[steps] += int(c)
        for d in range(1, len(steps) + 1):
            count[steps[:d]] += int(c)
            hits[steps[:d]] += int(h)
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for node in count:
        children.setdefault(node[:-1], []).append(node)
    rows: list[dict] = []

    def visit(node: tuple[str, ...]) -> None:
        c = count[node]
        if c / total < min_share or (max_depth is not None and len(node) > max_depth):
            return
        parent = node[:-1]
        parent_count = count[parent] if parent else total
        row = {"node": ">".join(node), "parent": ">".join(parent), "depth": len(node), "step": node[-1],
               "count": c, "share": c / total, "share_of_parent": c / parent_count, "ended": ended[node]}
        if measure:
            lo, hi = wilson(hits[node], c)
            row.update({f"p_{measure}": hits[node] / c, "ci_low": float(lo), "ci_high": float(hi)})
        rows.append(row)
        for child in sorted(children.get(node, []), key=lambda x: (-count[x], x)):
            visit(child)

    for root in sorted(children.get((), []), key=lambda x: (-count[x], x)):
        visit(root)
    cols = ["node", "parent", "depth", "step", "count", "share", "share_of_parent", "ended"]
    if measure:
        cols += [f"p_{measure}", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


def action_sequences(events: pd.DataFrame, actor: str, n: int = 10, collapse: bool = True,
                     max_len: int | None = None, column: str = "action") -> pd.DataFrame:
    """The most frequent sequences of one actor's moves over a run (``column``: action or a
    rung column). ``collapse`` merges consecutive repeats (``protest>protest>declare`` ->
    ``protest>declare``); ``max_len`` keeps the first moves only."""
    ev = events.loc[events["actor"] == actor, ["run", "turn", column]].sort_values(["run", "turn"], kind="stable")
    if ev.empty:
        return pd.DataFrame(columns=["count", "share", "ci_low", "ci_high"])
    names = np.asarray(ev[column].astype(str))
    runs = ev["run"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1], True])
    seqs = []
    for a, b in itertools.pairwise(bounds):
        seq = names[a:b].tolist()
        if collapse:
            seq = [s for i, s in enumerate(seq) if i == 0 or s != seq[i - 1]]
        if max_len is not None:
            seq = seq[:max_len]
        seqs.append(">".join(seq))
    counts = pd.Series(seqs).value_counts().head(n)
    total = len(seqs)
    lo, hi = wilson(counts.to_numpy(), total)
    return pd.DataFrame({"count": counts.to_numpy(), "share": counts.to_numpy() / total, "ci_low": lo,
                         "ci_high": hi}, index=pd.Index(counts.index, name=f"{actor} {column}s"))


# =============================================================================== per-turn levels


def _rung_names(events: pd.DataFrame, column: str = "rung_realised") -> list[str]:
    if column in events and hasattr(events[column], "cat"):
        return [str(c) for c in events[column].cat.categories]
    from sim.inputs.catalogue import load_catalogue

    return [r.id for r in load_catalogue().rungs]


def turn_levels(events: pd.DataFrame, actor: str | None = None, level: str = "turn",
                column: str = "rung_realised") -> pd.DataFrame:
    """A runs x turns matrix of rung indices (-1 once a run has ended).

    ``level="turn"``: the highest rung any actor (or ``actor``) realised that turn;
    ``level="peak"``: the running maximum (the crisis peak so far).
    """
    ev = events if actor is None else events[events["actor"] == actor]
    if ev.empty:
        return pd.DataFrame()
    codes = ev[column].cat.codes.to_numpy().astype(np.int16)
    run_ids, pos = np.unique(ev["run"].to_numpy(), return_inverse=True)
    turn = ev["turn"].to_numpy().astype(np.int64)
    T = int(turn.max())
    m = np.full((len(run_ids), T), -1, np.int16)
    np.maximum.at(m, (pos, turn - 1), codes)
    if level == "peak":
        live = m >= 0
        m = np.where(live, np.maximum.accumulate(m, axis=1), -1).astype(np.int16)
    elif level != "turn":
        raise ValueError(f"level must be 'turn' or 'peak', not {level!r}")
    return pd.DataFrame(m, index=pd.Index(run_ids, name="run"), columns=pd.RangeIndex(1, T + 1, name="turn"))


def rung_quantiles(events: pd.DataFrame, quantiles: Iterable[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
                   level: str = "turn", carry: str = "last", actor: str | None = None) -> pd.DataFrame:
    """Per-turn quantiles of the rung (for the fan chart), as rung indices.

    ``carry="last"``: a run that has ended keeps its last rung (the distribution is over all
    runs at every turn); ``carry="none"``: only runs still going count. Quantiles use the
    inverted empirical CDF, so each is a rung some runs were actually at. The ``live``
    column is the share of runs still going.
    """
    m = turn_levels(events, actor=actor, level=level)
    if m.empty:
        return pd.DataFrame()
    a = m.to_numpy()
    live = a >= 0
    if carry == "last":
        idx = np.where(live, np.arange(a.shape[1])[None, :], 0)
        idx = np.maximum.accumulate(idx, axis=1)
        a = np.take_along_axis(a, idx, axis=1)
    elif carry != "none":
        raise ValueError(f"carry must be 'last' or 'none', not {carry!r}")
    qs = list(quantiles)
    out = {f"q{round(100 * q):02d}": np.full(a.shape[1], np.nan) for q in qs}
    for t in range(a.shape[1]):
        col = a[:, t]
        col = col[col >= 0]
        if len(col):
            vals = np.quantile(col, qs, method="inverted_cdf")
            for q, v in zip(qs, vals, strict=True):
                out[f"q{round(100 * q):02d}"][t] = v
    df = pd.DataFrame(out, index=m.columns)
    df["live"] = live.mean(axis=0)
    df["n_live"] = live.sum(axis=0)
    return df


def transition_matrix(events: pd.DataFrame, actor: str | None = None, normalize: bool = True,
                      include_end: bool = True, column: str = "rung_realised") -> pd.DataFrame:
    """Turn-to-turn transitions of the per-turn rung (highest move that turn, or ``actor``'s).

    Rows: rung at turn t; columns: rung at turn t+1, plus ``(ended)`` when the run ended
    after turn t. ``normalize`` gives row shares (each row sums to 1), else counts. Rows
    and columns are in ladder order and limited to rungs that occur.
    """
    names = _rung_names(events, column)
    m = turn_levels(events, actor=actor, level="turn", column=column)
    k = len(names)
    counts = np.zeros((k, k + 1), np.int64)
    if not m.empty:
        a = m.to_numpy().astype(np.int64)
        frm, to = a[:, :-1].ravel(), a[:, 1:].ravel()
        ok = frm >= 0
        frm, to = frm[ok], to[ok]
        to = np.where(to < 0, k, to)
        np.add.at(counts, (frm, to), 1)
        last = a[:, -1]  # runs still going at the last recorded turn end there too
        np.add.at(counts, (last[last >= 0], k), 1)
    df = pd.DataFrame(counts, index=pd.Index(names, name="from"), columns=pd.Index([*names, END], name="to"))
    if not include_end:
        df = df.drop(columns=END)
    used = [n for i, n in enumerate(names) if counts[i].sum() > 0 or counts[:, i].sum() > 0]
    df = df.loc[used, [c for c in df.columns if c in used or c == END]]
    if normalize:
        tot = df.sum(axis=1)
        df = df.div(tot.where(tot > 0, 1), axis=0)
    return df


# =============================================================================== timing


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


def first_crossing_turn(runs: pd.DataFrame, threshold: str = "use_of_force",
                        events: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per run: the turn the threshold was first crossed (or the end turn) and whether it was.

    ``threshold``: ``use_of_force`` (MID hostility 4+, from the runs table), or a rung id
    (any move realised at or above it; needs ``events``).
    """
    end = runs["turns"].to_numpy().astype(float)
    if threshold == "use_of_force":
        hit = runs["use_of_force"].to_numpy(bool)
        first = runs["first_force_turn"].to_numpy().astype(float)
        return np.where(hit, first, end), hit
    if events is None or events.empty:
        raise ValueError(f"threshold {threshold!r} needs the event log")
    names = _rung_names(events)
    if threshold not in names:
        raise ValueError(f"unknown threshold {threshold!r}: use_of_force or a rung ({', '.join(names)})")
    r = names.index(threshold)
    ev = events.loc[events["rung_realised"].cat.codes.to_numpy() >= r, ["run", "turn"]]
    first = ev.groupby("run")["turn"].min()
    f = first.reindex(runs["run"].to_numpy()).to_numpy(float)
    hit = ~np.isnan(f)
    return np.where(hit, f, end), hit


def time_to_threshold(runs: pd.DataFrame, threshold: str = "use_of_force",
                      events: pd.DataFrame | None = None, max_turn: int | None = None) -> pd.DataFrame:
    """Share of runs that crossed a threshold by turn t, for every turn 0..max.

    ``km`` is the Kaplan–Meier cumulative probability: a run that ended without crossing
    (it faded or was settled) is censored at its end turn, so ``km`` answers "if the crisis
    were still going". ``crude`` is the plain share of all runs that had crossed by turn t
    (ended runs count as not crossing), the quantity to compare with the headline
    probability; ``km`` >= ``crude`` always.
    """
    t, d = first_crossing_turn(runs, threshold, events)
    T = int(max_turn if max_turn is not None else max(int(runs["turns"].max()), 1))
    km = kaplan_meier(t, d)
    grid = pd.Index(np.arange(0, T + 1), name="turn")
    step = km[["cumulative", "cum_low", "cum_high"]].reindex(grid.astype(float), method="ffill").fillna(0.0)
    at_risk = np.array([(t >= u).sum() for u in grid])
    crossed = np.array([((t == u) & d).sum() for u in grid])
    censored = np.array([((t == u) & ~d).sum() for u in grid])
    crude = np.array([((t <= u) & d).sum() for u in grid]) / max(len(t), 1)
    return pd.DataFrame({"at_risk": at_risk, "crossed": crossed, "censored": censored,
                         "km": step["cumulative"].to_numpy(), "km_low": step["cum_low"].to_numpy(),
                         "km_high": step["cum_high"].to_numpy(), "crude": crude}, index=grid)


# =============================================================================== comparisons


def compare(base: pd.DataFrame, alt: pd.DataFrame, measure: str) -> dict:
    """P(measure) under two conditions, their difference and its Newcombe 95% interval, and
    the risk ratio alt/base with its Katz interval."""
    x, y = _measure(base, measure), _measure(alt, measure)
    n0, n1, k0, k1 = len(x), len(y), int(x.sum()), int(y.sum())
    d, lo, hi = newcombe_diff(k0, n0, k1, n1)
    rr, rlo, rhi = risk_ratio(k0, n0, k1, n1)
    return {"p_base": k0 / n0, "p_alt": k1 / n1, "diff": d, "diff_low": lo, "diff_high": hi,
            "rr": rr, "rr_low": rlo, "rr_high": rhi, "k_base": k0, "n_base": n0, "k_alt": k1, "n_alt": n1}


def verdict(diff_low: float, diff_high: float, expect: str | None) -> str:
    """'agrees' when the interval lies wholly on the expected side of zero, 'disagrees' when
    wholly on the other side, else 'no clear effect' ('higher'/'lower'/'no change' without
    an expectation)."""
    if expect not in ("lower", "higher"):
        return "higher" if diff_low > 0 else "lower" if diff_high < 0 else "no clear change"
    if diff_low > 0:
        return "agrees" if expect == "higher" else "disagrees"
    if diff_high < 0:
        return "agrees" if expect == "lower" else "disagrees"
    return "no clear effect"


def lever_table(base: pd.DataFrame, alts: Mapping[str, pd.DataFrame],
                measures: str | Mapping[str, str] = "use_of_force",
                expect: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per alternative: P(measure) without and with it, difference [95%], risk
    ratio [95%], the expected direction and the verdict. ``measures``: one measure for all,
    or one per alternative (a lever's own ``measure``)."""
    rows = []
    for name, runs in alts.items():
        m = measures if isinstance(measures, str) else measures[name]
        c = compare(base, runs, m)
        e = (expect or {}).get(name)
        rows.append({"lever": name, "measure": m, "expect": e, **c,
                     "verdict": verdict(c["diff_low"], c["diff_high"], e)})
    return pd.DataFrame(rows).set_index("lever")


def measure_comparison(base: pd.DataFrame, alt: pd.DataFrame, measures: Iterable[str] | None = None) -> pd.DataFrame:
    """Every headline measure under two conditions: p, difference [95%], risk ratio [95%]."""
    rows = {m: compare(base, alt, m) for m in (measures or MEASURES)}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "measure"
    df.insert(0, "label", [MEASURE_LABELS.get(m, m) for m in df.index])
    return df


def scenario_levers(scenario: str | Path) -> list:
    """The levers a scenario file defines (``sim.inputs.schema.Lever``: id, label, source, expect, measure, note)."""
    from sim.inputs.loader import load
    from sim.inputs.schema import ScenarioFile

    return list(load(ScenarioFile, Path(scenario)).levers)


def lever_study(scenario: str | Path, runs: int = 2000, seed: int = 0, levers: Iterable[str] | None = None,
                overlays: Iterable[str] = (), overrides: list[tuple[str, Any]] | None = None,
                base_levers: Iterable[str] = (), base_runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each lever of a scenario against the default, with common seeds (run *i* meets the same
    random draws under both), on the lever's own measure.

    Returns ``lever_table`` rows with the scenario, the lever's label, source paper and note,
    and ``documented`` = the scenario notes that the model disagrees with the papers.
    ``base_levers`` are on in both conditions; ``base_runs`` reuses a baseline already run
    (it must be ``runs`` runs of the same seed and settings).
    """
    from sim.engine.ensemble import simulate
    from sim.inputs.compile import compile_scenario

    scenario = Path(scenario)
    defined = {lv.id: lv for lv in scenario_levers(scenario)}
    base_levers = list(base_levers)
    chosen = [lv for lv in (levers if levers is not None else defined) if lv not in base_levers]
    for lv in chosen:
        if lv not in defined:
            from sim.errors import InputError
            raise InputError(scenario, f"levers.{lv}", f"unknown lever (known: {', '.join(defined) or 'none'})")

    def run(extra: list[str]) -> pd.DataFrame:
        spec = compile_scenario(scenario, overrides, levers=[*base_levers, *extra], overlays=list(overlays))
        return simulate(spec, seed, runs, events=False).runs

    base = base_runs if base_runs is not None else run([])
    alts = {lv: run([lv]) for lv in chosen}
    table = lever_table(base, alts, {lv: defined[lv].measure for lv in chosen},
                        {lv: defined[lv].expect for lv in chosen})
    sid = scenario.stem
    table.insert(0, "scenario", sid)
    table.insert(1, "label", [defined[lv].label for lv in table.index])
    table["paper"] = [defined[lv].source.paper.split(",")[0] for lv in table.index]
    table["note"] = [defined[lv].note for lv in table.index]
    table["documented"] = table["note"].str.startswith("Model disagrees:")
    return table


# =============================================================================== channels and actors


def channel_table(runs: pd.DataFrame, measure: str = "use_of_force") -> pd.DataFrame:
    """Which crisis channels were tried and answered, and P(measure) when they were.

    Per channel: runs in which it was tried (share of runs), calls and answered calls
    (answer rate with interval), and P(measure) in runs where it was tried and answered
    at least once, tried but never answered, and not tried. These are associations:
    channels are called in hotter crises, so compare levers (which change the channel
    itself) for effects.
    """
    chans = [c[len("tried_"):] for c in runs.columns if c.startswith("tried_")]
    hit = _measure(runs, measure)
    n = len(runs)
    rows = []
    for c in chans:
        tried = runs[f"tried_{c}"].to_numpy()
        answered = runs[f"answered_{c}"].to_numpy()
        calls, ans = int(tried.sum()), int(answered.sum())
        a_lo, a_hi = wilson(ans, calls) if calls else (np.nan, np.nan)
        row = {"channel": c, "runs_tried": int((tried > 0).sum()), "share_tried": float((tried > 0).mean()) if n else 0,
               "calls": calls, "answered": ans, "answer_rate": ans / calls if calls else np.nan,
               "answer_low": float(a_lo), "answer_high": float(a_hi)}
        for key, mask in (("answered", (tried > 0) & (answered > 0)), ("unanswered", (tried > 0) & (answered == 0)),
                          ("not_tried", tried == 0)):
            k, m = int(hit[mask].sum()), int(mask.sum())
            lo, hi = wilson(k, m) if m else (np.nan, np.nan)
            row.update({f"n_{key}": m, f"p_{key}": k / m if m else np.nan, f"p_{key}_low": float(lo),
                        f"p_{key}_high": float(hi)})
        rows.append(row)
    return pd.DataFrame(rows).set_index("channel") if rows else pd.DataFrame()


def actor_outcomes(runs: pd.DataFrame) -> pd.DataFrame:
    """Per actor: the share of runs with each ICB-style outcome (victory, compromise,
    stalemate, defeat) and of runs in which it conceded, with intervals. Long format,
    indexed by (actor, outcome)."""
    n = len(runs)
    parts = []
    for col in [c for c in runs.columns if c.startswith("icb_outcome_")]:
        actor = col[len("icb_outcome_"):]
        t = proportions(runs[col])
        conceded = runs.get(f"conceded_{actor}")
        if conceded is not None:
            k = int(conceded.sum())
            lo, hi = wilson(k, n)
            t.loc["conceded"] = [k, k / max(n, 1), float(lo), float(hi)]
        t.index = pd.MultiIndex.from_product([[actor], list(t.index)], names=["actor", "outcome"])
        parts.append(t)
    return pd.concat(parts) if parts else pd.DataFrame()


# =============================================================================== decisions


def first_crossings(events: pd.DataFrame, threshold: str = "use_of_force") -> pd.DataFrame:
    """For each run that crossed the threshold: the move that crossed it first.

    ``threshold``: ``use_of_force`` (MID hostility 4+, incidents included) or a rung id
    (a move realised at or above it). When several actors cross in the same turn, each
    of their moves is listed. Columns as in the event log (actor, action, target, rungs,
    incident, scripted, drivers and restraint with their weights).
    """
    if events.empty:
        return events.copy()
    if threshold == "use_of_force":
        mask = events["mid_hostility"].to_numpy() >= 4
    else:
        names = _rung_names(events)
        if threshold not in names:
            raise ValueError(f"unknown threshold {threshold!r}: use_of_force or a rung ({', '.join(names)})")
        mask = events["rung_realised"].cat.codes.to_numpy() >= names.index(threshold)
    ev = events[mask]
    if ev.empty:
        return ev.copy()
    first = ev.groupby("run")["turn"].transform("min")
    return ev[ev["turn"].to_numpy() == first.to_numpy()].reset_index(drop=True)


def crossing_summary(events: pd.DataFrame, threshold: str = "use_of_force", n: int = 12) -> pd.DataFrame:
    """Who crosses the threshold first, with what move and why: the most frequent
    (actor, action, driver1, restraint) combinations among first crossings, as shares of
    first-crossing moves, with how many were incidents or scripted."""
    fc = first_crossings(events, threshold)
    if fc.empty:
        return pd.DataFrame(columns=["actor", "action", "driver1", "restraint", "count", "share", "incident_share"])
    keys = ["actor", "action", "driver1", "restraint"]
    g = fc.groupby(keys, observed=True).agg(count=("run", "size"), incident_share=("incident", "mean"),
                                            scripted_share=("scripted", "mean"))
    g = g.sort_values("count", ascending=False).head(n).reset_index()
    g.insert(g.columns.get_loc("count") + 1, "share", g["count"] / len(fc))
    for k in keys:
        g[k] = g[k].astype(str)
    return g


def reasons_table(events: pd.DataFrame, which: str = "driver1", by: str = "actor",
                  rung_at_least: str | None = None, actor: str | None = None, normalize: bool = True) -> pd.DataFrame:
    """How often each decision term was the strongest driver (``driver1``), second driver or
    strongest restraint of the moves, per ``by`` group (actor, action, turn ...).
    ``rung_at_least`` keeps moves intended at or above a rung (e.g. ``coerce``: why actors
    escalate); scripted moves (injects) are left out."""
    ev = events[~events["scripted"].to_numpy(bool)]
    if actor is not None:
        ev = ev[ev["actor"] == actor]
    if rung_at_least is not None:
        names = _rung_names(events, "rung_intended")
        ev = ev[ev["rung_intended"].cat.codes.to_numpy() >= names.index(rung_at_least)]
    if ev.empty:
        return pd.DataFrame()
    table = pd.crosstab(ev[by], ev[which], normalize="index" if normalize else False, dropna=True)
    table = table.loc[:, table.sum(axis=0) > 0]
    return table


def action_mix(events: pd.DataFrame, actor: str | None = None, n: int = 10) -> pd.DataFrame:
    """The most frequent moves per actor (or of one ``actor``), as shares of its actor-turns."""
    ev = events if actor is None else events[events["actor"] == actor]
    g = ev.groupby(["actor", "action"], observed=True).size().rename("count").reset_index()
    g["share"] = g["count"] / g.groupby("actor", observed=True)["count"].transform("sum")
    g = g.sort_values(["actor", "count"], ascending=[True, False], kind="stable")
    return g.groupby("actor", observed=True).head(n).reset_index(drop=True)


# =============================================================================== text summary


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
