"""Every figure function draws non-empty, labelled axes on real results."""

from __future__ import annotations

import io

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import analysis as an
from sim.analysis import figures as F
from sim.experiments.perform import perform
from sim.inputs.compile import compile_scenario
from sim.inputs.condition import Condition
from sim.inputs.library import SCENARIOS_DIR

RUNS, SEED = 600, 3
SENKAKU = Condition.of(SCENARIOS_DIR / "senkaku.yaml")


@pytest.fixture(scope="module")
def rs() -> an.ResultSet:
    spec = compile_scenario(SENKAKU)
    res = perform({"default": SENKAKU}, RUNS, SEED, events=True)["default"]
    return an.ResultSet.from_results(res, {"title": spec.scenario.title, "hours_per_turn": spec.hours})


@pytest.fixture(scope="module")
def alt() -> pd.DataFrame:
    return perform({"lever": SENKAKU.plus(levers=["cooperative_frame"])}, RUNS, SEED)["lever"].runs


def drawn(fig: Figure) -> None:
    """At least one axes with data artists, and a title somewhere."""
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert axes
    artists = sum(len(ax.lines) + len(ax.patches) + len(ax.collections) + len(ax.images) for ax in axes)
    assert artists > 0
    titles = [ax.get_title() for ax in axes] + [fig.get_suptitle()]
    assert any(t.strip() for t in titles)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # renders (Agg) without error
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_fan_chart_labels_rungs(rs):
    fig = F.fan_chart(rs)
    drawn(fig)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "declare" in labels and all(not lb.lstrip("-").isdigit() for lb in labels)
    drawn(F.fan_chart(rs.events, carry="last", level="peak", actor="PRC"))


def test_outcome_and_peak_figures(rs, alt):
    drawn(F.outcome_bars(rs))
    drawn(F.outcome_bars({"default": rs.runs, "cooperative frame": alt}))
    drawn(F.peak_bars(rs))
    drawn(F.actor_outcome_bars(rs))


def test_time_to_threshold_chart(rs, alt):
    fig = F.time_to_threshold_chart(rs)
    drawn(fig)
    assert len(fig.axes[0].lines) == 1  # the share to quote; Kaplan-Meier is opt-in
    assert len(F.time_to_threshold_chart(rs, km=True).axes[0].lines) == 2
    drawn(F.time_to_threshold_chart({"default": rs.runs, "lever": alt}, km=False))
    drawn(F.time_to_threshold_chart(rs, threshold="show_of_force"))


def test_path_figures(rs):
    drawn(F.path_tree_chart(rs))
    drawn(F.path_tree_chart(rs, by="unit", layout="share"))
    drawn(F.path_tree_chart(rs, condition="use_of_force", min_share=0.02))
    drawn(F.path_bars(rs, by="unit"))


def test_heatmaps(rs):
    fig = F.transition_heatmap(rs)
    drawn(fig)
    assert fig.axes[0].get_xticklabels()[-1].get_text() == an.END
    drawn(F.transition_heatmap(rs.events, actor="JPN"))
    drawn(F.reasons_heatmap(rs, rung_at_least="coerce"))
    drawn(F.reasons_heatmap(rs, which="restraint"))


def test_channel_chart(rs):
    drawn(F.channel_chart(rs))


def test_lever_forest(rs, alt):
    table = an.lever_table(rs.runs, {"cooperative_frame": alt, "same": rs.runs}, "use_of_force",
                           {"cooperative_frame": "lower", "same": "higher"})
    fig = F.lever_forest(table)
    drawn(fig)
    assert len(fig.axes[0].get_yticklabels()) == 2
    drawn(F.lever_forest(an.measure_comparison(rs.runs, alt)))


def test_sensitivity_and_prim_figures():
    morris = pd.DataFrame({"outcome": ["use_of_force"] * 2, "factor": ["a", "b"], "name": ["a", "b"],
                           "mu_star": [0.05, 0.01], "mu_star_conf": [0.01, 0.01], "sigma": [0.02, 0.0],
                           "noise_floor": [0.005, 0.005]})
    drawn(F.sensitivity_bars(morris))
    sobol = pd.DataFrame({"outcome": ["use_of_force"] * 2, "factor": ["a", "b"], "S1": [0.5, 0.1],
                          "S1_conf": [0.1, 0.1], "ST": [0.6, 0.2], "ST_conf": [0.1, 0.1]})
    drawn(F.sensitivity_bars(sobol))
    from sim.analysis.sensitivity import prim
    X = pd.DataFrame({"x": [i / 99 for i in range(100)]})
    drawn(F.prim_chart(prim(X, (X["x"] > 0.7).to_numpy())))


def test_figures_need_an_event_log(rs):
    with pytest.raises(ValueError, match="event log"):
        F.fan_chart(pd.DataFrame())


def _prim_box():
    from sim.analysis.sensitivity import prim

    X = pd.DataFrame({"x": [i / 99 for i in range(100)]})
    return prim(X, (X["x"] > 0.7).to_numpy())


#: Every single-axes figure function, called with the caller's axes.
INTO_AXES = {
    "time_to_threshold_chart": lambda rs, alt, ax: F.time_to_threshold_chart(rs, km=True, ax=ax),
    "outcome_bars": lambda rs, alt, ax: F.outcome_bars(rs, ax=ax),
    "peak_bars": lambda rs, alt, ax: F.peak_bars(rs, ax=ax),
    "actor_outcome_bars": lambda rs, alt, ax: F.actor_outcome_bars(rs, ax=ax),
    "path_tree_chart": lambda rs, alt, ax: F.path_tree_chart(rs, ax=ax),
    "path_bars": lambda rs, alt, ax: F.path_bars(rs, ax=ax),
    "transition_heatmap": lambda rs, alt, ax: F.transition_heatmap(rs, ax=ax),
    "lever_forest": lambda rs, alt, ax: F.lever_forest(an.measure_comparison(rs.runs, alt), ax=ax),
    "prim_chart": lambda rs, alt, ax: F.prim_chart(_prim_box(), ax=ax),
    "channel_chart": lambda rs, alt, ax: F.channel_chart(rs, ax=ax),
    "reasons_heatmap": lambda rs, alt, ax: F.reasons_heatmap(rs, ax=ax),
    "fan_chart": lambda rs, alt, ax: F.fan_chart(rs, ax=ax),
}


def test_every_figure_function_takes_ax():
    public = {n for n in dir(F) if callable(getattr(F, n)) and getattr(getattr(F, n), "__module__", "") == F.__name__
              and not n.startswith("_") and n not in ("style",)}
    assert public == {*INTO_AXES, "sensitivity_bars"}


@pytest.mark.parametrize("name", sorted(INTO_AXES))
def test_figure_draws_into_the_callers_axes(rs, alt, name):
    fig = Figure(figsize=(16, 6), layout="constrained")
    mine, theirs = fig.subplots(1, 2)
    mine.plot([0, 1], [0, 1], label="the user's own panel")
    out = INTO_AXES[name](rs, alt, theirs)
    assert out is fig  # the caller's figure, not a new one
    assert {ax for ax in fig.axes if ax.get_label() != "<colorbar>"} == {mine, theirs}
    assert len(theirs.lines) + len(theirs.patches) + len(theirs.collections) + len(theirs.images) > 0
    assert theirs.get_title() and len(mine.lines) == 1
    drawn(fig)


def test_figures_compose_in_subfigures(rs):
    fig = Figure(figsize=(18, 12), layout="constrained")
    left, right = fig.subfigures(1, 2)
    fan, live = left.subplots(2, 1, sharex=True)
    assert F.fan_chart(rs, ax=fan, live_ax=live) is fig
    assert live.collections and fan.get_yticklabels()
    assert F.transition_heatmap(rs, ax=right.subplots()) is fig  # its colour bar goes to the subfigure
    assert any(ax.get_label() == "<colorbar>" for ax in right.axes)
    morris = pd.DataFrame({"outcome": ["use_of_force", "any_incident"], "factor": ["a", "a"],
                           "mu_star": [0.05, 0.01], "mu_star_conf": [0.01, 0.01], "sigma": [0.02, 0.0]})
    two = Figure(layout="constrained").subplots(1, 2)
    F.sensitivity_bars(morris, ax=two)
    assert all(ax.patches for ax in two) and "Morris" in two[0].get_title()
    with pytest.raises(ValueError, match="2 axes"):
        F.sensitivity_bars(morris, ax=two[0])
    drawn(fig)


def _rc() -> dict:
    return {k: v for k, v in mpl.rcParams.items() if not k.startswith("backend")}


def test_figures_leave_rcparams_alone_and_follow_them(rs):
    before = _rc()
    for make in INTO_AXES.values():
        make(rs, rs.runs, None)
    assert _rc() == before
    with mpl.rc_context({"font.size": 7, "axes.spines.top": True}):
        fig = F.outcome_bars(rs)
        ax = fig.axes[0]
        assert ax.title.get_fontsize() == pytest.approx(mpl.font_manager.font_scalings["large"] * 7)
        assert {t.get_fontsize() for t in ax.get_yticklabels()} == {7}
        assert ax.spines["top"].get_visible()
    assert _rc() == before


def test_the_built_in_style_is_opt_in(rs):
    with F.style():
        ax = F.outcome_bars(rs).axes[0]
    assert ax.title.get_fontsize() == F.STYLE["axes.titlesize"]
    assert not ax.spines["top"].get_visible()
    assert F.outcome_bars(rs).axes[0].title.get_fontsize() != F.STYLE["axes.titlesize"]


def test_the_quoted_time_to_force_curve_has_its_band(rs):
    ax = F.time_to_threshold_chart(rs).axes[0]
    bands = [c for c in ax.collections if c.get_gid() == "band:crude"]
    assert len(bands) == 1
    tt = an.time_to_threshold(rs.runs)
    ys = np.concatenate([p.vertices[:, 1] for p in bands[0].get_paths()])
    assert ys.max() == pytest.approx(tt["crude_high"].max()) and ys.min() == pytest.approx(tt["crude_low"].min())
    last = tt.iloc[-1]
    assert last["crude_low"] < last["crude"] < last["crude_high"]  # a real band, around the curve


def test_channel_chart_uses_catalogue_labels(rs):
    from sim.inputs.catalogue import load_catalogue

    ticks = [t.get_text().rsplit("\n(answered", 1)[0].replace("\n", " ")
             for t in F.channel_chart(rs).axes[0].get_yticklabels()]
    assert ticks and set(ticks) <= {c.label for c in load_catalogue().channels}
