"""Every figure function draws non-empty, labelled axes on real results."""

from __future__ import annotations

import io

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
    assert len(fig.axes[0].lines) == 2  # crude and Kaplan-Meier
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
