"""Statistics against known values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis import format_summary, outcome_table, top_paths, wilson


def test_wilson_known_values():
    lo, hi = wilson(5, 10)
    assert np.isclose(lo, 0.2365930, atol=1e-6) and np.isclose(hi, 0.7634070, atol=1e-6)
    lo, hi = wilson(0, 20)
    assert lo == 0 and np.isclose(hi, 0.1611251, atol=1e-6)
    lo, hi = wilson(81, 263)
    assert np.isclose(lo, 0.2553, atol=1e-4) and np.isclose(hi, 0.3662, atol=1e-4)


def test_tables_on_a_tiny_result_set():
    runs = pd.DataFrame({
        "outcome": pd.Categorical(["frozen_stalemate"] * 3 + ["major_war"],
                                  categories=["frozen_stalemate", "major_war"]),
        "use_of_force": [False, False, False, True],
        "incidents": [0, 1, 0, 2],
        "path": ["a>b", "a>b", "a", "a>b>c"],
        "turns": [3, 4, 5, 6],
        "peak_rung": pd.Categorical(["b", "b", "a", "c"], categories=["a", "b", "c"]),
    })
    t = outcome_table(runs)
    assert t.loc["major_war", "count"] == 1 and t.loc["use_of_force", "share"] == 0.25
    assert t.loc["any_incident", "count"] == 2
    p = top_paths(runs)
    assert p.index[0] == "a>b" and p.iloc[0]["count"] == 2
    assert "a>b" in format_summary(runs, "t")


# ----------------------------------------------------------------------------- intervals against published values

import math  # noqa: E402

import pytest  # noqa: E402

from sim import analysis as an  # noqa: E402

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score), p1 - p2
NEWCOMBE = [((56, 70, 48, 80), (0.0524, 0.3339)), ((9, 10, 3, 10), (0.1705, 0.8090)),
            ((6, 7, 2, 7), (0.0582, 0.8062)), ((5, 56, 0, 29), (-0.0381, 0.1926)),
            ((0, 10, 0, 20), (-0.1611, 0.2775)), ((0, 10, 0, 10), (-0.2775, 0.2775)),
            ((10, 10, 0, 20), (0.6791, 1.0000))]


@pytest.mark.parametrize("counts,expected", NEWCOMBE)
def test_newcombe_difference_matches_published_table(counts, expected):
    k1, n1, k2, n2 = counts
    d, lo, hi = an.newcombe_diff(k2, n2, k1, n1)  # (base, alt): alt - base = p1 - p2
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert lo == pytest.approx(expected[0], abs=1e-4) and hi == pytest.approx(expected[1], abs=1e-4)


def test_risk_ratio_katz_by_hand():
    rr, lo, hi = an.risk_ratio(20, 100, 10, 100)  # p1 = 0.1 vs p0 = 0.2
    se = math.sqrt(1 / 10 - 1 / 100 + 1 / 20 - 1 / 100)
    assert rr == pytest.approx(0.5)
    assert lo == pytest.approx(0.5 * math.exp(-an.Z95 * se)) and lo == pytest.approx(0.2466, abs=1e-4)
    assert hi == pytest.approx(0.5 * math.exp(an.Z95 * se)) and hi == pytest.approx(1.0136, abs=1e-4)
    rr0, lo0, hi0 = an.risk_ratio(0, 50, 5, 50)  # zero cell: 0.5 added (Haldane-Anscombe)
    assert rr0 == pytest.approx((5.5 / 51) / (0.5 / 51)) and lo0 < rr0 < hi0
    assert all(math.isnan(x) for x in an.risk_ratio(0, 50, 0, 50))


def test_compare_and_verdicts():
    base = pd.DataFrame({"use_of_force": [True] * 20 + [False] * 80})
    alt = pd.DataFrame({"use_of_force": [True] * 10 + [False] * 90})
    c = an.compare(base, alt, "use_of_force")
    assert c["diff"] == pytest.approx(-0.1) and c["rr"] == pytest.approx(0.5)
    assert (c["k_base"], c["n_base"], c["k_alt"], c["n_alt"]) == (20, 100, 10, 100)
    assert an.verdict(-0.2, -0.01, "lower") == "agrees" and an.verdict(-0.2, -0.01, "higher") == "disagrees"
    assert an.verdict(-0.2, 0.01, "lower") == "no clear effect" and an.verdict(0.01, 0.2, None) == "higher"
    claims = an.CLAIM_VERDICTS  # one rule, the claims file's words
    assert [an.verdict(lo, hi, "lower", claims) for lo, hi in ((-0.2, -0.01), (0.01, 0.2), (-0.1, 0.1))] == \
        ["supported", "contradicted", "not significant"]
    t = an.lever_table(base, {"a": alt, "b": base}, "use_of_force", {"a": "lower", "b": "lower"})
    assert t.loc["b", "diff"] == 0 and t.loc["b", "verdict"] == "no clear effect"


# ----------------------------------------------------------------------------- Kaplan-Meier on a hand-made example


def test_kaplan_meier_hand_example():
    # times 1..5; events (1) and censorings (0): S = 6/7, 5/7, 15/28, 10/28, 10/28
    km = an.kaplan_meier([1, 2, 2, 3, 4, 4, 5], [1, 1, 0, 1, 0, 1, 0])
    assert list(km.index) == [1, 2, 3, 4, 5]
    assert list(km["at_risk"]) == [7, 6, 4, 3, 1]
    assert list(km["events"]) == [1, 1, 1, 1, 0] and list(km["censored"]) == [0, 1, 0, 1, 1]
    np.testing.assert_allclose(km["survival"], [6 / 7, 5 / 7, 15 / 28, 10 / 28, 10 / 28])
    greenwood = 1 / (7 * 6) + 1 / (6 * 5)
    assert km.loc[2, "se"] == pytest.approx(5 / 7 * math.sqrt(greenwood))
    s, v = 5 / 7, greenwood  # log(-log) interval by hand
    half = an.Z95 * math.sqrt(v) / abs(math.log(s))
    assert km.loc[2, "ci_low"] == pytest.approx(s ** math.exp(half))
    assert km.loc[2, "ci_high"] == pytest.approx(s ** math.exp(-half))
    assert (km["ci_low"] <= km["survival"]).all() and (km["survival"] <= km["ci_high"]).all()
    np.testing.assert_allclose(km["cumulative"], 1 - km["survival"])


def test_time_to_threshold_censors_ended_runs():
    # five runs: force at turn 2 and 4; the others ended peacefully at turns 1, 3, 5
    runs = pd.DataFrame({"run": range(5), "turns": [2, 1, 4, 3, 5],
                         "use_of_force": [True, False, True, False, False],
                         "first_force_turn": pd.array([2, None, 4, None, None], dtype="Int16")})
    tt = an.time_to_threshold(runs)
    assert list(tt.index) == [0, 1, 2, 3, 4, 5]
    # KM: t=1 censored (n 5), t=2 event (at risk 4) -> 3/4; t=3 censored; t=4 event (at risk 2) -> 3/8
    np.testing.assert_allclose(tt["km"], [0, 0, 0.25, 0.25, 0.625, 0.625])
    np.testing.assert_allclose(tt["crude"], [0, 0, 0.2, 0.2, 0.4, 0.4])
    assert list(tt["at_risk"]) == [5, 5, 4, 3, 2, 1] and tt["crossed"].sum() == 2 and tt["censored"].sum() == 3
    assert (tt["km"] >= tt["crude"]).all()
    # the crude share's band is scipy's Wilson interval of "crossed by t" out of all runs, turn by turn
    from scipy.stats import binomtest

    for turn, k in zip(tt.index, [0, 0, 1, 1, 2, 2], strict=True):
        ci = binomtest(k, 5).proportion_ci(method="wilson")
        assert (tt.loc[turn, "crude_low"], tt.loc[turn, "crude_high"]) == pytest.approx((ci.low, ci.high), abs=1e-12)


# ----------------------------------------------------------------------------- paths and transitions on a tiny set

RUNGS = ["engage", "status_quo", "protest", "declare", "coerce", "grey_zone", "harass"]


def _tiny_runs() -> pd.DataFrame:
    paths = ["status_quo>declare"] * 4 + ["status_quo>declare>coerce"] * 3 + ["status_quo>coerce>harass"] * 2 + \
        ["status_quo"]
    force = [False] * 4 + [False, False, True] + [True, True] + [False]
    return pd.DataFrame({"run": range(10), "path": paths, "use_of_force": force,
                         "outcome": pd.Categorical(["frozen_stalemate"] * 10)})


def test_path_tree_counts_prefixes():
    tree = an.path_tree(_tiny_runs()).set_index("node")
    assert tree.loc["status_quo", "count"] == 10 and tree.loc["status_quo", "ended"] == 1
    assert tree.loc["status_quo>declare", "count"] == 7 and tree.loc["status_quo>declare", "ended"] == 4
    assert tree.loc["status_quo>declare>coerce", "count"] == 3
    assert tree.loc["status_quo>declare>coerce", "p_use_of_force"] == pytest.approx(1 / 3)
    assert tree.loc["status_quo>coerce>harass", "p_use_of_force"] == 1.0
    assert tree.loc["status_quo>declare", "share_of_parent"] == pytest.approx(0.7)
    assert tree.loc["status_quo>declare>coerce", "parent"] == "status_quo>declare"
    # depth-first order, larger branches first
    assert list(tree.index[:3]) == ["status_quo", "status_quo>declare", "status_quo>declare>coerce"]
    assert "status_quo>coerce>harass" not in an.path_tree(_tiny_runs(), min_share=0.25)["node"].tolist()
    assert an.path_tree(_tiny_runs(), max_depth=2)["depth"].max() == 2


def test_paths_collapse_to_units():
    assert an.collapse_path("status_quo>protest>declare>coerce>grey_zone>mobilise>harass", "unit") == \
        "subcrisis>coercion>display>force"
    runs = _tiny_runs()
    by_unit = an.top_paths(runs, by="unit")
    assert by_unit.loc["subcrisis", "count"] == 5 and by_unit.loc["subcrisis>coercion", "count"] == 3
    assert by_unit.loc["subcrisis>coercion>force", "count"] == 2
    po = an.path_outcomes(runs, by="unit")
    assert po.loc["subcrisis>coercion", "p_use_of_force"] == pytest.approx(1 / 3)
    assert an.top_paths(runs, outcome=True).index[0] == "status_quo>declare => frozen_stalemate"


def _tiny_events() -> pd.DataFrame:
    # run 0: 3 turns; run 1: 2 turns. Two actors each turn.
    rows = [  # run, turn, actor, action, rung, mid
        (0, 1, "A", "protest", "protest", 2), (0, 1, "B", "hold", "status_quo", 1),
        (0, 2, "A", "declare", "declare", 2), (0, 2, "B", "coerce", "coerce", 3),
        (0, 3, "A", "harass", "harass", 4), (0, 3, "B", "protest", "protest", 2),
        (1, 1, "A", "protest", "protest", 2), (1, 1, "B", "hold", "status_quo", 1),
        (1, 2, "A", "protest", "protest", 2), (1, 2, "B", "declare", "declare", 2),
    ]
    df = pd.DataFrame(rows, columns=["run", "turn", "actor", "action", "rung", "mid_hostility"])
    df["actor"] = pd.Categorical(df["actor"], ["A", "B"])
    df["action"] = pd.Categorical(df["action"])
    df["rung_realised"] = pd.Categorical(df.pop("rung"), RUNGS)
    df["rung_intended"] = df["rung_realised"]
    df["incident"] = [False] * 4 + [True] + [False] * 5
    df["scripted"] = False
    df["driver1"] = pd.Categorical(["threat"] * 10)
    df["restraint"] = pd.Categorical(["cost"] * 10)
    return df


def test_transition_matrix_counts_and_ends():
    ev = _tiny_events()
    counts = an.transition_matrix(ev, normalize=False)
    # per-turn highest rung: run 0 protest, coerce, harass; run 1 protest, declare
    assert counts.loc["protest", "coerce"] == 1 and counts.loc["protest", "declare"] == 1
    assert counts.loc["coerce", "harass"] == 1
    assert counts.loc["harass", an.END] == 1 and counts.loc["declare", an.END] == 1
    assert int(counts.to_numpy().sum()) == 5  # one transition per turn of every run
    shares = an.transition_matrix(ev)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    mine = an.transition_matrix(ev, actor="A", normalize=False)
    assert mine.loc["protest", "protest"] == 1 and mine.loc["protest", "declare"] == 1


def test_turn_levels_quantiles_and_sequences():
    ev = _tiny_events()
    m = an.turn_levels(ev)
    assert m.loc[0].tolist() == [2, 4, 6] and m.loc[1].tolist() == [2, 3, -1]
    assert an.turn_levels(ev, level="peak").loc[1].tolist() == [2, 3, -1]
    q = an.rung_quantiles(ev, quantiles=(0.5,), carry="none")
    assert q.loc[3, "q50"] == 6 and q.loc[3, "n_live"] == 1 and q.loc[3, "live"] == 0.5
    assert an.rung_quantiles(ev, quantiles=(0.0,), carry="last").loc[3, "q00"] == 3  # run 1 held at declare
    seq = an.action_sequences(ev, "A")
    assert seq.loc["protest", "count"] == 1 and seq.loc["protest>declare>harass", "count"] == 1
    assert an.action_sequences(ev, "A", collapse=False).index.tolist().count("protest>protest") == 1


def test_first_crossings_and_reasons():
    ev = _tiny_events()
    fc = an.first_crossings(ev, "use_of_force")
    assert len(fc) == 1 and fc.iloc[0]["actor"] == "A" and fc.iloc[0]["turn"] == 3
    fc2 = an.first_crossings(ev, "declare")
    got = sorted(zip(fc2["run"], fc2["turn"], fc2["actor"].astype(str), strict=True))
    assert got == [(0, 2, "A"), (0, 2, "B"), (1, 2, "B")]
    cs = an.crossing_summary(ev)
    assert cs.iloc[0]["count"] == 1 and cs.iloc[0]["incident_share"] == 1.0
    rt = an.reasons_table(ev, rung_at_least="coerce")
    assert rt.loc["A", "threat"] == 1.0 and rt.loc["B", "threat"] == 1.0


def test_channel_and_actor_tables():
    runs = pd.DataFrame({
        "use_of_force": [True, False, False, True, False],
        "tried_x": [1, 2, 0, 1, 0], "answered_x": [1, 0, 0, 0, 0],
        "icb_outcome_A": pd.Categorical(["victory", "stalemate", "stalemate", "defeat", "stalemate"],
                                        ["victory", "compromise", "stalemate", "defeat"]),
        "conceded_A": [False, False, False, True, False],
    })
    ct = an.channel_table(runs).loc["x"]
    assert ct["runs_tried"] == 3 and ct["calls"] == 4 and ct["answered"] == 1 and ct["answer_rate"] == 0.25
    assert ct["p_answered"] == 1.0 and ct["p_unanswered"] == 0.5 and ct["p_not_tried"] == 0.0
    ao = an.actor_outcomes(runs)
    assert ao.loc[("A", "stalemate"), "share"] == 0.6 and ao.loc[("A", "conceded"), "count"] == 1


def test_peak_hostility_and_measure_tables(ensembles):
    runs = ensembles["senkaku"].runs
    ph = an.peak_hostility_distribution(runs)
    assert ph["count"].sum() == len(runs) and ph.loc[4, "label"] == "use of force"
    mt = an.measure_table(runs)
    assert mt.loc["use_of_force", "count"] == int(runs["use_of_force"].sum())
    assert set(mt.index) == set(an.MEASURES)


def test_load_results_reads_both_layouts(tmp_path):
    base = pd.DataFrame({"run": range(6), "turns": [1] * 6})
    (tmp_path / "one").mkdir()
    base.to_parquet(tmp_path / "one" / "runs.parquet")
    parts = tmp_path / "parts" / "runs"
    parts.mkdir(parents=True)
    base.iloc[:3].to_parquet(parts / "part-000000.parquet")
    base.iloc[3:].to_parquet(parts / "part-000001.parquet")
    for d in ("one", "parts"):
        rs = an.load_results(tmp_path / d)
        assert rs.runs["run"].tolist() == list(range(6)) and rs.events.empty
    from sim.errors import InputError
    with pytest.raises(InputError):
        an.load_results(tmp_path / "missing")


def test_small_probabilities_are_never_printed_as_zero():
    from sim.analysis.stats import fmt_interval, fmt_pp, fmt_share, wilson

    assert fmt_share(0.0, 0, 10_000) == "0 of 10,000"
    assert fmt_interval(*wilson(0, 10_000)) == "[0% - 0.038%]"  # the Wilson upper bound, not 0.0%
    assert fmt_share(9 / 20_000, 9, 20_000) == "9 of 20,000 (0.045%)"
    assert fmt_share(0.123, 1_230, 10_000) == "12.3%"
    assert fmt_pp(-0.00035) == "-0.035 pp" and fmt_pp(0.0123) == "+1.2 pp"
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0


def test_summary_report_and_figure_labels_show_counts_for_tail_outcomes():
    from sim.analysis.report import share_table
    from sim.analysis.tables import format_summary, outcome_table
    from sim.names import OUTCOMES

    runs = pd.DataFrame({"run": range(20_000), "turns": 5, "use_of_force": False, "incidents": 0,
                         "outcome": pd.Categorical(["frozen_stalemate"] * 19_991 + ["major_war"] * 9,
                                                   categories=OUTCOMES),
                         "end_reason": "time_limit", "peak_rung": pd.Categorical(["declare"] * 20_000),
                         "path": "declare"})
    text = format_summary(runs, "t")
    assert "9 of 20,000 (0.045%)" in text and "0 of 20,000" in text and " 0.0%" not in text
    table = share_table(outcome_table(runs))
    assert table.loc["major_war", "share"] == "9 of 20,000 (0.045%)"
    assert table.loc["nuclear_use", "95% interval"] == "[0%, 0.019%]"
