"""Figures over results: each function takes results and returns a matplotlib ``Figure``.

Every function takes ``ax=`` (the fan chart also ``live_ax=``, the sensitivity bars a
sequence of axes) to draw into the caller's axes, so figures compose into panels of one
figure (``fig.subplots``, ``fig.subfigures``); it then returns the caller's top-level figure.
Without ``ax=`` a figure is built on ``matplotlib.figure.Figure`` directly (not pyplot), so it
does not accumulate in pyplot's registry, works with any backend and displays once in Jupyter.

Figures draw with the caller's rcParams (font sizes are relative: ``"small"``, ``"large"``),
so they match the paper or notebook they go into. The built-in look, large type for print
and a projector, is opt-in: ``with figures.style(): ...`` (the HTML reports use it). Colours
are colour-blind safe (Okabe & Ito).

Inputs are the tables a run writes (``runs`` and ``events`` DataFrames, or a
``sim.analysis.ResultSet``) or tables computed from them (lever tables, sensitivity indices).
Rungs are ordinal: fan charts show quantiles of the rung, labelled with rung names.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim import analysis as an
from sim.analysis.stats import fmt_share

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.colors import Colormap, Normalize

STYLE = {
    "font.size": 13,
    "axes.titlesize": 16,
    "axes.titleweight": "bold",
    "axes.labelsize": 14,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.titlesize": 16,
    "figure.titleweight": "bold",
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "lines.linewidth": 2.5,
}

#: Okabe & Ito colour-blind-safe palette.
PALETTE = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
           "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000", "grey": "#8C8C8C"}
SERIES = [PALETTE[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "black")]
OUTCOME_COLOURS = {"deescalated_agreement": PALETTE["green"], "frozen_stalemate": "#A0A0A0",
                   "coercive_gain": PALETTE["orange"], "contained_clash": PALETTE["vermillion"],
                   "major_war": "#8B1A1A", "nuclear_use": "#3B0A45", "use_of_force": PALETTE["blue"],
                   "any_incident": PALETTE["sky"]}
ICB_COLOURS = {"victory": PALETTE["blue"], "compromise": PALETTE["green"], "stalemate": "#B0B0B0",
               "defeat": PALETTE["vermillion"]}
#: Colours of the verdict words (``an.verdict``): agrees, disagrees, no clear effect; higher, lower, no clear change.
VERDICT_COLOURS = dict(zip((*an.LEVER_VERDICTS, *an.DIRECTIONS),
                           (PALETTE["green"], PALETTE["vermillion"], PALETTE["grey"],
                            PALETTE["vermillion"], PALETTE["blue"], PALETTE["grey"]), strict=True))
UNIT_COLOURS = {"cooperation": PALETTE["green"], "subcrisis": "#A0A0A0", "coercion": PALETTE["yellow"],
                "display": PALETTE["orange"], "force": PALETTE["vermillion"], "war": "#8B1A1A",
                "nuclear_threat": PALETTE["purple"], "nuclear": "#3B0A45"}


def style() -> AbstractContextManager[None]:
    """The built-in look (large type for print and a projector), opt-in:
    ``with figures.style(): fig = outcome_bars(rs)``. Figure functions otherwise draw with
    the caller's rcParams, so a figure matches the paper or notebook it goes into."""
    return mpl.rc_context(STYLE)


def _share_heatmap(ax: Axes, table: pd.DataFrame, cmap: str, fontsize: int) -> mpl.image.AxesImage:
    """Draw a 0..1 share table as a heatmap with each cell's percentage written in it."""
    im = ax.imshow(table.to_numpy(), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            v = table.iat[i, j]
            if v >= 0.005:
                ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=fontsize,
                        color="white" if v > 0.55 else "black")
    return im


def _figure(w: float = 10.0, h: float = 6.0) -> Figure:
    return Figure(figsize=(w, h), layout="constrained")


def _canvas(ax: Axes | None, w: float, h: float) -> tuple[Figure, Axes]:
    """Where to draw: the caller's axes (a panel of their figure), or one axes on a new
    figure sized for this chart. Returns the top-level figure, which every function returns so
    the result can be shown or saved whichever way it was made."""
    if ax is not None:
        return _root(ax), ax
    fig = _figure(w, h)
    return fig, fig.subplots()


def _root(ax: Axes) -> Figure:
    """The top-level figure an axes is drawn on (through any subfigures): what to show or save."""
    return ax.get_figure(root=True)


def _runs(x: Any) -> pd.DataFrame:
    return x.runs if isinstance(x, an.ResultSet) else x


def _events(x: Any) -> pd.DataFrame:
    return x.events if isinstance(x, an.ResultSet) else x


def _title(x: Any, default: str) -> str:
    """The figure's title, with the scenario's title on a second line when known."""
    return f"{default}\n{x.title}" if isinstance(x, an.ResultSet) else default


def _pct_axis(axis: Axis, decimals: int | None = None) -> None:
    axis.set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def _ladder() -> tuple[list[str], list[str], dict[str, str]]:
    """Rung ids, the unit of each rung, and each unit's firebreak name."""
    from sim.inputs.catalogue import load_catalogue

    cat = load_catalogue()
    return ([r.id for r in cat.rungs], [r.unit for r in cat.rungs],
            {u.id: (u.firebreak or "") for u in cat.ladder.units})


def _channel_labels() -> dict[str, str]:
    """Channel id -> its catalogue label ("US-China Defense Telephone Link", not "us prc dtl")."""
    from sim.inputs.catalogue import load_catalogue

    return {c.id: c.label for c in load_catalogue().channels if c.label}


def _turn_label(hours: float | None) -> str:
    return f"turn ({hours:g} h each)" if hours else "turn"


def _as_groups(x: Any) -> dict[str, pd.DataFrame]:
    """A runs table, a ResultSet, or a mapping label -> either."""
    if isinstance(x, Mapping):
        return {str(k): _runs(v) for k, v in x.items()}
    return {x.label if isinstance(x, an.ResultSet) else "runs": _runs(x)}


# =============================================================================== escalation over time


def fan_chart(events: Any, title: str | None = None, quantiles: tuple[float, float, float, float, float] =
              (0.05, 0.25, 0.5, 0.75, 0.95), level: str = "turn", carry: str = "none", actor: str | None = None,
              hours_per_turn: float | None = None, ax: Axes | None = None, live_ax: Axes | None = None) -> Figure:
    """Escalation fan chart: the median rung per turn with 50% and 90% bands (quantiles of
    the rung, ``analysis.rung_quantiles``), the y-axis labelled with rung names and the
    ladder's firebreaks; below, the share of runs still going.

    ``ax`` draws the fan into the caller's axes and ``live_ax`` the share still going (left
    out when only ``ax`` is given, so the fan fits one panel of a composed figure).

    By default (``carry="none"``) the bands are over the runs still going at each turn, so
    the chart shows how live crises move; ``carry="last"`` holds ended runs at their last
    rung (the state of all runs)."""
    if isinstance(events, an.ResultSet):
        hours_per_turn = hours_per_turn or events.hours_per_turn
    q = an.rung_quantiles(_events(events), quantiles, level=level, carry=carry, actor=actor)
    if q.empty:
        raise ValueError("no events: the fan chart needs the event log (run without --no-events)")
    rungs, units, breaks = _ladder()
    cols = [f"q{round(100 * x):02d}" for x in quantiles]
    lo2, lo1, mid, hi1, hi2 = (q[c].to_numpy() for c in cols)
    t = q.index.to_numpy()
    if ax is None:
        fig = _figure(11, 7)
        ax, live_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1]})
    fig = _root(ax)
    blue = PALETTE["blue"]
    of = "of runs still going" if carry == "none" else "of all runs"
    ax.fill_between(t, lo2, hi2, step="mid", color=blue, alpha=0.15, lw=0,
                    label=f"{round(100 * quantiles[0])}–{round(100 * quantiles[4])}% {of}")
    ax.fill_between(t, lo1, hi1, step="mid", color=blue, alpha=0.35, lw=0,
                    label=f"{round(100 * quantiles[1])}–{round(100 * quantiles[3])}% {of}")
    ax.step(t, mid, where="mid", color=PALETTE["black"], label="median")
    lo_r = int(max(np.nanmin(lo2) - 1, 0))
    hi_r = int(min(np.nanmax(hi2) + 1, len(rungs) - 1))
    ax.set_ylim(lo_r - 0.5, hi_r + 0.5)
    ax.set_yticks(range(lo_r, hi_r + 1), rungs[lo_r:hi_r + 1])
    for i in range(lo_r + 1, hi_r + 1):
        if units[i] != units[i - 1]:
            ax.axhline(i - 0.5, color=PALETTE["grey"], lw=1, ls="--", zorder=0)
            if breaks.get(units[i]):
                ax.text(1.0, i - 0.5, f" {breaks[units[i]]}", transform=ax.get_yaxis_transform(), va="center",
                        ha="left", fontsize="x-small", color="#555555", clip_on=False)
    ax.set_ylabel("rung (highest move that turn)" if level == "turn" else "crisis peak so far")
    who = f" ({actor})" if actor else ""
    ax.set_title(title or _title(events, f"Escalation over time{who}"))
    ax.legend(loc="best")
    ax.set_xlim(t.min() - 0.5, t.max() + 0.5)
    if live_ax is None:
        ax.set_xlabel(_turn_label(hours_per_turn))
        return fig
    live_ax.fill_between(t, q["live"].to_numpy(), step="mid", color=PALETTE["grey"], alpha=0.6, lw=0)
    live_ax.set_ylim(0, 1.02)
    _pct_axis(live_ax.yaxis)
    live_ax.set_ylabel("still going", fontsize="medium")
    live_ax.set_xlabel(_turn_label(hours_per_turn))
    live_ax.set_xlim(t.min() - 0.5, t.max() + 0.5)
    return fig


def time_to_threshold_chart(runs: Any, threshold: str = "use_of_force", events: Any = None, title: str | None = None,
                            km: bool = False, hours_per_turn: float | None = None, ax: Axes | None = None) -> Figure:
    """Share of all runs that crossed a threshold by turn t (solid, the curve to quote) with
    its pointwise 95% Wilson band. ``km=True`` adds the Kaplan–Meier estimate that censors
    runs which ended without crossing (dashed, with its own band): it answers "if the crisis
    were still going", runs far above the share, and is not to be quoted as a probability, so
    it is opt-in. ``runs`` may be a mapping label -> runs to compare conditions."""
    if isinstance(runs, an.ResultSet):
        hours_per_turn = hours_per_turn or runs.hours_per_turn
        if events is None and threshold != "use_of_force":
            events = runs.events
    groups = _as_groups(runs)
    evs = events if isinstance(events, Mapping) else dict.fromkeys(groups, _events(events) if events is not None
                                                                    else None)
    fig, ax = _canvas(ax, 10, 6)
    for i, (name, r) in enumerate(groups.items()):
        c = SERIES[i % len(SERIES)]
        tt = an.time_to_threshold(r, threshold, evs.get(name))
        lab = "" if len(groups) == 1 else f"{name}: "
        ax.step(tt.index, tt["crude"], where="post", color=c, label=f"{lab}share of all runs")
        ax.fill_between(tt.index, tt["crude_low"], tt["crude_high"], step="post", color=c, alpha=0.3, lw=0,
                        label=f"{lab}95% Wilson interval (pointwise)", gid="band:crude")
        if km:
            ax.step(tt.index, tt["km"], where="post", color=c, ls="--", lw=2,
                    label=f"{lab}Kaplan–Meier (ended runs censored)")
            ax.fill_between(tt.index, tt["km_low"], tt["km_high"], step="post", color=c, alpha=0.1, lw=0,
                            gid="band:km")
    what = "use of force" if threshold == "use_of_force" else f"'{threshold}' or above"
    ax.set_ylabel(f"P(crossed {what} by turn t)")
    ax.set_xlabel(_turn_label(hours_per_turn))
    _pct_axis(ax.yaxis)
    ax.set_ylim(0, None)
    ax.set_title(title or _title(runs, f"Time to {what}"))
    ax.legend(loc="upper left")
    return fig


# =============================================================================== outcomes


def outcome_bars(runs: Any, title: str | None = None, extra: bool = True, ax: Axes | None = None) -> Figure:
    """Outcome-class probabilities with 95% Wilson intervals (horizontal bars, labelled).
    ``runs`` may be a mapping label -> runs: grouped bars compare conditions."""
    groups = _as_groups(runs)
    tables = {k: an.outcome_table(r) for k, r in groups.items()}
    first = next(iter(tables.values()))
    names = [n for n in first.index if extra or n not in ("use_of_force", "any_incident")]
    k = len(groups)
    fig, ax = _canvas(ax, 10, 0.9 + 0.55 * len(names) * max(k, 1.4))
    h = 0.8 / k
    y = np.arange(len(names))
    for j, (label, t) in enumerate(tables.items()):
        t = t.reindex(names).fillna(0)
        pos = y - 0.4 + h * (j + 0.5)
        colours = [OUTCOME_COLOURS.get(n, PALETTE["grey"]) for n in names] if k == 1 else SERIES[j % len(SERIES)]
        err = np.vstack([t["share"] - t["ci_low"], t["ci_high"] - t["share"]]).clip(0)
        ax.barh(pos, t["share"], height=h * 0.9, color=colours, xerr=err, capsize=3,
                error_kw={"elinewidth": 1.2, "ecolor": "#333333"}, label=label if k > 1 else None)
        n_runs = len(groups[label]) if label in groups else None
        for p, s, c, hi in zip(pos, t["share"], t["count"], t["ci_high"], strict=True):
            ax.text(hi + 0.01, p, fmt_share(s, c, n_runs), va="center", fontsize="small")
    ax.set_yticks(y, [n.replace("_", " ") for n in names])
    ax.invert_yaxis()
    _pct_axis(ax.xaxis)
    xmax = max(float(t["ci_high"].max()) for t in tables.values())
    ax.set_xlim(0, min(1.0, xmax + 0.12) if xmax < 0.88 else 1.12)
    ax.set_xlabel("probability (bars: 95% Wilson interval)")
    n = " / ".join(f"{len(r):,}" for r in groups.values())
    ax.set_title(title or _title(runs, "Outcomes") + f"  (n = {n})")
    if extra and "use_of_force" in names:
        ax.axhline(names.index("use_of_force") - 0.5, color="#555555", lw=1)
    if k > 1:
        ax.legend(loc="lower right")
    return fig


def peak_bars(runs: Any, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Distribution of the crisis peak rung (ladder order, coloured by ladder unit)."""
    r = _runs(runs)
    t = an.peak_distribution(r)
    rungs, units, _ = _ladder()
    seen = np.flatnonzero(t["count"].to_numpy() > 0)
    t = t.iloc[seen.min():seen.max() + 1] if len(seen) else t
    unit_of = dict(zip(rungs, units, strict=True))
    fig, ax = _canvas(ax, 10, 0.9 + 0.5 * len(t))
    y = np.arange(len(t))
    err = np.vstack([t["share"] - t["ci_low"], t["ci_high"] - t["share"]]).clip(0)
    ax.barh(y, t["share"], color=[UNIT_COLOURS.get(unit_of.get(n, ""), PALETTE["grey"]) for n in t.index],
            xerr=err, capsize=3, error_kw={"elinewidth": 1.2, "ecolor": "#333333"})
    for p, s, c, hi in zip(y, t["share"], t["count"], t["ci_high"], strict=True):
        ax.text(hi + 0.01, p, fmt_share(s, c, len(r)), va="center", fontsize="small")
    ax.set_yticks(y, list(t.index))
    ax.invert_yaxis()
    _pct_axis(ax.xaxis)
    ax.set_xlim(0, min(1.12, float(t["ci_high"].max()) + 0.12))
    ax.set_xlabel("share of runs (bars: 95% Wilson interval)")
    ax.set_ylabel("peak rung")
    used = list(dict.fromkeys(unit_of[n] for n in t.index if n in unit_of))
    ax.legend(handles=[Patch(color=UNIT_COLOURS.get(u, PALETTE["grey"]), label=u) for u in used],
              loc="lower right", title="ladder unit")
    ax.set_title(title or _title(runs, "Crisis peak"))
    return fig


def actor_outcome_bars(runs: Any, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Per actor, the share of runs ending in victory, compromise, stalemate or defeat (ICB)."""
    t = an.actor_outcomes(_runs(runs))
    if t.empty:
        raise ValueError("no icb_outcome_<ACTOR> columns in the runs table")
    wide = t["share"].unstack("outcome")
    cats = [c for c in ICB_COLOURS if c in wide.columns]
    fig, ax = _canvas(ax, 10, 1.5 + 0.8 * len(wide))
    left = np.zeros(len(wide))
    y = np.arange(len(wide))
    for c in cats:
        v = wide[c].to_numpy()
        ax.barh(y, v, left=left, color=ICB_COLOURS[c], label=c, height=0.6)
        for yi, (l0, vi) in enumerate(zip(left, v, strict=True)):
            if vi >= 0.06:
                ax.text(l0 + vi / 2, yi, f"{100 * vi:.0f}%", ha="center", va="center", fontsize="small",
                        color="white" if c in ("victory", "defeat") else "black")
        left += v
    ax.set_yticks(y, list(wide.index))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    _pct_axis(ax.xaxis)
    ax.set_xlabel("share of runs")
    ax.legend(ncols=len(cats), loc="upper center", bbox_to_anchor=(0.5, -0.18))
    ax.set_title(title or _title(runs, "Outcome per actor (ICB)"))
    return fig


# =============================================================================== paths


def _tree_without_shared_start(tree: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The path tree without a first step every run shares (returned, to name in the title)."""
    roots = tree[tree["depth"] == 1]
    if len(roots) == 1 and roots["share"].iloc[0] == 1.0 and (tree["depth"] > 1).any():
        start = str(roots["step"].iloc[0])
        tree = tree[tree["depth"] > 1].copy()
        tree["depth"] -= 1
        tree.loc[tree["depth"] == 1, "parent"] = ""
        return tree, start
    return tree, ""


def _tree_spans(nodes: list, layout: str) -> dict[str, tuple[float, float]]:
    """Each node's vertical span in [0, 1]: proportional to its share of runs (``share``), or
    one equal slot per branch end (``equal``). Nodes come in depth-first order."""
    span: dict[str, tuple[float, float]] = {}
    if layout == "share":
        cursor: dict[str, float] = {"": 1.0}
        for row in nodes:
            top = cursor[row.parent]
            span[row.node] = (top - row.share, top)
            cursor[row.parent] = top - row.share
            cursor[row.node] = top
        return span
    has_child = {row.parent for row in nodes}
    leaves = [row.node for row in nodes if row.node not in has_child]
    slot = 1.0 / max(len(leaves), 1)
    pos = {leaf: 1.0 - i * slot for i, leaf in enumerate(leaves)}
    for row in reversed(nodes):  # children come after their parent in depth-first order
        if row.node in pos:
            span[row.node] = (pos[row.node] - slot, pos[row.node])
        else:
            kids = [span[c.node] for c in nodes if c.parent == row.node]
            span[row.node] = (min(k[0] for k in kids), max(k[1] for k in kids))
    return span


def _tree_boxes(ax: Axes, fig_h: float, nodes: list, span: Mapping[str, tuple[float, float]], colour: str,
                pcol: str, cmap: Colormap, norm: Normalize) -> list[str]:
    """Draw one labelled box per node; return the ladder units drawn (for the legend)."""
    rungs, units, _ = _ladder()
    unit_of = dict(zip(rungs, units, strict=True))
    used_units: list[str] = []
    for row in nodes:
        bottom, top = span[row.node]
        height = top - bottom
        x0 = row.depth - 1
        if colour == "unit":
            u = unit_of.get(row.step, row.step)
            used_units.append(u)
            face = UNIT_COLOURS.get(u, PALETTE["grey"])
            dark = u in ("force", "war", "nuclear", "nuclear_threat")
        else:
            face = cmap(norm(getattr(row, pcol)))
            dark = norm(getattr(row, pcol)) > 0.6
        ax.add_patch(Rectangle((x0 + 0.02, bottom), 0.96, height, facecolor=face, edgecolor="white", lw=1.2))
        inches = height * fig_h * 0.85
        if inches >= 0.17:
            label = row.step.replace("_", " ")
            two = inches >= 0.42
            text = f"{label}\n{100 * row.share:.1f}%" if two else f"{label} {100 * row.share:.1f}%"
            ax.text(x0 + 0.5, bottom + height / 2, text, ha="center", va="center",
                    fontsize="small" if two else "x-small", color="white" if dark else "black", clip_on=True)
    return used_units


def _tree_key(fig: Figure, ax: Axes, colour: str, used_units: list[str], measure: str, cmap: Colormap,
              norm: Normalize) -> None:
    """The legend of ladder units, or the colour bar of P(measure | path so far)."""
    if colour == "unit":
        units = _ladder()[1]
        ax.legend(handles=[Patch(color=UNIT_COLOURS.get(u, PALETTE["grey"]), label=u)
                           for u in dict.fromkeys(sorted(used_units, key=lambda u: units.index(u)
                                                         if u in units else 99))],
                  loc="upper left", bbox_to_anchor=(1.0, 1.0), title="ladder unit")
    else:
        cb = ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, pad=0.01)
        cb.set_label(f"P({an.MEASURE_LABELS.get(measure, measure)} | path so far)")
        cb.ax.yaxis.set_major_formatter(PercentFormatter(1.0))


def path_tree_chart(runs: Any, by: str = "rung", measure: str = "use_of_force", min_share: float = 0.005,
                    max_depth: int | None = 7, condition: str | None = None, layout: str | None = None,
                    colour: str | None = None, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Escalation-path tree (an icicle): each column is a step of the path of new crisis
    peaks, each box a path prefix labelled with its share of runs.

    ``layout="equal"`` gives every branch end the same height, so rare branches (usually
    the ones that escalate) stay readable; ``layout="share"`` makes heights proportional
    to runs (a box's unfilled remainder is the runs whose crisis peaked there).
    ``colour="measure"``: the probability of ``measure`` among runs through the box (which
    paths lead to a clash); ``colour="unit"``: the rung's ladder unit. ``condition`` (a
    measure) keeps only the runs where it happened ("how did the clashes come about?");
    it defaults to the proportional layout coloured by unit. A first step shared by every
    run is left out (named in the title)."""
    r = _runs(runs)
    if condition:
        r = r[an.MEASURES[condition](r)]
        if r.empty:
            raise ValueError(f"no run with {condition}")
    layout = layout or ("share" if condition else "equal")
    colour = colour or ("unit" if condition else "measure")
    tree, start = _tree_without_shared_start(an.path_tree(r, by=by, measure=measure, min_share=min_share,
                                                          max_depth=max_depth))
    if layout not in ("equal", "share"):
        raise ValueError(f"layout must be 'equal' or 'share', not {layout!r}")
    nodes = list(tree.itertuples(index=False))
    span = _tree_spans(nodes, layout)
    depth = int(tree["depth"].max()) if len(tree) else 1
    n_slots = len(set(tree["node"]) - set(tree["parent"])) if layout == "equal" else 0
    own = ax is None
    fig, ax = _canvas(ax, 13, max(6.5, 1.6 + 0.3 * n_slots))
    cmap, norm = mpl.colormaps["YlOrRd"], mpl.colors.Normalize(0, 1)
    height = fig.get_figheight() * (1.0 if own else ax.get_position().height)  # inches, to decide which labels fit
    used_units = _tree_boxes(ax, height, nodes, span, colour, f"p_{measure}", cmap, norm)
    ax.set_xlim(0, depth)
    ax.set_ylim(0, 1)
    first = 2 if start else 1
    ax.set_xticks(np.arange(depth) + 0.5, [f"step {i + first}" for i in range(depth)])
    ax.set_yticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", length=0)
    _tree_key(fig, ax, colour, used_units, measure, cmap, norm)
    what = f"runs with {condition.replace('_', ' ')}" if condition else "all runs"
    how = "; heights ∝ runs" if layout == "share" else ""
    frm = f" from {start}" if start else ""
    sub = textwrap.fill(f"new crisis peaks in order{frm}; {what} (n = {len(r):,}){how}; "
                        f"branches < {100 * min_share:g}% omitted", 100)
    ax.set_title((title or _title(runs, "Escalation paths")) + "\n" + sub, fontsize="large")
    return fig


def path_bars(runs: Any, n: int = 10, by: str = "rung", measure: str = "use_of_force",
              title: str | None = None, ax: Axes | None = None) -> Figure:
    """The most frequent paths (share of runs, 95% interval), coloured by P(measure | path)."""
    r = _runs(runs)
    t = an.path_outcomes(r, n=n, by=by, measure=measure)
    cmap = mpl.colormaps["YlOrRd"]
    fig, ax = _canvas(ax, 12, 1.2 + 0.5 * len(t))
    y = np.arange(len(t))
    pcol = f"p_{measure}"
    ax.barh(y, t["share"], color=[cmap(p) for p in t[pcol]], edgecolor="#555555")
    for yi, (s, p) in enumerate(zip(t["share"], t[pcol], strict=True)):
        ax.text(s + 0.005, yi, f"{100 * s:.1f}%  ({100 * p:.0f}% {measure.replace('_', ' ')})", va="center",
                fontsize="small")
    ax.set_yticks(y, [p.replace(">", " › ") for p in t.index], fontsize="small")
    ax.invert_yaxis()
    _pct_axis(ax.xaxis)
    ax.set_xlim(0, float(t["share"].max()) * 1.45 + 0.02)
    ax.set_xlabel("share of runs")
    ax.set_title(title or _title(runs, f"Most frequent paths (by {by})"))
    return fig


def transition_heatmap(events: Any, actor: str | None = None, title: str | None = None,
                       ax: Axes | None = None) -> Figure:
    """Turn-to-turn transitions of the rung (row shares), with the share ending after each rung."""
    given = isinstance(events, pd.DataFrame) and events.columns.name == "to"
    m = events if given else an.transition_matrix(_events(events), actor=actor)
    if m.empty:
        raise ValueError("no transitions: the heatmap needs the event log")
    rows = list(m.index)
    if not given:
        n = an.transition_matrix(_events(events), actor=actor, normalize=False).sum(axis=1)
        rows = [f"{i}  (n={n[i]:,})" for i in m.index]
    fig, ax = _canvas(ax, max(10.0, 2.5 + 0.75 * m.shape[1]), 2.2 + 0.62 * m.shape[0])
    im = _share_heatmap(ax, m, "Blues", fontsize="x-small")
    ax.set_xticks(range(m.shape[1]), list(m.columns), rotation=45, ha="right")
    ax.set_yticks(range(m.shape[0]), rows)
    ax.set_xlabel("rung next turn")
    ax.set_ylabel("rung this turn")
    ax.spines[:].set_visible(False)
    cb = ax.figure.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("share of the row (%)")
    cb.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    who = f" ({actor}'s moves)" if actor else " (highest move each turn)"
    ax.set_title(title or _title(events, "Turn-to-turn transitions") + who)
    return fig


# =============================================================================== levers and sensitivity


def lever_forest(table: pd.DataFrame, title: str | None = None, percent_points: bool = True,
                 xlabel: str | None = None, ax: Axes | None = None) -> Figure:
    """Forest plot: per lever (and scenario) the difference in the probability of its measure
    with the 95% interval. The marker shows the direction the papers expect (▼ lower,
    ▲ higher); its colour whether the model agrees (interval wholly on that side),
    disagrees, or shows no clear effect. Takes ``analysis.lever_study``/``lever_table``
    output (or ``measure_comparison``, which has no expectation)."""
    t = table.copy()
    if t.empty:
        raise ValueError("empty lever table")
    if "verdict" not in t:
        t["verdict"] = [an.verdict(lo, hi, None) for lo, hi in zip(t["diff_low"], t["diff_high"], strict=True)]
    labels = []
    one_scenario = "scenario" in t and t["scenario"].nunique() == 1
    for idx, row in t.iterrows():
        name = str(row.get("label", idx)) if "label" in t else str(idx)
        if "scenario" in t and not one_scenario:
            name = f"{row['scenario']}: {name}"
        if "measure" in t and isinstance(row.get("measure"), str):
            name += f" [{row['measure'].replace('_', ' ')}]"
        labels.append(textwrap.fill(name, 48))
    lines = sum(lb.count("\n") + 1 for lb in labels)
    scale = 100.0 if percent_points else 1.0
    own = ax is None
    fig, ax = _canvas(ax, 12, 2.6 + 0.3 * lines + 0.12 * len(t))
    y = np.arange(len(t))
    for yi, (_, row) in enumerate(t.iterrows()):
        c = VERDICT_COLOURS.get(row["verdict"], PALETTE["grey"])
        ax.plot([row["diff_low"] * scale, row["diff_high"] * scale], [yi, yi], color=c, lw=3, solid_capstyle="butt")
        expect = row.get("expect") if "expect" in t else None
        marker = "v" if expect == "lower" else "^" if expect == "higher" else "o"
        hollow = bool(row.get("documented", False)) if "documented" in t else False
        ax.plot(row["diff"] * scale, yi, marker=marker, ms=11, color=c, mfc="white" if hollow else c, mew=2.2)
    ax.axvline(0, color="#333333", lw=1.2)
    ax.set_yticks(y, labels, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or "difference in probability, lever − default"
                  + (" (percentage points)" if percent_points else ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.0f}" if percent_points else f"{v:+.2f}"))
    handles = [mpl.lines.Line2D([], [], color=VERDICT_COLOURS[v], lw=3, label=v)
               for v in dict.fromkeys(t["verdict"]) if v in VERDICT_COLOURS]
    if "expect" in t:
        handles += [mpl.lines.Line2D([], [], marker="v", color="#333333", ls="", ms=10, label="papers expect lower"),
                    mpl.lines.Line2D([], [], marker="^", color="#333333", ls="", ms=10, label="papers expect higher")]
    if "documented" in t and t["documented"].any():
        handles.append(mpl.lines.Line2D([], [], marker="o", color="#333333", mfc="white", ls="", ms=10,
                                        label="disagreement noted in scenario"))
    if own:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3))
    else:  # a panel of the caller's figure: keep the key with its axes
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=min(len(handles), 3))
    default = "Levers: effect on the probability of their measure\n(95% Newcombe interval)"
    if one_scenario:
        default = f"Levers in {t['scenario'].iloc[0]}: effect on the probability of their measure\n" \
                  "(95% Newcombe interval)"
    ax.set_title(title or default)
    ax.grid(axis="x", color="#DDDDDD", lw=0.8)
    ax.set_axisbelow(True)
    return fig


def sensitivity_bars(indices: pd.DataFrame, title: str | None = None, top: int | None = 12,
                     ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Global sensitivity: one panel per outcome, factors sorted by importance.

    Morris indices (``mu_star`` with ``mu_star_conf``, ``sigma`` as a marker) or Sobol
    indices (``ST`` and ``S1`` with ``*_conf``), as ``sim.analysis.sensitivity`` returns them.
    ``ax``: the caller's axes, one per outcome (a single axes for a single outcome); the
    title then goes on the first panel instead of the caller's figure."""
    df = indices.reset_index() if "factor" not in indices.columns else indices
    outcomes = list(dict.fromkeys(df["outcome"])) if "outcome" in df else [None]
    morris = "mu_star" in df
    title = title or ("Global sensitivity (Morris elementary effects)" if morris else
                      "Global sensitivity (Sobol indices)")
    own = ax is None
    if ax is None:
        fig = _figure(6.5 * len(outcomes), 1.8 + 0.5 * min(df["factor"].nunique(), top or 10 ** 6))
        axes = np.atleast_1d(fig.subplots(1, len(outcomes), squeeze=False)[0])
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if len(axes) != len(outcomes):
            raise ValueError(f"sensitivity_bars needs {len(outcomes)} axes (one per outcome), got {len(axes)}")
        fig = _root(axes[0])
    for ax, out in zip(axes, outcomes, strict=True):
        d = df if out is None else df[df["outcome"] == out]
        key = "mu_star" if morris else "ST"
        d = d.sort_values(key, ascending=False).head(top)
        y = np.arange(len(d))
        if morris:
            ax.barh(y, d["mu_star"], xerr=d["mu_star_conf"], color=PALETTE["blue"], capsize=3,
                    label="μ* (mean |effect|)")
            ax.plot(d["sigma"], y, "D", color=PALETTE["orange"], ms=8, label="σ (interaction / non-linearity)")
            if "noise_floor" in d:
                ax.axvline(float(d["noise_floor"].max()), color=PALETTE["grey"], ls=":", lw=2,
                           label="sampling-noise floor")
            ax.set_xlabel("change in probability over the factor's range\n(lever: switching it on)")
        else:
            h = 0.4
            ax.barh(y - h / 2, d["ST"], h, xerr=d.get("ST_conf"), color=PALETTE["blue"], capsize=3, label="total (ST)")
            ax.barh(y + h / 2, d["S1"], h, xerr=d.get("S1_conf"), color=PALETTE["sky"], capsize=3,
                    label="first order (S1)")
            ax.set_xlabel("share of variance")
        ax.set_yticks(y, [str(f) for f in (d["name"] if "name" in d else d["factor"])], fontsize="small")
        ax.invert_yaxis()
        ax.axvline(0, color="#333333", lw=1)
        ax.set_title(f"P({an.MEASURE_LABELS.get(out, out)})" if out else "", fontsize="medium")
        ax.grid(axis="x", color="#DDDDDD", lw=0.8)
        ax.set_axisbelow(True)
    axes[0].legend(loc="lower right")
    if own:
        fig.suptitle(title)
    else:
        axes[0].set_title(f"{title}\n{axes[0].get_title()}")
    return fig


def prim_chart(result: Any, title: str | None = None, ax: Axes | None = None) -> Figure:
    """PRIM peeling trajectory: density (share of runs in the box with the outcome) against
    coverage (share of all such runs inside the box), coloured by the number of restricted
    factors; the selected box is circled."""
    traj = result.trajectory
    fig, ax = _canvas(ax, 10, 6.5)
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["n_restricted"], cmap="viridis", s=50, zorder=3)
    ax.plot(traj["coverage"], traj["density"], color="#999999", lw=1, zorder=2)
    sel = getattr(result, "selected", None)
    if sel is not None:
        ax.plot(traj["coverage"].iloc[sel], traj["density"].iloc[sel], "o", ms=18, mfc="none",
                mec=PALETTE["vermillion"], mew=2.5, label=f"selected box (step {sel})")
        ax.legend(loc="upper right")  # clear of the baseline label at the lower left
    ax.axhline(traj["density"].iloc[0], color="#555555", ls=":", lw=1.5)
    ax.text(0.02, traj["density"].iloc[0], " share in all runs", va="bottom", transform=ax.get_yaxis_transform())
    _pct_axis(ax.xaxis)
    _pct_axis(ax.yaxis)
    ax.set_xlabel("coverage: share of outcome runs inside the box")
    ax.set_ylabel("density: outcome share inside the box")
    cb = ax.figure.colorbar(sc, ax=ax)
    cb.set_label("restricted factors")
    ax.set_title(title or "Scenario discovery: PRIM peeling trajectory")
    return fig


# =============================================================================== channels and reasons


def channel_chart(runs: Any, measure: str = "use_of_force", title: str | None = None, ax: Axes | None = None) -> Figure:
    """Per crisis channel that was tried: P(measure) in runs where it was answered, tried but
    unanswered, and not tried (95% intervals), with the answer rate. Associations, not effects."""
    t = an.channel_table(_runs(runs), measure)
    t = t[t["calls"] > 0] if not t.empty else t
    if t.empty:
        raise ValueError("no channel was tried in these runs")
    fig, ax = _canvas(ax, 11, 1.8 + 1.0 * len(t))
    y = np.arange(len(t))
    for off, key, colour, lab in ((-0.22, "answered", PALETTE["green"], "tried and answered"),
                                  (0.0, "unanswered", PALETTE["vermillion"], "tried, never answered"),
                                  (0.22, "not_tried", PALETTE["grey"], "not tried")):
        p = t[f"p_{key}"].to_numpy(float)
        err = np.vstack([p - t[f"p_{key}_low"].to_numpy(float), t[f"p_{key}_high"].to_numpy(float) - p]).clip(0)
        ok = ~np.isnan(p)
        ax.errorbar(p[ok], (y + off)[ok], xerr=err[:, ok], fmt="o", color=colour, ms=9, capsize=3, lw=2, label=lab)
    names = _channel_labels()
    label = [textwrap.fill(names.get(c, c.replace("_", " ")), 40, break_on_hyphens=False) for c in t.index]
    ax.set_yticks(y, [f"{lb}\n(answered {100 * a:.0f}% of {int(n):,} calls)"
                      for lb, a, n in zip(label, t["answer_rate"], t["calls"], strict=True)], fontsize="small")
    ax.invert_yaxis()
    _pct_axis(ax.xaxis)
    ax.set_xlim(0, None)
    ax.set_xlabel(f"P({an.MEASURE_LABELS.get(measure, measure)})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=3)
    ax.set_title(title or _title(runs, "Crisis channels and outcomes (association, not effect)"))
    ax.grid(axis="x", color="#DDDDDD", lw=0.8)
    return fig


def reasons_heatmap(events: Any, which: str = "driver1", by: str = "actor", rung_at_least: str | None = None,
                    title: str | None = None, ax: Axes | None = None) -> Figure:
    """Which decision term most often drove (or restrained) the moves, per actor."""
    t = an.reasons_table(_events(events), which=which, by=by, rung_at_least=rung_at_least)
    if t.empty:
        raise ValueError("no (unscripted) moves to explain")
    fig, ax = _canvas(ax, max(10.0, 1.8 + 0.95 * t.shape[1]), 2.2 + 0.65 * t.shape[0])
    im = _share_heatmap(ax, t, "Purples", fontsize="small")
    ax.set_xticks(range(t.shape[1]), [str(c) for c in t.columns], rotation=40, ha="right")
    ax.set_yticks(range(t.shape[0]), [str(i) for i in t.index])
    ax.spines[:].set_visible(False)
    cb = ax.figure.colorbar(im, ax=ax, shrink=0.8)
    cb.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    role = {"driver1": "strongest driver", "driver2": "second driver", "restraint": "strongest restraint"}[which]
    moves = f" of moves at '{rung_at_least}' or above" if rung_at_least else " of moves"
    ax.set_title(title or _title(events, f"Decision reasons: {role}{moves}"))
    ax.set_xlabel("decision term")
    return fig
