"""Tables over one ensemble's results: outcomes, measures, peaks, paths, transitions, timing, channels, reasons.

Every function takes the tables a run writes (``runs``: a row per run; ``events``: a row
per actor and turn) as pandas DataFrames and returns pandas objects, so the same code
serves the CLI summary, the HTML report and a notebook. Intervals are those of
``sim.analysis.stats``; measures are the registry's (``sim.experiments.measures``).

Rungs are ordinal labels: nothing here averages rung numbers. Per-turn summaries use
quantiles of the rung index (an actual rung, never an interpolation).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sim.analysis.stats import kaplan_meier, proportions, share_frame, share_row, wilson
from sim.experiments.measures import MEASURE_LABELS, MEASURE_NAMES
from sim.experiments.measures import measure as measured
from sim.names import MidLevel

#: MID 5.0 hostility levels (highest level reached in a run: ``peak_mid_hostility``).
MID_HOSTILITY = {int(MidLevel.NONE): "no militarised action", int(MidLevel.THREAT): "threat to use force",
                 int(MidLevel.DISPLAY): "display of force", int(MidLevel.USE_OF_FORCE): "use of force",
                 int(MidLevel.WAR): "war"}

#: Label for the pseudo-state "the run ended" in transition matrices.
END = "(ended)"


# =============================================================================== outcomes and peaks


def outcome_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Outcome-class probabilities with 95% intervals, plus headline events."""
    table = proportions(runs["outcome"])
    n = len(runs)
    extra = {
        "use_of_force": int(runs["use_of_force"].sum()),
        "any_incident": int((runs["incidents"] > 0).sum()),
    }
    rows = [share_frame(np.array([k]), max(n, 1), pd.Index([name], name="outcome")) for name, k in extra.items()]
    return pd.concat([table, *rows])


def measure_table(runs: pd.DataFrame, measures: Iterable[str] | None = None) -> pd.DataFrame:
    """P(measure) with its Wilson 95% interval for each headline measure."""
    names = list(measures or MEASURE_NAMES)
    rows = {m: share_row(int(measured(runs, m).sum()), len(runs)) for m in names}
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


def path_labels(runs: pd.DataFrame, by: str = "rung") -> pd.Series:
    """Each run's path, by rung or collapsed into ladder units (``by="unit"``)."""
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
    paths = path_labels(runs, by)
    if outcome:
        paths = paths + " => " + runs["outcome"].astype(str)
    counts = paths.value_counts().head(n)
    return share_frame(counts.to_numpy(), len(runs), pd.Index(counts.index, name="path"))


def path_outcomes(runs: pd.DataFrame, n: int = 10, by: str = "unit",
                  measure: str = "use_of_force") -> pd.DataFrame:
    """Frequent paths with P(measure | path): which escalation paths end in a clash."""
    paths = path_labels(runs, by)
    hit = measured(runs, measure)
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
    paths = path_labels(runs, by)
    hit = measured(runs, measure) if measure else np.zeros(len(runs), bool)
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
    return share_frame(counts.to_numpy(), len(seqs), pd.Index(counts.index, name=f"{actor} {column}s"))


# =============================================================================== per-turn levels


def rung_names(events: pd.DataFrame, column: str = "rung_realised") -> list[str]:
    """The rung ids in ladder order: the column's categories, else the catalogue's."""
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
    names = rung_names(events, column)
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


def crossed(events: pd.DataFrame, threshold: str = "use_of_force") -> np.ndarray:
    """Per event row: did the move cross ``threshold`` (``use_of_force``: MID hostility 4+,
    incidents included; else a rung id: a move realised at or above it)?"""
    if threshold == "use_of_force":
        return events["mid_hostility"].to_numpy() >= MidLevel.USE_OF_FORCE
    names = rung_names(events)
    if threshold not in names:
        raise ValueError(f"unknown threshold {threshold!r}: use_of_force or a rung ({', '.join(names)})")
    return events["rung_realised"].cat.codes.to_numpy() >= names.index(threshold)


def first_crossing_turn(runs: pd.DataFrame, threshold: str = "use_of_force",
                        events: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per run: the turn the threshold was first crossed (or the end turn) and whether it was.

    ``threshold``: ``use_of_force`` (MID hostility 4+, from the runs table), or a rung id
    (any move realised at or above it; needs ``events``).
    """
    end = runs["turns"].to_numpy().astype(float)
    if threshold == "use_of_force":
        hit = runs["use_of_force"].to_numpy(bool)
        first = runs["first_force_turn"].to_numpy(dtype=float, na_value=np.nan)  # null: never
        return np.where(hit, first, end), hit
    if events is None or events.empty:
        raise ValueError(f"threshold {threshold!r} needs the event log")
    ev = events.loc[crossed(events, threshold), ["run", "turn"]]
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
    probability; ``km`` >= ``crude`` always. ``crude_low``/``crude_high`` are its pointwise
    95% Wilson interval: at each turn the share is a binomial proportion of all runs, so the
    band is exact in the same sense as the headline intervals (not a simultaneous band).
    """
    t, d = first_crossing_turn(runs, threshold, events)
    T = int(max_turn if max_turn is not None else max(int(runs["turns"].max()), 1))
    km = kaplan_meier(t, d)
    grid = pd.Index(np.arange(0, T + 1), name="turn")
    step = km[["cumulative", "cum_low", "cum_high"]].reindex(grid.astype(float), method="ffill").fillna(0.0)
    at_risk = np.array([(t >= u).sum() for u in grid])
    crossed = np.array([((t == u) & d).sum() for u in grid])
    censored = np.array([((t == u) & ~d).sum() for u in grid])
    ever = np.array([((t <= u) & d).sum() for u in grid])
    crude_low, crude_high = wilson(ever, max(len(t), 1))
    return pd.DataFrame({"at_risk": at_risk, "crossed": crossed, "censored": censored,
                         "km": step["cumulative"].to_numpy(), "km_low": step["cum_low"].to_numpy(),
                         "km_high": step["cum_high"].to_numpy(), "crude": ever / max(len(t), 1),
                         "crude_low": crude_low, "crude_high": crude_high}, index=grid)


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
    hit = measured(runs, measure)
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
    ev = events[crossed(events, threshold)]
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
        names = rung_names(events, "rung_intended")
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
    from sim.analysis.stats import fmt_interval, fmt_share

    def pct(x: float, k: int | None = None) -> str:
        return f"{fmt_share(x, k, len(runs)):>6}"

    lines = [title, f"runs: {len(runs):,}   mean duration: {runs['turns'].mean():.1f} turns", "",
             "Outcome probabilities (95% Wilson interval)"]
    for name, r in outcome_table(runs).iterrows():
        lines.append(f"  {name:<24}{pct(r.share, r['count'])}  {fmt_interval(r.ci_low, r.ci_high)}")
    lines += ["", "Peak rung"]
    for name, r in peak_distribution(runs).iterrows():
        if r["count"]:
            bar = "#" * max(1, math.ceil(40 * r.share)) if r.share > 0 else ""
            lines.append(f"  {name:<16}{pct(r.share, r['count'])}  {bar}")
    lines += ["", "Most frequent escalation paths (new peaks in order)"]
    for path, r in top_paths(runs, 8).iterrows():
        lines.append(f"  {pct(r.share)}  {path}")
    return "\n".join(lines)
